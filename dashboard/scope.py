"""Row-level security: which territories and accounts a user may see, decided in one place.

Every query that reads per-territory or per-account gold rows takes a `DataScope` and applies
`territory_filter` or `account_filter`; nothing else decides what a user may see.

- Sales managers and account managers see their book of business plus whatever an admin
  assigns by name; with neither they see nothing. The book comes from the CRM user they are
  linked to (app.users.crm_user_id): an account manager's is the customers that CRM user owns
  (gold.customer_360.owner_user_id), a sales manager's every territory of that CRM user's region.
- Every other role sees everything unless an admin assigns territories or accounts, which
  then restrict them the same way; a CRM link changes nothing for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import ColumnElement, Text, any_, bindparam, case, distinct, false, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from dashboard.extensions import db
from dashboard.tables.app import User
from dashboard.tables.gold import Customer360
from dashboard.tables.silver import User as CrmUser

SALES_MANAGER, ACCOUNT_MANAGER = "sales_manager", "account_manager"
# Roles whose empty assignment means "nothing" rather than "everything", and who have a book of business.
SCOPED_ROLES: frozenset[str] = frozenset({SALES_MANAGER, ACCOUNT_MANAGER})
# Account ids listed by name in the scope's wording up to this many; beyond, only counted.
LISTED_ACCOUNTS = 5


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class ScopeBasis:
    """Where a scope's rows come from, to say it in words; filters never read it."""

    crm_user_id: str | None = None
    region: str | None = None
    region_territories: tuple[str, ...] = ()
    owned_accounts: int = 0
    assigned_territories: tuple[str, ...] = ()
    assigned_accounts: tuple[str, ...] = ()

    def parts(self) -> list[str]:
        parts = []
        if self.region:
            parts.append(f"Region {self.region}: territories {', '.join(self.region_territories)}"
                         if self.region_territories else f"Region {self.region}, which has no territory yet")
        if self.owned_accounts:
            parts.append(f"{_plural(self.owned_accounts, 'account')} you own in the CRM")
        if self.assigned_territories:
            parts.append(f"{'territory' if len(self.assigned_territories) == 1 else 'territories'} "
                         f"{', '.join(self.assigned_territories)}")
        if self.assigned_accounts:
            count = len(self.assigned_accounts)
            if self.owned_accounts:
                parts.append(f"{count:,} assigned")
            elif count <= LISTED_ACCOUNTS:
                parts.append(f"{'account' if count == 1 else 'accounts'} {', '.join(self.assigned_accounts)}")
            else:
                parts.append(f"{_plural(count, 'assigned account')}")
        return parts


@dataclass(frozen=True)
class DataScope:
    """The rows a user may see: everything, or the union of some territories and accounts."""

    unrestricted: bool
    territories: frozenset[str] = field(default_factory=frozenset)
    account_ids: frozenset[str] = field(default_factory=frozenset)
    # Not compared: two scopes holding the same rows are the same scope, however they came about.
    basis: ScopeBasis = field(default_factory=ScopeBasis, compare=False)

    @classmethod
    def everything(cls) -> DataScope:
        return cls(unrestricted=True)

    @classmethod
    def nothing(cls) -> DataScope:
        return cls(unrestricted=False)

    @classmethod
    def restricted_to(cls, territories: Any = (), account_ids: Any = (),
                      basis: ScopeBasis | None = None) -> DataScope:
        return cls(unrestricted=False, territories=frozenset(t for t in territories or () if t),
                   account_ids=frozenset(a for a in account_ids or () if a), basis=basis or ScopeBasis())

    @property
    def sees_nothing(self) -> bool:
        return not self.unrestricted and not self.territories and not self.account_ids

    def description(self) -> str:
        """The scope in words, e.g. "Region Europe: territories EU-DACH, EU-France" or
        "127 accounts you own in the CRM, plus 2 assigned"."""
        if self.unrestricted:
            return "All territories and accounts"
        parts = self.basis.parts()
        if not parts or self.sees_nothing:
            if self.basis.crm_user_id:
                return (f"Nothing yet: your CRM user {self.basis.crm_user_id} brings no customers or territories, "
                        "and an administrator has assigned none")
            return ("Nothing yet: an administrator has neither linked you to a CRM user nor assigned "
                    "territories or accounts")
        text = ", plus ".join(parts)
        return text[0].upper() + text[1:]

    def territory_filter(self, territory: ColumnElement[Any] | Any) -> ColumnElement[bool]:
        """For tables keyed by territory only (daily_kpi_territory, pipeline_monthly). Accounts
        assigned by name are not counted here: a territory total would reveal their neighbours."""
        if self.unrestricted:
            return true()
        if not self.territories:
            return false()
        return territory == any_(_array(self.territories))

    def account_filter(self, territory: ColumnElement[Any] | Any,
                       account_id: ColumnElement[Any] | Any) -> ColumnElement[bool]:
        """For per-account rows: in an assigned territory, or an assigned account."""
        if self.unrestricted:
            return true()
        conditions = []
        if self.territories:
            conditions.append(territory == any_(_array(self.territories)))
        if self.account_ids:
            conditions.append(account_id == any_(_array(self.account_ids)))
        return or_(*conditions) if conditions else false()

    @property
    def served_by_territory(self) -> bool:
        """Whether sums kept per territory give exactly this scope's customers: everything, or
        territories only (an account named by itself is not in a territory's sums)."""
        return self.unrestricted or not self.account_ids

    def customer_filter(self) -> ColumnElement[bool]:
        """`account_filter` on gold.customer_360."""
        return self.account_filter(Customer360.territory, Customer360.account_id)

    def allows_account(self, session: Session, account_id: str) -> bool:
        """Whether the account exists and is inside the scope; callers answer 404 either way."""
        stmt = select(Customer360.account_id).where(Customer360.account_id == account_id, self.customer_filter())
        return session.scalar(stmt) is not None


def _array(values: frozenset[str]) -> Any:
    """One array parameter (`= ANY(...)`, the plan of an IN list): a book of hundreds of accounts as
    separate parameters cost more to build and send on every statement than the statement took."""
    return bindparam(None, sorted(values), type_=ARRAY(Text))


def _cleaned(values: Any) -> list[str]:
    return sorted({v for v in values or () if v})


def scope_for(role: str, territories: Any, account_ids: Any, *, crm_user_id: str | None = None,
              crm_region: str | None = None, region_territories: Any = (), owned_account_ids: Any = ()) -> DataScope:
    """A user's scope from their role, their assignments and, for a scoped role, their CRM book:
    the territories of their CRM region (sales managers) or the accounts they own (account managers)."""
    territories, account_ids = _cleaned(territories), _cleaned(account_ids)
    if role not in SCOPED_ROLES:  # a CRM link widens or narrows nothing for the other roles
        crm_user_id = crm_region = None
        region_territories = owned_account_ids = ()
    region_territories = _cleaned(region_territories) if role == SALES_MANAGER and crm_region else []
    owned = _cleaned(owned_account_ids) if role == ACCOUNT_MANAGER else []
    # Said once: an assignment already in the book is not counted again.
    basis = ScopeBasis(crm_user_id=crm_user_id or None, region=crm_region if role == SALES_MANAGER else None,
                       region_territories=tuple(region_territories), owned_accounts=len(owned),
                       assigned_territories=tuple(t for t in territories if t not in region_territories),
                       assigned_accounts=tuple(sorted(set(account_ids) - set(owned))))
    all_territories, all_accounts = {*region_territories, *territories}, {*owned, *account_ids}
    if not all_territories and not all_accounts:
        if role in SCOPED_ROLES:
            return DataScope(unrestricted=False, basis=basis)
        return DataScope.everything()
    return DataScope.restricted_to(all_territories, all_accounts, basis)


def _scope_query(user_id: int):
    """One statement for the user row and their CRM book; the book's subqueries run only for the role
    that uses them (a correlated subquery inside CASE is evaluated only when its branch is taken)."""
    owned = (select(func.array_agg(Customer360.account_id))
             .where(Customer360.owner_user_id == User.crm_user_id).correlate(User).scalar_subquery())
    region_territories = (select(func.array_agg(distinct(Customer360.territory)))
                          .where(Customer360.region == CrmUser.region, Customer360.territory.is_not(None))
                          .correlate(CrmUser).scalar_subquery())
    return (select(User.role_name, User.territories, User.account_ids, User.crm_user_id,
                   CrmUser.region.label("crm_region"),
                   case((User.role_name == ACCOUNT_MANAGER, owned)).label("owned_account_ids"),
                   case((User.role_name == SALES_MANAGER, region_territories)).label("region_territories"))
            .outerjoin(CrmUser, CrmUser.user_id == User.crm_user_id)
            .where(User.id == user_id))


def scope_for_user_id(session: Session, user_id: int) -> DataScope:
    """The stored user's scope, read fresh in one query so an admin's change (or a CRM owner change
    loaded by the ETL) applies at the next request."""
    row = session.execute(_scope_query(user_id)).one_or_none()
    if row is None:
        return DataScope.nothing()
    return scope_for(row.role_name, row.territories, row.account_ids, crm_user_id=row.crm_user_id,
                     crm_region=row.crm_region, region_territories=row.region_territories,
                     owned_account_ids=row.owned_account_ids)


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
