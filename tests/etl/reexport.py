"""Re-exports for tests: one record a source already sent, sent again with one value changed.

Sources send records again: a CRM re-exports a user after a rename, billing an invoice whose
amount was corrected, the FX feed a corrected rate. `write_reexport` picks one record of a
dataset that is in silver (a key sent once in the landing files, so the record is exactly that
row) and writes it, with one value changed, as a new landing file `<system>/<name>_<suffix>.csv`
with the same header. The value changed is chosen from the silver column types, so a new
dataset needs no change here unless it has none of these:

  * the FX feed (`billing_fx_rates`): a non-USD rate a week before the last rate day, +0.5 %;
  * else the first name-like text column (`full_name`, `subject`, `body`...): " (renamed)" added;
  * else the first number: +1 for an integer, +0.5 % (at least one unit of its last digit) else;
  * else the last timestamp (not `updated_at`): one minute later.

A dataset with `updated_at` gets it one minute later, so the new version wins by that rule and
not only by being the newest load.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Column, DateTime, Integer, Numeric, Table, Text, text
from sqlalchemy.dialects import postgresql

import etl.silver
from dashboard.db import Database
from dashboard.tables.landing import Dataset
from etl.quality.registry import RANGE_RULES
from etl.steps import qualified_name

FX_DATASET = "billing_fx_rates"
NAME_LIKE = re.compile(r"(^|_)(name|subject|body|text|title)$")
# Numbers whose range a small change could leave (a probability of 100, a csat of 5).
BOUNDED = [pattern for pattern, _, severity in RANGE_RULES if severity == "critical"]
RATE_CHANGE = Decimal("1.005")


@dataclass(frozen=True)
class Reexport:
    """One re-exported record: where it was written and what changed."""

    dataset: Dataset
    path: Path
    silver_table: Table
    key: dict[str, str]
    column: str
    old: str
    new: str

    @property
    def silver_name(self) -> str:
        return qualified_name(self.silver_table)

    def describe(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        return f"{self.dataset.bronze_table} [{key}] {self.column}: {self.old!r} -> {self.new!r}"

    def silver_has(self, database: Database, value: str) -> bool:
        """Whether the record's row in silver holds `value` (as the column's type) in the changed column."""
        where = " AND ".join(f"{_q(k)} = CAST(:k_{k} AS {_pg_type(self.silver_table.c[k])})" for k in self.key)
        column = self.silver_table.c[self.column]
        sql = (f"SELECT {_q(self.column)} IS NOT DISTINCT FROM CAST(:value AS {_pg_type(column)}) "
               f"FROM {self.silver_name} WHERE {where}")
        with database.engine.connect() as conn:
            found = conn.execute(text(sql), {"value": value, **{f"k_{k}": v for k, v in self.key.items()}}).all()
        assert len(found) == 1, f"{self.describe()}: {len(found)} rows for the key in {self.silver_name}"
        return bool(found[0][0])


def silver_table_of(dataset: Dataset) -> Table:
    """The silver table cleaned from `dataset`'s bronze rows."""
    tables = [step.table for step in etl.silver.SILVER_STEPS if getattr(step, "source", None) == dataset.bronze_table]
    assert len(tables) == 1, f"{dataset.bronze_table}: expected one silver table built from it, found {tables}"
    return tables[0]


def silver_tables_reading(dataset: Dataset) -> list[str]:
    """Every silver table built from `dataset` (its own, the daily FX table, line items of deals...)."""
    return [qualified_name(step.table) for step in etl.silver.SILVER_STEPS
            if dataset.bronze_table in etl.silver.step_inputs(step)]


def write_reexport(database: Database, landing: Path, dataset: Dataset, *, suffix: str = "reexport") -> Reexport:
    """Write one record of `dataset` again, one value changed, as `<system>/<name>_<suffix>.csv`."""
    table = silver_table_of(dataset)
    header, rows = _landing_rows(landing, dataset)
    column = _column_to_change(dataset, table)
    candidates = _candidates(dataset, header, rows, column)
    for row in candidates:
        key = {k: row[k] for k in dataset.key}
        if _in_silver(database, table, key):
            break
    else:
        raise AssertionError(f"{dataset.bronze_table}: no record sent once and in silver with a {column}")
    changed = dict(row)
    changed[column] = _changed(table.c[column], row[column], dataset)
    if "updated_at" in header:
        changed["updated_at"] = _later(row["updated_at"])
    path = landing / dataset.system / f"{dataset.name}_{suffix}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerow([changed[c] for c in header])
    return Reexport(dataset, path, table, key, column, row[column], changed[column])


def _landing_rows(landing: Path, dataset: Dataset) -> tuple[list[str], list[dict[str, str]]]:
    files = sorted((landing / dataset.system).glob(dataset.file_glob))
    assert files, f"{dataset.bronze_table}: no landing file {dataset.system}/{dataset.file_glob} in {landing}"
    header: list[str] = []
    rows: list[dict[str, str]] = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            file_header = next(reader)
            assert set(file_header) == set(dataset.columns), f"{path}: header {file_header}"
            header = header or file_header
            rows += [dict(zip(file_header, r, strict=True)) for r in reader if len(r) == len(file_header)]
    return header, rows


def _column_to_change(dataset: Dataset, table: Table) -> str:
    if dataset.bronze_table == FX_DATASET:
        return "usd_per_unit"
    step = next(s for s in etl.silver.SILVER_STEPS if getattr(s, "source", None) == dataset.bronze_table)
    computed = set(getattr(step, "derived", {})) | set(getattr(step, "usd", {}))
    columns = [table.c[c] for c in dataset.columns
               if c not in dataset.key and c != "updated_at" and c in table.c and c not in computed]
    for column in columns:
        if isinstance(column.type, Text) and NAME_LIKE.search(column.name):
            return column.name
    for column in columns:
        if isinstance(column.type, Integer | Numeric) and not any(re.fullmatch(p, column.name) for p in BOUNDED):
            return column.name
    for column in reversed(columns):
        if isinstance(column.type, DateTime):
            return column.name
    raise AssertionError(f"{dataset.bronze_table}: no name, number or timestamp to change; "
                         "teach tests/etl/reexport.py how to change a record of it")


def _candidates(dataset: Dataset, header: list[str], rows: list[dict[str, str]], column: str) -> list[dict]:
    """Rows whose key was sent once, with a value to change; the ones to try first, first."""
    seen: dict[tuple, int] = {}
    for row in rows:
        key = tuple(row[k].strip() for k in dataset.key)
        seen[key] = seen.get(key, 0) + 1
    good = [r for r in rows if seen[tuple(r[k].strip() for k in dataset.key)] == 1 and r[column].strip()
            and ("updated_at" not in header or r["updated_at"].strip())]
    if dataset.bronze_table == FX_DATASET:
        # A correction of a recent rate: a week before the last rate day, a currency other than USD.
        last = max(date.fromisoformat(r["rate_date"]) for r in good)
        day = (last - timedelta(days=7)).isoformat()
        return sorted((r for r in good if r["rate_date"] == day and r["currency"] != "USD"),
                      key=lambda r: r["currency"])
    good.sort(key=lambda r: tuple(r[k] for k in dataset.key))
    # From the middle outwards: neither the first nor the last record of the export.
    middle = len(good) // 2
    return [good[i] for i in sorted(range(len(good)), key=lambda i: (abs(i - middle), i))][:200]


def _in_silver(database: Database, table: Table, key: dict[str, str]) -> bool:
    where = " AND ".join(f"{_q(k)} = CAST(:{k} AS {_pg_type(table.c[k])})" for k in key)
    with database.engine.connect() as conn:
        return conn.scalar(text(f"SELECT count(*) FROM {qualified_name(table)} WHERE {where}"), key) == 1


def _changed(column: Column, value: str, dataset: Dataset) -> str:
    value = value.strip()
    if isinstance(column.type, Text):
        return f"{value} (renamed)"
    if isinstance(column.type, Integer):
        return str(int(value) + 1)
    if isinstance(column.type, Numeric):
        number = Decimal(value)
        unit = Decimal(1).scaleb(min(number.as_tuple().exponent, 0))
        return str(max((number * RATE_CHANGE).quantize(unit), number + unit))
    if isinstance(column.type, DateTime):
        return _later(value)
    raise AssertionError(f"{dataset.bronze_table}.{column.name}: cannot change a {column.type}")


def _later(timestamp: str) -> str:
    """One minute later, written as the source writes it."""
    moment = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00")) + timedelta(minutes=1)
    if timestamp.strip().endswith("Z"):
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    return moment.isoformat()


def _q(name: str) -> str:
    return f'"{name}"'


def _pg_type(column: Column) -> str:
    return column.type.compile(dialect=postgresql.dialect())
