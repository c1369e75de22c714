"""Read-only queries for the admin pages: users' assignments, roles, and data job runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.job_catalogue import JOB_CATALOGUE, JobDescription
from dashboard.tables.app import JobRun, Role
from dashboard.users import UserSummary, list_users

RUNS_PER_JOB = 5


def user_assignment(session: Session, user_id: int) -> UserSummary | None:
    """One user as the admin list shows them (role, scope, status), or None."""
    return next((u for u in list_users(session) if u.id == user_id), None)


def role_permissions(session: Session) -> dict[str, list[str]]:
    """Every role and its permissions, by role name."""
    return {role.name: list(role.permissions or []) for role in session.scalars(select(Role).order_by(Role.name))}


def scheduled_jobs() -> list[JobDescription]:
    """Every data job the scheduler runs (and a manual run accepts), in the page's order."""
    return list(JOB_CATALOGUE)


@dataclass(frozen=True)
class JobRunRow:
    """One run of a data job as the jobs page lists it."""

    id: int
    job_id: str
    triggered_by: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    rows: int
    error: str | None

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def _total_rows(rows: object) -> int:
    """app.job_run.rows maps table -> rows written; anything else counts zero."""
    if not isinstance(rows, dict):
        return 0
    return sum(int(v) for v in rows.values() if isinstance(v, (int, float)) and not isinstance(v, bool))


def recent_runs(session: Session, job_ids: list[str], per_job: int = RUNS_PER_JOB) -> dict[str, list[JobRunRow]]:
    """The newest `per_job` runs of each job, newest first; jobs without runs get an empty list."""
    ranked = (select(JobRun, func.row_number().over(partition_by=JobRun.job_id,
                                                     order_by=JobRun.id.desc()).label("rank"))
              .where(JobRun.job_id.in_(job_ids)).subquery())
    stmt = (select(ranked.c.id, ranked.c.job_id, ranked.c.triggered_by, ranked.c.started_at, ranked.c.finished_at,
                   ranked.c.status, ranked.c.rows, ranked.c.error)
            .where(ranked.c.rank <= per_job).order_by(ranked.c.job_id, ranked.c.id.desc()))
    result: dict[str, list[JobRunRow]] = {job_id: [] for job_id in job_ids}
    for row in session.execute(stmt):
        result[row.job_id].append(JobRunRow(row.id, row.job_id, row.triggered_by, row.started_at,
                                            row.finished_at, row.status, _total_rows(row.rows), row.error))
    return result
