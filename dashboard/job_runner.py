"""Run one scheduler job by id in a fresh Python process, for the admin page's "run now".

The page's background callback runs in a fork of the web process; database drivers and
other C libraries are not safe to use across a fork, so the job itself runs in a new
interpreter started here: `python -m dashboard.job_runner <job id> <actor>`. The new process
records the manual run in the audit log, runs the job (which takes its advisory lock and
records itself in app.job_run) and prints the outcome as one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from dashboard.settings import Settings

OUTCOME_PREFIX = "C360_JOB_OUTCOME "


@dataclass(frozen=True)
class JobOutcome:
    """How a manual run ended: the app.job_run status ('skipped' when another run held the
    lock), its error, and the wall-clock seconds."""

    job_id: str
    status: str
    error: str | None
    seconds: float


def job_ids(settings: Settings) -> list[str]:
    from etl.scheduler import jobs

    return [job.id for job in jobs(settings)]


def _child_environment(settings: Settings, database_url: str) -> dict[str, str]:
    """The parent's environment plus the settings the job needs, so the child sees the same data."""
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url, "C360_DATA_DIR": str(settings.data_dir),
                "C360_ENV": settings.env, "SECRET_KEY": settings.secret_key})
    if settings.landing_dir is not None:
        env["C360_LANDING_DIR"] = str(settings.landing_dir)
    return env


def run_in_new_process(job_id: str, *, actor: str, settings: Settings, database_url: str) -> JobOutcome:
    """Run the job in a new interpreter against `database_url` and wait for it; unknown ids
    raise ValueError."""
    if job_id not in job_ids(settings):
        raise ValueError(f"Unknown job {job_id!r}.")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    completed = subprocess.run([sys.executable, "-m", "dashboard.job_runner", job_id, actor],
                               env=_child_environment(settings, database_url), cwd=root, capture_output=True, text=True,
                               check=False)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(OUTCOME_PREFIX):
            return JobOutcome(**json.loads(line[len(OUTCOME_PREFIX):]))
    tail = (completed.stderr or completed.stdout or "").strip().splitlines()[-3:]
    return JobOutcome(job_id, "failed", " ".join(tail) or f"exit code {completed.returncode}", 0.0)


def main(argv: list[str]) -> int:
    """Child side: audit, run, report."""
    import time

    from sqlalchemy import func, select

    from dashboard import audit
    from dashboard.db import resolve_database_url
    from dashboard.extensions import db
    from dashboard.tables.app import JobRun
    from etl.scheduler import jobs

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
