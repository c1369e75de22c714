"""Where does a figure come from? The gold table, the SQL file that builds it, the silver
tables behind it and the landing files last loaded into them, with their load times.

Read from the pipeline's own registries (etl.gold.GOLD_STEPS, etl.silver.SILVER_STEPS) and
the same table-reference rule the pipeline plans refreshes with (`SqlStep.inputs`), so the
answer cannot drift from what the refresh actually runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.tables.app import JobRun
from dashboard.tables.bronze import LoadFile
from etl.gold import GOLD_STEPS
from etl.silver import SILVER_STEPS
from etl.steps import SqlStep, qualified_name

REFRESH_JOBS = ("etl", "etl_full_rebuild")
_BRONZE_REFERENCE = re.compile(r"\bbronze\.([a-z_][a-z0-9_]*)\b")
_GOLD_BY_TABLE = {qualified_name(step.table): step for step in GOLD_STEPS}
_SILVER_BY_TABLE = {qualified_name(step.table): step for step in SILVER_STEPS}


@dataclass(frozen=True)
class SourceLoad:
    """The newest landing file loaded into one bronze dataset."""

    dataset: str
    file_name: str | None
    loaded_at: datetime | None
    rows_loaded: int | None


@dataclass(frozen=True)
class Lineage:
    """One gold table's path back to its landing files."""

    gold_table: str
    sql_file: str | None  # etl/gold/<file>.sql (or .py for a step written in Python); None for a model job
    gold_inputs: tuple[str, ...]  # other gold tables it reads (their own lineage is folded in)
    silver_tables: tuple[str, ...]
    sources: tuple[SourceLoad, ...]
    refreshed_at: datetime | None  # end of the newest successful data refresh


def _silver_datasets(silver_table: str) -> set[str]:
    step = _SILVER_BY_TABLE.get(silver_table)
    if step is None:
        return set()
    source = getattr(step, "source", None)
    if source:
        return {source}
    if isinstance(step, SqlStep):  # e.g. fx_rates_daily, derived from other silver tables
        text = step.sql_file.read_text(encoding="utf-8")
        found = set(_BRONZE_REFERENCE.findall(text))
        for upstream in step.inputs():
            found |= _silver_datasets(upstream)
        return found
    return set()


def _walk(gold_table: str, seen: set[str]) -> tuple[set[str], set[str]]:
    """(gold tables, silver tables) that `gold_table` reads, directly or through other gold."""
    step = _GOLD_BY_TABLE.get(gold_table)
    if step is None or gold_table in seen:
        return set(), set()
    seen.add(gold_table)
    inputs = step.inputs() if hasattr(step, "inputs") else frozenset()
    golds = {t for t in inputs if t.startswith("gold.")}
    silvers = {t for t in inputs if t.startswith("silver.")}
    for upstream in sorted(golds):
        more_gold, more_silver = _walk(upstream, seen)
        golds |= more_gold
        silvers |= more_silver
    return golds, silvers


def known_gold_tables() -> tuple[str, ...]:
    """Every gold table the SQL steps build, in build order."""
    return tuple(_GOLD_BY_TABLE)


def lineage(session: Session, gold_table: str) -> Lineage | None:
    """The lineage of `gold_table` ('gold.daily_kpi'), or None for a table no SQL step builds."""
    step = _GOLD_BY_TABLE.get(gold_table)
    if step is None:
        return None
    golds, silvers = _walk(gold_table, set())
    datasets: set[str] = set()
    for silver_table in silvers:
        datasets |= _silver_datasets(silver_table)
    newest = (select(LoadFile.dataset, LoadFile.file_name, LoadFile.loaded_at, LoadFile.rows_loaded,
                     func.row_number().over(partition_by=LoadFile.dataset,
                                            order_by=(LoadFile.loaded_at.desc(), LoadFile.id.desc()))
                     .label("position"))
              .where(LoadFile.dataset.in_(sorted(datasets))).subquery())
    loaded = {row.dataset: row for row in session.execute(
        select(newest.c.dataset, newest.c.file_name, newest.c.loaded_at, newest.c.rows_loaded)
        .where(newest.c.position == 1))}
    sources = tuple(
        SourceLoad(d, loaded[d].file_name, loaded[d].loaded_at, loaded[d].rows_loaded) if d in loaded
        else SourceLoad(d, None, None, None)
        for d in sorted(datasets))
    refreshed_at = session.scalar(select(func.max(JobRun.finished_at))
                                  .where(JobRun.job_id.in_(REFRESH_JOBS), JobRun.status == "success"))
    code_file = step.sql_file if isinstance(step, SqlStep) else getattr(step, "code_file", None)
    sql_file = code_file.name if code_file is not None else None
    return Lineage(gold_table, sql_file, tuple(sorted(golds)), tuple(sorted(silvers)), sources, refreshed_at)


def lineages(session: Session, gold_tables: tuple[str, ...]) -> dict[str, Lineage]:
    """`lineage` of several tables, leaving out the unknown ones."""
    found = {table: lineage(session, table) for table in dict.fromkeys(gold_tables)}
    return {table: result for table, result in found.items() if result is not None}
