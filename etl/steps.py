"""Building blocks of the silver and gold stages: a step fills one table with set-based SQL.

A stage is a declared, ordered tuple of steps run in one transaction. Adding a table to a
stage means adding its ORM class, one SQL file (or a `CleanTable` entry for silver) and
one line in the stage's registry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Table, text

log = logging.getLogger(__name__)


class Step(Protocol):
    """Fills one table; the stage has emptied it beforehand."""

    @property
    def table(self) -> Table: ...

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None: ...


def qualified_name(table: Table) -> str:
    """`schema.name` of a table, as used in SQL and in job-run row counts."""
    return f"{table.schema}.{table.name}"


@dataclass(frozen=True)
class SqlStep:
    """One `INSERT INTO <table> … SELECT …` statement read from a .sql file.

    The SQL may use bound parameters such as `:as_of` (write `CAST(:as_of AS date)`: a
    bound parameter cannot be followed by `::`).
    """

    model: Any  # an ORM class
    sql_file: Path
    # A step that can refresh just the rows from a day on: the column holding that day. Its SQL
    # must then produce only the rows with that column on or after `:since_day`.
    since_column: str | None = None

    @property
    def table(self) -> Table:
        return self.model.__table__

    def sql(self) -> str:
        return self.sql_file.read_text(encoding="utf-8")

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        conn.execute(text(self.sql()), dict(params))


def run_steps(conn: Connection, steps: Sequence[Step], params: Mapping[str, Any], *, stage: str,
              truncate: bool, since: date | None = None) -> dict[str, int]:
    """Empty every step's table, run the steps in order, analyse and count; rows per table.

    The caller owns the transaction. `truncate=False` empties with DELETE, which leaves the
    previous rows readable by concurrent readers until commit (gold is read by the pages).
    With `since`, a step that has a `since_column` only replaces its rows from that day on
    (its SQL gets `:since_day`); the others are rebuilt whole.
    """
    tables = [step.table for step in steps]
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))  # every ::date of a timestamp is a UTC day
    conn.execute(text("SET LOCAL work_mem = '256MB'"))  # de-duplicating sorts stay in memory
    params = {**params, "since_day": since or date.min}
    if truncate:
        conn.execute(text("TRUNCATE " + ", ".join(qualified_name(t) for t in tables)))
    else:
        for step in steps:
            column = getattr(step, "since_column", None) if since else None
            where = f' WHERE "{column}" >= :since_day' if column else ""
            conn.execute(text(f"DELETE FROM {qualified_name(step.table)}{where}"), params)
    rows: dict[str, int] = {}
    for step in steps:
        name = qualified_name(step.table)
        started = time.perf_counter()
        step.run(conn, params)
        conn.execute(text(f"ANALYZE {name}"))
        rows[name] = int(conn.scalar(text(f"SELECT count(*) FROM {name}")) or 0)
        log.info("%s: %s built: %d rows in %.2fs", stage, name, rows[name], time.perf_counter() - started)
    return rows
