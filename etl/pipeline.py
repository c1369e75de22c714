"""The ETL job: landing CSVs -> bronze -> silver -> gold, recorded as a run of job "etl".

    result = run_pipeline(database, Path("var/landing"), triggered_by="cli")

Bronze loads new files (one transaction per file; files already loaded are skipped), then
silver and gold are each rebuilt in one transaction with set-based SQL. A failing stage
rolls back its own transaction, so gold keeps its previous contents, and the run is
recorded as 'failed' with the error. Running twice over the same landing folder gives the
same gold tables.

Data-quality checks (`etl.quality`) run after each stage and are stored in app.dq_result.
The silver checks run (on other connections) while gold is being built, and gold waits for
them before its own checks and its commit: a critical failure after silver rolls that gold
back, so the previous gold stays served, and the run is recorded as 'failed' with the failing
checks ("blocked by data quality: …"; PipelineResult.status is 'blocked'). The gold checks run
inside the gold transaction, so a critical failure there rolls gold back the same way. Warnings are stored and counted in the
run's rows ("dq.warnings") and promotion goes on.
"""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from dashboard.db import Database
from etl.bronze import load_landing
from etl.gold import build_gold, mark_gold_pending, pending_since
from etl.identity import build_identity, identity_inputs_changed
from etl.identity.store import IDENTITY_TABLES
from etl.quality import QualityReport, run_checks, store_results
from etl.runs import JobAlreadyRunning, RunRecorder, recorded_run
from etl.silver import build_silver
from etl.sources import pull_all

log = logging.getLogger(__name__)

JOB_ID = "etl"  # the pages' freshness badge reads the last successful run of this job


@dataclass
class PipelineResult:
    """The outcome of one pipeline run."""

    status: str  # success, failed, blocked (a critical data-quality check) or skipped (lock held)
    run_id: int | None
    rows: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows
    quarantined: int = 0  # rows rejected by this run's bronze loads plus silver checks
    seconds: float = 0.0
    error: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    rejected_files: list[str] = field(default_factory=list)
    as_of: date | None = None
    checks_failed: list[str] = field(default_factory=list)  # critical data-quality failures, described
    warnings: list[str] = field(default_factory=list)  # data-quality warnings, described
    check_seconds: dict[str, float] = field(default_factory=dict)  # per stage


class _Stages:
    """Runs the stages in order, timing each and reporting to the run recorder."""

    def __init__(self, database: Database, landing_dir: Path, recorder: RunRecorder, result: PipelineResult,
                 *, archive: bool = False, pull: bool = False, full: bool = False,
                 after_silver: Callable[[], object] | None = None):
        self.database = database
        self.after_silver = after_silver
        self.landing_dir = landing_dir
        self.archive = archive
        self.pull = pull
        self.full = full
        self.recorder = recorder
        self.result = result
        self.changed_tables: set[str] = set()
        self.pool: ThreadPoolExecutor | None = None
        self.silver_checks: Future[QualityReport] | None = None

    def _record(self, rows: dict[str, int]) -> None:
        for table, count in rows.items():
            self.recorder.add_rows(table, count)
            self.result.rows[table] = self.result.rows.get(table, 0) + count

    def bronze(self) -> None:
        if self.pull:
            # API sources land their new records as files first, so bronze treats every source alike.
            pulled = pull_all(self.database, self.landing_dir)
            for name, error in pulled.errors.items():
                self.recorder.warn(f"source {name}: {error}")
        outcome = load_landing(self.database, self.landing_dir, job_run_id=self.recorder.run_id,
                               archive=self.archive)
        self._record({f"bronze.{table}": n for table, n in outcome.rows.items()})
        if outcome.quarantined:
            self._record({"bronze.quarantine": outcome.quarantined})
        self.result.quarantined += outcome.quarantined
        for rejected in outcome.rejected:
            message = f"rejected landing file {rejected.error}"
            self.result.rejected_files.append(rejected.source_file)
            self.recorder.warn(message)
        self.check("bronze")

    def silver(self) -> None:
        with self.database.engine.begin() as conn:
            build = build_silver(conn, full=self.full)
            rows = dict(build.rows)
            # Master ids are part of silver: they change in the same transaction as the records.
            if identity_inputs_changed(conn, build, full=self.full):
                rows.update(build_identity(conn))
                # Only the per-customer gold tables read master ids: they are rebuilt whole.
                build.rebuilt += list(IDENTITY_TABLES)
                build.touch(date.max)
            # Gold still pending from an earlier run (say, blocked by a check): check everything
            # again, not just what changed now.
            recheck_all = pending_since(conn) is not None
            mark_gold_pending(conn, build.since_day, build.changed, build.untracked, build.day_confined)
        self.changed_tables = build.changed
        self._record(rows)
        if build.quarantined:
            self._record({"bronze.quarantine": build.quarantined})
        self.result.quarantined += build.quarantined
        # The silver checks read committed silver while gold is being built; gold commits only
        # once they have passed (see gold), so a critical failure still stops promotion.
        tables = None if self.full or recheck_all else self.changed_tables
        usd_only = build.reconverted - build.modified - set(build.rebuilt)
        self.silver_checks = self.pool.submit(self._checks, "silver", tables, usd_only)

    def _checks(self, stage: str, tables: set[str] | None, usd_only: set[str]) -> QualityReport:
        with self.database.engine.begin() as conn:
            return run_checks(conn, stage, self.recorder.run_id, store=False, tables=tables, usd_only=usd_only,
                              spread_over=self.database.engine)

    def await_silver_checks(self) -> None:
        """Store the silver checks' results; QualityGateFailed on a critical failure."""
        if self.silver_checks is None:
            return
        report, self.silver_checks = self.silver_checks.result(), None
        self._store(report)
        if report.critical_failures:
            raise QualityGateFailed("silver", report)

    def gold(self) -> None:
        # The gold checks run before the commit, so a critical failure rolls gold back; their
        # results are stored afterwards in a transaction of their own.
        report: QualityReport | None = None
        try:
            with self.database.engine.begin() as conn:
                built = build_gold(conn, full=self.full)
                self.await_silver_checks()  # a critical silver failure rolls this gold back
                if built is None:
                    log.info("gold: nothing changed since the last build")
                    return
                rows, window = built
                # The checks of the tables this run refreshed (all of them on a rebuild).
                report = run_checks(conn, "gold", self.recorder.run_id, store=False, tables=set(rows))
                if report.critical_failures:
                    raise QualityGateFailed("gold", report)
        finally:
            if report is not None:
                self._store(report)
        self._record(rows)
        self.result.as_of = window.as_of

    def check(self, stage: str, *, tables: set[str] | None = None, usd_only: set[str] = frozenset()) -> None:
        """Run and store the checks of `stage` (of `tables` only, when given: see run_checks);
        QualityGateFailed on a critical failure."""
        report = self._checks(stage, tables, usd_only)
        self._store(report)
        if report.critical_failures:
            raise QualityGateFailed(stage, report)

    def _store(self, report: QualityReport) -> None:
        with self.database.engine.begin() as conn:
            store_results(conn, report)
        self.recorder.add_rows("app.dq_result", len(report.results))
        self.recorder.add_rows("dq.warnings", len(report.warnings))
        self.result.warnings += [r.describe() for r in report.warnings]
        self.result.checks_failed += [r.describe() for r in report.critical_failures]
        self.result.check_seconds[report.stage] = report.seconds

    def _start_after_silver(self) -> None:
        """The caller's work that needs only committed silver starts beside gold; its failure is not ours."""
        try:
            self.after_silver()
        except Exception as exc:  # noqa: BLE001 - the pipeline's own result must not depend on it
            log.warning("etl: work started after silver failed to start: %s", describe_error(exc))

    def run(self) -> None:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="etl-checks") as self.pool:
            try:
                for name, stage in (("bronze", self.bronze), ("silver", self.silver), ("gold", self.gold)):
                    started = time.perf_counter()
                    log.info("etl: %s stage started", name)
                    try:
                        stage()
                    except QualityGateFailed:
                        raise
                    except Exception as exc:
                        raise StageFailed(name, exc) from exc
                    finally:
                        self.result.stage_seconds[name] = round(time.perf_counter() - started, 3)
                    log.info("etl: %s stage done in %.2fs", name, self.result.stage_seconds[name])
                    if name == "silver" and self.after_silver is not None:
                        self._start_after_silver()
            finally:
                if self.silver_checks is not None:  # gold failed before it waited: still store them
                    with contextlib.suppress(QualityGateFailed):
                        self.await_silver_checks()


class StageFailed(RuntimeError):
    """A stage raised; the message names the stage and the original error."""

    def __init__(self, stage: str, cause: BaseException):
        super().__init__(f"{stage} stage failed: {describe_error(cause)}")
        self.stage = stage


class QualityGateFailed(RuntimeError):
    """A critical data-quality check failed after a stage, so gold was not promoted."""

    def __init__(self, stage: str, report: QualityReport):
        failures = report.critical_failures
        shown = "; ".join(r.describe() for r in failures[:10])
        more = f"; and {len(failures) - 10} more" if len(failures) > 10 else ""
        super().__init__(f"blocked by data quality after {stage}: {len(failures)} critical check(s) failed, "
                         f"gold not promoted (previous gold kept): {shown}{more}")
        self.stage = stage
        self.report = report


def describe_error(exc: BaseException) -> str:
    """One readable line or two for an error; database errors without the whole SQL text."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def run_pipeline(database: Database, landing_dir: Path, *, triggered_by: str = "manual",
                 archive: bool = False, pull: bool = False, full: bool = False,
                 after_silver: Callable[[], object] | None = None) -> PipelineResult:
    """Run bronze -> silver -> gold as job "etl"; never raises for a failed stage.

    `pull` first fetches new records from the configured API sources; `archive` moves each
    handled landing file to processed/ (or quarantine/), as a deployment wants. Silver
    rebuilds only the tables whose inputs changed unless `full`; gold is always rebuilt.
    `after_silver` is called once silver has committed, to start work that reads only silver
    (the demo scores texts while gold is built).
    """
    started = time.perf_counter()
    result = PipelineResult(status="running", run_id=None)
    try:
        with recorded_run(database, JOB_ID, triggered_by=triggered_by) as recorder:
            result.run_id = recorder.run_id
            log.info("etl: run %s started (%s) on %s", recorder.run_id, triggered_by, landing_dir)
            _Stages(database, Path(landing_dir), recorder, result, archive=archive, pull=pull,
                    full=full, after_silver=after_silver).run()
        result.status = "success"
        if result.rejected_files:
            result.error = "\n".join(recorder.warnings)
    except JobAlreadyRunning as exc:
        result.status, result.error = "skipped", str(exc)
        log.warning("etl: skipped: %s", exc)
    except QualityGateFailed as exc:
        result.status, result.error = "blocked", str(exc)
        log.error("etl: %s", exc)
    except StageFailed as exc:
        result.status, result.error = "failed", str(exc)
    except Exception as exc:  # e.g. the database is unreachable: report, do not raise
        result.status, result.error = "failed", describe_error(exc)
        log.error("etl: failed: %s", result.error)
    result.seconds = round(time.perf_counter() - started, 3)
    log.info("etl: run %s %s in %.1fs (%s)", result.run_id, result.status, result.seconds,
             ", ".join(f"{k} {v:.1f}s" for k, v in result.stage_seconds.items()))
    return result

