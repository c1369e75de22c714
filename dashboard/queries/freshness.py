"""When the data was last refreshed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.tables.app import JobRun

ETL_JOB_ID = "etl"


def last_successful_refresh(session: Session) -> datetime | None:
    """End time of the newest successful ETL run, or None if the data was never loaded."""
    return session.scalar(
        select(func.max(JobRun.finished_at)).where(
            JobRun.job_id == ETL_JOB_ID, JobRun.status == "success"
        )
    )
