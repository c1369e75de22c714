"""Receivables page queries: ageing of overdue invoices with the invoices behind each bucket, receivables
by customer segment and account manager, the customers disputing invoices or getting credit and debit
notes, the customers on credit hold with the MRR and open pipeline at stake, DSO, billing accuracy (invoices
without a later credit or debit note) with CSAT and churn beside it, and a 30/60/90-day collections forecast.

One function per panel, each taking the page's URL state, the caller's `DataScope` and `MaskPolicy`
(both required) and returning a typed result, or gold's status before gold was built. Everything is read
from gold, kept by the gold stage for the as-of day of gold.receivables_as_of: gold.receivable_invoice (one
row per unpaid invoice on the as-of day, USD at the as-of rate, the rules of gold.billing_ageing),
gold.receivable_customer (one row per customer: its overdue invoices, disputes and notes, credit hold and
accuracy cohort, for the rankings) and their sums per territory (gold.receivables_summary,
gold.receivables_currency, gold.receivables_territory).

Each customer (master account, whose Customer 360 page the page's account rows open) sits in one territory,
its own (gold.customer_360's), with all its invoices and accounts: rows are scoped by that territory and the
customer. A scope of everything or of territories reads the sums per territory, which add up exactly; a
scope naming customers (a book of accounts) sums its invoices and customers' rows instead.

The state is one value, the ageing bucket whose invoices are listed (`?bucket=31-60`); without one the
grid lists every overdue invoice. Definitions (shown on the page too):
- overdue: unpaid and past its due day on the as-of day; days overdue = as-of day - due day;
- receivables: every unpaid invoice, due or not (the overdue ones and the current ones);
- frequent disputer: a customer with at least FREQUENT_EVENTS disputes, credit notes and debit notes in all;
- on credit hold: a hold placed by the end of the as-of day and not released by then;
- a customer's territory: its master account's, with all its invoices and accounts (DSO and the monthly
  billing accuracy count each invoice in its account's territory instead); the ranking grids name a
  customer and its account manager by its master account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, mask_record
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import ACCOUNT, BAND, COUNT, DAY, PERCENT, USD, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.gold import (
    ALL_PRODUCTS,
    Customer360,
    CustomerSummary,
    ReceivableCustomer,
    ReceivableInvoice,
    ReceivablesAsOf,
    ReceivablesCurrency,
    ReceivablesMonthly,
    ReceivablesSummary,
    ReceivablesTerritory,
)
from dashboard.url_state import first, to_search

PAGE_PATH = "/billing"
OVERDUE_BUCKETS = ("1-30", "31-60", "61-90", "90+")
BUCKET_LABELS = {"1-30": "1\u201330 days", "31-60": "31\u201360 days", "61-90": "61\u201390 days", "90+": "90+ days"}
FREQUENT_EVENTS = 3  # disputes and notes in all that make a customer a frequent disputer
GRID_LIMIT = 500  # invoices listed for one bucket (the headline counts them all)
RANK_LIMIT = 50  # customers listed in the ranking grids

RI = ReceivableInvoice
RC = ReceivableCustomer
RS = ReceivablesSummary
RT = ReceivablesTerritory


# --- The page's state in the URL -----------------------------------------------------


@dataclass(frozen=True)
class ReceivablesQuery:
    """The page as the URL holds it, raw: `?bucket=31-60`. Validated by `resolve`."""

    bucket: Any = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> ReceivablesQuery:
        return cls(first(args, "bucket"))

    @classmethod
    def from_state(cls, data: Any) -> ReceivablesQuery:
        return cls.from_args({"bucket": data.get("bucket")}) if isinstance(data, dict) else cls()

    def as_state(self) -> dict[str, Any]:
        return {"bucket": self.bucket}

    @property
    def search(self) -> str:
        return to_search([("bucket", self.bucket)])

    @property
    def href(self) -> str:
        return PAGE_PATH + self.search


@dataclass(frozen=True)
class ResolvedQuery:
    """The validated state: the bucket chosen (None: every overdue invoice) and the as-of day."""

    bucket: str | None
    as_of: date
    scope: DataScope
    notes: tuple[str, ...] = ()

    @property
    def canonical(self) -> ReceivablesQuery:
        return ReceivablesQuery(self.bucket)


def resolve(session: Session, query: ReceivablesQuery, scope: DataScope) -> ResolvedQuery | None:
    """Validate the URL state; an unknown bucket falls back to every overdue invoice with a note.
    None before gold was built (no customer yet)."""
    if session.scalar(select(Customer360.account_id).limit(1)) is None:
        return None
    day = session.scalar(select(ReceivablesAsOf.as_of).limit(1)) or date.today()
    notes: list[str] = []
    bucket = query.bucket if query.bucket in OVERDUE_BUCKETS else None
    if query.bucket is not None and bucket is None:
        notes.append(f"The bucket can be {', '.join(OVERDUE_BUCKETS)}, not \u201c{str(query.bucket)[:40]}\u201d: "
                     "showing every overdue invoice.")
    return ResolvedQuery(bucket, day, scope, tuple(notes))


def _invoice_filter(scope: DataScope) -> ColumnElement[bool]:
    return scope.account_filter(RI.territory, RI.customer_id)


def _customer_filter(scope: DataScope) -> ColumnElement[bool]:
    return scope.account_filter(RC.territory, RC.customer_id)


def _summed(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def _money_kind(policy: MaskPolicy) -> str:
    return USD if policy.view_financials else BAND


def _float(value: Any) -> float:
    return float(value or 0)


def _masked(records: list[dict[str, Any]], policy: MaskPolicy) -> list[dict[str, Any]]:
    return [mask_record(record, policy) for record in records]


# --- 1. Ageing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketFigure:
    bucket: str
    invoices: int
    customers: int
    amount_usd: float
    currencies: tuple[tuple[str, float], ...]  # (currency, amount in it), largest USD first


@dataclass(frozen=True)
class AgeingResult:
    """Overdue invoices per bucket in USD (with the currencies they are in), the invoices of the chosen
    bucket (every overdue one without a choice) and each overdue customer's days overdue."""

    resolved: ResolvedQuery
    buckets: tuple[BucketFigure, ...]  # in OVERDUE_BUCKETS order, empty buckets included
    invoices: GridRows
    invoices_in_view: int  # before GRID_LIMIT
    accounts: GridRows
    overdue_customers: int

    @property
    def overdue_usd(self) -> float:
        return sum(b.amount_usd for b in self.buckets)

    @property
    def overdue_invoices(self) -> int:
        return sum(b.invoices for b in self.buckets)


def invoice_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    return (GridColumn("invoice_label", "Invoice", pinned=True), GridColumn("account_name", "Account"),
            GridColumn("days_overdue", "Days overdue", COUNT), GridColumn("amount_usd", "Amount (USD)", _money_kind(policy)),
            GridColumn("original", "Original amount"), GridColumn("due_date", "Due", DAY),
            GridColumn("bucket", "Bucket"), GridColumn("disputed", "Disputed"),
            GridColumn("segment", "Segment"), GridColumn("account_manager", "Account manager"))


def overdue_account_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True),
            GridColumn("days_overdue", "Days overdue (oldest)", COUNT),
            GridColumn("overdue_usd", "Overdue (USD)", _money_kind(policy)),
            GridColumn("invoices", "Overdue invoices", COUNT), GridColumn("oldest_due", "Oldest due", DAY),
            GridColumn("account_manager", "Account manager"), GridColumn("account_id", "Account id"))


def original_amount(amount: Any, currency: str, policy: MaskPolicy) -> str:
    """An invoice's own amount beside its currency: `EUR 1,234.50` (hidden without view_financials)."""
    if not policy.view_financials or amount is None:
        return currency
    return f"{currency} {float(amount):,.2f}"


def ageing(session: Session, query: ReceivablesQuery, scope: DataScope, *,
           policy: MaskPolicy) -> AgeingResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    overdue = RI.bucket.in_(OVERDUE_BUCKETS)
    if scope.served_by_territory:
        in_scope = scope.territory_filter(RS.territory)
        totals = {b: (int(n), int(c), _float(usd)) for b, n, c, usd in session.execute(
            select(RS.group_name, func.sum(RS.invoices), func.sum(RS.customers), func.sum(RS.outstanding_usd))
            .where(RS.dimension == "bucket", RS.group_name.in_(OVERDUE_BUCKETS), in_scope).group_by(RS.group_name))}
        rc = ReceivablesCurrency
        currency_sums = (select(rc.bucket, rc.currency, func.sum(rc.amount), func.sum(rc.amount_usd))
                         .where(rc.bucket.in_(OVERDUE_BUCKETS), scope.territory_filter(rc.territory))
                         .group_by(rc.bucket, rc.currency))
        customers = int(session.scalar(select(_summed(RS.overdue_customers))
                                       .where(RS.dimension == "all", in_scope)) or 0)
    else:
        where = [_invoice_filter(scope), overdue]
        totals = {b: (int(n), int(c), _float(usd)) for b, n, c, usd in session.execute(
            select(RI.bucket, func.count(), func.count(RI.customer_id.distinct()), func.sum(RI.amount_usd))
            .where(*where).group_by(RI.bucket))}
        currency_sums = (select(RI.bucket, RI.currency, func.sum(RI.amount), func.sum(RI.amount_usd)).where(*where)
                         .group_by(RI.bucket, RI.currency))
        customers = int(session.scalar(select(func.count()).where(RC.overdue_invoices > 0, _customer_filter(scope)))
                        or 0)
    mixes: dict[str, list[tuple[str, float, float]]] = {}
    for b, currency, amount, usd in session.execute(currency_sums):
        mixes.setdefault(b, []).append((currency, _float(amount), _float(usd)))
    buckets = tuple(BucketFigure(b, *totals.get(b, (0, 0, 0.0)),
                                 tuple((c, a) for c, a, _ in sorted(mixes.get(b, []), key=lambda m: (-m[2], m[0]))))
                    for b in OVERDUE_BUCKETS)
    in_view = sum(b.invoices for b in buckets if resolved.bucket in (None, b.bucket))
    # Read in order from ix_receivable_invoice_overdue (every bucket) or ..._bucket_overdue (one).
    chosen = [_invoice_filter(scope), RI.bucket == resolved.bucket if resolved.bucket else overdue]
    records = []
    for r in session.scalars(select(RI).where(*chosen).order_by(RI.days_overdue.desc(), RI.amount_usd.desc(),
                                                               RI.invoice_id).limit(GRID_LIMIT)):
        records.append({"invoice_id": r.invoice_id, "invoice_label": r.invoice_number or r.invoice_id,
                        "account_name": r.account_name, "customer_id": r.customer_id,
                        "days_overdue": r.days_overdue, "amount_usd": _float(r.amount_usd),
                        "original": original_amount(r.amount, r.currency, policy), "currency": r.currency,
                        "due_date": r.due_date.isoformat() if r.due_date else None, "bucket": r.bucket,
                        "disputed": "Yes" if r.disputed else "", "segment": r.segment,
                        "account_manager": r.account_manager})
    accounts = [{"account_id": r.customer_id, "account_name": r.account_name, "days_overdue": r.overdue_days,
                 "overdue_usd": _float(r.overdue_usd), "invoices": r.overdue_invoices,
                 "oldest_due": r.oldest_due.isoformat() if r.oldest_due else None,
                 "account_manager": r.account_manager}
                for r in session.scalars(select(RC).where(RC.overdue_invoices > 0, _customer_filter(scope))
                                         .order_by(RC.overdue_days.desc(), RC.overdue_usd.desc(), RC.customer_id)
                                         .limit(RANK_LIMIT))]
    return AgeingResult(resolved, buckets, GridRows(invoice_columns(policy), _masked(records, policy), "invoice_label"),
                        in_view, GridRows(overdue_account_columns(policy), _masked(accounts, policy), "account_name"),
                        customers)


# --- 2. Receivables by segment and account manager ----------------------------------------------------


RECEIVABLE_DIMENSIONS = {"segment": "Segment", "account_manager": "Account manager"}


@dataclass(frozen=True)
class ReceivablesResult:
    """Every unpaid invoice (due or not) summed by customer segment and by account manager."""

    resolved: ResolvedQuery
    outstanding_usd: float
    overdue_usd: float
    invoices: int
    grids: dict[str, GridRows]

    @property
    def overdue_share(self) -> float | None:
        return self.overdue_usd / self.outstanding_usd if self.outstanding_usd else None


def receivable_columns(dimension: str, policy: MaskPolicy) -> tuple[GridColumn, ...]:
    money = _money_kind(policy)
    return (GridColumn("group", RECEIVABLE_DIMENSIONS[dimension], pinned=True),
            GridColumn("outstanding_usd", "Outstanding (USD)", money), GridColumn("overdue_usd", "Overdue (USD)", money),
            GridColumn("overdue_share", "Overdue share", PERCENT), GridColumn("invoices", "Unpaid invoices", COUNT),
            GridColumn("customers", "Customers", COUNT))


def _receivable_record(group: Any, outstanding: Any, late: Any, invoices: Any, customers: Any) -> dict[str, Any]:
    return {"group": group, "outstanding_usd": _float(outstanding), "overdue_usd": _float(late),
            "overdue_share": _float(late) / _float(outstanding) if outstanding else None,
            "invoices": int(invoices), "customers": int(customers)}


def receivables(session: Session, query: ReceivablesQuery, scope: DataScope, *,
                policy: MaskPolicy) -> ReceivablesResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    per_dimension: dict[str, list[dict[str, Any]]] = {dimension: [] for dimension in RECEIVABLE_DIMENSIONS}
    if scope.served_by_territory:
        total = (0, 0, 0)
        for dimension, group, *figures in session.execute(
                select(RS.dimension, RS.group_name, func.sum(RS.outstanding_usd), func.sum(RS.overdue_usd),
                       func.sum(RS.invoices), func.sum(RS.customers))
                .where(RS.dimension.in_(["all", *RECEIVABLE_DIMENSIONS]), scope.territory_filter(RS.territory))
                .group_by(RS.dimension, RS.group_name)):
            if dimension == "all":
                total = tuple(figures[:3])
            else:
                per_dimension[dimension].append(_receivable_record(group, *figures))
    else:
        overdue = RI.bucket.in_(OVERDUE_BUCKETS)
        figures = (func.coalesce(func.sum(RI.amount_usd), 0),
                   func.coalesce(func.sum(RI.amount_usd).filter(overdue), 0),
                   func.count(), func.count(RI.customer_id.distinct()))
        total = session.execute(select(*figures).where(_invoice_filter(scope))).one()
        for dimension in RECEIVABLE_DIMENSIONS:
            key = getattr(RI, dimension)
            per_dimension[dimension] = [_receivable_record(*row) for row in session.execute(
                select(key, *figures).where(_invoice_filter(scope)).group_by(key))]
    grids = {}
    for dimension, records in per_dimension.items():
        records.sort(key=lambda r: (-r["outstanding_usd"], str(r["group"])))
        grids[dimension] = GridRows(receivable_columns(dimension, policy), _masked(records, policy), "group")
    return ReceivablesResult(resolved, _float(total[0]), _float(total[1]), int(total[2]), grids)


# --- 3. Disputes and adjustments ----------------------------------------------------------------------


@dataclass(frozen=True)
class DisputesResult:
    """Per customer: disputes, credit and debit notes with their USD, ranked by how often."""

    resolved: ResolvedQuery
    disputes: int
    open_disputes: int
    disputed_usd: float
    credit_notes: int
    credit_usd: float
    debit_notes: int
    customers_disputing: int
    frequent_customers: int
    grid: GridRows


def dispute_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    money = _money_kind(policy)
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True), GridColumn("events", "Disputes and notes", COUNT),
            GridColumn("disputes", "Disputes", COUNT), GridColumn("open_disputes", "Open", COUNT),
            GridColumn("dispute_rate", "Disputed invoices", PERCENT), GridColumn("disputed_usd", "Disputed (USD)", money),
            GridColumn("credit_notes", "Credit notes", COUNT), GridColumn("credit_usd", "Credited (USD)", money),
            GridColumn("debit_notes", "Debit notes", COUNT), GridColumn("last_dispute_on", "Last dispute", DAY),
            GridColumn("account_manager", "Account manager"), GridColumn("account_id", "Account id"))


def disputes(session: Session, query: ReceivablesQuery, scope: DataScope, *,
             policy: MaskPolicy) -> DisputesResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    if scope.served_by_territory:
        totals = session.execute(select(
            _summed(RT.disputes), _summed(RT.open_disputes), _summed(RT.disputed_usd), _summed(RT.credit_notes),
            _summed(RT.credit_usd), _summed(RT.debit_notes), _summed(RT.customers_disputing),
            _summed(RT.frequent_customers)).where(scope.territory_filter(RT.territory))).one()
    else:
        totals = session.execute(select(
            _summed(RC.disputes), _summed(RC.open_disputes), _summed(RC.disputed_usd), _summed(RC.credit_notes),
            _summed(RC.credit_usd), _summed(RC.debit_notes), func.count().filter(RC.disputes > 0),
            func.count().filter(RC.events >= FREQUENT_EVENTS)).where(_customer_filter(scope))).one()
    records = [{"account_id": r.customer_id, "account_name": r.account_name, "events": r.events,
                "disputes": r.disputes, "open_disputes": r.open_disputes,
                "dispute_rate": r.disputes / r.invoices_issued if r.invoices_issued else None,
                "disputed_usd": _float(r.disputed_usd), "credit_notes": r.credit_notes,
                "credit_usd": _float(r.credit_usd), "debit_notes": r.debit_notes,
                "last_dispute_on": r.last_dispute_on.isoformat() if r.last_dispute_on else None,
                "account_manager": r.account_manager}
               for r in session.scalars(select(RC).where(RC.events > 0, _customer_filter(scope))
                                        .order_by(RC.events.desc(), RC.disputed_usd.desc(), RC.customer_id)
                                        .limit(RANK_LIMIT))]
    return DisputesResult(resolved, int(totals[0]), int(totals[1]), _float(totals[2]), int(totals[3]),
                          _float(totals[4]), int(totals[5]), int(totals[6]), int(totals[7]),
                          GridRows(dispute_columns(policy), _masked(records, policy), "account_name"))


# --- 4. Credit holds --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldsResult:
    """Customers with a standing credit hold, and the MRR and open pipeline they carry."""

    resolved: ResolvedQuery
    customers_on_hold: int
    mrr_usd: float
    pipeline_usd: float
    total_mrr_usd: float  # every customer's MRR in the scope, for the share at stake
    grid: GridRows

    @property
    def mrr_share(self) -> float | None:
        return self.mrr_usd / self.total_mrr_usd if self.total_mrr_usd else None


def hold_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    money = _money_kind(policy)
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True), GridColumn("mrr_usd", "MRR (USD)", money),
            GridColumn("open_pipeline_usd", "Open pipeline (USD)", money), GridColumn("placed_on", "On hold since", DAY),
            GridColumn("days_on_hold", "Days on hold", COUNT), GridColumn("reason", "Reason"),
            GridColumn("account_manager", "Account manager"), GridColumn("account_id", "Account id"))


def holds(session: Session, query: ReceivablesQuery, scope: DataScope, *,
          policy: MaskPolicy) -> HoldsResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    if scope.served_by_territory:
        totals = session.execute(select(_summed(RT.customers_on_hold), _summed(RT.hold_mrr_usd),
                                        _summed(RT.hold_pipeline_usd))
                                 .where(scope.territory_filter(RT.territory))).one()
        cs = CustomerSummary
        total_mrr = session.scalar(select(_summed(cs.mrr_usd)).where(cs.product_line == ALL_PRODUCTS,
                                                                     scope.territory_filter(cs.territory)))
    else:
        totals = session.execute(select(func.count(), _summed(RC.hold_mrr_usd), _summed(RC.hold_pipeline_usd))
                                 .where(RC.on_hold, _customer_filter(scope))).one()
        total_mrr = session.scalar(select(_summed(Customer360.mrr_usd)).where(scope.customer_filter()))
    records = [{"account_id": r.customer_id, "account_name": r.account_name, "mrr_usd": _float(r.hold_mrr_usd),
                "open_pipeline_usd": _float(r.hold_pipeline_usd),
                "placed_on": r.hold_placed_on.isoformat() if r.hold_placed_on else None,
                "days_on_hold": (resolved.as_of - r.hold_placed_on).days if r.hold_placed_on else None,
                "reason": (r.hold_reason or "").replace("_", " "), "account_manager": r.account_manager}
               for r in session.scalars(select(RC).where(RC.on_hold, _customer_filter(scope))
                                        .order_by(RC.hold_mrr_usd.desc(), RC.customer_id).limit(RANK_LIMIT))]
    return HoldsResult(resolved, int(totals[0]), _float(totals[1]), _float(totals[2]), _float(total_mrr),
                       GridRows(hold_columns(policy), _masked(records, policy), "account_name"))


# --- 5. Days sales outstanding ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DsoMonth:
    month: date
    month_end: date
    days: int
    receivables_usd: float
    invoiced_usd: float

    @property
    def dso(self) -> float | None:
        """Receivables at the month's end over the month's invoicing, times its days."""
        return self.receivables_usd / self.invoiced_usd * self.days if self.invoiced_usd else None


@dataclass(frozen=True)
class DsoResult:
    """DSO per month (the running month last), for the territories of the caller's scope."""

    resolved: ResolvedQuery
    months: tuple[DsoMonth, ...]
    by_territory: bool  # False: the scope names accounts only, which monthly territory sums cannot serve

    @property
    def latest(self) -> DsoMonth | None:
        """The last complete month (the running month has few days)."""
        complete = [m for m in self.months if (m.month_end + timedelta(days=1)).day == 1]
        return complete[-1] if complete else (self.months[-1] if self.months else None)


def dso(session: Session, query: ReceivablesQuery, scope: DataScope, *,
        policy: MaskPolicy) -> DsoResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    rm = ReceivablesMonthly
    where = true() if scope.unrestricted else rm.territory.in_(sorted(scope.territories))
    rows = session.execute(select(rm.month, func.max(rm.month_end), func.max(rm.days), func.sum(rm.receivables_usd),
                                  func.sum(rm.invoiced_usd)).where(where).group_by(rm.month).order_by(rm.month)).all()
    months = tuple(DsoMonth(m, end, int(days), _float(rec), _float(inv)) for m, end, days, rec, inv in rows)
    return DsoResult(resolved, months, scope.unrestricted or bool(scope.territories))


# --- 6. Billing accuracy ------------------------------------------------------------------------------------


ACCURACY_MONTHS = 12  # months of the accuracy trend, the running month last
CHURN_DAYS = 180  # a customer churned in the CHURN_DAYS to the as-of day counts as churned


@dataclass(frozen=True)
class AccuracyMonth:
    month: date
    issued: int
    adjusted: int

    @property
    def accuracy(self) -> float | None:
        """The share of the month's invoices with no credit or debit note since."""
        return (self.issued - self.adjusted) / self.issued if self.issued else None


@dataclass(frozen=True)
class CohortFigures:
    """Customers with invoices in the last 365 days, either with a note on one of them or without."""

    customers: int
    churned: int
    csat_sum: int
    csat_responses: int

    @property
    def churn_rate(self) -> float | None:
        return self.churned / self.customers if self.customers else None

    @property
    def csat(self) -> float | None:
        return self.csat_sum / self.csat_responses if self.csat_responses else None


@dataclass(frozen=True)
class AccuracyResult:
    """Billing accuracy per issue month, and CSAT and churn of the customers whose invoices were adjusted
    against the others."""

    resolved: ResolvedQuery
    months: tuple[AccuracyMonth, ...]
    by_territory: bool  # False: the scope names accounts only, which monthly territory sums cannot serve
    affected: CohortFigures
    others: CohortFigures

    @property
    def issued(self) -> int:
        return sum(m.issued for m in self.months)

    @property
    def adjusted(self) -> int:
        return sum(m.adjusted for m in self.months)

    @property
    def accuracy(self) -> float | None:
        """Over the months shown."""
        return (self.issued - self.adjusted) / self.issued if self.issued else None


def _first_of_month(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def accuracy(session: Session, query: ReceivablesQuery, scope: DataScope, *,
             policy: MaskPolicy) -> AccuracyResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    rm = ReceivablesMonthly
    where = true() if scope.unrestricted else rm.territory.in_(sorted(scope.territories))
    since = _first_of_month(resolved.as_of, ACCURACY_MONTHS - 1)
    months = tuple(AccuracyMonth(m, int(n or 0), int(a or 0)) for m, n, a in session.execute(
        select(rm.month, func.sum(rm.issued_invoices), func.sum(rm.adjusted_invoices))
        .where(where, rm.month >= since).group_by(rm.month).order_by(rm.month)))
    if scope.served_by_territory:
        figures = session.execute(select(
            _summed(RT.affected_customers), _summed(RT.affected_churned), _summed(RT.affected_csat_sum),
            _summed(RT.affected_csat_responses), _summed(RT.other_customers), _summed(RT.other_churned),
            _summed(RT.other_csat_sum), _summed(RT.other_csat_responses))
            .where(scope.territory_filter(RT.territory))).one()
    else:
        figures = session.execute(select(*(
            figure for cohort in (RC.adjusted_invoices_12m > 0, RC.adjusted_invoices_12m == 0)
            for figure in (func.count().filter(cohort), func.count().filter(cohort & RC.churned),
                           func.coalesce(func.sum(RC.csat_sum).filter(cohort), 0),
                           func.coalesce(func.sum(RC.csat_responses).filter(cohort), 0))))
            .where(RC.invoices_12m > 0, _customer_filter(scope))).one()
    affected, others = CohortFigures(*map(int, figures[:4])), CohortFigures(*map(int, figures[4:]))
    return AccuracyResult(resolved, months, scope.unrestricted or bool(scope.territories), affected, others)


# --- 7. Collections forecast ---------------------------------------------------------------------------------


FORECAST_WINDOWS = (30, 60, 90)  # days after the as-of day


@dataclass(frozen=True)
class CollectionsResult:
    """Cash expected from the unpaid invoices within each window, by each customer's usual payment delay."""

    resolved: ResolvedQuery
    outstanding_usd: float
    expected_usd: dict[int, float]  # window in days -> USD expected by then (cumulative)
    expected_invoices: dict[int, int]
    past_usual_usd: float  # unpaid beyond the customer's usual delay already: in no window
    past_usual_invoices: int
    company_delay_days: float | None  # the median used for customers without history
    invoices_without_history: int


def collections(session: Session, query: ReceivablesQuery, scope: DataScope, *,
                policy: MaskPolicy) -> CollectionsResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    if scope.served_by_territory:
        # The windows' sums were taken when gold was built, for its as-of day (gold.receivables_territory).
        figures = list(session.execute(select(_summed(RS.outstanding_usd), _summed(RS.invoices))
                                       .where(RS.dimension == "all", scope.territory_filter(RS.territory))).one())
        windows = [getattr(RT, f"expected_{days}_{figure}") for days in FORECAST_WINDOWS for figure in ("usd", "invoices")]
        figures += session.execute(select(*map(_summed, windows), _summed(RT.past_usual_usd),
                                          _summed(RT.past_usual_invoices), _summed(RT.invoices_without_history))
                                   .where(scope.territory_filter(RT.territory))).one()
    else:
        sums = [_summed(RI.amount_usd), func.count()]
        for days in FORECAST_WINDOWS:
            within = RI.expected_paid_on.between(resolved.as_of, resolved.as_of + timedelta(days=days))
            sums += [func.coalesce(func.sum(RI.amount_usd).filter(within), 0), func.count().filter(within)]
        past = RI.expected_paid_on < resolved.as_of
        sums += [func.coalesce(func.sum(RI.amount_usd).filter(past), 0), func.count().filter(past),
                 func.count().filter(~RI.delay_from_history)]
        figures = list(session.execute(select(*sums).where(_invoice_filter(scope))).one())
    # Every invoice without history carries the same company median.
    company = session.scalar(select(ReceivablesAsOf.company_delay_days).limit(1))
    expected = {d: _float(figures[2 + 2 * i]) for i, d in enumerate(FORECAST_WINDOWS)}
    counts = {d: int(figures[3 + 2 * i]) for i, d in enumerate(FORECAST_WINDOWS)}
    rest = 2 + 2 * len(FORECAST_WINDOWS)
    return CollectionsResult(resolved, _float(figures[0]), expected, counts, _float(figures[rest]),
                             int(figures[rest + 1]), None if company is None else float(company),
                             int(figures[rest + 2]))


# --- Exports: each grid recomputed for the URL state it was shown for -----------------------------------


def _grid_or_empty(result: Any, grid: str, columns: tuple[GridColumn, ...]) -> GridRows:
    return GridRows(columns) if isinstance(result, GoldStatus) else getattr(result, grid)


def export_invoices(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    return _grid_or_empty(ageing(session, ReceivablesQuery.from_args(args), scope, policy=policy), "invoices",
                          invoice_columns(policy))


def export_disputes(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    return _grid_or_empty(disputes(session, ReceivablesQuery.from_args(args), scope, policy=policy), "grid",
                          dispute_columns(policy))


def export_holds(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    return _grid_or_empty(holds(session, ReceivablesQuery.from_args(args), scope, policy=policy), "grid",
                          hold_columns(policy))


def export_name(args: Mapping[str, Any]) -> str:
    """The file-name part of an export: the bucket shown."""
    bucket = first(args, "bucket")
    return f"{bucket.replace('+', '-plus')}-days" if bucket in OVERDUE_BUCKETS else "all"
