"""Row-level security: which territories and accounts a user may see, decided in one place.

Every query that reads per-territory or per-account gold rows takes a `DataScope` and applies
`territory_filter` or `account_filter`; nothing else decides what a user may see.

- Sales managers and account managers see only their assigned territories and accounts; with
  nothing assigned they see nothing.
- Every other role sees everything unless an admin assigns territories or accounts, which
  then restrict them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from dashboard.extensions import db
from dashboard.tables.app import User
from dashboard.tables.gold import Customer360

# Roles whose empty assignment means "nothing" rather than "everything".
SCOPED_ROLES: frozenset[str] = frozenset({"sales_manager", "account_manager"})


@dataclass(frozen=True)
class DataScope:
    """The rows a user may see: everything, or the union of some territories and accounts."""

    unrestricted: bool
    territories: frozenset[str] = field(default_factory=frozenset)
    account_ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def everything(cls) -> DataScope:
        return cls(unrestricted=True)

    @classmethod
    def nothing(cls) -> DataScope:
        return cls(unrestricted=False)

    @classmethod
    def restricted_to(cls, territories: Any = (), account_ids: Any = ()) -> DataScope:
        return cls(unrestricted=False, territories=frozenset(t for t in territories or () if t),
                   account_ids=frozenset(a for a in account_ids or () if a))

    @property
    def sees_nothing(self) -> bool:
        return not self.unrestricted and not self.territories and not self.account_ids

    def territory_filter(self, territory: ColumnElement[Any] | Any) -> ColumnElement[bool]:
        """For tables keyed by territory only (daily_kpi_territory, pipeline_monthly). Accounts
        assigned by name are not counted here: a territory total would reveal their neighbours."""
        if self.unrestricted:
            return true()
        if not self.territories:
            return false()
        return territory.in_(sorted(self.territories))

    def account_filter(self, territory: ColumnElement[Any] | Any,
                       account_id: ColumnElement[Any] | Any) -> ColumnElement[bool]:
        """For per-account rows: in an assigned territory, or an assigned account."""
        if self.unrestricted:
            return true()
        conditions = []
        if self.territories:
            conditions.append(territory.in_(sorted(self.territories)))
        if self.account_ids:
            conditions.append(account_id.in_(sorted(self.account_ids)))
        return or_(*conditions) if conditions else false()

    def customer_filter(self) -> ColumnElement[bool]:
        """`account_filter` on gold.customer_360."""
        return self.account_filter(Customer360.territory, Customer360.account_id)

    def allows_account(self, session: Session, account_id: str) -> bool:
        """Whether the account exists and is inside the scope; callers answer 404 either way."""
        stmt = select(Customer360.account_id).where(Customer360.account_id == account_id, self.customer_filter())
        return session.scalar(stmt) is not None


def scope_for(role: str, territories: Any, account_ids: Any) -> DataScope:
    """A user's scope from their role and assignments."""
    territories, account_ids = list(territories or ()), list(account_ids or ())
    if not territories and not account_ids:
        return DataScope.nothing() if role in SCOPED_ROLES else DataScope.everything()
    return DataScope.restricted_to(territories, account_ids)


def scope_for_user_id(session: Session, user_id: int) -> DataScope:
    """The stored user's scope, read fresh so an admin's change applies at the next request."""
    row = session.execute(select(User.role_name, User.territories, User.account_ids)
                          .where(User.id == user_id)).one_or_none()
    if row is None:
        return DataScope.nothing()
    return scope_for(row.role_name, row.territories, row.account_ids)


def current_scope() -> DataScope:
    """The request user's scope (nothing for anonymous requests), read once per request."""
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return DataScope.nothing()
    cached = g.get("c360_data_scope")
    if cached is None:
        with db.session() as session:
            cached = scope_for_user_id(session, int(current_user.id))
        g.c360_data_scope = cached
    return cached
