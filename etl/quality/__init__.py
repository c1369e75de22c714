"""Data-quality checks after each pipeline stage, with results stored in app.dq_result.

    report = run_checks(conn, "silver", run_id)
    if report.critical_failures: ...  # the pipeline does not promote this run to gold

The checks are declared in `etl.quality.registry` (generated from the ORM metadata plus a few
declared rules) and run as set-based SQL: one scan per table for null rates, value ranges
and the newest event, one anti-join per relation for orphans, and the catalogue for keys a
unique index already enforces.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.exc import DBAPIError

from dashboard.db import Database
from dashboard.tables.quality import DqResult
from etl.quality.registry import STAGES, Check, all_checks, checks_for
from etl.runs import recorded_run

log = logging.getLogger(__name__)

JOB_ID = "data_quality"
RESULT_RETENTION_DAYS = 30  # the data-quality job deletes older results

__all__ = ["JOB_ID", "Check", "CheckResult", "QualityReport", "all_checks", "checks_for", "run_all_checks",
           "run_checks", "store_results"]


@dataclass
class CheckResult:
    """The outcome of one check: pass, or fail as a warning or as critical."""

    check: Check
    status: str  # pass or fail
    severity: str  # critical or warning: the check's worst outcome when it passed, else the one reached
    observed: float | None
    threshold: float | None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def critical(self) -> bool:
        return self.status == "fail" and self.severity == "critical"

    def describe(self) -> str:
        """One line, e.g. 'silver.accounts.unique_key: observed 3 > 0 (critical)'."""
        if self.status == "pass":
            return f"{self.check.id}: pass"
        if "error" in self.detail:
            return f"{self.check.id}: could not run: {self.detail['error']} ({self.severity})"
        return f"{self.check.id}: observed {_fmt(self.observed)} > {_fmt(self.threshold)} ({self.severity})"


@dataclass
class QualityReport:
    """Every check result of one stage."""

    stage: str
    run_id: int | None
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def critical_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.critical]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "fail" and r.severity == "warning"]

    @property
    def passed(self) -> bool:
        """No critical failure (warnings allowed)."""
        return not self.critical_failures

    def result(self, check_id: str) -> CheckResult:
        """The result of one check by id; KeyError if it did not run."""
        for r in self.results:
            if r.check.id == check_id:
                return r
        raise KeyError(check_id)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qt(qualified: str) -> str:
    schema, _, table = qualified.partition(".")
    return f"{_q(schema)}.{_q(table)}"


def _judge(check: Check, observed: float | None, detail: dict[str, Any] | None = None) -> CheckResult:
    """Compare `observed` with the check's thresholds (None observed: nothing to judge, pass)."""
    detail = detail or {}
    if observed is not None and check.fail_above is not None and observed > check.fail_above:
        return CheckResult(check, "fail", "critical", observed, check.fail_above, detail)
    if observed is not None and check.warn_above is not None and observed > check.warn_above:
        return CheckResult(check, "fail", "warning", observed, check.warn_above, detail)
    threshold = check.warn_above if check.warn_above is not None else check.fail_above
    return CheckResult(check, "pass", check.severity, observed, threshold, detail)


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 4) if whole else 0.0


def _existing_tables(conn: Connection) -> set[str]:
    rows = conn.execute(text(
        "SELECT schemaname || '.' || tablename FROM pg_tables "
        "WHERE schemaname IN ('bronze', 'silver', 'gold', 'app')"))
    return {r[0] for r in rows}


# --- Per-table scan: null rates, ranges and the newest event ----------------------------------

_SCANNED = ("not_null", "range", "freshness")


def _scan_table(conn: Connection, table: str, checks: list[Check]) -> list[CheckResult]:
    """One pass over `table` for every null-rate, range and event-freshness check on it."""
    exprs = ["count(*)"]
    for check in checks:
        column = _q(check.column or "")
        if check.kind == "not_null":
            exprs.append(f"count(*) FILTER (WHERE {column} IS NULL)")
        elif check.kind == "range":
            valid = _subst(check.params["valid"], column)
            exprs.append(f"count({column})")
            exprs.append(f"count(*) FILTER (WHERE {column} IS NOT NULL AND NOT ({valid}))")
        else:  # event freshness: hours since the newest event
            exprs.append(f"EXTRACT(EPOCH FROM now() - max({column})::timestamptz) / 3600.0")
    row = list(conn.execute(text(f"SELECT {', '.join(exprs)} FROM {_qt(table)}")).one())
    total, values = int(row[0]), row[1:]
    results = []
    for check in checks:
        if check.kind == "not_null":
            nulls = int(values.pop(0))
            results.append(_judge(check, _pct(nulls, total), {"rows": total, "nulls": nulls}))
        elif check.kind == "range":
            present, bad = int(values.pop(0)), int(values.pop(0))
            results.append(_judge(check, _pct(bad, present),
                                  {"rows": present, "out_of_range": bad, "valid": check.params["valid"]}))
        else:
            hours = values.pop(0)
            hours = None if hours is None else round(float(hours), 2)
            result = _judge(check, hours, {"rows": total})
            if total == 0:  # no events at all is stale too
                result = CheckResult(check, "fail", "warning", None, check.warn_above, {"rows": 0})
            results.append(result)
    return results


def _subst(condition: str, column: str) -> str:
    """Put the column in place of the placeholder `v` of a declared condition."""
    return re.sub(r"\bv\b", column, condition)


# --- The other kinds ------------------------------------------------------------------------


def _unique_key(conn: Connection, check: Check) -> CheckResult:
    columns = list(check.params["columns"])
    enforced = conn.scalar(text("""
        SELECT i.indexrelid::regclass::text
        FROM pg_index i
        WHERE i.indrelid = to_regclass(:table) AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
          AND (SELECT array_agg(a.attname::text ORDER BY a.attname)
               FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey))
              = (SELECT array_agg(c ORDER BY c) FROM unnest(CAST(:columns AS text[])) c)
        LIMIT 1"""), {"table": _qt(check.table), "columns": columns})
    if enforced:  # the database refuses duplicates: no need to scan
        return _judge(check, 0, {"enforced_by": enforced})
    key = ", ".join(_q(c) for c in columns)
    where = " AND ".join(f"{_q(c)} IS NOT NULL" for c in columns) if check.params.get("ignore_nulls") else "true"
    duplicates, examples = conn.execute(text(f"""
        SELECT coalesce(sum(n - 1), 0), (array_agg(k ORDER BY n DESC, k))[1:5]
        FROM (SELECT row({key})::text AS k, count(*) AS n FROM {_qt(check.table)} WHERE {where}
              GROUP BY {key} HAVING count(*) > 1) d""")).one()
    return _judge(check, int(duplicates), {"duplicate_rows": int(duplicates), "examples": list(examples or [])})


def _orphans(conn: Connection, check: Check) -> CheckResult:
    column, parent, parent_column = _q(check.column or ""), check.params["parent"], _q(check.params["parent_column"])
    present, orphans, examples = conn.execute(text(f"""
        SELECT count(*), count(*) FILTER (WHERE p.{parent_column} IS NULL),
               (array_agg(DISTINCT c.{column}) FILTER (WHERE p.{parent_column} IS NULL))[1:5]
        FROM {_qt(check.table)} c
        LEFT JOIN {_qt(parent)} p ON p.{parent_column} = c.{column}
        WHERE c.{column} IS NOT NULL""")).one()
    present, orphans = int(present), int(orphans)
    parent_empty = not conn.scalar(text(f"SELECT EXISTS (SELECT FROM {_qt(parent)})"))
    result = _judge(check, _pct(orphans, present), {
        "rows": present, "orphans": orphans, "parent": f"{parent}.{check.params['parent_column']}",
        "parent_empty": parent_empty, "examples": [str(e) for e in (examples or [])]})
    if result.critical and (parent_empty or present < check.params.get("critical_min_rows", 0)):
        # Too few rows to judge, or the parent source was never delivered: report, do not block.
        result.severity, result.threshold = "warning", check.warn_above
    return result


def _usd_conversion(conn: Connection, check: Check) -> CheckResult:
    source, column = _q(check.params["source"]), _q(check.column or "")
    currency = "currency::text" if check.params.get("has_currency") else "NULL::text"
    amounts, missing, currencies = conn.execute(text(f"""
        SELECT count(*), count(*) FILTER (WHERE {column} IS NULL),
               (array_agg(DISTINCT {currency}) FILTER (WHERE {column} IS NULL AND {currency} IS NOT NULL))[1:5]
        FROM {_qt(check.table)} WHERE {source} IS NOT NULL""")).one()
    return _judge(check, _pct(int(missing), int(amounts)),
                  {"rows": int(amounts), "missing_usd": int(missing), "currencies": list(currencies or [])})


def _usd_naming(conn: Connection, check: Check) -> CheckResult:
    money_name = re.compile(check.params["money_name"])
    rows = conn.execute(text("""
        SELECT table_name, column_name, data_type, numeric_scale FROM information_schema.columns
        WHERE table_schema = 'gold' AND data_type IN ('numeric', 'double precision', 'real', 'money')
        ORDER BY table_name, ordinal_position""")).all()
    offenders = []
    for table, column, data_type, scale in rows:
        if (re.search(r"(^|_)usd(_|$)", column) or column.endswith(tuple(check.params["not_money_suffixes"]))
                or f"gold.{table}.{column}" in check.params["usd_by_spec"]):
            continue
        is_money = data_type == "money" or (data_type == "numeric" and scale == 2) or (
            data_type in ("numeric", "double precision", "real") and money_name.search(column))
        if is_money:
            offenders.append(f"gold.{table}.{column}")
    return _judge(check, len(offenders), {"columns_without_usd_suffix": offenders})


def _load_freshness(conn: Connection, checks: list[Check]) -> list[CheckResult]:
    ages = dict(conn.execute(text("""
        SELECT dataset, EXTRACT(EPOCH FROM now() - max(loaded_at)) / 3600.0
        FROM bronze.load_file WHERE rows_loaded > 0 GROUP BY dataset""")).all())
    results = []
    for check in checks:
        age = ages.get(check.params["dataset"])
        if age is None:
            results.append(CheckResult(check, "fail", "warning", None, check.warn_above,
                                       {"reason": "no rows ever loaded"}))
        else:
            results.append(_judge(check, round(float(age), 2), {"unit": "hours"}))
    return results


def _quarantine(conn: Connection, checks: list[Check]) -> list[CheckResult]:
    """The share of received rows quarantined per dataset, by bronze loading or by silver checks."""
    counts = {dataset: (int(loaded), int(quarantined)) for dataset, loaded, quarantined in conn.execute(text("""
        SELECT dataset, sum(rows_loaded), sum(rows_quarantined) FROM bronze.load_file GROUP BY dataset""")).all()}
    in_silver = dict(conn.execute(text(
        "SELECT dataset, count(*) FROM bronze.quarantine WHERE stage = 'silver' GROUP BY dataset")).all())
    results = []
    for check in checks:
        loaded, quarantined = counts.get(check.params["dataset"], (0, 0))
        rejected_by_silver = int(in_silver.get(check.params["dataset"], 0))
        received = loaded + quarantined
        results.append(_judge(check, _pct(quarantined + rejected_by_silver, received), {
            "rows_received": received, "quarantined_bronze": quarantined, "quarantined_silver": rejected_by_silver}))
    return results


def _completeness(conn: Connection, check: Check) -> CheckResult:
    """Rebuild app.profile_completeness for one entity type and judge the average."""
    entity, key, fields = check.params["entity"], check.params["key"], check.params["fields"]
    missing = ", ".join(f"CASE WHEN {_q(f)} IS NULL THEN '{f}' END" for f in fields)
    conn.execute(text("DELETE FROM app.profile_completeness WHERE entity_type = :e"), {"e": entity})
    conn.execute(text(f"""
        INSERT INTO app.profile_completeness (entity_type, entity_id, completeness_pct, missing_fields)
        SELECT :e, {_q(key)}, round(100.0 * ({len(fields)} - cardinality(m)) / {len(fields)}, 1), m
        FROM (SELECT {_q(key)}, array_remove(ARRAY[{missing}]::text[], NULL) AS m FROM {_qt(check.table)}) s"""),
                 {"e": entity})
    entities, average, below_half, complete, pct_sum = conn.execute(text("""
        SELECT count(*), round(avg(completeness_pct)::numeric, 2), count(*) FILTER (WHERE completeness_pct < 50),
               count(*) FILTER (WHERE completeness_pct >= 100), sum(completeness_pct)::float8
        FROM app.profile_completeness WHERE entity_type = :e"""), {"e": entity}).one()
    # Counted here, once per run, so the data-quality page need not count every profile on each view.
    missing = dict(conn.execute(text("""
        SELECT f.field, count(*) FROM app.profile_completeness p CROSS JOIN LATERAL unnest(p.missing_fields) AS f(field)
        WHERE p.entity_type = :e GROUP BY f.field"""), {"e": entity}).all())
    minimum = float(check.params["min_avg_pct"])
    average = None if average is None else float(average)
    detail = {"entities": int(entities), "avg_pct": average, "below_50_pct": int(below_half),
              "fields": list(fields), "complete": int(complete), "pct_sum": pct_sum,
              "missing": {str(field): int(n) for field, n in missing.items()}}
    failed = average is not None and average < minimum
    return CheckResult(check, "fail" if failed else "pass", "warning", average, minimum, detail)


# --- Running and storing ---------------------------------------------------------------------


def _not_null_columns(conn: Connection) -> set[tuple[str, str]]:
    """(schema.table, column) of every column declared NOT NULL in the checked schemas."""
    rows = conn.execute(text("""
        SELECT n.nspname || '.' || c.relname, a.attname
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attnotnull AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
          AND n.nspname IN ('bronze', 'silver', 'gold', 'app')"""))
    return {(table, column) for table, column in rows}


def evaluate(conn: Connection, checks: list[Check]) -> list[CheckResult]:
    """Run `checks` in the caller's transaction, skipping tables that do not exist yet."""
    existing = _existing_tables(conn)
    results: list[CheckResult] = []
    scans: dict[str, list[Check]] = defaultdict(list)
    load_freshness: list[Check] = []
    quarantine: list[Check] = []
    not_null = _not_null_columns(conn) if any(c.kind == "not_null" for c in checks) else set()
    for check in checks:
        if check.kind == "freshness" and check.stage == "bronze":
            load_freshness.append(check)
        elif check.kind == "quarantine":
            quarantine.append(check)
        elif check.kind == "not_null" and (check.table, check.column) in not_null:
            # The database refuses NULLs there: no need to scan (a table of such checks only, not at all).
            results.append(_judge(check, 0, {"enforced_by": "NOT NULL"}))
        elif check.kind in _SCANNED:
            scans[check.table].append(check)
    for table, table_checks in scans.items():
        if table in existing:
            results += _guarded(conn, table_checks, lambda c=table_checks, t=table: _scan_table(conn, t, c))
    if load_freshness and "bronze.load_file" in existing:
        results += _guarded(conn, load_freshness, lambda: _load_freshness(conn, load_freshness))
    if quarantine and {"bronze.load_file", "bronze.quarantine"} <= existing:
        results += _guarded(conn, quarantine, lambda: _quarantine(conn, quarantine))
    runners = {"unique_key": _unique_key, "orphans": _orphans, "usd_conversion": _usd_conversion,
               "usd_naming": _usd_naming, "completeness": _completeness}
    for check in checks:
        runner = runners.get(check.kind)
        if runner is None:
            continue
        tables = [check.table, check.params.get("parent", check.table)]
        if check.kind == "usd_naming" or all(t in existing for t in tables):
            results += _guarded(conn, [check], lambda r=runner, c=check: [r(conn, c)])
    order = {c.id: i for i, c in enumerate(checks)}
    return sorted(results, key=lambda r: order[r.check.id])


def _evaluate_spread(engine: Engine, checks: list[Check]) -> list[CheckResult]:
    """`evaluate` on one connection per CPU core: each table's checks go to the connection with
    the fewest rows to read so far (a check costs about a scan of its table)."""
    workers = max(1, min(os.cpu_count() or 1, 4))
    with engine.connect() as conn:
        sizes = dict(conn.execute(text("SELECT n.nspname || '.' || c.relname, c.reltuples FROM pg_class c "
                                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'")).all())
    by_table: dict[str, list[Check]] = defaultdict(list)
    for check in checks:
        by_table[check.table].append(check)
    buckets: list[list[Check]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for table, table_checks in sorted(by_table.items(), key=lambda item: -len(item[1]) * max(sizes.get(item[0], 0), 1)):
        lightest = loads.index(min(loads))
        buckets[lightest] += table_checks
        loads[lightest] += len(table_checks) * max(sizes.get(table, 0), 1)

    def run(bucket: list[Check]) -> list[CheckResult]:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
            return evaluate(conn, bucket)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = [r for found in pool.map(run, [b for b in buckets if b]) for r in found]
    order = {c.id: i for i, c in enumerate(checks)}
    return sorted(results, key=lambda r: order[r.check.id])


def _guarded(conn: Connection, checks: list[Check], run: Any) -> list[CheckResult]:
    """Run checks in a savepoint; a check that cannot run fails at its own severity, with the error."""
    started = time.perf_counter()
    try:
        with conn.begin_nested():
            results = run()
        log.debug("quality: %s in %.3fs", ", ".join(c.id for c in checks[:3]), time.perf_counter() - started)
        return results
    except DBAPIError as exc:
        error = str(exc.orig or exc).strip().splitlines()[0]
        log.error("quality: %s could not run: %s", ", ".join(c.id for c in checks), error)
        return [CheckResult(c, "fail", c.severity, None, None, {"error": error}) for c in checks]


def store_results(conn: Connection, report: QualityReport) -> int:
    """Insert the report's results into app.dq_result; rows written."""
    if not report.results:
        return 0
    conn.execute(insert(DqResult), [{
        "run_id": report.run_id, "stage": report.stage, "check_id": r.check.id, "kind": r.check.kind,
        "table_name": r.check.table, "column_name": r.check.column, "severity": r.severity,
        "status": r.status, "observed": r.observed, "threshold": r.threshold, "detail": r.detail,
    } for r in report.results])
    return len(report.results)


def run_checks(conn: Connection, stage: str, run_id: int | None, *, store: bool = True,
               tables: set[str] | None = None, usd_only: set[str] = frozenset(),
               spread_over: Engine | None = None) -> QualityReport:
    """Run every check of `stage` against the current tables; store the results unless told not to.

    With `tables`, only the checks of those tables (or of a child whose parent is one of them)
    and the cheap load-level checks run: an incremental refresh re-checks what it changed (the
    scheduled data_quality job still runs every check, so an unchanged table going stale is
    reported). Of
    the `usd_only` tables (whose only change was new USD amounts after an FX change), only the
    currency checks run. With `spread_over`, the checks run on that engine's connections, one
    per CPU core, instead of `conn` (they only read committed tables).
    """
    started = time.perf_counter()
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
    checks = checks_for(stage)
    if tables is not None:
        checks = [c for c in checks if c.kind in ("quarantine", "usd_naming")
                  or (c.kind == "freshness" and c.stage == "bronze")
                  or (c.table in tables and (c.table not in usd_only or c.kind == "usd_conversion"))
                  or (c.params.get("parent") in tables and c.params.get("parent") not in usd_only)]
    results = evaluate(conn, checks) if spread_over is None else _evaluate_spread(spread_over, checks)
    report = QualityReport(stage, run_id, results)
    report.seconds = round(time.perf_counter() - started, 3)
    if store:
        store_results(conn, report)
    log.info("quality: %s checks: %d run, %d warnings, %d critical in %.2fs", stage, len(report.results),
             len(report.warnings), len(report.critical_failures), report.seconds)
    for result in report.critical_failures + report.warnings:
        log.log(logging.ERROR if result.critical else logging.WARNING, "quality: %s", result.describe())
    return report


def run_all_checks(database: Database, *, triggered_by: str = "manual") -> list[QualityReport]:
    """Run every stage's checks against the current tables as job "data_quality", recorded.

    The job succeeds when the checks ran; critical failures go to the run's error text and
    every result to app.dq_result, where results older than RESULT_RETENTION_DAYS are pruned.
    JobAlreadyRunning if another process is running it.
    """
    reports = []
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as recorder:
        with database.engine.begin() as conn:
            pruned = conn.execute(text("DELETE FROM app.dq_result WHERE checked_at < now() - make_interval(days => :d)"),
                                  {"d": RESULT_RETENTION_DAYS}).rowcount
        if pruned:
            log.info("quality: pruned %d results older than %d days", pruned, RESULT_RETENTION_DAYS)
        for stage in STAGES:
            with database.engine.begin() as conn:
                report = run_checks(conn, stage, recorder.run_id)
            reports.append(report)
            recorder.add_rows("app.dq_result", len(report.results))
            recorder.add_rows("dq.warnings", len(report.warnings))
            recorder.add_rows("dq.critical", len(report.critical_failures))
            for result in report.critical_failures:
                recorder.warn(result.describe())
    return reports
