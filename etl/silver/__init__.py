"""Silver stage: typed, validated, de-duplicated copies of the bronze datasets.

Most silver tables are a `CleanTable`: two statements generated from the silver ORM class
(an INSERT into bronze.quarantine and an INSERT … SELECT into silver), which together
  * casts every column of the bronze dataset to the ORM column's type, after checking it
    with `pg_input_is_valid` (dates and timestamps must also be year-first ISO, amounts
    must not be NaN or Infinity, so '31/02/2025', 'N/A' and 'NaN' are all refused);
  * refuses rows with an empty key or an empty NOT NULL column;
  * sends refused rows to bronze.quarantine (stage 'silver') with every reason, e.g.
    "invalid date '31/02/2025' in column created_at";
  * keeps one row per primary key: the newest `updated_at` (when the dataset has one), then
    the newest load, then the last row of the file;
  * fills derived columns (lower-case emails, minutes) and USD amounts: amount x the
    currency's rate on the transaction day (silver.fx_rates_daily), and records the rate used.

Currency rules (issue 3, part 5). The original amount and currency stay; next to them
`fx_rate` (USD per unit used), `fx_rate_date` (the day that rate was published) and
`fx_rate_is_fallback` (true when it was not published on the transaction day):
  * a day without a published rate takes the nearest EARLIER rate, flagged;
  * a day before the currency's first rate takes its first rate, which is a LATER one, also
    flagged (fx_rate_date > transaction day): quarantining would drop every old deal, and
    the flag and date let a report exclude or re-rate them;
  * a day after the last rate day takes the last rate, flagged;
  * a currency that is neither USD nor in the FX feed is quarantined ("unknown currency");
    a rate is never silently 1.0 (USD is 1 by definition, and not flagged);
  * an empty currency leaves the USD amount and the rate empty.

The stage runs in one transaction. Each table is rebuilt whole (TRUNCATE + INSERT) when its
bronze inputs changed since its last build, and left alone otherwise (see `build_silver`).
To add a source: a silver ORM class, then a `CleanTable` line in SILVER_STEPS below.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Connection, Date, DateTime, Double, Float, Integer, Numeric, Table, Text, text
from sqlalchemy.dialects import postgresql

from dashboard.tables import silver
from dashboard.tables.bronze import BRONZE_TABLES
from etl.steps import SqlStep, Step, qualified_name, run_steps

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Usd:
    """`amount` (a column, or SQL over the typed row `t`) in `currency` converted at the rate
    of `day` (SQL over `t` and the `lookup` joins; None means the as-of day, the last rate
    day). Every Usd of one table shares its currency and day."""

    amount: str
    currency: str = "currency"
    day: str | None = None


@dataclass(frozen=True)
class CleanTable:
    """A silver table built from one bronze dataset, as described in the module docstring."""

    model: Any  # a silver ORM class
    source: str  # bronze table name, e.g. "crm_accounts"
    derived: Mapping[str, str] = field(default_factory=dict)  # column -> SQL over typed row `t`
    usd: Mapping[str, Usd] = field(default_factory=dict)  # column -> conversion
    lookup: str = ""  # extra joins for a Usd day, e.g. the opportunity of a line item

    @property
    def table(self) -> Table:
        return self.model.__table__

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        conn.execute(text(self.quarantine_sql()))
        conn.execute(text(self.insert_sql()))

    # The two statements share one list of checks: a row is quarantined exactly when one of
    # them fails, and loaded exactly when all pass. Two plain scans of bronze turned out
    # faster than one scan materialised in a CTE for both.

    def _columns(self) -> tuple[list[str], list[Any]]:
        target = self.table
        source_columns = [c.name for c in BRONZE_TABLES[self.source].columns if not c.name.startswith("_")]
        cast_columns = [c for c in target.columns if c.name in source_columns]
        computed = set(self.derived) | set(self.usd) | (set(FX_COLUMNS) if self.usd else set())
        unmapped = [c.name for c in target.columns if c.name not in source_columns and c.name not in computed]
        if unmapped:
            raise ValueError(f"{qualified_name(target)}: no source for columns {unmapped}")
        return source_columns, cast_columns

    def _source(self, source_columns: list[str]) -> str:
        trimmed = ",\n               ".join(
            f"NULLIF(btrim(b.{_q(name)}), '') AS {_q(name)}" for name in source_columns)
        return (f"(SELECT b._load_id, b._row_number,\n               {trimmed}\n"
                f"        FROM bronze.{_q(self.source)} b)")

    def _checks(self, cast_columns: list[Any]) -> list[tuple[str, str]]:
        """(condition that holds for a good value, reason when it does not) per check."""
        checks = [(f"{_q(c.name)} IS NOT NULL", f"'missing value in column {c.name}'")
                  for c in cast_columns if not c.nullable]
        if self.usd:
            currency = _q(self._fx()[0])
            checks.append((f"({currency} IS NULL OR {currency} IN (SELECT currency FROM silver.fx_rates_daily))",
                           f"format('unknown currency %L in column {self._fx()[0]}', {currency})"))
        for column in cast_columns:
            check = _validity_check(column)
            if check is not None:
                valid, label = check
                checks.append((f"({_q(column.name)} IS NULL OR ({valid}))",
                               f"format('invalid {label} %L in column {column.name}', {_q(column.name)})"))
        return checks

    def quarantine_sql(self) -> str:
        """INSERT into bronze.quarantine of the rows that fail a check, with every reason."""
        source_columns, cast_columns = self._columns()
        checks = self._checks(cast_columns)
        if not checks:
            return "SELECT 1"
        reason = "concat_ws('; ', " + ", ".join(f"CASE WHEN NOT {ok} THEN {why} END" for ok, why in checks) + ")"
        raw = "json_build_object(" + ", ".join(f"'{n}', c.{_q(n)}" for n in source_columns) + ")::text"
        failed = " OR ".join(f"NOT {ok}" for ok, _ in checks)
        return f"""
INSERT INTO bronze.quarantine (load_file_id, dataset, stage, source_file, row_number, raw, reason)
SELECT c._load_id, '{self.source}', 'silver', lf.file_name, c._row_number, {raw}, {reason}
FROM {self._source(source_columns)} c
LEFT JOIN bronze.load_file lf ON lf.id = c._load_id
WHERE {failed}
"""

    def insert_sql(self) -> str:
        """INSERT of the newest good version of every key, typed, with derived and USD columns."""
        target = self.table
        source_columns, cast_columns = self._columns()
        checks = self._checks(cast_columns)
        passed = " AND ".join(ok for ok, _ in checks) or "true"
        # Text keys sort under "C": byte order allows abbreviated keys, much faster than the
        # database's libc collation on millions of rows, and key equality is the same.
        key = [_q(c.name) + (' COLLATE "C"' if isinstance(c.type, Text) else "") for c in target.primary_key.columns]
        typed = ",\n           ".join(
            f"CAST({_q(c.name)} AS {_pg_type(c)}) AS {_q(c.name)}" for c in cast_columns)
        order = list(key)
        if "updated_at" in target.columns and "updated_at" in source_columns:
            order.append(f"CAST({_q('updated_at')} AS timestamptz) DESC NULLS LAST")
        order += ["_load_id DESC", "_row_number DESC"]

        joins, outputs = [], []
        if self.usd:
            currency, day = self._fx()
            joins.append("CROSS JOIN (SELECT min(day) AS first_day, max(day) AS last_day "
                         "FROM silver.fx_rates_daily) fx_bounds")
            if self.lookup:
                joins.append(self.lookup)
            # GREATEST and LEAST skip NULLs: an unknown day must not take the first rate.
            on_day = ("fx_bounds.last_day" if day is None else
                      f"LEAST(GREATEST({day}, fx_bounds.first_day), fx_bounds.last_day) AND {day} IS NOT NULL")
            joins.append(f"LEFT JOIN silver.fx_rates_daily fx ON fx.currency = t.{_q(currency)} AND fx.day = {on_day}")
            fx_outputs = {"fx_rate": "fx.usd_per_unit", "fx_rate_date": "fx.rate_date",
                          "fx_rate_is_fallback": ("CASE WHEN fx.rate_date IS NOT NULL THEN "
                                                  f"fx.rate_date <> {day or 'fx_bounds.last_day'} END")}
        for column in target.columns:
            name = column.name
            if name in self.usd:
                amount = self.usd[name].amount
                amount = f"t.{_q(amount)}" if amount.isidentifier() else amount
                outputs.append(f"({amount}) * fx.usd_per_unit")
            elif self.usd and name in FX_COLUMNS:
                outputs.append(fx_outputs[name])
            elif name in self.derived:
                outputs.append(self.derived[name])
            else:
                outputs.append(f"t.{_q(name)}")
        join_sql = "\n".join(joins)
        return f"""
INSERT INTO {qualified_name(target)} ({", ".join(_q(c.name) for c in target.columns)})
SELECT {", ".join(outputs)}
FROM (
    SELECT DISTINCT ON ({", ".join(key)})
           {typed}
    FROM {self._source(source_columns)} src
    WHERE {passed}
    ORDER BY {", ".join(order)}
) t
{join_sql}
"""

    def _fx(self) -> tuple[str, str | None]:
        """(currency column, day SQL) shared by every USD column of the table."""
        pairs = {(u.currency, u.day) for u in self.usd.values()}
        if len(pairs) != 1:
            raise ValueError(f"{qualified_name(self.table)}: USD columns must share one currency and day")
        return pairs.pop()


FX_COLUMNS = ("fx_rate", "fx_rate_date", "fx_rate_is_fallback")  # filled for a table with USD columns


def _q(name: str) -> str:
    return f'"{name}"'


def _pg_type(column: Any) -> str:
    return column.type.compile(dialect=postgresql.dialect())


def _validity_check(column: Any) -> tuple[str, str] | None:
    """(SQL that is true when the text value casts cleanly, label for the reason) or None.

    `pg_input_is_valid` does the real check. The LIKE patterns (much cheaper than regular
    expressions on millions of rows) insist on year-first ISO dates, so an ambiguous
    '01/02/2025' is refused rather than read as January 2nd; numbers must not be NaN or
    Infinity, which PostgreSQL's numeric accepts (any such spelling contains an 'n').
    """
    name, pg_type = _q(column.name), _pg_type(column)
    kind = column.type
    if isinstance(kind, DateTime):
        return f"{name} LIKE '____-__-__%' AND pg_input_is_valid({name}, '{pg_type}')", "timestamp"
    if isinstance(kind, Date):
        return f"{name} LIKE '____-__-__' AND pg_input_is_valid({name}, '{pg_type}')", "date"
    if isinstance(kind, Boolean):
        return f"pg_input_is_valid({name}, '{pg_type}')", "boolean"
    if isinstance(kind, Integer):
        return f"pg_input_is_valid({name}, '{pg_type}')", "integer"
    if isinstance(kind, Numeric | Double | Float):
        return f"{name} NOT ILIKE '%n%' AND pg_input_is_valid({name}, '{pg_type}')", "number"
    return None


def _sql(name: str) -> Path:
    return SQL_DIR / name


# A deal's transaction day: its close date, or its creation day while it has none.
_DEAL_DAY = "COALESCE({t}.close_date, CAST({t}.created_at AS date))"

SILVER_STEPS: tuple[Step, ...] = (
    CleanTable(silver.FxRate, "billing_fx_rates"),
    SqlStep(silver.FxRateDaily, _sql("fx_rates_daily.sql")),
    CleanTable(silver.Account, "crm_accounts"),
    CleanTable(silver.Contact, "crm_contacts", derived={"email": "lower(t.email)"}),
    CleanTable(silver.Lead, "crm_leads", derived={"email": "lower(t.email)"}),
    CleanTable(silver.Subscription, "crm_subscriptions", usd={"mrr_usd": Usd("mrr")}),
    CleanTable(silver.Invoice, "billing_invoices", usd={"amount_usd": Usd("amount", day="t.issue_date")}),
    CleanTable(silver.Payment, "billing_payments",
               usd={"amount_usd": Usd("amount", day="CAST(t.paid_at AS date)")}),
    CleanTable(silver.Ticket, "support_tickets", derived={
        "first_response_minutes":
            "CAST(EXTRACT(EPOCH FROM t.first_response_at - t.created_at) / 60 AS double precision)"}),
    CleanTable(silver.Campaign, "marketing_campaigns", usd={"cost_usd": Usd("cost", day="t.start_date")}),
    CleanTable(silver.Send, "marketing_sends"),
    CleanTable(silver.Reply, "marketing_replies"),
    CleanTable(silver.Meeting, "crm_meetings"),
    CleanTable(silver.Conversation, "support_conversations"),
    CleanTable(silver.Message, "support_messages"),
    CleanTable(silver.User, "crm_users", derived={"email": "lower(t.email)"}),
    CleanTable(silver.Product, "crm_products"),
    CleanTable(silver.Opportunity, "crm_opportunities",
               usd={"amount_usd": Usd("amount", day=_DEAL_DAY.format(t="t"))}),
    CleanTable(silver.OpportunityLineItem, "crm_opportunity_line_items",
               lookup="LEFT JOIN silver.opportunities opp ON opp.opportunity_id = t.opportunity_id",
               usd={"unit_price_usd": Usd("unit_price", day=_DEAL_DAY.format(t="opp")),
                    "amount_usd": Usd("t.quantity * t.unit_price", day=_DEAL_DAY.format(t="opp"))}),
    CleanTable(silver.Agent, "support_agents", derived={"email": "lower(t.email)"}),
    CleanTable(silver.CreditHold, "billing_credit_holds"),
    CleanTable(silver.CampaignVariant, "marketing_campaign_variants"),
    CleanTable(silver.Touchpoint, "marketing_touchpoints"),
    CleanTable(silver.UsageDaily, "product_usage_daily"),
    CleanTable(silver.WebSession, "web_sessions"),
)


# Silver tables whose inputs are not a bronze dataset of their own.
EXTRA_INPUTS: dict[str, tuple[str, ...]] = {
    "silver.fx_rates_daily": ("billing_fx_rates",),
    "silver.opportunity_line_items": ("crm_opportunities",),  # converted at their deal's day
}
WATERMARK_SOURCE = "silver"


def step_inputs(step: Step) -> tuple[str, ...]:
    """The bronze datasets a silver step reads: its own, the FX feed when it converts, and extras."""
    inputs: list[str] = []
    if isinstance(step, CleanTable):
        inputs.append(step.source)
        if step.usd:
            inputs.append("billing_fx_rates")
    inputs += EXTRA_INPUTS.get(qualified_name(step.table), ())
    return tuple(sorted(set(inputs)))


def _input_fingerprints(conn: Connection) -> dict[str, str]:
    """Per bronze dataset: its newest load id and number of loads. Bronze is append-only,
    so an unchanged fingerprint means unchanged input."""
    rows = conn.execute(text("SELECT dataset, max(id), count(*) FROM bronze.load_file GROUP BY dataset"))
    return {dataset: f"{newest}/{loads}" for dataset, newest, loads in rows}


def build_silver(conn: Connection, *, full: bool = False) -> tuple[dict[str, int], int]:
    """Rebuild, in the caller's transaction, the silver tables whose bronze inputs changed
    since their last build (every table when `full`).

    A table is rebuilt whole from all of its bronze rows, so the newest version of each key
    still wins; tables whose inputs did not change are left as they are. Each table's input
    fingerprint is stored in app.source_watermark in the same transaction, so a killed run
    leaves neither the tables nor the fingerprints half-updated.
    Returns (rows per silver table, rows quarantined by this stage).
    """
    current = _input_fingerprints(conn)
    stored = dict(conn.execute(text("SELECT dataset, value FROM app.source_watermark WHERE source = :s"),
                               {"s": WATERMARK_SOURCE}).all())
    fingerprints = {qualified_name(step.table): ";".join(f"{d}={current.get(d, '-')}" for d in step_inputs(step))
                    for step in SILVER_STEPS}
    changed = [step for step in SILVER_STEPS
               if full or stored.get(qualified_name(step.table)) != fingerprints[qualified_name(step.table)]]
    sources = [step.source for step in changed if isinstance(step, CleanTable)]
    if sources:
        conn.execute(text("DELETE FROM bronze.quarantine WHERE stage = 'silver' AND dataset = ANY(:d)"),
                     {"d": sources})
    rows = run_steps(conn, changed, {}, stage="silver", truncate=True) if changed else {}
    for step in SILVER_STEPS:
        name = qualified_name(step.table)
        if name not in rows:
            rows[name] = int(conn.scalar(text(f"SELECT count(*) FROM {name}")) or 0)
        conn.execute(text(
            "INSERT INTO app.source_watermark (source, dataset, value) VALUES (:s, :d, :v) "
            "ON CONFLICT (source, dataset) DO UPDATE SET value = excluded.value, updated_at = now()"),
            {"s": WATERMARK_SOURCE, "d": name, "v": fingerprints[name]})
    log.info("silver: rebuilt %d of %d tables (%s)", len(changed), len(SILVER_STEPS),
             "full rebuild" if full else "inputs changed")
    quarantined = int(conn.scalar(text("SELECT count(*) FROM bronze.quarantine WHERE stage = 'silver'")) or 0)
    if quarantined:
        log.info("silver: %d rows quarantined", quarantined)
    return rows, quarantined
