"""Pages read gold while the scheduler refreshes it: a reader sees gold as it was before a refresh or as
it is after, never a table already refreshed beside one not yet (the gold stage writes in one
transaction, and emptying a table uses DELETE, which readers do not wait for)."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from dashboard.tables import Base
from etl.demo_data.live import drop_batch
from etl.pipeline import run_pipeline
from tests.etl.dbutil import cloned_database

SEED = 20261206
GOLD_TABLES = [f"{t.schema}.{t.name}" for t in Base.metadata.sorted_tables if t.schema == "gold"]
# One statement, so one snapshot: every gold table's row count.
SNAPSHOT = text("SELECT " + ", ".join(f"(SELECT count(*) FROM {name})" for name in GOLD_TABLES))


def test_readers_see_gold_before_or_after_a_refresh_never_in_between(pg_admin_url, loaded_template_url,
                                                                     pristine_landing_dir, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(pristine_landing_dir, landing)
    with cloned_database(pg_admin_url, loaded_template_url) as database:
        with database.engine.connect() as conn:
            as_of = conn.scalar(text("SELECT max(rate_date) FROM silver.fx_rates"))
        next_day = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC) + timedelta(days=1, hours=9)
        drop_batch(database, landing, now=next_day, seed=SEED)

        def snapshot() -> tuple[int, ...]:
            with database.engine.connect() as conn:
                return tuple(conn.execute(SNAPSHOT).one())

        before = snapshot()
        outcome = {}
        refresh = threading.Thread(target=lambda: outcome.setdefault(
            "result", run_pipeline(database, landing, triggered_by="test")))
        refresh.start()
        seen: list[tuple[int, ...]] = []
        while refresh.is_alive():
            seen.append(snapshot())
        refresh.join()
        after = snapshot()
    assert outcome["result"].status == "success", outcome["result"].error
    changed = [name for name, b, a in zip(GOLD_TABLES, before, after, strict=True) if b != a]
    assert len(changed) >= 3, "the batch should change several gold tables"
    assert len(seen) >= 10, "the reader should have looked many times while gold was being refreshed"
    mixed = [s for s in seen if s not in (before, after)]
    assert not mixed, [name for name, b, a, m in zip(GOLD_TABLES, before, after, mixed[0], strict=True)
                       if m not in (b, a)]
