"""An incremental refresh of a loaded database killed with SIGKILL at random points leaves silver and
gold each as they were or fully refreshed, and the next run gives what an uninterrupted refresh gives."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from dashboard.tables import Base
from dashboard.tables.landing import DATASETS_BY_TABLE
from etl.pipeline import run_pipeline
from tests.etl.dbutil import checksums, cloned_database, differing
from tests.etl.reexport import write_reexport
from tests.etl.test_crash_safety import start_etl

SEED = 20261124
SCENARIOS = 3  # each: a fresh copy of the loaded database, one or two killed runs, then a run to the end
REEXPORTED = ("crm_accounts", "crm_opportunities", "billing_invoices", "billing_fx_rates")
SILVER_AND_GOLD = [f"{t.schema}.{t.name}" for t in Base.metadata.sorted_tables if t.schema in ("silver", "gold")]


def _kill_in_stage(process: subprocess.Popen, stage: str, delay: float, timeout: float = 180) -> bool:
    """SIGKILL `process` `delay` seconds after it logged that `stage` started; False when it
    finished by itself first. The process must have been started with stderr=PIPE."""
    marker, started, tail = f"etl: {stage} stage started", threading.Event(), deque(maxlen=20)

    def read() -> None:
        for line in process.stderr:
            tail.append(line)
            if marker in line:
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not started.wait(0.02):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=30)
            pytest.fail(f"the pipeline never logged {marker!r}:\n{''.join(tail)}")
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    reader.join(timeout=10)
    return process.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def second_batch(pg_admin_url, loaded_template_url, pristine_landing_dir, tmp_path_factory) -> dict[str, str]:
    """The files that arrive after the small landing data was loaded: the live feed's next batch
    (the next day: new leads, tickets, chats, sends and FX rates) and re-exports of a few
    datasets with one value changed. Relative path -> content."""
    landing = tmp_path_factory.mktemp("second-batch") / "landing"
    shutil.copytree(pristine_landing_dir, landing)
    from etl.demo_data.live import drop_batch

    with cloned_database(pg_admin_url, loaded_template_url) as database:
        written = [write_reexport(database, landing, DATASETS_BY_TABLE[name], suffix="second").path
                   for name in REEXPORTED]
        with database.engine.connect() as conn:
            as_of = conn.scalar(text("SELECT max(rate_date) FROM silver.fx_rates"))
        next_day = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC) + timedelta(days=1, hours=9)
        written += drop_batch(database, landing, now=next_day, seed=SEED).files
    return {str(path.relative_to(landing)): path.read_text(encoding="utf-8") for path in written}


def _landing_with(pristine: Path, batch: dict[str, str], target: Path) -> Path:
    shutil.copytree(pristine, target)
    for relative, content in batch.items():
        (target / relative).write_text(content, encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def refresh_reference(pg_admin_url, loaded_template_url, pristine_landing_dir, second_batch, tmp_path_factory):
    """Silver and gold checksums before and after an uninterrupted refresh with the second batch,
    and the seconds each stage of that refresh took."""
    landing = _landing_with(pristine_landing_dir, second_batch, tmp_path_factory.mktemp("reference") / "landing")
    with cloned_database(pg_admin_url, loaded_template_url) as database:
        before = checksums(database, SILVER_AND_GOLD)
        result = run_pipeline(database, landing, triggered_by="test")
        assert result.status == "success", result.error
        after = checksums(database, SILVER_AND_GOLD)
    assert differing(before, after), "the second batch changed nothing"
    return before, after, result.stage_seconds


def test_a_refresh_killed_at_random_points_then_rerun_matches_an_uninterrupted_refresh(
        pg_admin_url, loaded_template_url, pristine_landing_dir, second_batch, refresh_reference, tmp_path) -> None:
    """A refresh killed in bronze, silver or gold (a seeded random stage, a random moment in it),
    once or twice in a row, leaves silver and gold each either as they were or fully refreshed,
    never in between; the next run then gives exactly what an uninterrupted refresh gives."""
    before, after, stage_seconds = refresh_reference
    rng = random.Random(SEED)
    first_stages = rng.sample(["bronze", "silver", "gold"], SCENARIOS)
    kills_landed = 0
    for scenario, first_stage in enumerate(first_stages):
        stages = [first_stage] + ([rng.choice(["bronze", "silver", "gold"])] if rng.random() < 0.5 else [])
        landing = _landing_with(pristine_landing_dir, second_batch, tmp_path / f"landing{scenario}")
        with cloned_database(pg_admin_url, loaded_template_url) as database:
            killed_runs: list[bool] = []
            for attempt, stage in enumerate(stages):
                # At most half the time the stage took in the uninterrupted refresh: a kill aimed at
                # bronze or silver always lands (in that stage or a later one); one aimed at gold
                # may come after a fast gold finished.
                delay = rng.uniform(0, 0.5) * stage_seconds[stage]
                where = f"scenario {scenario}: killed {delay:.2f}s into {stage} (stages {stages})"
                process = start_etl(database.url, landing, stderr=subprocess.PIPE)
                started = time.monotonic()
                killed = _kill_in_stage(process, stage, delay)
                print(f"{where}: {'killed' if killed else 'finished first'} after {time.monotonic() - started:.1f}s")
                assert killed or attempt > 0 or stage == "gold", f"{where}: the run finished before the kill"
                kills_landed += killed
                killed_runs.append(killed)
                now = checksums(database, SILVER_AND_GOLD)
                for schema in ("silver", "gold"):
                    part = {k: v for k, v in now.items() if k.startswith(schema + ".")}
                    assert part in ({k: before[k] for k in part}, {k: after[k] for k in part}), (
                        f"{where}: {schema} is neither as before nor as refreshed: "
                        f"vs before {differing({k: before[k] for k in part}, part)}; "
                        f"vs refreshed {differing({k: after[k] for k in part}, part)}")

            result = run_pipeline(database, landing, triggered_by="test")

            assert result.status == "success", f"scenario {scenario} {stages}: {result.error}"
            final = checksums(database, SILVER_AND_GOLD)
            assert not differing(after, final), (
                f"scenario {scenario}, killed in {stages}: the rerun differs from an uninterrupted refresh in "
                f"{differing(after, final)}")
            with database.engine.connect() as conn:
                statuses = list(conn.scalars(text("SELECT status FROM app.job_run WHERE job_id = 'etl' ORDER BY id")))
            # The load, the runs started here (a killed one is closed as interrupted by the next; one
            # killed in the instant between recording its success and exiting stays a success), the rerun.
            assert len(statuses) == len(killed_runs) + 2 and statuses[0] == statuses[-1] == "success", statuses
            for status, killed in zip(statuses[1:-1], killed_runs, strict=True):
                assert status in (("interrupted", "success") if killed else ("success",)), (scenario, stages, statuses)
    assert kills_landed >= 2, f"only {kills_landed} runs were killed before they finished"
