"""The one list of data-quality checks, generated from the ORM metadata plus a few declared rules.

A `Check` is data: a stable id, the stage it runs after, its kind, table and column, and two
thresholds on the observed value (a count or a percentage): above `warn_above` it fails as a
warning, above `fail_above` it fails as critical (None: never). A new silver or gold table
gets its key, required-column, range and orphan checks without any change here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, DateTime, Integer, Numeric, Table

from dashboard.tables import Base
from dashboard.tables.bronze import BRONZE_TABLES

STAGES = ("bronze", "silver", "gold")


@dataclass(frozen=True)
class Check:
    """One declared check; `observed` is compared with the thresholds."""

    id: str
    stage: str
    kind: str  # unique_key, not_null, orphans, range, usd_conversion, usd_naming, freshness, quarantine,
    #            completeness
    table: str  # schema.table
    column: str | None = None
    warn_above: float | None = 0.0
    fail_above: float | None = None
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def severity(self) -> str:
        """The worst outcome this check can have."""
        return "critical" if self.fail_above is not None else "warning"


# --- Declared rules: data, not code -------------------------------------------------------

# Nullable columns that should nevertheless be filled: a null rate above 5 % is a warning.
EXPECTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "silver.accounts": ("account_type", "industry", "region", "country", "currency"),
    "silver.contacts": ("account_id", "email", "phone"),
    "silver.leads": ("email",),
    "silver.tickets": ("account_id", "status"),
    "silver.invoices": ("account_id", "due_date"),
    "silver.payments": ("invoice_id",),
    "silver.sends": ("contact_id", "sent_at"),
}
EXPECTED_NULL_PCT = 5.0

# Natural keys that should be unique but are not enforced (a repeat is a warning: a possible
# duplicate record, for identity resolution to merge). NULLs are ignored.
DECLARED_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "silver.contacts": (("email",),),
    "silver.accounts": (("account_name", "country"),),
}

# Foreign keys the ORM does not declare. Orphans are also inferred: a column named like the
# single-column primary key of another table in the same schema (contacts.account_id ->
# accounts.account_id). (child table, column, parent table, parent column); the parent column
# must be unique (its primary key), as the orphan query joins on it directly.
DECLARED_RELATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("silver.accounts", "parent_account_id", "silver.accounts", "account_id"),
    ("silver.leads", "converted_account_id", "silver.accounts", "account_id"),
)
# A few orphans are a warning; a broken join key (more than 20 % orphans) is critical, but only
# on at least 100 rows, as smaller samples are too noisy to stop a run, and only when the
# parent table has rows (a reference source not delivered at all is a warning).
ORPHAN_CRITICAL_PCT = 20.0
ORPHAN_CRITICAL_MIN_ROWS = 100

# Value ranges by column name: (name pattern, valid SQL over `v`, severity of any violation).
# Amounts >= 0 covers originals and USD; refunds or credit notes would be their own columns.
RANGE_RULES: tuple[tuple[str, str, str], ...] = (
    (r"csat(_score)?", "v BETWEEN 1 AND 5", "critical"),
    (r"nps_score", "v BETWEEN 0 AND 10", "critical"),
    (r".*probability", "v BETWEEN 0 AND 100", "critical"),
    (r".*_pct", "v BETWEEN 0 AND 100", "critical"),
    (r"(amount|mrr|arr|cost|unit_price|.*_usd)", "v >= 0", "warning"),
    (r"(employee_count|quantity|.*_minutes|.*_seconds|duration.*|pageviews|sessions|active_users)",
     "v >= 0", "warning"),
)
# Row-level failures are quarantined by silver and never stop a run by themselves. A critical
# check on rows (a value out of its range, an amount without USD) holds gold back only when more
# than this share of the table's rows fails it: then a source or a rule is broken, not a row.
# Structural checks (a duplicated key, a table or column that is missing, a broken join key for
# a whole source) stay absolute.
ROW_FAILURE_CRITICAL_PCT = 0.5

# Any date or timestamp: not before 1990 and not more than 10 years after today.
DATE_RANGE_SQL = "v >= DATE '1990-01-01' AND v < now() + interval '10 years'"
RANGE_CRITICAL_PCT = 1.0  # out-of-range dates: a warning, unless more than 1 % of the rows

# Gold columns whose names the requirements fix (requirements 003, prompt 7) and that hold USD.
USD_BY_SPEC = ("gold.timeline_events.related_amount",)
# Gold columns holding an amount in its own currency, beside that currency, for gold to convert:
# MRR, which gold.subscription_mrr_daily converts at each day's rate; an unpaid invoice's own amount,
# shown beside its amount_usd, and those amounts summed per currency.
LOCAL_CURRENCY_BY_DESIGN = ("gold.subscription_mrr.mrr", "gold.receivable_invoice.amount",
                            "gold.receivables_currency.amount")

# Money in gold: numeric with two decimals, or named like an amount; must be named *_usd
# (or *_usd_*, e.g. mrr_usd_year_ago).
MONEY_NAME = re.compile(r"(amount|revenue|mrr|arr|cost|price|overdue|invoiced|collected|paid|value)")
NOT_MONEY_SUFFIXES = ("_pct", "_rate", "_ratio", "_probability", "_score", "_count", "_days")

# Freshness: the newest load per bronze dataset, and the newest event per silver table.
MAX_LOAD_AGE_HOURS = 26.0
MAX_EVENT_AGE_HOURS = 7 * 24.0
EVENT_COLUMNS = ("updated_at", "created_at", "sent_at", "started_at", "occurred_at", "paid_at",
                 "received_at", "scheduled_at", "issue_date", "rate_date", "usage_date", "day")

# Profile completeness: the expected fields of a contact and of an account.
PROFILE_FIELDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "contact": ("silver.contacts", "contact_id",
                ("first_name", "last_name", "email", "phone", "job_title", "country", "account_id")),
    "account": ("silver.accounts", "account_id",
                ("industry", "employee_count", "territory", "owner_user_id", "parent_account_id",
                 "country", "region", "account_type")),
}
MIN_AVG_COMPLETENESS_PCT = 70.0  # warning below this average


# --- Generation ---------------------------------------------------------------------------


def _tables(schema: str) -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.schema == schema]


def _name(table: Table) -> str:
    return f"{table.schema}.{table.name}"


def _key_checks(table: Table, stage: str) -> list[Check]:
    key = [c.name for c in table.primary_key.columns]
    checks = [Check(f"{_name(table)}.unique_key", stage, "unique_key", _name(table), ",".join(key),
                    warn_above=0, fail_above=0, params={"columns": key})] if key else []
    for columns in DECLARED_KEYS.get(_name(table), ()):
        if all(c in table.columns for c in columns):
            checks.append(Check(f"{_name(table)}.{'+'.join(columns)}.unique", stage, "unique_key", _name(table),
                                ",".join(columns), warn_above=0, fail_above=None,
                                params={"columns": list(columns), "ignore_nulls": True}))
    for column in table.columns:
        if not column.nullable:
            checks.append(Check(f"{_name(table)}.{column.name}.not_null", stage, "not_null", _name(table),
                                column.name, warn_above=0, fail_above=0))
    for name in EXPECTED_COLUMNS.get(_name(table), ()):
        if name in table.columns and table.columns[name].nullable:
            checks.append(Check(f"{_name(table)}.{name}.null_rate", stage, "not_null", _name(table), name,
                                warn_above=EXPECTED_NULL_PCT, fail_above=None))
    return checks


def _range_checks(table: Table, stage: str) -> list[Check]:
    checks = []
    for column in table.columns:
        if column.primary_key and stage == "gold" and isinstance(column.type, Date | DateTime):
            continue  # gold day keys come from the data window, itself checked in silver
        valid, severity = None, "warning"
        if isinstance(column.type, Date | DateTime):
            valid = DATE_RANGE_SQL
        elif isinstance(column.type, Integer | Numeric):
            for pattern, condition, rule_severity in RANGE_RULES:
                if re.fullmatch(pattern, column.name):
                    valid, severity = condition, rule_severity
                    break
        if valid is None:
            continue
        fail_above = (ROW_FAILURE_CRITICAL_PCT if severity == "critical"
                      else (RANGE_CRITICAL_PCT if valid == DATE_RANGE_SQL else None))
        checks.append(Check(f"{_name(table)}.{column.name}.range", stage, "range", _name(table), column.name,
                            warn_above=0, fail_above=fail_above, params={"valid": valid}))
    return checks


def _relations(schema: str) -> list[tuple[str, str, str, str]]:
    tables = {_name(t): t for t in _tables(schema)}
    candidates: dict[str, list[str]] = {}  # single-column primary key name -> tables keyed by it
    for name, table in tables.items():
        key = list(table.primary_key.columns)
        if len(key) == 1 and key[0].name.endswith("_id"):
            candidates.setdefault(key[0].name, []).append(name)
    parents = {}  # account_id -> silver.accounts: the table named after the key, else the only one
    for column, names in candidates.items():
        stem = column.removesuffix("_id")
        named = [n for n in names if n.partition(".")[2] in (stem, stem + "s", stem + "es")]
        if named or len(names) == 1:
            parents[column] = (named or names)[0]
    relations = []
    for name, table in tables.items():
        own_key = [c.name for c in table.primary_key.columns]
        for column in table.columns:
            for fk in column.foreign_keys:
                relations.append((name, column.name, _name(fk.column.table), fk.column.name))
            parent = parents.get(column.name)
            if parent and parent != name and own_key != [column.name]:
                relations.append((name, column.name, parent, column.name))
    for child, column, parent, parent_column in DECLARED_RELATIONS:
        if (child in tables and parent in tables and column in tables[child].columns
                and parent_column in tables[parent].columns):
            relations.append((child, column, parent, parent_column))
    return list(dict.fromkeys(relations))


def _orphan_checks(schema: str) -> list[Check]:
    return [Check(f"{child}.{column}.orphans", schema, "orphans", child, column,
                  warn_above=0, fail_above=ORPHAN_CRITICAL_PCT,
                  params={"parent": parent, "parent_column": parent_column,
                          "critical_min_rows": ORPHAN_CRITICAL_MIN_ROWS})
            for child, column, parent, parent_column in _relations(schema)]


def _usd_conversion_checks() -> list[Check]:
    checks = []
    for table in _tables("silver"):
        for column in table.columns:
            source = column.name.removesuffix("_usd")
            if column.name.endswith("_usd") and source in table.columns:
                checks.append(Check(f"{_name(table)}.{column.name}.usd_conversion", "silver", "usd_conversion",
                                    _name(table), column.name, warn_above=0, fail_above=ROW_FAILURE_CRITICAL_PCT,
                                    params={"source": source, "has_currency": "currency" in table.columns}))
    return checks


def _freshness_checks() -> list[Check]:
    checks = [Check(f"bronze.{name}.load_freshness", "bronze", "freshness", f"bronze.{name}", "_loaded_at",
                    warn_above=MAX_LOAD_AGE_HOURS, fail_above=None, params={"dataset": name})
              for name in BRONZE_TABLES]
    for table in _tables("silver"):
        column = next((c for c in EVENT_COLUMNS if c in table.columns), None)
        if column is not None:
            checks.append(Check(f"{_name(table)}.event_freshness", "silver", "freshness", _name(table), column,
                                warn_above=MAX_EVENT_AGE_HOURS, fail_above=None))
    return checks


def _quarantine_checks() -> list[Check]:
    return [Check(f"bronze.{name}.quarantine_rate", "silver", "quarantine", f"bronze.{name}", None,
                  warn_above=0, fail_above=None, params={"dataset": name})
            for name in BRONZE_TABLES]


def _completeness_checks() -> list[Check]:
    tables = {_name(t) for t in Base.metadata.sorted_tables}
    return [Check(f"profile_completeness.{entity}", "gold", "completeness", table, None,
                  warn_above=None, fail_above=None,
                  params={"entity": entity, "key": key, "fields": fields, "min_avg_pct": MIN_AVG_COMPLETENESS_PCT})
            for entity, (table, key, fields) in PROFILE_FIELDS.items() if table in tables]


def _usd_naming_check() -> Check:
    return Check("gold.usd_naming", "gold", "usd_naming", "gold.*", None, warn_above=0, fail_above=0,
                 params={"not_money_suffixes": NOT_MONEY_SUFFIXES, "money_name": MONEY_NAME.pattern,
                         "usd_by_spec": USD_BY_SPEC + LOCAL_CURRENCY_BY_DESIGN})  # those are exempt


def checks_for(stage: str) -> list[Check]:
    """Every check that runs after `stage` (bronze, silver or gold), in a stable order."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}")
    if stage == "bronze":
        return [c for c in _freshness_checks() if c.stage == "bronze"]
    checks: list[Check] = []
    for table in _tables(stage):
        checks += _key_checks(table, stage)
        checks += _range_checks(table, stage)
    checks += _orphan_checks(stage)
    if stage == "silver":
        checks += _usd_conversion_checks()
        checks += [c for c in _freshness_checks() if c.stage == "silver"]
        checks += _quarantine_checks()
    else:
        checks.append(_usd_naming_check())
        checks += _completeness_checks()
    return checks


def all_checks() -> list[Check]:
    """The whole registry, bronze then silver then gold."""
    return [check for stage in STAGES for check in checks_for(stage)]
