"""The new interpreter of a manual job run: `python -m dashboard.job_process <job id> <actor>`.

Started by dashboard.job_runner. It records the manual run in the audit log, runs the job
(which takes its advisory lock and records itself in app.job_run) and prints the outcome as
one JSON line after OUTCOME_PREFIX.
"""

from __future__ import annotations

import json
import sys
import time

from sqlalchemy import func, select

from dashboard import audit
from dashboard.db import resolve_database_url
from dashboard.extensions import db
from dashboard.job_runner import OUTCOME_PREFIX
from dashboard.settings import Settings
from dashboard.tables.app import JobRun
from etl.scheduler import jobs


def main(argv: list[str]) -> int:
    """Audit, run, report."""
    job_id, actor = argv[0], argv[1]
    settings = Settings.from_env()
    db.bind(resolve_database_url(settings))
    by_id = {job.id: job for job in jobs(settings)}
    audit.record(audit.JOB_RUN_MANUAL, target=job_id, actor=actor)
    with db.session() as session:
        before = session.scalar(select(func.max(JobRun.id))) or 0
    started = time.monotonic()
    error: str | None = None
    try:
        by_id[job_id].func(settings)
    except Exception as exc:  # the run is recorded in app.job_run too; report it to the page
        error = f"{type(exc).__name__}: {exc}"
    with db.session() as session:
        run = session.scalars(select(JobRun).where(JobRun.job_id == job_id, JobRun.id > before)
                              .order_by(JobRun.id.desc()).limit(1)).first()
        status = run.status if run is not None else ("failed" if error else "skipped")
        error = error or (run.error if run is not None else "another run held the job's lock")
    outcome = {"job_id": job_id, "status": status, "error": error, "seconds": round(time.monotonic() - started, 2)}
    print(OUTCOME_PREFIX + json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
