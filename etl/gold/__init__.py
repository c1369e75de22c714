"""Gold stage: the small per-day and per-customer tables the pages read.

Each gold table is filled by one SQL file in this folder, run in the order of GOLD_STEPS,
all in one transaction: a failed run leaves the previous gold tables as they were. The SQL
gets two parameters: `:first_day` and `:as_of`, the first and last day of FX rates in
silver (the data window; as-of is the last day of data). To add a gold table: its ORM class
in dashboard/tables/gold.py, a migration, `<table>.sql` here and a line in GOLD_STEPS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Connection, bindparam, text

from dashboard.tables import gold
from etl.gold.contact_country import ContactCountryStep
from etl.identity.store import IDENTITY_TABLES
from etl.silver import AS_OF_RATE_USD
from etl.steps import ACCOUNTS, DAYS, DIFF, REBUILD, SKIP, SqlStep, Step, qualified_name, run_steps
from etl.watermarks import get_watermark, set_watermark

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).parent


class NoDataWindow(RuntimeError):
    """Silver has no FX rates, so there is no as-of day and no way to convert to USD."""


@dataclass(frozen=True)
class DataWindow:
    """The days gold covers: the first and last FX rate day."""

    first_day: date
    as_of: date


GOLD_STEPS: tuple[Step, ...] = (
    # First: every MRR figure below reads it (directly or through gold.subscription_mrr_daily).
    SqlStep(gold.SubscriptionMrr, SQL_DIR / "subscription_mrr.sql", account_column="account_id"),
    SqlStep(gold.DailyKpiTerritory, SQL_DIR / "daily_kpi_territory.sql", since_column="day"),
    SqlStep(gold.DailyKpi, SQL_DIR / "daily_kpi.sql", since_column="day"),  # rolls up daily_kpi_territory
    # Reads master ids too: redone whole when they change (refresh_plan).
    SqlStep(gold.DailyKpiMasterTerritory, SQL_DIR / "daily_kpi_master_territory.sql", since_column="day"),
    SqlStep(gold.ProductMixTerritory, SQL_DIR / "product_mix_territory.sql"),  # small, as of the last day: DIFF
    SqlStep(gold.LeadsDaily, SQL_DIR / "leads_daily.sql", since_column="day"),
    SqlStep(gold.Campaign, SQL_DIR / "campaign.sql"),
    SqlStep(gold.CampaignDaily, SQL_DIR / "campaign_daily.sql", since_column="day"),
    SqlStep(gold.SupportDaily, SQL_DIR / "support_daily.sql", since_column="day"),
    SqlStep(gold.Customer360, SQL_DIR / "customer_360.sql", account_column="account_id"),
    SqlStep(gold.PipelineMonthly, SQL_DIR / "pipeline_monthly.sql"),
    SqlStep(gold.SupportHourly, SQL_DIR / "support_hourly.sql", since_column="day"),
    # The Support pages: per case (from the first changed day on), the agents, agents at work per hour.
    SqlStep(gold.SupportAgent, SQL_DIR / "support_agent.sql"),
    SqlStep(gold.SupportCase, SQL_DIR / "support_case.sql", since_column="opened_day",
            whole_when=frozenset({"silver.agents", "silver.products"})),
    SqlStep(gold.SupportStaffingHourly, SQL_DIR / "support_staffing_hourly.sql", since_column="day"),
    SqlStep(gold.SupportSlaDaily, SQL_DIR / "support_sla_daily.sql", since_column="day"),
    # The speed panel's percentiles, company-wide per period: they cannot be summed from smaller rows.
    SqlStep(gold.SupportSpeed, SQL_DIR / "support_speed.sql"),
    # The Operations page: the customers running each product, and each onboarding milestone; both small
    # enough to work out whole (DIFF).
    SqlStep(gold.ProductCustomer, SQL_DIR / "product_customer.sql"),
    SqlStep(gold.SupportProductRunning, SQL_DIR / "support_product_running.sql"),  # reads support_case too
    SqlStep(gold.OnboardingStage, SQL_DIR / "onboarding_stage.sql"),
    # ... and its panels' figures per region and territory, customer or milestone, so a request sums a few
    # rows: regions, systemic issues, repeat issues, VIPs, onboarding stages and stuck accounts (DIFF).
    SqlStep(gold.SupportRegion, SQL_DIR / "support_region.sql"),
    SqlStep(gold.SupportCategoryWeekly, SQL_DIR / "support_category_weekly.sql"),
    SqlStep(gold.SupportRepeatCustomer, SQL_DIR / "support_repeat_customer.sql"),
    SqlStep(gold.SupportRepeatTicket, SQL_DIR / "support_repeat_ticket.sql"),
    SqlStep(gold.SupportVip, SQL_DIR / "support_vip.sql"),
    SqlStep(gold.OnboardingSummary, SQL_DIR / "onboarding_summary.sql"),
    SqlStep(gold.OnboardingDays, SQL_DIR / "onboarding_days.sql"),
    SqlStep(gold.OnboardingStuck, SQL_DIR / "onboarding_stuck.sql"),
    SqlStep(gold.CampaignHourly, SQL_DIR / "campaign_hourly.sql", since_column="sent_hour"),
    SqlStep(gold.BillingAgeing, SQL_DIR / "billing_ageing.sql", account_column="account_id"),
    SqlStep(gold.RegionalMonthly, SQL_DIR / "regional_monthly.sql"),  # reads gold.daily_kpi
    SqlStep(gold.TimelineEvent, SQL_DIR / "timeline_events.sql", account_column="customer_id",
            as_of_scope=SQL_DIR / "timeline_events_as_of_scope.sql"),
    SqlStep(gold.AccountSearch, SQL_DIR / "account_search.sql", account_column="account_id"),
    # Peers make every customer's gaps depend on all the others: worked out whole (DIFF), never per account.
    SqlStep(gold.AccountBook, SQL_DIR / "account_book.sql"),  # reads customer_360 and subscription_mrr
    # Small sums over customer_360 and the scores: DIFF here, and again after each scoring (SCORE_SUMMARY_STEPS).
    SqlStep(gold.CustomerSummary, SQL_DIR / "customer_summary.sql"),  # reads account_book too
    SqlStep(gold.ChurnFactorTerritory, SQL_DIR / "churn_factor_territory.sql"),
    # Windows ending from the first changed day on, the last 24 months kept; a customer's group or
    # product line can move any window.
    SqlStep(gold.RetentionMonthly, SQL_DIR / "retention_monthly.sql", since_column="window_end",
            whole_when=frozenset({"silver.accounts", "silver.products"}),
            retired="month < CAST(date_trunc('month', CAST(:as_of AS date)) - interval '23 months' AS date)"),
    # The Sales page: per deal, per rep and quarter, per rep and month; each small enough to work out whole.
    SqlStep(gold.SalesOpportunity, SQL_DIR / "sales_opportunity.sql"),
    SqlStep(gold.SalesQuota, SQL_DIR / "sales_quota.sql"),
    SqlStep(gold.RepActivityMonthly, SQL_DIR / "rep_activity_monthly.sql"),
    # The Growth page: new contacts per day; each contact's country from its phone (parsed in Python), per territory.
    SqlStep(gold.ContactDaily, SQL_DIR / "contact_daily.sql", since_column="day",
            whole_when=frozenset({"silver.accounts"})),
    ContactCountryStep(),
    SqlStep(gold.ContactCountryTerritory, SQL_DIR / "contact_country_territory.sql"),
    # Contacts per segment and custom attribute (reads customer_360 for the VIPs); small: worked out whole.
    SqlStep(gold.ContactSegmentMonthly, SQL_DIR / "contact_segment_monthly.sql"),
    # The Campaigns page: every replied send with its contact; small enough to work out whole.
    SqlStep(gold.CampaignReply, SQL_DIR / "campaign_reply.sql"),
    # The Receivables page: each unpaid invoice, and each account's disputes, notes and credit hold (reads
    # sales_opportunity); small enough to work out whole.
    SqlStep(gold.ReceivableInvoice, SQL_DIR / "receivable_invoice.sql"),
    SqlStep(gold.BillingAccount, SQL_DIR / "billing_account.sql"),
    SqlStep(gold.ReceivablesMonthly, SQL_DIR / "receivables_monthly.sql"),
    # ... and their sums per customer territory and rankings per customer, so a request reads a few rows.
    SqlStep(gold.ReceivablesAsOf, SQL_DIR / "receivables_as_of.sql"),
    SqlStep(gold.ReceivablesSummary, SQL_DIR / "receivables_summary.sql"),
    SqlStep(gold.ReceivablesCurrency, SQL_DIR / "receivables_currency.sql"),
    SqlStep(gold.ReceivableCustomer, SQL_DIR / "receivable_customer.sql"),
    SqlStep(gold.ReceivablesTerritory, SQL_DIR / "receivables_territory.sql"),  # reads receivable_customer
)

# The gold steps summing the scores the scoring job writes: it runs them again after writing.
SCORE_SUMMARY_STEPS: tuple[SqlStep, ...] = tuple(
    step for step in GOLD_STEPS
    if isinstance(step, SqlStep) and step.model in (gold.CustomerSummary, gold.ChurnFactorTerritory))

# Gold tables the intelligence jobs write rather than this stage; customer_360 reads them.
WRITTEN_BY_JOBS: tuple[str, ...] = ("gold.account_scores",)

# Gold views (created by migrations) and the tables they read: a step reading a view reads those.
GOLD_VIEWS: dict[str, frozenset[str]] = {
    "gold.subscription_mrr_daily": frozenset({"gold.subscription_mrr", "silver.fx_rates_daily"}),
}


def step_inputs(step: SqlStep) -> frozenset[str]:
    """The silver and gold tables a step reads, those behind the gold views it reads included."""
    inputs = step.inputs()
    return frozenset(set().union(*(GOLD_VIEWS.get(name, {name}) for name in inputs)))


def data_window(conn: Connection) -> DataWindow:
    """First and last FX rate day in silver; NoDataWindow if there are no rates."""
    first_day, as_of = conn.execute(text("SELECT min(rate_date), max(rate_date) FROM silver.fx_rates")).one()
    if first_day is None or as_of is None:
        raise NoDataWindow("silver.fx_rates is empty: no as-of day and no USD rates, so gold cannot be built "
                           "(is billing/fx_rates*.csv in the landing folder?)")
    return DataWindow(first_day, as_of)


PENDING = ("gold", "pending_since")  # app.source_watermark source and dataset
PENDING_TABLES = ("gold", "pending_tables")  # the silver tables changed since
PENDING_UNTRACKED = ("gold", "pending_untracked")  # ... of which not every change is in app.gold_pending_account
PENDING_DAY_CONFINED = ("gold", "pending_day_confined")  # ... or is, but only from the pending day on


def mark_gold_pending(conn: Connection, since_day: date | None, changed: set[str] = frozenset(),
                      untracked: set[str] = frozenset(), day_confined: set[str] = frozenset()) -> None:
    """Record, in silver's transaction, that gold must be refreshed from `since_day` on because
    the `changed` silver tables changed (`untracked` of them other than in the accounts listed in
    app.gold_pending_account, `day_confined` of them only in rows dated from `since_day` on).
    Kept, and added to, until a gold build commits, so a killed gold run is redone."""
    if since_day is None and not changed:
        return
    pending = pending_since(conn)
    since_day = since_day or date.max
    set_watermark(conn, *PENDING, min(since_day, pending or since_day).isoformat())
    for key, tables in ((PENDING_TABLES, changed), (PENDING_UNTRACKED, untracked),
                        (PENDING_DAY_CONFINED, day_confined)):
        set_watermark(conn, *key, ",".join(sorted(_pending_set(conn, key) | set(tables))))


def pending_since(conn: Connection) -> date | None:
    """The earliest day gold must be refreshed from; None when gold is up to date."""
    value = get_watermark(conn, *PENDING)
    return date.fromisoformat(value) if value else None


def _pending_set(conn: Connection, key: tuple[str, str]) -> set[str]:
    return {name for name in (get_watermark(conn, *key) or "").split(",") if name}


def _clear_pending(conn: Connection) -> None:
    conn.execute(text("DELETE FROM app.source_watermark WHERE source = :source AND dataset IN :datasets")
                 .bindparams(bindparam("datasets", expanding=True)),
                 {"source": PENDING[0], "datasets": [PENDING[1], PENDING_TABLES[1], PENDING_UNTRACKED[1],
                                                     PENDING_DAY_CONFINED[1]]})
    conn.execute(text("DELETE FROM app.gold_pending_account"))


LAST_AS_OF = ("gold", "as_of")


def _refresh_from(conn: Connection, since: date, window: DataWindow) -> date | None:
    """The first day whose gold rows may differ from the last build's; None for everything.

    Besides the changed records' days (`since`), a new as-of day changes which unanswered
    tickets are past their SLA: those opened up to the longest SLA before the previous as-of.
    """
    last = get_watermark(conn, *LAST_AS_OF)
    if last is None or since <= window.first_day:
        return None
    if date.fromisoformat(last) != window.as_of:
        longest_sla = conn.execute(text("SELECT max(sla_first_response_minutes) FROM silver.tickets")).scalar() or 0
        since = min(since, date.fromisoformat(last) - timedelta(minutes=int(longest_sla)) - timedelta(days=1))
    return since if since > window.first_day else None


def refresh_plan(steps: tuple[Step, ...], changed: set[str], untracked: set[str], day_confined: set[str], *,
                 as_of_moved: bool, run: Callable[[Step, str], frozenset[str] | None] | None = None
                 ) -> dict[str, str]:
    """How each gold step refreshes (etl.steps modes), given the silver tables that changed:
      * SKIP when none of the tables it reads changed (nor a gold table refreshed before it) and
        it does not depend on the as-of day, or that day did not move;
      * DAYS for a day table: only the days from the first changed one (all of them when it reads
        master ids that changed, or a table of its `whole_when` changed);
      * ACCOUNTS for a per-customer table: only the customers whose records changed (plus, when
        the as-of day moved, those its `as_of_scope` names), when that brings it up to date;
      * otherwise DIFF: all of it worked out again, only the rows that differ written.
    With `run`, each step is run as soon as its mode is known; `run` returns the columns whose
    values that changed (None: any), so a later step reading none of them counts that table as
    unchanged (a refresh whose new tickets move no customer's name leaves the receivables alone).
    """
    plan: dict[str, str] = {}
    # Table -> the columns whose values changed (None: any of them).
    refreshed: dict[str, frozenset[str] | None] = dict.fromkeys(changed)
    for step in steps:
        name = qualified_name(step.table)
        # A Python step that names its inputs is refreshed like a SQL step; one that does not, every time.
        inputs = step_inputs(step) if hasattr(step, "inputs") else frozenset({"*"})
        reads_as_of = step.reads_as_of() if hasattr(step, "reads_as_of") else True
        changed_inputs = {table for table in inputs & set(refreshed) if _reads_change(step, table, refreshed[table])}
        if not changed_inputs and not (as_of_moved and reads_as_of):
            plan[name] = SKIP
            continue
        # A gold table refreshed for some accounts changed in those accounts' rows only.
        gold_inputs = {table for table in changed_inputs - changed if plan.get(table) != ACCOUNTS}
        # Master ids are worked out again on no particular day: a day table reading them is redone whole.
        whole_when = set(IDENTITY_TABLES) | set(getattr(step, "whole_when", ()))
        if getattr(step, "since_column", None) and not changed_inputs & whole_when:
            plan[name] = DAYS
        elif isinstance(step, SqlStep) and _accounts_suffice(step, gold_inputs, changed_inputs & changed,
                                                             untracked, day_confined, as_of_moved=as_of_moved):
            plan[name] = ACCOUNTS
        else:
            plan[name] = DIFF if isinstance(step, SqlStep) else REBUILD
        columns = None if run is None else run(step, plan[name])
        if columns != frozenset():
            refreshed[name] = columns
    return plan


def _reads_change(step: Step, table: str, columns: frozenset[str] | None) -> bool:
    """Whether `step` reads a change of `table` in `columns` (None: any column): always through a
    gold view, whose columns are named otherwise."""
    if columns is None or not isinstance(step, SqlStep) or table not in step.inputs():
        return True
    return step.reads_any_column(table, columns)


def _accounts_suffice(step: SqlStep, gold_inputs: set[str], silver_inputs: set[str], untracked: set[str],
                      day_confined: set[str], *, as_of_moved: bool) -> bool:
    """Whether refreshing just some customers brings `step` up to date: every change it reads is
    recorded per account (or made by a gold table refreshed for those accounts), or dated from
    the pending day on while its as-of scope covers those."""
    if step.account_column is None or gold_inputs or (as_of_moved and step.reads_as_of() and step.as_of_scope is None):
        return False
    # A table re-converted at the new as-of rate changed in its USD columns only.
    unread = {table for table, columns in AS_OF_RATE_USD.items()
              if not any(step.reads_column_of(table, column) for column in columns)}
    blocking = (untracked - unread) | (set() if as_of_moved else day_confined)
    return not silver_inputs & blocking


def _scope_accounts(conn: Connection, extra: list[str], params: dict) -> int:
    """Fill temporary table gold_scope with every regional account of the customers (master
    accounts) that have a pending account, or one the `extra` queries select; returns how many."""
    accounts = " UNION ".join(["SELECT account_id FROM app.gold_pending_account", *(f"({sql})" for sql in extra)])
    conn.execute(text(f"""
        CREATE TEMPORARY TABLE gold_scope ON COMMIT DROP AS
        WITH masters AS (
            SELECT DISTINCT COALESCE(am.master_account_id, p.account_id) AS master_account_id
            FROM ({accounts}) p
            LEFT JOIN silver.account_master am ON am.account_id = p.account_id
            WHERE p.account_id IS NOT NULL
        )
        SELECT m.master_account_id AS account_id FROM masters m
        UNION
        SELECT am.account_id FROM silver.account_master am JOIN masters m USING (master_account_id)"""), params)
    conn.execute(text("ALTER TABLE gold_scope ADD PRIMARY KEY (account_id)"))
    conn.execute(text("ANALYZE gold_scope"))
    return int(conn.scalar(text("SELECT count(*) FROM gold_scope")) or 0)


def build_gold(conn: Connection, *, full: bool = False) -> tuple[dict[str, int], DataWindow] | None:
    """Refresh gold in the caller's transaction: (rows per refreshed table, window), or None when
    silver has not changed since the last build (and not `full`). The rows leave out the tables a
    refresh worked out again and found unchanged.

    What each table redoes follows `refresh_plan`: nothing, its rows from the first day that
    silver's changes touch (recorded by `mark_gold_pending`), the rows of the customers whose
    records changed, or everything.
    """
    pending = pending_since(conn)
    if pending is None and not full:
        return None
    window = data_window(conn)
    since = None if full or pending is None else _refresh_from(conn, pending, window)
    last_as_of = get_watermark(conn, *LAST_AS_OF)
    params = {"first_day": window.first_day, "as_of": window.as_of}
    if since is None:
        log.info("gold: data window %s to %s, rebuilding everything", window.first_day, window.as_of)
        rows = run_steps(conn, GOLD_STEPS, params, stage="gold", truncate=False)
        changes: dict[str, frozenset[str] | None] = dict.fromkeys(rows)
    else:
        as_of_moved = last_as_of != window.as_of.isoformat()
        pending = (_pending_set(conn, PENDING_TABLES), _pending_set(conn, PENDING_UNTRACKED),
                   _pending_set(conn, PENDING_DAY_CONFINED))
        # The most each step may have to do; run below, a step whose inputs changed in no column it
        # reads does less.
        plan = refresh_plan(GOLD_STEPS, *pending, as_of_moved=as_of_moved)
        if any(mode in (ACCOUNTS, DIFF) for mode in plan.values()):
            scopes = [step.as_of_scope.read_text(encoding="utf-8") for step in GOLD_STEPS
                      if as_of_moved and plan[qualified_name(step.table)] in (ACCOUNTS, DIFF)
                      and isinstance(step, SqlStep) and step.as_of_scope is not None]
            previous = date.fromisoformat(last_as_of) if last_as_of else window.as_of
            accounts = _scope_accounts(conn, scopes, {"since_day": since, "as_of": window.as_of,
                                                      "previous_as_of": previous})
            log.info("gold: refreshing %d accounts' customers", accounts)
        rows, changes = {}, {}

        def run(step: Step, mode: str) -> frozenset[str] | None:
            rows.update(run_steps(conn, [step], params, stage="gold", truncate=False, since=since,
                                  plan={qualified_name(step.table): mode}, changes=changes))
            return changes[qualified_name(step.table)]

        plan = refresh_plan(GOLD_STEPS, *pending, as_of_moved=as_of_moved, run=run)
        log.info("gold: data window %s to %s, days from %s; %s", window.first_day, window.as_of, since,
                 ", ".join(f"{name} {mode}" + (" (unchanged)" if changes.get(name) == frozenset() else "")
                           for name, mode in plan.items()))
    _clear_pending(conn)
    set_watermark(conn, *LAST_AS_OF, window.as_of.isoformat())
    return {name: count for name, count in rows.items() if changes.get(name) != frozenset()}, window
