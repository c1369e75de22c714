"""Account lists and details for the data API and exports, always inside a `DataScope`.

Rows come back unmasked; the API masks them with `dashboard.masking` before they leave the
server. Contacts are read from silver.contacts, mapped to the customer id (the master
account) through silver.account_master, because gold keeps no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from dashboard.scope import DataScope
from dashboard.tables.gold import Customer360
from dashboard.tables.identity import AccountMaster
from dashboard.tables.silver import Contact

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_EXPORT_ROWS = 100_000

ACCOUNT_COLUMNS: tuple[str, ...] = (
    "account_id", "account_name", "segment", "industry", "region", "territory", "status",
    "mrr_usd", "arr_usd", "overdue_usd", "clv_usd", "mrr_yoy_growth_pct",
    "active_services", "active_contacts", "open_tickets",
    "churn_risk_score", "risk_level", "health_score",
    "primary_contact_name", "primary_contact_email", "primary_contact_phone",
)
CONTACT_COLUMNS: tuple[str, ...] = ("contact_id", "name", "job_title", "email", "phone", "is_primary")


@dataclass(frozen=True)
class AccountPage:
    """One page of an account list."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


def _customer_id():
    """The customer id a silver contact belongs to: its account's master, or the account itself."""
    return func.coalesce(AccountMaster.master_account_id, Contact.account_id)


def _primary_contacts():
    """One contact per customer: the primary one, else the first by id."""
    customer_id = _customer_id().label("customer_id")
    return (
        select(customer_id,
               func.concat_ws(" ", Contact.first_name, Contact.last_name).label("name"),
               Contact.email, Contact.phone)
        .outerjoin(AccountMaster, AccountMaster.account_id == Contact.account_id)
        .distinct(_customer_id())
        .order_by(_customer_id(), Contact.is_primary.desc().nulls_last(), Contact.contact_id)
        .subquery("primary_contact")
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _accounts_select(scope: DataScope, *, search: str = "", region: str = "", territory: str = "") -> Select:
    contact = _primary_contacts()
    columns = [getattr(Customer360, name) for name in ACCOUNT_COLUMNS if hasattr(Customer360, name)]
    stmt = (
        select(*columns, contact.c.name.label("primary_contact_name"),
               contact.c.email.label("primary_contact_email"), contact.c.phone.label("primary_contact_phone"))
        .outerjoin(contact, contact.c.customer_id == Customer360.account_id)
        .where(scope.customer_filter())
    )
    if search.strip():
        pattern = _like(search.strip())
        stmt = stmt.where(or_(Customer360.account_name.ilike(pattern, escape="\\"),
                              Customer360.account_id.ilike(pattern, escape="\\")))
    if region:
        stmt = stmt.where(Customer360.region == region)
    if territory:
        stmt = stmt.where(Customer360.territory == territory)
    return stmt


def list_accounts(session: Session, scope: DataScope, *, search: str = "", region: str = "",
                  territory: str = "", page: int = 1, per_page: int = DEFAULT_PAGE_SIZE) -> AccountPage:
    """Accounts inside the scope matching the search (name or id, case-insensitive), by name."""
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    stmt = _accounts_select(scope, search=search, region=region, territory=territory)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(Customer360.account_name, Customer360.account_id)
                           .offset((page - 1) * per_page).limit(per_page)).mappings()
    return AccountPage([dict(r) for r in rows], int(total), page, per_page)


def export_accounts(session: Session, scope: DataScope, *, search: str = "", region: str = "",
                    territory: str = "") -> list[dict[str, Any]]:
    """Every account inside the scope matching the filters (capped at MAX_EXPORT_ROWS)."""
    stmt = _accounts_select(scope, search=search, region=region, territory=territory)
    rows = session.execute(stmt.order_by(Customer360.account_name, Customer360.account_id)
                           .limit(MAX_EXPORT_ROWS)).mappings()
    return [dict(r) for r in rows]


def account_detail(session: Session, scope: DataScope, account_id: str) -> dict[str, Any] | None:
    """The account and its contacts, or None when it is unknown or outside the scope."""
    row = session.execute(_accounts_select(scope).where(Customer360.account_id == account_id)).mappings().first()
    if row is None:
        return None
    contacts = session.execute(
        select(Contact.contact_id, func.concat_ws(" ", Contact.first_name, Contact.last_name).label("name"),
               Contact.job_title, Contact.email, Contact.phone, Contact.is_primary)
        .outerjoin(AccountMaster, AccountMaster.account_id == Contact.account_id)
        .where(_customer_id() == account_id)
        .order_by(Contact.is_primary.desc().nulls_last(), Contact.contact_id)
    ).mappings()
    return {**dict(row), "contacts": [dict(c) for c in contacts]}


def territories(session: Session) -> list[str]:
    """Every territory in gold.customer_360, sorted."""
    return sorted(t for t in session.scalars(select(Customer360.territory).distinct()) if t)


def account_choices(session: Session, account_ids: list[str] | None = None,
                    search: str = "", limit: int = 50) -> list[dict[str, str]]:
    """Accounts for a picker: the given ids plus the first matches of `search`, as label/value."""
    found: dict[str, str] = {}
    if account_ids:
        for account_id, name in session.execute(select(Customer360.account_id, Customer360.account_name)
                                                .where(Customer360.account_id.in_(account_ids))):
            found[account_id] = name
    if search.strip():
        pattern = _like(search.strip())
        for account_id, name in session.execute(
                select(Customer360.account_id, Customer360.account_name)
                .where(or_(Customer360.account_name.ilike(pattern, escape="\\"),
                           Customer360.account_id.ilike(pattern, escape="\\")))
                .order_by(Customer360.account_name).limit(limit)):
            found[account_id] = name
    return [{"label": f"{name} ({account_id})", "value": account_id} for account_id, name in found.items()]
