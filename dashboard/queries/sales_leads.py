"""Leads and buyers queries: prioritised leads, customers likely to buy again, those buying less,
renewals due and cross-sell and upsell candidates.

One function per panel, each taking the page's URL state, the caller's `DataScope` and
`MaskPolicy` (both required) and returning a typed result, or gold's status when the job has
not run yet. Everything is read from the gold tables of the lead and repeat-purchase job
(etl/intelligence/leads.py, dashboard/tables/sales.py); nothing is trained or aggregated here.

- Leads are scoped by the territory of their owning rep (a sales manager sees their region's);
  emails and phones are masked without the PII permission.
- Customers are scoped as every per-account row: an assigned territory or an assigned account;
  amounts are bands without the financials permission.
- Renewals due are My accounts' renewals view (dashboard/queries/book.py) and the cross-sell and
  upsell candidates the Strategy page's ranking (dashboard/queries/strategy.py), read through their
  own query functions so each list has one definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, amount_band, mask_value
from dashboard.queries import book, strategy
from dashboard.queries.book import DEFAULT_RENEWAL_MONTHS, RENEWAL_MONTHS
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import ACCOUNT, BAND, COUNT, DAY, PERCENT, TEXT, USD, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.sales import BuyingDecline, LeadScore, RepeatPurchase, SalesModelRun
from dashboard.url_state import first, to_search

PAGE_PATH = "/sales/leads"
LEAD_SOURCES = ("web", "campaign", "referral", "event", "partner")
DECLINE_KINDS = ("churned", "contracted", "stopped buying")
LEAD_LIMIT = 500
REPEAT_LIMIT = 500
DECLINE_LIMIT = 500
RENEWAL_LIMIT = 500


# --- The page's state in the URL -----------------------------------------------------


@dataclass(frozen=True)
class LeadsQuery:
    """The page as the URL holds it, raw: `?source=referral&kind=churned&months=3`. Validated by `resolve`."""

    source: Any = None
    kind: Any = None
    months: Any = None  # the renewal window, 3 or 6 months

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> LeadsQuery:
        return cls(first(args, "source"), first(args, "kind"), first(args, "months"))

    @classmethod
    def from_state(cls, data: Any) -> LeadsQuery:
        if not isinstance(data, dict):
            return cls()
        return cls.from_args({k: data.get(k) for k in ("source", "kind", "months")})

    def as_state(self) -> dict[str, Any]:
        return {"source": self.source, "kind": self.kind, "months": self.months}

    @property
    def search(self) -> str:
        return to_search([("source", self.source), ("kind", self.kind), ("months", self.months)])

    @property
    def href(self) -> str:
        return PAGE_PATH + self.search


@dataclass(frozen=True)
class ResolvedQuery:
    """The validated state: a lead source (None: every source), a decline kind (None: all), the
    renewal window in months, notes."""

    source: str | None
    kind: str | None
    run: SalesModelRun
    scope: DataScope
    notes: tuple[str, ...] = ()
    months: int = DEFAULT_RENEWAL_MONTHS

    @property
    def canonical(self) -> LeadsQuery:
        return LeadsQuery(self.source, self.kind,
                          str(self.months) if self.months != DEFAULT_RENEWAL_MONTHS else None)


def latest_run(session: Session) -> SalesModelRun | None:
    return session.scalars(select(SalesModelRun).order_by(SalesModelRun.run_id.desc()).limit(1)).first()


def resolve(session: Session, query: LeadsQuery, scope: DataScope) -> ResolvedQuery | None:
    """Validate the URL state; unknown values fall back to 'all' with a note. None before the job ran."""
    run = latest_run(session)
    if run is None:
        return None
    notes: list[str] = []
    source = query.source if query.source in LEAD_SOURCES else None
    if query.source is not None and source is None:
        notes.append(f"Unknown lead source \u201c{str(query.source)[:40]}\u201d: showing every source.")
    kind = query.kind if query.kind in DECLINE_KINDS else None
    if query.kind is not None and kind is None:
        notes.append(f"Unknown kind of decline \u201c{str(query.kind)[:40]}\u201d: showing every kind.")
    months = DEFAULT_RENEWAL_MONTHS
    if query.months is not None:
        raw = str(query.months).strip()
        if raw.isdigit() and int(raw) in RENEWAL_MONTHS:
            months = int(raw)
        else:
            notes.append(f"Renewals can be shown for the next 3 or 6 months, not \u201c{raw[:40]}\u201d: showing 6.")
    session.expunge(run)
    return ResolvedQuery(source, kind, run, scope, tuple(notes), months)


def _day(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else None


# --- 1. Prioritised leads ----------------------------------------------------------------


@dataclass(frozen=True)
class LeadsResult:
    """Open leads in the scope ranked by their propensity to convert, with the model's validation."""

    resolved: ResolvedQuery
    open_leads: int  # in the scope and the chosen source
    validation_auc: float | None
    train_rows: int
    validation_rows: int
    split_at: datetime | None
    grid: GridRows


def lead_columns() -> tuple[GridColumn, ...]:
    return (GridColumn("rank", "#", COUNT), GridColumn("lead_name", "Lead", pinned=True),
            GridColumn("company", "Company"), GridColumn("lead_score", "Score (0-100)", COUNT),
            GridColumn("reason", "Why"), GridColumn("lead_source", "Source"), GridColumn("status", "Status"),
            GridColumn("engagement_tier", "Company engagement"), GridColumn("owner_name", "Owner"),
            GridColumn("territory", "Territory"), GridColumn("email", "Email"), GridColumn("phone", "Phone"),
            GridColumn("created_day", "Created", DAY), GridColumn("lead_id", "Lead id"))


def leads(session: Session, query: LeadsQuery, scope: DataScope, *, policy: MaskPolicy) -> LeadsResult | GoldStatus:
    """The open leads of the scope (and source), highest propensity first, up to LEAD_LIMIT."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    ls = LeadScore
    where = [scope.territory_filter(ls.territory)]
    if resolved.source:
        where.append(ls.lead_source == resolved.source)
    rows = session.execute(select(ls, func.count().over()).where(*where)
                           .order_by(ls.lead_score.desc(), ls.created_at.desc(), ls.lead_id)
                           .limit(LEAD_LIMIT)).all()
    records = [{"rank": rank, "lead_id": r.lead_id, "lead_name": r.lead_name, "company": r.company,
                "lead_score": r.lead_score, "reason": r.reason, "lead_source": r.lead_source, "status": r.status,
                "engagement_tier": r.engagement_tier, "owner_name": r.owner_name, "territory": r.territory,
                "email": mask_value("email", r.email, policy), "phone": mask_value("phone", r.phone, policy),
                "created_day": _day(r.created_at)}
               for rank, (r, _) in enumerate(rows, start=1)]
    run = resolved.run
    return LeadsResult(resolved, int(rows[0][1]) if rows else 0, run.lead_validation_auc, run.lead_train_rows,
                       run.lead_validation_rows, run.lead_split_at,
                       GridRows(lead_columns(), records, key_field="lead_name"))


def export_leads(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    result = leads(session, LeadsQuery.from_args(args), scope, policy=policy)
    return result.grid if isinstance(result, LeadsResult) else GridRows(lead_columns(), [], "lead_name")


def export_name(args: Mapping[str, Any]) -> str:
    """The file-name part of an export: the source and kind shown, or 'all'."""
    parts = [p for p in (first(args, "source"), first(args, "kind")) if p in (*LEAD_SOURCES, *DECLINE_KINDS)]
    months = first(args, "months")
    if months in {str(m) for m in RENEWAL_MONTHS}:
        parts.append(f"{months}-months")
    return "_".join(p.replace(" ", "-") for p in parts) or "all"


# --- 2. Likely to buy again -----------------------------------------------------------------


@dataclass(frozen=True)
class RepeatResult:
    """Customers of the scope ranked by their expected purchases in the next 13 weeks (BG/NBD)."""

    resolved: ResolvedQuery
    customers: int
    likely_customers: int  # P(alive) of at least 0.5
    parameters: dict[str, Any]
    grid: GridRows


def repeat_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    return (GridColumn("rank", "#", COUNT), GridColumn("account_name", "Account", ACCOUNT, pinned=True),
            GridColumn("expected_purchases", "Expected purchases, next 13 weeks"),
            GridColumn("p_alive", "P(still buying)", PERCENT), GridColumn("purchases", "Purchases", COUNT),
            GridColumn("last_purchase", "Last purchase", DAY), GridColumn("last_expansion", "Last expansion", DAY),
            GridColumn("last_expansion_kind", "Expansion"), GridColumn("days_since_expansion", "Days since", COUNT),
            GridColumn("region", "Region"), GridColumn("territory", "Territory"),
            GridColumn("mrr_usd", "MRR", USD if policy.view_financials else BAND))


def repeat_buyers(session: Session, query: LeadsQuery, scope: DataScope, *,
                  policy: MaskPolicy) -> RepeatResult | GoldStatus:
    """The scope's customers by expected purchases in the next 13 weeks, up to REPEAT_LIMIT."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    rp = RepeatPurchase
    in_scope = scope.account_filter(rp.territory, rp.account_id)
    # Counted apart from the list: a count over the window would make the database sort every row.
    customers, likely = session.execute(select(func.count(), func.count().filter(rp.p_alive >= 0.5))
                                        .where(in_scope)).one()
    rows = session.scalars(select(rp).where(in_scope)
                           .order_by(rp.expected_purchases.desc(), rp.account_id).limit(REPEAT_LIMIT)).all()
    records = [{"rank": rank, "account_id": r.account_id, "account_name": r.account_name,
                "expected_purchases": round(r.expected_purchases, 2), "p_alive": r.p_alive, "purchases": r.purchases,
                "last_purchase": _day(r.last_purchase), "last_expansion": _day(r.last_expansion),
                "last_expansion_kind": r.last_expansion_kind, "days_since_expansion": r.days_since_expansion,
                "region": r.region, "territory": r.territory,
                "mrr_usd": mask_value("mrr_usd", float(r.mrr_usd) if r.mrr_usd is not None else None, policy)}
               for rank, r in enumerate(rows, start=1)]
    return RepeatResult(resolved, int(customers), int(likely), dict(resolved.run.bgnbd or {}),
                        GridRows(repeat_columns(policy), records, "account_name"))


def export_repeat(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    result = repeat_buyers(session, LeadsQuery.from_args(args), scope, policy=policy)
    return result.grid if isinstance(result, RepeatResult) else GridRows(repeat_columns(policy), [], "account_name")


# --- 3. Reduced or stopped buying, and why --------------------------------------------------------


@dataclass(frozen=True)
class DeclineResult:
    """Customers of the scope whose MRR fell over the window, or who stopped buying, and why."""

    resolved: ResolvedQuery
    window_days: int
    counts: dict[str, int]  # per decline kind, in the scope
    lost_mrr_usd: float | None  # None without the financials permission
    grid: GridRows


def decline_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    kind = USD if policy.view_financials else BAND
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True), GridColumn("decline_kind", "What happened"),
            GridColumn("reasons", "Why"), GridColumn("mrr_before_usd", "MRR before", kind),
            GridColumn("mrr_now_usd", "MRR now", kind), GridColumn("mrr_change_usd", "Change", kind),
            GridColumn("churn_risk_score", "Churn risk score", COUNT), GridColumn("price_rises", "Price rises", COUNT),
            GridColumn("tickets", "Tickets", COUNT), GridColumn("last_purchase", "Last purchase", DAY),
            GridColumn("region", "Region"), GridColumn("territory", "Territory", TEXT))


def declines(session: Session, query: LeadsQuery, scope: DataScope, *,
             policy: MaskPolicy) -> DeclineResult | GoldStatus:
    """The scope's declining customers (of the chosen kind), largest MRR loss first."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    bd = BuyingDecline
    in_scope = scope.account_filter(bd.territory, bd.account_id)
    counts = {kind: 0 for kind in DECLINE_KINDS}
    lost = 0.0
    for kind, count, change in session.execute(select(bd.decline_kind, func.count(), func.sum(bd.mrr_change_usd))
                                               .where(in_scope).group_by(bd.decline_kind)):
        counts[kind] = int(count)
        lost += float(change or 0)
    where = [in_scope] + ([bd.decline_kind == resolved.kind] if resolved.kind else [])
    rows = session.scalars(select(bd).where(*where)
                           .order_by(bd.mrr_change_usd, bd.churn_risk_score.desc().nulls_last(), bd.account_id)
                           .limit(DECLINE_LIMIT)).all()
    records = [{"account_id": r.account_id, "account_name": r.account_name, "decline_kind": r.decline_kind,
                "reasons": r.reasons,
                **{f: mask_value(f, float(getattr(r, f)), policy)
                   for f in ("mrr_before_usd", "mrr_now_usd", "mrr_change_usd")},
                "churn_risk_score": round(r.churn_risk_score) if r.churn_risk_score is not None else None,
                "price_rises": r.price_rises, "tickets": r.tickets, "last_purchase": _day(r.last_purchase),
                "region": r.region, "territory": r.territory}
               for r in rows]
    if not policy.view_financials:
        # A band of a negative change would read as a loss band: hide the change itself.
        for record in records:
            record["mrr_change_usd"] = None
    return DeclineResult(resolved, resolved.run.decline_window_days, counts,
                         -lost if policy.view_financials else None,
                         GridRows(decline_columns(policy), records, "account_name"))


def export_declines(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    result = declines(session, LeadsQuery.from_args(args), scope, policy=policy)
    return result.grid if isinstance(result, DeclineResult) else GridRows(decline_columns(policy), [], "account_name")


# --- 4. Renewals due ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenewalsResult:
    """The scope's active customers whose next renewal falls within the window (My accounts' renewals
    view), largest MRR first, with their health and churn level; and how much of it is at risk."""

    resolved: ResolvedQuery
    as_of: date | None
    renewals: int
    mrr_usd: float | None  # None without the financials permission (the band says it)
    mrr_band: str | None
    high_risk: int  # of them, HIGH churn risk
    high_risk_mrr_usd: float | None
    high_risk_mrr_band: str | None
    unhealthy: int  # of them, health below 50 (Critical)
    grid: GridRows


def renewal_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    return book.grid_columns(policy)


def renewals(session: Session, query: LeadsQuery, scope: DataScope, *,
             policy: MaskPolicy) -> RenewalsResult | GoldStatus:
    """Renewals due in the next 3 or 6 months (the URL's `months`), up to RENEWAL_LIMIT in the grid."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    months = resolved.months
    page = book.renewal_accounts(session, months, scope, policy, limit=RENEWAL_LIMIT)
    figures = book.renewal_figures(session, months, scope)
    grid = book.book_rows(page, policy)

    def money(value: float) -> tuple[float | None, str | None]:
        return (value, None) if policy.view_financials else (None, amount_band(value))

    mrr, mrr_band = money(figures.mrr_usd)
    high, high_band = money(figures.high_risk_mrr_usd)
    return RenewalsResult(resolved, page.as_of, figures.accounts, mrr, mrr_band, figures.high_risk, high,
                          high_band, figures.critical, GridRows(grid.columns, grid.rows, "account_name"))


def export_renewals(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    result = renewals(session, LeadsQuery.from_args(args), scope, policy=policy)
    return result.grid if isinstance(result, RenewalsResult) else GridRows(renewal_columns(policy), [], "account_name")


# --- 5. Cross-sell and upsell ------------------------------------------------------------------


def potential(session: Session, query: LeadsQuery, scope: DataScope, *,
              policy: MaskPolicy) -> strategy.PotentialResult | GoldStatus:
    """The Strategy page's cross-sell and upsell ranking for the scope, unchanged, so both pages agree."""
    if resolve(session, query, scope) is None:
        return gold_status(session)
    return strategy.potential(session, strategy.StrategyQuery(), scope, policy=policy)


def export_potential(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    return strategy.export_potential(session, {}, scope, policy)

