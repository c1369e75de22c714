"""When the data was last refreshed, and whether gold is being held back (and why)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from dashboard.tables.app import JobRun
from dashboard.tables.quality import DqResult

ETL_JOB_ID = "etl"
# The pipeline records a run stopped by a critical check as 'failed' with this in its error
# (etl.pipeline.QualityGateFailed); the previous gold stays served.
BLOCKED_MARKER = "blocked by data quality"
# Runs that say nothing about gold: one still going, or one that found the lock taken.
_NOT_AN_OUTCOME = ("running", "skipped")
# "etl.pipeline.StageFailed: silver stage failed: ..." -> "silver stage failed: ..."
_EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*:\s*")
_FAILED_COUNT = re.compile(r"(\d+) critical check\(s\) failed")
_KEPT = "(previous gold kept): "
CAUSE_CHARS = 240

GoldState = Literal["fresh", "held_back", "failed", "never"]


@dataclass(frozen=True)
class GoldStatus:
    """What the served gold is and why it did not move.

    fresh: the newest data refresh succeeded. held_back: refreshes ran since, but a critical
    data-quality check blocked promotion, so the previous gold is served. failed: the newest
    refresh failed for another reason. never: gold was never built (no refresh yet, or none
    succeeded; `cause` then says what stopped the newest one)."""

    state: GoldState
    refreshed_at: datetime | None  # end of the newest successful refresh: what gold is as of
    since: datetime | None = None  # when the problem started (first refresh held back / failing)
    cause: str | None = None  # short: the first failing check, or the error's first line
    failing_checks: tuple[str, ...] = ()  # critical checks that failed in the newest refresh
    failing_check_count: int = 0
    blocked: bool = False  # the newest refresh was stopped by the data-quality gate
    run_id: int | None = None  # the newest refresh that did not succeed

    @property
    def is_healthy(self) -> bool:
        return self.state == "fresh"


def last_successful_refresh(session: Session) -> datetime | None:
    """End time of the newest successful ETL run, or None if the data was never loaded."""
    return session.scalar(
        select(func.max(JobRun.finished_at)).where(
            JobRun.job_id == ETL_JOB_ID, JobRun.status == "success"
        )
    )


def is_blocked_error(error: str | None) -> bool:
    """Whether a failed etl run's error says the data-quality gate stopped it."""
    return bool(error) and BLOCKED_MARKER in error


def short_error(error: str | None, limit: int = CAUSE_CHARS) -> str:
    """The first line of an error, without the exception's module path, cut to `limit` characters."""
    line = next((part.strip() for part in (error or "").splitlines() if part.strip()), "")
    line = _EXCEPTION_PREFIX.sub("", line)
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "\u2026"


def describe_check(check_id: str, observed: float | None, threshold: float | None,
                   detail: dict[str, Any] | None) -> str:
    """One line per failed check, worded as the pipeline words it ('x: observed 3 > 0')."""
    if isinstance(detail, dict) and "error" in detail:
        return f"{check_id}: could not run: {detail['error']}"
    shown = ["n/a" if value is None else f"{value:g}" for value in (observed, threshold)]
    return f"{check_id}: observed {shown[0]} > {shown[1]}"


def _checks_in_error(error: str) -> tuple[tuple[str, ...], int]:
    """The failing checks the gate named in the run's error text (when dq_result has none)."""
    first = error.splitlines()[0] if error else ""
    count = _FAILED_COUNT.search(first)
    listed = first.split(_KEPT, 1)[1] if _KEPT in first else ""
    checks = tuple(part.strip().removesuffix(" (critical)") for part in listed.split("; ")
                   if part.strip() and not part.strip().startswith("and "))
    return checks, int(count.group(1)) if count else len(checks)


def failing_checks(session: Session, run_id: int) -> tuple[str, ...]:
    """The critical checks that failed in one run, in the order they were stored."""
    rows = session.execute(
        select(DqResult.check_id, DqResult.observed, DqResult.threshold, DqResult.detail)
        .where(DqResult.run_id == run_id, DqResult.status == "fail", DqResult.severity == "critical")
        .order_by(DqResult.id))
    return tuple(describe_check(*row) for row in rows)


def _outcomes() -> Select:
    """The etl runs that ended one way or another, not ones still running or skipped."""
    return select(JobRun.id, JobRun.status, JobRun.started_at, JobRun.finished_at, JobRun.error).where(
        JobRun.job_id == ETL_JOB_ID, JobRun.status.not_in(_NOT_AN_OUTCOME))


def gold_status(session: Session) -> GoldStatus:
    """Whether gold is fresh, held back by the data-quality gate, failing, or was never built."""
    newest = session.execute(_outcomes().order_by(JobRun.id.desc()).limit(1)).first()
    last_success_id, refreshed_at = session.execute(
        select(JobRun.id, JobRun.finished_at)
        .where(JobRun.job_id == ETL_JOB_ID, JobRun.status == "success")
        .order_by(JobRun.id.desc()).limit(1)).first() or (None, None)
    if newest is None:
        return GoldStatus("never", None)
    if newest.status == "success":
        return GoldStatus("fresh", newest.finished_at)

    blocked = is_blocked_error(newest.error)
    checks = failing_checks(session, newest.id)
    count = len(checks)
    if blocked:
        from_error, count_in_error = _checks_in_error(newest.error or "")
        checks = checks or from_error
        count = count or count_in_error
    # Since when: the first refresh after the last success that went the same way.
    same_kind = _outcomes().where(JobRun.id > (last_success_id or 0), JobRun.status != "success")
    if blocked:
        same_kind = same_kind.where(JobRun.error.contains(BLOCKED_MARKER, autoescape=True))
    first = session.execute(same_kind.order_by(JobRun.id).limit(1)).first() or newest
    since = first.finished_at or first.started_at
    if blocked:
        cause = checks[0] if checks else short_error(newest.error)
    else:
        cause = short_error(newest.error) or f"the refresh ended as '{newest.status}'"
    if last_success_id is None:
        state: GoldState = "never"
    else:
        state = "held_back" if blocked else "failed"
    return GoldStatus(state, refreshed_at, since, cause, checks, count, blocked, newest.id)
