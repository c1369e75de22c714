"""Run one scheduler job by id in a fresh Python process, for the admin page's "run now".

The page's background callback runs in a fork of the web process; database drivers and
other C libraries are not safe to use across a fork, so the job itself runs in a new
interpreter started here: `python -m dashboard.job_process <job id> <actor>` (see there). This
side knows the jobs only by their ids (dashboard.job_catalogue), so the web process never
loads the jobs, their models or their source clients.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from dashboard.job_catalogue import JOB_IDS
from dashboard.settings import Settings, child_environment

OUTCOME_PREFIX = "C360_JOB_OUTCOME "


@dataclass(frozen=True)
class JobOutcome:
    """How a manual run ended: the app.job_run status ('skipped' when another run held the
    lock), its error, and the wall-clock seconds."""

    job_id: str
    status: str
    error: str | None
    seconds: float


def job_ids() -> list[str]:
    """The ids a manual run accepts: every scheduler job's."""
    return list(JOB_IDS)


def run_in_new_process(job_id: str, *, actor: str, settings: Settings, database_url: str) -> JobOutcome:
    """Run the job in a new interpreter against `database_url` and wait for it; unknown ids
    raise ValueError."""
    if job_id not in job_ids():
        raise ValueError(f"Unknown job {job_id!r}.")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    completed = subprocess.run([sys.executable, "-m", "dashboard.job_process", job_id, actor],
                               env=child_environment(settings, database_url), cwd=root, capture_output=True, text=True,
                               check=False)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(OUTCOME_PREFIX):
            return JobOutcome(**json.loads(line[len(OUTCOME_PREFIX):]))
    tail = (completed.stderr or completed.stdout or "").strip().splitlines()[-3:]
    return JobOutcome(job_id, "failed", " ".join(tail) or f"exit code {completed.returncode}", 0.0)
