"""A run killed with SIGKILL at any stage leaves gold intact, and the next run finishes the work: a
full build from nothing (an incremental refresh of a loaded database killed at random points is in
test_crash_safety_refresh.py, a file of its own so the two run side by side)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from dashboard.db import Database
from etl.pipeline import run_pipeline
from tests.etl.dbutil import cloned_database, gold_checksums

ROOT = Path(__file__).resolve().parents[2]

# SQL that is true once the pipeline subprocess has reached the stage we want to kill it in.
STAGE_REACHED = {
    "bronze": "SELECT count(*) >= 3 FROM bronze.load_file",
    "silver": "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
              "AND state = 'active' "
              "AND query ILIKE '%INSERT INTO silver.%'",
    "gold": "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state = 'active' AND query ILIKE '%INSERT INTO gold.%'",
}


def start_etl(url: str, landing: Path, *, stderr: int = subprocess.DEVNULL) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "dashboard.cli", "etl", "run", "--landing", str(landing)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True)


def _kill_when(database: Database, process: subprocess.Popen, condition: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with database.engine.connect() as conn:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the pipeline finished before reaching: {condition}")
            if conn.scalar(text(condition)):
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                return
            conn.commit()
            time.sleep(0.05)
    process.kill()
    pytest.fail(f"timed out waiting for: {condition}")


@pytest.fixture(scope="module")
def clean_checksums(pg_admin_url, loaded_template_url):
    """Gold checksums of an uninterrupted run over the small landing data (the one that loaded
    the session's loaded template)."""
    with cloned_database(pg_admin_url, loaded_template_url) as database:
        return gold_checksums(database)


@pytest.mark.parametrize("stage", ["bronze", "silver", "gold"])
def test_kill_mid_run_then_rerun_matches_a_clean_run(stage, scratch_db, pristine_landing_dir, tmp_path,
                                                     clean_checksums) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(pristine_landing_dir, landing)
    empty_gold = gold_checksums(scratch_db)

    _kill_when(scratch_db, start_etl(scratch_db.url, landing), STAGE_REACHED[stage])

    # The killed run promoted nothing: gold is exactly as it was.
    assert gold_checksums(scratch_db) == empty_gold
    result = run_pipeline(scratch_db, landing, triggered_by="test")
    assert result.status == "success", result.error
    assert gold_checksums(scratch_db) == clean_checksums
    with scratch_db.engine.connect() as conn:
        statuses = [r[0] for r in conn.execute(text("SELECT status FROM app.job_run WHERE job_id = 'etl' "
                                                    "ORDER BY id"))]
    assert statuses == ["interrupted", "success"]
