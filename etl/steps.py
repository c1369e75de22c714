"""Building blocks of the silver and gold stages: a step fills one table with set-based SQL.

A stage is a declared, ordered tuple of steps run in one transaction. Adding a table to a
stage means adding its ORM class, one SQL file (or a `CleanTable` entry for silver) and
one line in the stage's registry.
"""

from __future__ import annotations

import logging
import re
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


# How a step refreshes its table (see run_steps).
REBUILD, DIFF, DAYS, ACCOUNTS, SKIP = "rebuild", "diff", "days", "accounts", "skip"

# In a step's SQL, `@in_scope(<account id expression>)` keeps only the rows of the accounts
# being refreshed (temporary table `gold_scope`) when a refresh is limited to some accounts,
# and is `true` otherwise.
_IN_SCOPE = re.compile(r"@in_scope\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_COMMENT = re.compile(r"--[^\n]*")
_TABLE_REFERENCE = re.compile(r"\b(silver|gold)\.([a-z_][a-z0-9_]*)\b")


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
    # A step that can refresh just some accounts' rows: the column holding the account (regional
    # or master id). Its SQL must then filter every input by `@in_scope(<its account id>)`.
    account_column: str | None = None
    # With an account_column: SQL selecting the accounts whose rows can change when the as-of day
    # moves from `:previous_as_of` to `:as_of`, counting every row dated from `:since_day` on
    # (rows that FX rates changed from that day on included). Without it, a new as-of day
    # works the whole table out again.
    as_of_scope: Path | None = None
    # With a since_column: silver tables a change of which can move rows of any day (a customer's
    # group, say), so the whole table is worked out again.
    whole_when: frozenset[str] = frozenset()
    # With a since_column: a condition (SQL, may use :as_of) selecting the rows a moving as-of day
    # retires, such as months that fell out of a rolling window; deleted with the refreshed days.
    retired: str | None = None

    @property
    def table(self) -> Table:
        return self.model.__table__

    def sql(self, *, accounts: bool = False) -> str:
        scope = r"(\1) IN (SELECT account_id FROM gold_scope)" if accounts else "true"
        return _IN_SCOPE.sub(scope, self.sql_file.read_text(encoding="utf-8"))

    def _code(self) -> str:
        return _COMMENT.sub("", self.sql())

    def reads_column(self, column: str) -> bool:
        return re.search(rf"\b{re.escape(column)}\b", self._code()) is not None

    def _names_and_star(self, table: str) -> tuple[str, set[str], bool]:
        """(its SQL, the names and aliases `table` goes by in it, whether it reads `*` of it or of any)."""
        code = self._code()
        schema, _, name = table.partition(".")
        aliases = {name, *re.findall(rf"\b{schema}\.{name}\s+(?:AS\s+)?([a-z_][a-z0-9_]*)", code, re.IGNORECASE)}
        star = re.search(r"\bSELECT\s+\*", code, re.IGNORECASE) is not None or any(
            re.search(rf"\b{re.escape(alias)}\.\*", code) for alias in aliases)
        return code, aliases, star

    def reads_any_column(self, table: str, columns: frozenset[str]) -> bool:
        """Whether its SQL may read one of `columns` of `table` (by name, or through a `*`)."""
        code, _, star = self._names_and_star(table)
        return star or any(re.search(rf"\b{re.escape(column)}\b", code) for column in columns)

    def reads_column_of(self, table: str, column: str) -> bool:
        """Whether its SQL may read `column` of `table`: through a `*`, qualified by one of the table's
        names or aliases, or unqualified (a column of another table or view named alike does not count)."""
        code, aliases, star = self._names_and_star(table)
        if star:
            return True
        column = re.escape(column)
        return (re.search(rf"(?<![.\w]){column}\b", code) is not None
                or any(re.search(rf"\b{re.escape(alias)}\.{column}\b", code) for alias in aliases))

    def inputs(self) -> frozenset[str]:
        """The silver and gold tables its SQL reads."""
        found = {f"{schema}.{name}" for schema, name in _TABLE_REFERENCE.findall(self._code())}
        return frozenset(found - {qualified_name(self.table)})

    def reads_as_of(self) -> bool:
        return ":as_of" in self._code()

    def run(self, conn: Connection, params: Mapping[str, Any], *, accounts: bool = False) -> None:
        conn.execute(text(self.sql(accounts=accounts)), dict(params))

    def run_diff(self, conn: Connection, params: Mapping[str, Any], *, accounts: bool = False) -> frozenset[str]:
        """Work the whole table out again (with `accounts`, the rows of the accounts in `gold_scope`),
        but write only the rows that differ from it: a refresh that changes a few rows rewrites a few
        rows (and readers' row versions stay put). Returns the columns whose values changed (every
        column for a row added or removed; none when nothing changed)."""
        name = qualified_name(self.table)
        if self.since_column:  # the whole table, whichever day the refresh starts from
            params = {**params, "since_day": date.min}
        insert = f"INSERT INTO {name}"
        sql = self.sql(accounts=accounts)
        if insert not in sql:
            raise ValueError(f"{self.sql_file.name} does not start with {insert}")
        key = [f'"{c.name}"' for c in self.table.primary_key.columns]
        columns = [c.name for c in self.table.columns]
        same_key = " AND ".join(f"n.{k} = t.{k}" for k in key)
        # The stored rows this statement works out again.
        stored = (f"(SELECT * FROM {name} WHERE \"{self.account_column}\" IN (SELECT account_id FROM gold_scope))"
                  if accounts else name)
        conn.execute(text(f"CREATE TEMPORARY TABLE step_rebuilt (LIKE {name}) ON COMMIT DROP"))
        conn.execute(text(sql.replace(insert, "INSERT INTO step_rebuilt", 1)), dict(params))
        differ = ", ".join(f'bool_or(n."{c}" IS DISTINCT FROM t."{c}")' for c in columns)
        added_or_removed, *differs = conn.execute(text(
            f"SELECT bool_or(n.{key[0]} IS NULL OR t.{key[0]} IS NULL), {differ} "
            f"FROM step_rebuilt n FULL JOIN {stored} t ON {same_key} "
            f"WHERE ROW(n.*) IS DISTINCT FROM ROW(t.*)")).one()
        if added_or_removed is not None:  # some row differs
            in_scope = (f't."{self.account_column}" IN (SELECT account_id FROM gold_scope) AND '
                        if accounts else "")
            conn.execute(text(f"DELETE FROM {name} t WHERE {in_scope}NOT EXISTS (SELECT 1 FROM step_rebuilt n "
                              f"WHERE {same_key} AND ROW(n.*) IS NOT DISTINCT FROM ROW(t.*))"))
            conn.execute(text(f"INSERT INTO {name} SELECT n.* FROM step_rebuilt n "
                              f"WHERE NOT EXISTS (SELECT 1 FROM {name} t WHERE {same_key})"))
        conn.execute(text("DROP TABLE step_rebuilt"))
        if added_or_removed:
            return frozenset(columns)
        return frozenset(c for c, changed in zip(columns, differs, strict=True) if changed)


def run_steps(conn: Connection, steps: Sequence[Step], params: Mapping[str, Any], *, stage: str,
              truncate: bool, since: date | None = None, plan: Mapping[str, str] | None = None,
              changes: dict[str, frozenset[str] | None] | None = None) -> dict[str, int]:
    """Empty every step's table, run the steps in order, analyse and count; rows per table.

    The caller owns the transaction. `truncate=False` empties with DELETE, which leaves the
    previous rows readable by concurrent readers until commit (gold is read by the pages).
    `plan` (table name -> mode, REBUILD when missing) can limit what a step redoes:
      DIFF      work out the whole table, write only the rows that differ (SqlStep.run_diff);
      DAYS      only its rows from `since` on (its `since_column`; its SQL gets `:since_day`);
      ACCOUNTS  only the rows of the accounts in the temporary table `gold_scope` (its
                `account_column`; its SQL's `@in_scope(...)` filters select them), written like DIFF;
      SKIP      nothing: its inputs did not change.
    Without a plan, `since` puts every step that has a `since_column` in DAYS mode. `changes`, when
    given, receives per table run the columns whose values changed (DIFF and ACCOUNTS; None: unknown).
    """
    tables = [step.table for step in steps]
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))  # every ::date of a timestamp is a UTC day
    conn.execute(text("SET LOCAL work_mem = '256MB'"))  # de-duplicating sorts stay in memory
    params = {**params, "since_day": since or date.min}
    if plan is None:
        plan = {qualified_name(s.table): DAYS for s in steps if since and getattr(s, "since_column", None)}
    modes = {qualified_name(t): plan.get(qualified_name(t), REBUILD) for t in tables}
    if truncate:
        conn.execute(text("TRUNCATE " + ", ".join(qualified_name(t) for t in tables)))
    else:
        for step in steps:
            name = qualified_name(step.table)
            retired = getattr(step, "retired", None)
            where = {DAYS: f' WHERE "{getattr(step, "since_column", None)}" >= :since_day'
                           + (f" OR ({retired})" if retired else "")}.get(modes[name], "")
            if modes[name] not in (SKIP, DIFF, ACCOUNTS):
                conn.execute(text(f"DELETE FROM {name}{where}"), params)
    rows: dict[str, int] = {}
    for step in steps:
        name = qualified_name(step.table)
        if modes[name] == SKIP:
            continue
        started = time.perf_counter()
        changed: frozenset[str] | None = None
        if modes[name] in (ACCOUNTS, DIFF):
            changed = step.run_diff(conn, params, accounts=modes[name] == ACCOUNTS)  # type: ignore[attr-defined]
        else:
            step.run(conn, params)
        if changes is not None:
            changes[name] = changed
        if modes[name] == REBUILD:  # a partial refresh changes too few rows to move the statistics
            conn.execute(text(f"ANALYZE {name}"))
        rows[name] = int(conn.scalar(text(f"SELECT count(*) FROM {name}")) or 0)
        written = ("" if changed is None else "; unchanged" if not changed
                   else "; every column changed" if len(changed) == len(step.table.columns)
                   else "; changed " + ", ".join(sorted(changed)))
        log.info("%s: %s built (%s): %d rows in %.2fs%s", stage, name, modes[name], rows[name],
                 time.perf_counter() - started, written)
    return rows
