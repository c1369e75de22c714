"""Account lists and details for the data API and exports, always inside a `DataScope`.

Rows come back unmasked; the API masks them with `dashboard.masking` before they leave the
server. Contacts are read from silver.contacts by the customer's regional accounts (gold.customer_360's
regional_account_ids: the accounts silver.account_master maps to it), because gold keeps no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, any_, func, or_, select, true
from sqlalchemy.orm import Session

from dashboard.scope import DataScope
from dashboard.tables.gold import Customer360
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


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_CUSTOMER_COLUMNS = tuple(name for name in ACCOUNT_COLUMNS if hasattr(Customer360, name))


def _customers_select(scope: DataScope, *, search: str = "", region: str = "", territory: str = "") -> Select:
    """The customers inside the scope matching the filters, with the regional accounts their contacts
    are filed under."""
    stmt = (select(*(getattr(Customer360, name) for name in _CUSTOMER_COLUMNS), Customer360.regional_account_ids)
            .where(scope.customer_filter()))
    if search.strip():
        pattern = _like(search.strip())
        stmt = stmt.where(or_(Customer360.account_name.ilike(pattern, escape="\\"),
                              Customer360.account_id.ilike(pattern, escape="\\")))
    if region:
        stmt = stmt.where(Customer360.region == region)
    if territory:
        stmt = stmt.where(Customer360.territory == territory)
    return stmt


def _with_primary_contact(customers: Any) -> Select:
    """Each of the `customers` (a subquery) with its primary contact, else its first contact by id.

    Looked up per customer through its regional accounts (an index read each), after the page or the
    export is chosen: ranking every contact in silver first took over a second at 100k customers."""
    contact = (select(func.concat_ws(" ", Contact.first_name, Contact.last_name).label("name"),
                      Contact.email, Contact.phone)
               .where(Contact.account_id == any_(func.array_append(customers.c.regional_account_ids,
                                                                  customers.c.account_id)))
               .order_by(Contact.is_primary.desc().nulls_last(), Contact.contact_id).limit(1)
               .lateral("primary_contact"))
    return (select(*(customers.c[name] for name in _CUSTOMER_COLUMNS), contact.c.name.label("primary_contact_name"),
                   contact.c.email.label("primary_contact_email"), contact.c.phone.label("primary_contact_phone"))
            .outerjoin(contact, true()))


def _by_name(stmt: Select) -> Select:
    return stmt.order_by(Customer360.account_name, Customer360.account_id)


def list_accounts(session: Session, scope: DataScope, *, search: str = "", region: str = "",
                  territory: str = "", page: int = 1, per_page: int = DEFAULT_PAGE_SIZE) -> AccountPage:
    """Accounts inside the scope matching the search (name or id, case-insensitive), by name."""
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    stmt = _customers_select(scope, search=search, region=region, territory=territory)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    chosen = _by_name(stmt).offset((page - 1) * per_page).limit(per_page).subquery("chosen")
    rows = session.execute(_with_primary_contact(chosen).order_by(chosen.c.account_name, chosen.c.account_id))
    return AccountPage([dict(r) for r in rows.mappings()], int(total), page, per_page)


def export_accounts(session: Session, scope: DataScope, *, search: str = "", region: str = "",
                    territory: str = "") -> list[dict[str, Any]]:
    """Every account inside the scope matching the filters (capped at MAX_EXPORT_ROWS)."""
    chosen = _by_name(_customers_select(scope, search=search, region=region, territory=territory)) \
        .limit(MAX_EXPORT_ROWS).subquery("chosen")
    rows = session.execute(_with_primary_contact(chosen).order_by(chosen.c.account_name, chosen.c.account_id))
    return [dict(r) for r in rows.mappings()]


def account_detail(session: Session, scope: DataScope, account_id: str) -> dict[str, Any] | None:
    """The account and its contacts, or None when it is unknown or outside the scope."""
    chosen = _customers_select(scope).where(Customer360.account_id == account_id).subquery("chosen")
    row = session.execute(_with_primary_contact(chosen)).mappings().first()
    if row is None:
        return None
    regional = session.scalar(select(Customer360.regional_account_ids).where(Customer360.account_id == account_id))
    contacts = session.execute(
        select(Contact.contact_id, func.concat_ws(" ", Contact.first_name, Contact.last_name).label("name"),
               Contact.job_title, Contact.email, Contact.phone, Contact.is_primary)
        .where(Contact.account_id.in_(sorted({account_id, *(regional or ())})))
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
