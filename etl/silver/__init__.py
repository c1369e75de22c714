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
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pycountry
from sqlalchemy import Boolean, Connection, Date, DateTime, Double, Float, Integer, Numeric, Table, Text, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from dashboard.settings import Settings
from dashboard.tables import silver
from dashboard.tables.bronze import BRONZE_TABLES
from etl.quality.registry import RANGE_RULES
from etl.steps import SqlStep, Step, qualified_name, run_steps
from etl.watermarks import set_watermark

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).parent

# ISO 4217 codes from a maintained list: a currency column holding anything else is a bad row.
ISO_CURRENCIES: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.currencies)
_ISO_ARRAY = "CAST('{" + ",".join(sorted(ISO_CURRENCIES)) + "}' AS text[])"
FX_DATASET = "billing_fx_rates"


@dataclass(frozen=True)
class FxRules:
    """How far a missing rate may be filled, and what rate move is believed (from the environment)."""

    max_fallback_days: int = 7  # C360_FX_MAX_FALLBACK_DAYS: a day may take its currency's rate this many days older
    max_daily_move_pct: float = 50.0  # C360_FX_MAX_DAILY_MOVE_PCT: a larger move from both neighbours is quarantined

    @classmethod
    def from_environment(cls) -> FxRules:
        """The rules as set by C360_FX_MAX_FALLBACK_DAYS and C360_FX_MAX_DAILY_MOVE_PCT (read and checked
        in dashboard.settings)."""
        settings = Settings.from_env()
        return cls(settings.fx_max_fallback_days, settings.fx_max_daily_move_pct)


@dataclass(frozen=True)
class Parent:
    """A record's parent: when the parent row was quarantined (and no good version of it is in
    silver), the record is quarantined too, waiting, and comes back when the parent does."""

    column: str  # the record's column holding the parent key
    dataset: str  # the parent's bronze dataset
    table: str  # the parent's silver table
    key: str  # the parent's key column


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
    parents: tuple[Parent, ...] = ()  # families: a quarantined parent quarantines its records
    # Declared value rules beyond the critical ranges of etl.quality: column -> (SQL over `v`, wording)
    allowed: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def table(self) -> Table:
        return self.model.__table__

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        conn.execute(text(self.quarantine_sql()))
        conn.execute(text(self.insert_sql()))
        if self.usd:
            hold_unconverted(conn, self, qualified_name(self.table))

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

    def _source(self, source_columns: list[str], *, delta: bool = False) -> str:
        trimmed = ",\n               ".join(
            f"NULLIF(btrim(b.{_q(name)}), '') AS {_q(name)}" for name in source_columns)
        since = "\n        WHERE b._load_id > :since" if delta else ""
        # OFFSET 0 keeps the subquery whole, so each value is trimmed once per row: flattened, every
        # check that names a column would trim it again (half the time of a large table's checks).
        return (f"(SELECT b._load_id, b._row_number,\n               {trimmed}\n"
                f"        FROM bronze.{_q(self.source)} b{since}\n        OFFSET 0)")

    def _checks(self, cast_columns: list[Any]) -> list[tuple[str, str]]:
        """(condition that holds for a good value, reason when it does not) per check."""
        checks = [(f"{_q(c.name)} IS NOT NULL", f"'missing value in column {c.name}'")
                  for c in cast_columns if not c.nullable]
        currency_columns = [c.name for c in cast_columns if c.name == "currency" or c.name.endswith("_currency")]
        for name in currency_columns:
            column = _q(name)
            checks.append((f"({column} IS NULL OR {column} = ANY({_ISO_ARRAY}))",
                           f"format('unknown currency %L in column {name} (not an ISO 4217 code)', "
                           f"left({column}, 200))"))
        if self.usd:
            name = self._fx()[0]
            column = _q(name)
            checks.append((f"({column} IS NULL OR {column} <> ALL({_ISO_ARRAY}) "
                           f"OR {column} IN (SELECT currency FROM silver.fx_rates_daily))",
                           f"format('unknown currency %L in column {name} (the FX feed has no rate for it)', "
                           f"{column})"))
        for column in cast_columns:
            check = _validity_check(column)
            if check is not None:
                valid, label = check
                checks.append((f"({_q(column.name)} IS NULL OR ({valid}))",
                               f"format('invalid {label} %L in column {column.name}', left({_q(column.name)}, 200))"))
                if (allowed := self._allowed_values(column)) is not None:
                    condition, expected = allowed
                    checks.append((f"(CASE WHEN {_q(column.name)} IS NULL OR NOT ({valid}) THEN true "
                                   f"ELSE {condition} END)",
                                   f"format('out-of-range value %L in column {column.name} (expected {expected})', "
                                   f"{_q(column.name)})"))
        checks += [check for parent in self.parents for check in [self._parent_check(parent)]]
        return checks

    def _allowed_values(self, column: Any) -> tuple[str, str] | None:
        """(SQL true for an allowed typed value, wording) for a declared rule or a critical range rule
        of the quality checks: a value that would fail such a check is a bad row, quarantined, not a
        reason to hold back all of gold."""
        rule = self.allowed.get(column.name)
        if rule is None and isinstance(column.type, Integer | Numeric | Double | Float):
            rule = next(((valid, valid.removeprefix("v ").lower()) for pattern, valid, severity in RANGE_RULES
                         if severity == "critical" and re.fullmatch(pattern, column.name)), None)
        if rule is None:
            return None
        condition, wording = rule
        return re.sub(r"\bv\b", f"CAST({_q(column.name)} AS {_pg_type(column)})", condition), wording

    def _parent_check(self, parent: Parent) -> tuple[str, str]:
        """A record whose parent key was quarantined and has no good version in silver."""
        column = _q(parent.column)
        return (f"({column} IS NULL OR {column} NOT IN ({quarantined_parent_keys_sql(parent)}))",
                f"format('parent {parent.column} %L quarantined', {column})")

    def _waiting(self) -> tuple[str, str]:
        """(dataset, key) SQL over the source row `c` that a quarantined row waits on: the first
        quarantined parent, or NULLs when it is bad in itself."""
        if not self.parents:
            return "NULL", "NULL"
        whens = [(f"NOT {ok}", parent) for parent, (ok, _) in
                 ((p, self._parent_check(p)) for p in self.parents)]
        on = "CASE " + " ".join(f"WHEN {cond} THEN '{p.dataset}'" for cond, p in whens) + " END"
        key = "CASE " + " ".join(f"WHEN {cond} THEN c.{_q(p.column)}" for cond, p in whens) + " END"
        return on, key

    def quarantine_sql(self, *, delta: bool = False) -> str:
        """INSERT into bronze.quarantine of the rows that fail a check, with every reason
        (with `delta`, only of the bronze loads after `:since`)."""
        source_columns, cast_columns = self._columns()
        checks = self._checks(cast_columns)
        if not checks:
            return "SELECT 1"
        reason = "concat_ws('; ', " + ", ".join(f"CASE WHEN NOT {ok} THEN {why} END" for ok, why in checks) + ")"
        raw = "json_build_object(" + ", ".join(f"'{n}', c.{_q(n)}" for n in source_columns) + ")::text"
        failed = " OR ".join(f"NOT {ok}" for ok, _ in checks)
        waiting_on, waiting_key = self._waiting()
        return f"""
INSERT INTO bronze.quarantine (load_file_id, dataset, stage, source_file, row_number, raw, reason,
                               record_key, waiting_on, waiting_key)
SELECT c._load_id, '{self.source}', 'silver', lf.file_name, c._row_number, {raw}, {reason},
       {self._record_key("c")}, {waiting_on}, {waiting_key}
FROM {self._source(source_columns, delta=delta)} c
LEFT JOIN bronze.load_file lf ON lf.id = c._load_id
WHERE {failed}
"""

    def _record_key(self, alias: str) -> str:
        key = [c.name for c in self.table.primary_key.columns]
        return f"CAST({alias}.{_q(key[0])} AS text)" if len(key) == 1 else "NULL"

    def insert_sql(self) -> str:
        """INSERT of the newest good version of every key, typed, with derived and USD columns."""
        target = self.table
        return f"INSERT INTO {qualified_name(target)} ({', '.join(_q(c.name) for c in target.columns)})\n" \
            + self.select_sql()

    def select_sql(self, *, delta: bool = False, origin: bool = False) -> str:
        """SELECT of the newest good version of every key (with `delta`, among the bronze loads
        after `:since` only), in the silver table's column order (then, with `origin`, the
        bronze `_load_id` and `_row_number` of each row)."""
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
            joins.append(_FX_BOUNDS)
            if self.lookup:
                joins.append(self.lookup)
            joins.append(f"LEFT JOIN silver.fx_rates_daily fx ON {rate_condition('fx', f't.{_q(currency)}', day)}")
            fx_outputs = {"fx_rate": "fx.usd_per_unit", "fx_rate_date": "fx.rate_date",
                          "fx_rate_is_fallback": ("CASE WHEN fx.rate_date IS NOT NULL THEN "
                                                  f"fx.rate_date <> {day or 'fx_bounds.last_day'} END")}
        columns = list(target.columns)
        for column in columns:
            name = column.name
            if name in self.usd:
                outputs.append(f"({self._amount(name)}) * fx.usd_per_unit")
            elif self.usd and name in FX_COLUMNS:
                outputs.append(fx_outputs[name])
            elif name in self.derived:
                outputs.append(self.derived[name])
            else:
                outputs.append(f"t.{_q(name)}")
        join_sql = "\n".join(joins)
        selected = [f"{sql} AS {_q(c.name)}" for sql, c in zip(outputs, columns, strict=True)]
        if origin:  # where the row came from: for quarantining it later
            selected += ["t._load_id", "t._row_number"]
            typed += ",\n           _load_id, _row_number"
        return f"""
SELECT {", ".join(selected)}
FROM (
    SELECT DISTINCT ON ({", ".join(key)})
           {typed}
    FROM {self._source(source_columns, delta=delta)} src
    WHERE {passed}
    ORDER BY {", ".join(order)}
) t
{join_sql}
"""

    def _amount(self, column: str) -> str:
        amount = self.usd[column].amount
        return f"t.{_q(amount)}" if amount.isidentifier() else amount

    def upsert_sql(self) -> str:
        """Merge the rows of the temporary table `silver_delta` into the silver table: a key's
        row is replaced when the incoming version wins by the rule of the full build (the
        newest `updated_at`, NULL losing to any date; then the newest load, which is always the
        incoming one)."""
        target = self.table
        columns = [_q(c.name) for c in target.columns]
        key = [_q(c.name) for c in target.primary_key.columns]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        wins = ""
        if "updated_at" in target.columns and "updated_at" in self._columns()[0]:
            current = f"{qualified_name(target)}.updated_at"
            wins = f"\nWHERE {current} IS NULL OR excluded.updated_at >= {current}"
        action = f"DO UPDATE SET {updates}{wins}" if updates else "DO NOTHING"
        return (f"INSERT INTO {qualified_name(target)} ({', '.join(columns)})\n"
                f"SELECT {', '.join(columns)} FROM silver_delta\n"
                f"ON CONFLICT ({', '.join(key)}) {action}")

    def reconvert_sql(self) -> str:
        """UPDATE of the USD and rate columns of the rows whose rate changed: those in a currency of
        `fx_changed(currency, since)` whose transaction day is on or after `since` (every row of
        the currency when converted at the as-of rate)."""
        target = self.table
        currency, day = self._fx()
        key = [_q(c.name) for c in target.primary_key.columns]
        since = "" if day is None else f" AND {day} >= ch.since" + _indexable_lower_bound(day)
        sets = [f"{_q(name)} = ({self._amount(name)}) * c.usd_per_unit" for name in self.usd]
        sets += ["fx_rate = c.usd_per_unit", "fx_rate_date = c.rate_date",
                 "fx_rate_is_fallback = CASE WHEN c.rate_date IS NOT NULL THEN c.rate_date <> c.tday END"]
        # Returns (rows updated, rows left without a rate): those go to quarantine to wait.
        return f"""
WITH c AS (
    SELECT {", ".join(f"t.{k}" for k in key)}, fx.usd_per_unit, fx.rate_date,
           {day or 'fx_bounds.last_day'} AS tday
    FROM {qualified_name(target)} t
    JOIN fx_changed ch ON ch.currency = t.{_q(currency)}
    {_FX_BOUNDS}
    {self.lookup}
    LEFT JOIN silver.fx_rates_daily fx ON {rate_condition('fx', f't.{_q(currency)}', day)}
    WHERE true{since}
), updated AS (
    UPDATE {qualified_name(target)} AS t SET {", ".join(sets)}
    FROM c WHERE {" AND ".join(f"t.{k} = c.{k}" for k in key)}
    RETURNING t.fx_rate
)
SELECT count(*), count(*) FILTER (WHERE fx_rate IS NULL) FROM updated
"""

    def _fx(self) -> tuple[str, str | None]:
        """(currency column, day SQL) shared by every USD column of the table."""
        pairs = {(u.currency, u.day) for u in self.usd.values()}
        if len(pairs) != 1:
            raise ValueError(f"{qualified_name(self.table)}: USD columns must share one currency and day")
        return pairs.pop()


FX_COLUMNS = ("fx_rate", "fx_rate_date", "fx_rate_is_fallback")  # filled for a table with USD columns
_FX_BOUNDS = "CROSS JOIN (SELECT min(day) AS first_day, max(day) AS last_day FROM silver.fx_rates_daily) fx_bounds"


def rate_condition(fx: str, currency: str, day: str | None) -> str:
    """Join condition picking, from silver.fx_rates_daily aliased `fx`, the rate of `currency` for a
    transaction `day` (SQL; None: the as-of day, the last rate day; needs `fx_bounds`): the day's
    own rate, or its currency's latest earlier one no more than C360_FX_MAX_FALLBACK_DAYS older
    (the daily table holds only those). A day after the feed's last day (the as-of day: a
    deal's expected close, say) takes the as-of day's rate, as amounts converted at today's rate
    do; a day before a currency's first rate, an unknown day, or an older gap has no rate, and
    the row waits in quarantine for one."""
    if day is None:
        return f"{fx}.currency = {currency} AND {fx}.day = fx_bounds.last_day"
    limit = FxRules.from_environment().max_fallback_days
    return (f"{fx}.currency = {currency} AND {fx}.day = LEAST({day}, fx_bounds.last_day) "
            f"AND {fx}.rate_date >= LEAST({day}, fx_bounds.last_day) - {limit}")


def quarantined_parent_keys_sql(parent: Parent) -> str:
    """The keys of `parent` rows that were quarantined and have no good version in silver."""
    return (f"SELECT q.record_key FROM bronze.quarantine q WHERE q.dataset = '{parent.dataset}' "
            f"AND q.record_key IS NOT NULL AND NOT EXISTS "
            f"(SELECT FROM {parent.table} p WHERE p.{_q(parent.key)} = q.record_key)")


def hold_unconverted(conn: Connection, step: CleanTable, source: str) -> int:
    """Move the rows of `source` (the step's silver table, or `silver_delta` with the bronze
    origin columns) that have an amount in a currency but no USD rate to quarantine, where they
    wait for the rate (or, for a record converted at its parent's day, for the parent); the
    number moved. Nothing is converted at another currency's or a far older rate."""
    table = step.table
    currency, day = step._fx()
    key = [c.name for c in table.primary_key.columns]
    amounts = " OR ".join(f"({step._amount(name)}) IS NOT NULL" for name in step.usd)
    columns = ", ".join(_q(c.name) for c in table.columns)
    has_origin = source == "silver_delta"
    conn.execute(text(f"CREATE TEMPORARY TABLE silver_held ON COMMIT DROP AS SELECT {columns}"
                      f"{', _load_id, _row_number' if has_origin else ''} FROM {source} WITH NO DATA"))
    conn.execute(text(f"""
WITH moved AS (
    DELETE FROM {source} t WHERE t.{_q(currency)} IS NOT NULL AND t.fx_rate IS NULL AND ({amounts})
    RETURNING t.*
)
INSERT INTO silver_held SELECT * FROM moved"""))
    held = int(conn.scalar(text("SELECT count(*) FROM silver_held")) or 0)
    if held:
        rules = FxRules.from_environment()
        bronze_columns = [c.name for c in BRONZE_TABLES[step.source].columns if not c.name.startswith("_")]
        raw = "json_build_object(" + ", ".join(f"'{n}', b.{_q(n)}" for n in bronze_columns) + ")::text"
        transaction_day = day or "fx_bounds.last_day"
        parent = next((p for p in step.parents if step.lookup and p.column in step.lookup), None)
        if parent is not None:
            waiting_on = f"CASE WHEN ({transaction_day}) IS NULL THEN '{parent.dataset}' ELSE '{FX_DATASET}' END"
            waiting_key = (f"CASE WHEN ({transaction_day}) IS NULL THEN t.{_q(parent.column)} "
                           f"ELSE t.{_q(currency)} || ' ' || ({day_label(day, transaction_day)}) END")
            reason = (f"CASE WHEN ({transaction_day}) IS NULL THEN format('parent {parent.column} %L not in silver: "
                      f"no day to convert column {currency} %L at', t.{_q(parent.column)}, t.{_q(currency)}) ELSE "
                      f"{_no_rate_reason(currency, transaction_day, rules)} END")
        else:
            waiting_on = f"'{FX_DATASET}'"
            waiting_key = f"t.{_q(currency)} || ' ' || ({day_label(day, transaction_day)})"
            reason = _no_rate_reason(currency, transaction_day, rules)
        record_key = f"CAST(t.{_q(key[0])} AS text)"
        bronze_row = (f"LEFT JOIN bronze.{_q(step.source)} b ON b._load_id = t._load_id "
                      f"AND b._row_number = t._row_number" if has_origin else
                      f"LEFT JOIN (SELECT DISTINCT ON ({_q(key[0])}) * FROM bronze.{_q(step.source)} "
                      f"WHERE {_q(key[0])} IN (SELECT CAST({_q(key[0])} AS text) FROM silver_held) "
                      f"ORDER BY {_q(key[0])}, _load_id DESC, _row_number DESC) b "
                      f"ON b.{_q(key[0])} = CAST(t.{_q(key[0])} AS text)")
        conn.execute(text(f"""
INSERT INTO bronze.quarantine (load_file_id, dataset, stage, source_file, row_number, raw, reason,
                               record_key, waiting_on, waiting_key)
SELECT b._load_id, '{step.source}', 'silver', lf.file_name, b._row_number, {raw}, {reason},
       {record_key}, {waiting_on}, {waiting_key}
FROM silver_held t
{_FX_BOUNDS}
{step.lookup}
{bronze_row}
LEFT JOIN bronze.load_file lf ON lf.id = b._load_id"""))
        log.info("silver: %s: %d rows wait in quarantine for a USD rate", qualified_name(table), held)
    conn.execute(text("DROP TABLE silver_held"))
    return held


def day_label(day: str | None, transaction_day: str) -> str:
    """What a waiting row's key says of its day: the ISO day, or 'as-of' for as-of conversions."""
    return "'as-of'" if day is None else f"to_char({transaction_day}, 'YYYY-MM-DD')"


def _no_rate_reason(currency: str, day: str, rules: FxRules) -> str:
    return (f"format('no USD rate for currency %L in column {currency} on %s: none published that day or up to "
            f"{rules.max_fallback_days} days before', t.{_q(currency)}, {day})")


def _indexable_lower_bound(day: str) -> str:
    """When a transaction day is a plain column of `t` (or the date of one), the same bound as
    `day >= ch.since` in a form an index on that column can serve: a refresh re-converts a
    day's rows, not a scan of millions."""
    first = "(SELECT min(since) FROM fx_changed)"
    if match := re.fullmatch(r"t\.(\w+)", day):
        return f" AND t.{match[1]} >= {first}"
    if match := re.fullmatch(r"CAST\(t\.(\w+) AS date\)", day):
        return f" AND t.{match[1]} >= CAST({first} AS timestamptz)"
    return ""


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
        # Two case-sensitive LIKEs cost less than half of one ILIKE on millions of rows.
        return (f"{name} NOT LIKE '%n%' AND {name} NOT LIKE '%N%' AND pg_input_is_valid({name}, '{pg_type}')",
                "number")
    if isinstance(kind, JSONB):
        # Custom attributes: an object of scalar values, so each key = value can be counted. CASE keeps
        # the cast from running on text that does not parse.
        return (f"CASE WHEN pg_input_is_valid({name}, 'jsonb') THEN jsonb_typeof(CAST({name} AS jsonb)) = 'object' "
                f"AND NOT jsonb_path_exists(CAST({name} AS jsonb), "
                "'$.* ? (@.type() == \"object\" || @.type() == \"array\")') ELSE false END",
                "JSON object of scalar values")
    return None


def _sql(name: str) -> Path:
    return SQL_DIR / name


@dataclass(frozen=True)
class FxRateTable(CleanTable):
    """The FX feed: a clean table whose rates must also be believable. A rate that moves more
    than C360_FX_MAX_DAILY_MOVE_PCT (up, or down to 1/(1 + pct)) from both its neighbours in
    time is quarantined (the first and last rate of a currency, with one neighbour, from both of
    the two nearest on that side, when there are two): a one-day spike or typo is refused, a lasting move is
    believed once the next rate confirms it. The feed is small, so it is rebuilt whole whenever
    it changes and each rate is judged again with its current neighbours."""

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        conn.execute(text(self.quarantine_sql()))
        conn.execute(text("CREATE TEMPORARY TABLE fx_incoming ON COMMIT DROP AS " + self.select_sql(origin=True)))
        rules = FxRules.from_environment()
        moved = "(GREATEST(r.usd_per_unit / {0}, {0} / r.usd_per_unit) - 1 > :move)"
        # Without a second neighbour on that side there is no evidence against a rate: it stands.
        far = {n: f"COALESCE({moved.format(n)}, false)" for n in ("prev1", "prev2", "next1", "next2")}
        columns = [c.name for c in BRONZE_TABLES[self.source].columns if not c.name.startswith("_")]
        raw = "json_build_object(" + ", ".join(f"'{n}', b.{_q(n)}" for n in columns) + ")::text"
        conn.execute(text(f"""
CREATE TEMPORARY TABLE fx_implausible ON COMMIT DROP AS
SELECT r.* FROM (
    SELECT x.*, lag(usd_per_unit) OVER w AS prev1, lag(usd_per_unit, 2) OVER w AS prev2,
           lead(usd_per_unit) OVER w AS next1, lead(usd_per_unit, 2) OVER w AS next2
    FROM fx_incoming x WINDOW w AS (PARTITION BY currency ORDER BY rate_date)
) r
WHERE (r.prev1 IS NOT NULL OR r.next1 IS NOT NULL)
  AND CASE WHEN r.prev1 IS NOT NULL AND r.next1 IS NOT NULL THEN {far['prev1']} AND {far['next1']}
           WHEN r.prev1 IS NOT NULL THEN {far['prev1']} AND {far['prev2']}
           ELSE {far['next1']} AND {far['next2']} END"""), {"move": rules.max_daily_move_pct / 100})
        conn.execute(text(f"""
INSERT INTO bronze.quarantine (load_file_id, dataset, stage, source_file, row_number, raw, reason)
SELECT i._load_id, '{self.source}', 'silver', lf.file_name, i._row_number, {raw},
       format('implausible rate %s in column usd_per_unit for %s on %s: moves more than %s%% from its neighbours '
              '(%s)', i.usd_per_unit, i.currency, i.rate_date, CAST(:pct AS text),
              concat_ws(', ', 'before ' || COALESCE(i.prev1::text, 'none'), 'after ' || COALESCE(i.next1::text, 'none')))
FROM fx_implausible i
LEFT JOIN bronze.{_q(self.source)} b ON b._load_id = i._load_id AND b._row_number = i._row_number
LEFT JOIN bronze.load_file lf ON lf.id = i._load_id"""), {"pct": f"{rules.max_daily_move_pct:g}"})
        names = ", ".join(_q(c.name) for c in self.table.columns)
        conn.execute(text(f"""
INSERT INTO {qualified_name(self.table)} ({names})
SELECT {names} FROM fx_incoming x
WHERE NOT EXISTS (SELECT FROM fx_implausible i WHERE i.currency = x.currency AND i.rate_date = x.rate_date)"""))
        conn.execute(text("DROP TABLE fx_implausible"))
        conn.execute(text("DROP TABLE fx_incoming"))


# Records that are nothing without their account or invoice wait in quarantine with it.
_ACCOUNT_PARENT = Parent("account_id", "crm_accounts", "silver.accounts", "account_id")
_INVOICE_PARENT = Parent("invoice_id", "billing_invoices", "silver.invoices", "invoice_id")

# A deal's transaction day: its close date, or its creation day while it has none.
_DEAL_DAY = "COALESCE({t}.close_date, CAST({t}.created_at AS date))"

SILVER_STEPS: tuple[Step, ...] = (
    FxRateTable(silver.FxRate, FX_DATASET, allowed={"usd_per_unit": ("v > 0", "greater than 0")}),
    SqlStep(silver.FxRateDaily, _sql("fx_rates_daily.sql")),
    CleanTable(silver.Account, "crm_accounts"),
    CleanTable(silver.Contact, "crm_contacts", derived={"email": "lower(t.email)"}),
    CleanTable(silver.Lead, "crm_leads", derived={"email": "lower(t.email)"}),
    CleanTable(silver.Subscription, "crm_subscriptions", usd={"mrr_usd": Usd("mrr")}),
    CleanTable(silver.Invoice, "billing_invoices", usd={"amount_usd": Usd("amount", day="t.issue_date")}),
    CleanTable(silver.Payment, "billing_payments",
               usd={"amount_usd": Usd("amount", day="CAST(t.paid_at AS date)")},
               parents=(Parent("invoice_id", "billing_invoices", "silver.invoices", "invoice_id"),)),
    CleanTable(silver.Ticket, "support_tickets", derived={
        "first_response_minutes":
            "CAST(EXTRACT(EPOCH FROM t.first_response_at - t.created_at) / 60 AS double precision)"}),
    CleanTable(silver.Campaign, "marketing_campaigns", usd={"cost_usd": Usd("cost", day="t.start_date")}),
    CleanTable(silver.Send, "marketing_sends"),
    CleanTable(silver.Reply, "marketing_replies",
               parents=(Parent("send_id", "marketing_sends", "silver.sends", "send_id"),)),
    CleanTable(silver.Meeting, "crm_meetings"),
    CleanTable(silver.Conversation, "support_conversations"),
    CleanTable(silver.Message, "support_messages",
               parents=(Parent("conversation_id", "support_conversations", "silver.conversations", "conversation_id"),)),
    CleanTable(silver.User, "crm_users", derived={"email": "lower(t.email)"}),
    CleanTable(silver.Product, "crm_products"),
    CleanTable(silver.Opportunity, "crm_opportunities",
               usd={"amount_usd": Usd("amount", day=_DEAL_DAY.format(t="t"))}),
    CleanTable(silver.OpportunityLineItem, "crm_opportunity_line_items",
               parents=(Parent("opportunity_id", "crm_opportunities", "silver.opportunities", "opportunity_id"),),
               lookup="LEFT JOIN silver.opportunities opp ON opp.opportunity_id = t.opportunity_id",
               usd={"unit_price_usd": Usd("unit_price", day=_DEAL_DAY.format(t="opp")),
                    "amount_usd": Usd("t.quantity * t.unit_price", day=_DEAL_DAY.format(t="opp"))}),
    CleanTable(silver.Quota, "crm_quotas", allowed={"quota_usd": ("v >= 0", "0 or more")}),
    CleanTable(silver.Email, "crm_emails"),
    CleanTable(silver.Agent, "support_agents", derived={"email": "lower(t.email)"}),
    CleanTable(silver.CreditHold, "billing_credit_holds"),
    CleanTable(silver.CampaignVariant, "marketing_campaign_variants"),
    CleanTable(silver.Touchpoint, "marketing_touchpoints"),
    CleanTable(silver.UsageDaily, "product_usage_daily"),
    CleanTable(silver.WebSession, "web_sessions"),
    CleanTable(silver.Survey, "support_surveys", parents=(_ACCOUNT_PARENT,)),
    CleanTable(silver.OnboardingMilestone, "crm_onboarding_milestones", parents=(_ACCOUNT_PARENT,)),
    CleanTable(silver.PriceChange, "crm_price_changes",
               usd={"old_mrr_usd": Usd("old_mrr", day="t.effective_date"),
                    "new_mrr_usd": Usd("new_mrr", day="t.effective_date")},
               parents=(Parent("subscription_id", "crm_subscriptions", "silver.subscriptions", "subscription_id"),)),
    CleanTable(silver.Dispute, "billing_disputes", usd={"amount_usd": Usd("amount", day="CAST(t.opened_at AS date)")},
               parents=(_INVOICE_PARENT,)),
    CleanTable(silver.Adjustment, "billing_adjustments",
               usd={"amount_usd": Usd("amount", day="CAST(t.created_at AS date)")}, parents=(_INVOICE_PARENT,)),
)


# Silver tables whose inputs are not a bronze dataset of their own.
EXTRA_INPUTS: dict[str, tuple[str, ...]] = {
    "silver.fx_rates_daily": ("billing_fx_rates",),
    "silver.opportunity_line_items": ("crm_opportunities",),  # converted at their deal's day
}
WATERMARK_SOURCE = "silver"
# Not business dates: a record's version stamp and the day of the rate used.
_NOT_BUSINESS_DAYS = {"updated_at", "fx_rate_date"}
# Tables other records are grouped by (an account's region, a contact's account...): a change
# to one of their existing rows can move figures on any day.
DIMENSION_TABLES = {"silver.accounts", "silver.contacts", "silver.users", "silver.agents", "silver.campaigns",
                    "silver.products", "silver.campaign_variants", "silver.fx_rates"}
# Records whose figures are counted on another record's day: a message on its conversation's.
PARENT_DAYS = {"silver.messages": ("silver.conversations", "conversation_id", "started_at")}
# How a record without an account_id column reaches its account: (parent table, the shared key).
ACCOUNT_PARENTS = {
    "contact_id": "silver.contacts",
    "conversation_id": "silver.conversations",
    "opportunity_id": "silver.opportunities",
}


def account_expression(table: Table, alias: str) -> str | None:
    """SQL for the regional account a row of `table` (aliased `alias`) belongs to; None when
    its records belong to no account (leads, FX rates, campaigns...)."""
    columns = {c.name for c in table.columns}
    if "account_id" in columns:
        return f"{alias}.account_id"
    for key, parent in ACCOUNT_PARENTS.items():
        if key in columns and qualified_name(table) != parent:
            return f"(SELECT x.account_id FROM {parent} x WHERE x.{key} = {alias}.{key})"
    return None


# Tables converted at the as-of day's rate, and those USD columns: a new rate day re-converts
# every row of them.
AS_OF_RATE_USD = {qualified_name(step.table): frozenset(step.usd) | frozenset(FX_COLUMNS) for step in SILVER_STEPS
                  if isinstance(step, CleanTable) and any(usd.day is None for usd in step.usd.values())}
# Silver tables whose changes are tracked per account (app.gold_pending_account): the
# per-customer gold tables can refresh just those accounts when only these changed.
ACCOUNT_TRACKED = frozenset(qualified_name(step.table) for step in SILVER_STEPS
                            if account_expression(step.table, "t") is not None)


@dataclass
class SilverBuild:
    """What a silver build did.

    `since_day` is the earliest business day that any inserted or changed record, or any
    changed FX rate, touches: gold rows before it cannot have changed. None when nothing
    changed; `date.min` after a rebuild of everything.
    """

    rows: dict[str, int]  # a rebuilt or re-converted table's rows; a merged table's incoming rows
    quarantined: int
    rebuilt: list[str] = field(default_factory=list)  # tables rebuilt whole
    merged: dict[str, int] = field(default_factory=dict)  # tables merged by key: incoming rows
    since_day: date | None = None
    modified: set[str] = field(default_factory=set)  # merged tables in which a row was added or changed
    same: set[str] = field(default_factory=set)  # rebuilt tables found identical (the daily FX table)
    reconverted: set[str] = field(default_factory=set)  # tables given new USD amounts after an FX change

    @property
    def changed(self) -> set[str]:
        return (set(self.rebuilt) - self.same) | self.modified | self.reconverted

    @property
    def day_confined(self) -> set[str]:
        """Changed tables whose changes not recorded per account are all dated on or after
        `since_day`: the FX tables, and the tables re-converted at the transaction day's rate."""
        return (self.changed & {"silver.fx_rates", "silver.fx_rates_daily"}) | (self.reconverted - AS_OF_RATE_USD.keys())

    @property
    def untracked(self) -> set[str]:
        """Changed tables whose changes are neither recorded per account nor day-confined."""
        return ((self.changed - self.modified - self.day_confined) | (self.reconverted & AS_OF_RATE_USD.keys())
                | (self.modified - ACCOUNT_TRACKED))

    def touch(self, day: date | None) -> None:
        if day is not None:
            self.since_day = day if self.since_day is None else min(self.since_day, day)


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


def _newest_load(fingerprint: str | None, dataset: str) -> int | None:
    """The newest bronze load id of `dataset` recorded in a stored table fingerprint."""
    for part in (fingerprint or "").split(";"):
        name, _, value = part.partition("=")
        if name == dataset and value != "-":
            return int(value.split("/")[0])
    return None


def _business_days(table: Table) -> list[str]:
    return [c.name for c in table.columns
            if isinstance(c.type, Date | DateTime) and c.name not in _NOT_BUSINESS_DAYS]


def _day(alias: str, column: Any) -> str:
    return f"CAST({alias}.{_q(column)} AS date)"


def _changed_rows(step: CleanTable) -> tuple[str, str]:
    """FROM … WHERE selecting the rows of `silver_delta` that the merge will add or change,
    aliased `n`, next to the row they replace, `o` (NULL for a new key); and the condition
    telling a changed key from a new one."""
    table = step.table
    key = [c.name for c in table.primary_key.columns]
    compared = [c.name for c in table.columns if c.name not in set(key) | {"updated_at"}]
    return f"""
FROM silver_delta n
LEFT JOIN {qualified_name(table)} o ON {" AND ".join(f"o.{_q(k)} = n.{_q(k)}" for k in key)}
WHERE o.{_q(key[0])} IS NULL
   OR ROW({", ".join(f"o.{_q(c)}" for c in compared)}) IS DISTINCT FROM ROW({", ".join(f"n.{_q(c)}" for c in compared)})
""", f"o.{_q(key[0])} IS NOT NULL"


def delta_since_sql(step: CleanTable) -> str:
    """The earliest business day touched by the rows of `silver_delta` that the merge will add or
    change, and how many there are: every date of a new key; every date, old and new, of a
    changed key (any day for a changed dimension row); a record counted on its parent's day,
    that day."""
    name = qualified_name(step.table)
    days = _business_days(step.table)
    rows, is_changed = _changed_rows(step)
    # A table without business days (users, products...) still needs a typed NULL: a bare NULL
    # is text to LEAST, and CASE cannot then mix it with a date.
    all_days = ", ".join(f"{_day(a, d)}" for d in days for a in ("o", "n")) or "CAST(NULL AS date)"
    new_days = ", ".join(_day("n", d) for d in days) or "CAST(NULL AS date)"
    changed = "DATE '0001-01-01'" if name in DIMENSION_TABLES else f"LEAST({all_days})"
    parent_day = "CAST(NULL AS date)"
    if name in PARENT_DAYS:
        parent, column, parent_column = PARENT_DAYS[name]
        parent_day = f"(SELECT {_day('pa', parent_column)} FROM {parent} pa WHERE pa.{_q(column)} = n.{_q(column)})"
    return f"""
SELECT min(LEAST({parent_day}, CASE WHEN {is_changed} THEN {changed} ELSE LEAST({new_days}) END)), count(*)
{rows}"""


def pending_accounts_sql(step: CleanTable) -> str | None:
    """Record in app.gold_pending_account the accounts of the rows of `silver_delta` that the
    merge will add or change, before and after the change; None for a table without accounts."""
    new_account = account_expression(step.table, "n")
    if new_account is None:
        return None
    rows, _ = _changed_rows(step)
    return f"""
INSERT INTO app.gold_pending_account (account_id)
SELECT DISTINCT v.account_id
FROM (SELECT {new_account} AS account_id, {account_expression(step.table, "o")} AS old_account_id
      {rows}) r
CROSS JOIN LATERAL (VALUES (r.account_id), (r.old_account_id)) v (account_id)
WHERE v.account_id IS NOT NULL
ON CONFLICT DO NOTHING"""


def _merge(conn: Connection, step: CleanTable, since: int, build: SilverBuild) -> None:
    """Quarantine and merge by key the bronze rows of `step` loaded after load `since`."""
    name = qualified_name(step.table)
    started = time.perf_counter()
    params = {"since": since}
    conn.execute(text(step.quarantine_sql(delta=True)), params)
    conn.execute(text("CREATE TEMPORARY TABLE silver_delta ON COMMIT DROP AS "
                      + step.select_sql(delta=True, origin=bool(step.usd))), params)
    if step.usd:
        hold_unconverted(conn, step, "silver_delta")
    incoming = int(conn.scalar(text("SELECT count(*) FROM silver_delta")) or 0)
    if incoming:
        first_day, modified = conn.execute(text(delta_since_sql(step))).one()
        if modified:
            build.touch(first_day)
            build.modified.add(name)
            if (accounts := pending_accounts_sql(step)) is not None:
                conn.execute(text(accounts))
        conn.execute(text(step.upsert_sql()))  # also when only version stamps moved
    conn.execute(text("DROP TABLE silver_delta"))
    build.merged[name] = incoming
    log.info("silver: %s merged %d incoming rows in %.2fs", name, incoming, time.perf_counter() - started)


def released_sql(step: CleanTable) -> str:
    """True when a row of `step` waiting in quarantine can now come back: its parent is in silver,
    or a rate for its currency and day now exists."""
    parents = " ".join(f"OR (q.waiting_on = '{p.dataset}' AND EXISTS "
                       f"(SELECT FROM {p.table} p WHERE p.{_q(p.key)} = q.waiting_key))" for p in step.parents)
    rate = ""
    if step.usd:
        day = ("CASE WHEN split_part(q.waiting_key, ' ', 2) = 'as-of' THEN fx_bounds.last_day "
               "ELSE CAST(split_part(q.waiting_key, ' ', 2) AS date) END")
        currency = "split_part(q.waiting_key, ' ', 1)"
        rate = (f"OR (q.waiting_on = '{FX_DATASET}' AND EXISTS (SELECT FROM silver.fx_rates_daily fx {_FX_BOUNDS} "
                f"WHERE {rate_condition('fx', currency, day)}))")
    return f"""
SELECT EXISTS (
    SELECT FROM bronze.quarantine q
    WHERE q.dataset = '{step.source}' AND q.stage = 'silver' AND q.waiting_on IS NOT NULL
      AND (false {parents} {rate}))"""


def _snapshot_fx(conn: Connection) -> None:
    conn.execute(text("CREATE TEMPORARY TABLE fx_before ON COMMIT DROP AS "
                      "SELECT currency, day, usd_per_unit, rate_date FROM silver.fx_rates_daily"))


def _reconvert(conn: Connection, steps: list[Step], build: SilverBuild) -> None:
    """After the daily FX table changed: per currency, the first day whose rate changed, and
    new USD amounts for the merged tables' rows on or after it."""
    conn.execute(text("""
        CREATE TEMPORARY TABLE fx_changed ON COMMIT DROP AS
        SELECT COALESCE(n.currency, o.currency) AS currency, min(COALESCE(n.day, o.day)) AS since
        FROM silver.fx_rates_daily n
        FULL JOIN fx_before o ON o.currency = n.currency AND o.day = n.day
        WHERE n.usd_per_unit IS DISTINCT FROM o.usd_per_unit OR n.rate_date IS DISTINCT FROM o.rate_date
        GROUP BY 1"""))
    first_changed, currencies = conn.execute(text("SELECT min(since), count(*) FROM fx_changed")).one()
    build.touch(first_changed)
    if not currencies:  # the feed repeated rates already known (today's, say): nothing to convert again
        build.same.add("silver.fx_rates_daily")
        conn.execute(text("DROP TABLE fx_changed"))
        conn.execute(text("DROP TABLE fx_before"))
        return
    # A currency's days before the old first rate day took the first rate: when the window
    # grows backwards every row of it may change.
    conn.execute(text("""
        UPDATE fx_changed SET since = '-infinity'
        WHERE (SELECT min(day) FROM fx_before) IS DISTINCT FROM (SELECT min(day) FROM silver.fx_rates_daily)"""))
    for step in steps:
        if isinstance(step, CleanTable) and step.usd:
            started = time.perf_counter()
            updated, unrated = conn.execute(text(step.reconvert_sql())).one()
            if unrated:  # their rate was withdrawn (say, found implausible) and none is near: they wait
                hold_unconverted(conn, step, qualified_name(step.table))
            if updated:
                build.reconverted.add(qualified_name(step.table))
            log.info("silver: %s re-converted %d rows in %.2fs", qualified_name(step.table), updated,
                     time.perf_counter() - started)
    conn.execute(text("DROP TABLE fx_changed"))
    conn.execute(text("DROP TABLE fx_before"))


def _plan(step: Step, stored: str | None, fingerprint: str, full: bool) -> str:
    """"skip", "merge" or "rebuild" for one silver step (see `build_silver`), from its stored and
    current input fingerprints."""
    if not full and stored == fingerprint:
        return "skip"
    if (full or stored is None or not isinstance(step, CleanTable) or isinstance(step, FxRateTable)
            or _newest_load(stored, step.source) is None):
        return "rebuild"
    extras = [d for d in step_inputs(step) if d not in (step.source, "billing_fx_rates")]
    if any(_newest_load(stored, d) != _newest_load(fingerprint, d) for d in extras):
        return "rebuild"  # e.g. line items, converted at their deal's day: the deals changed
    return "merge"


def build_silver(conn: Connection, *, full: bool = False) -> SilverBuild:
    """Bring silver up to date with bronze, in the caller's transaction.

    Each table records the bronze loads it has seen (in app.source_watermark, in the same
    transaction, so a killed run leaves neither tables nor watermarks half-updated):
      * a table whose inputs did not change is left alone;
      * a `CleanTable` whose own dataset got new loads is merged by key with just those
        loads' rows, by the same newest-version rule as a full build, so the result equals a
        rebuild; when the FX feed changed, its rows on or after the first changed rate day
        are converted again;
      * any other changed table (the daily FX table, a table seen for the first time) and,
        with `full`, every table is rebuilt whole from all of its bronze rows.
    """
    current = _input_fingerprints(conn)
    stored = dict(conn.execute(text("SELECT dataset, value FROM app.source_watermark WHERE source = :s"),
                               {"s": WATERMARK_SOURCE}).all())
    fingerprints = {qualified_name(step.table): ";".join(f"{d}={current.get(d, '-')}" for d in step_inputs(step))
                    for step in SILVER_STEPS}
    plan = {name: _plan(step, stored.get(name), fingerprints[name], full)
            for name, step in ((qualified_name(step.table), step) for step in SILVER_STEPS)}
    build = SilverBuild(rows={}, quarantined=0)
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
    conn.execute(text("SET LOCAL work_mem = '256MB'"))
    for step in SILVER_STEPS:
        name = qualified_name(step.table)
        if (plan[name] != "rebuild" and isinstance(step, CleanTable) and (step.parents or step.usd)
                and conn.scalar(text(released_sql(step)))):
            # A parent or a rate that rows were waiting for has arrived: rebuild the table, so they
            # come back exactly as a full build would bring them.
            log.info("silver: %s: rows waiting in quarantine can come back; rebuilding it", name)
            plan[name] = "rebuild"
        if plan[name] == "merge":
            since = _newest_load(stored[name], step.source)
            if since != _newest_load(fingerprints[name], step.source):
                _merge(conn, step, since, build)
            else:
                build.merged[name] = 0
        elif plan[name] == "rebuild":
            reconvert = name == "silver.fx_rates_daily" and name in stored and not full
            if reconvert:
                _snapshot_fx(conn)
            if isinstance(step, CleanTable):
                conn.execute(text("DELETE FROM bronze.quarantine WHERE stage = 'silver' AND dataset = :d"),
                             {"d": step.source})
            run_steps(conn, [step], {"max_fallback_days": FxRules.from_environment().max_fallback_days},
                      stage="silver", truncate=True)
            build.rebuilt.append(name)
            # A source that has never sent anything (a tenant without that system) rebuilds to the
            # same empty table whenever the FX feed moves.
            still_empty = (isinstance(step, CleanTable) and name in stored and not full
                           and _newest_load(stored[name], step.source) is None
                           and _newest_load(fingerprints[name], step.source) is None)
            if reconvert:
                # The tables merged below keep their rows: convert those whose rate changed.
                _reconvert(conn, [s for s in SILVER_STEPS if plan[qualified_name(s.table)] == "merge"], build)
            elif still_empty:
                build.same.add(name)
            elif name == "silver.fx_rates" and name in stored and not full:
                pass  # what its change moves, the daily rates and the USD amounts, is worked out above
            elif name != "silver.fx_rates_daily":
                build.since_day = date.min  # a whole table may have changed: so may all of gold
    for step in SILVER_STEPS:
        name = qualified_name(step.table)
        if incoming := build.merged.get(name):
            # Statistics are refreshed after a merge that is large for the table; a few rows do not
            # move them (autovacuum's analyze catches up), and analysing millions each refresh would.
            if incoming * 10 > (conn.scalar(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                                            {"t": name}) or 0):
                conn.execute(text(f"ANALYZE {name}"))
            build.rows[name] = incoming
        elif name in build.changed:  # counting every unchanged table would cost more than the refresh
            build.rows[name] = int(conn.scalar(text(f"SELECT count(*) FROM {name}")) or 0)
        if plan[name] != "skip":
            set_watermark(conn, WATERMARK_SOURCE, name, fingerprints[name])
    log.info("silver: rebuilt %d and merged %d of %d tables%s", len(build.rebuilt), len(build.merged),
             len(SILVER_STEPS), " (full rebuild)" if full else "")
    build.quarantined = int(conn.scalar(text("SELECT count(*) FROM bronze.quarantine WHERE stage = 'silver'")) or 0)
    if build.quarantined:
        log.info("silver: %d rows quarantined", build.quarantined)
    return build
