"""CRM users an app user can be linked to, with the size of the book each one owns."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.tables.gold import Customer360
from dashboard.tables.silver import User as CrmUser


@dataclass(frozen=True)
class CrmUserChoice:
    """One CRM user: who they are, where they sell and how many customers they own."""

    user_id: str
    full_name: str
    role: str
    region: str
    territory: str
    is_active: bool
    customers: int

    @property
    def label(self) -> str:
        where = self.territory or self.region or "no region"
        return (f"{self.user_id} \u00b7 {self.full_name or '?'} \u00b7 {self.role.replace('_', ' ') or '?'} "
                f"\u00b7 {where} \u00b7 {self.customers:,} customers{'' if self.is_active else ' (inactive)'}")


def crm_user_choices(session: Session, *, role: str | None = None) -> list[CrmUserChoice]:
    """Every CRM user (or those with `role`) ordered by region, role and name."""
    owned = (select(Customer360.owner_user_id, func.count().label("customers"))
             .group_by(Customer360.owner_user_id).subquery())
    query = (select(CrmUser.user_id, CrmUser.full_name, CrmUser.role, CrmUser.region, CrmUser.territory,
                    CrmUser.is_active, func.coalesce(owned.c.customers, 0))
             .outerjoin(owned, owned.c.owner_user_id == CrmUser.user_id)
             .order_by(CrmUser.region, CrmUser.role, CrmUser.full_name, CrmUser.user_id))
    if role:
        query = query.where(CrmUser.role == role)
    return [CrmUserChoice(user_id=r[0], full_name=r[1] or "", role=r[2] or "", region=r[3] or "",
                          territory=r[4] or "", is_active=r[5] is not False, customers=int(r[6]))
            for r in session.execute(query)]
