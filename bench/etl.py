"""Benchmark the ETL: a full build, then refreshes after one day's new events; prints figures.

    python bench/etl.py [--scale medium|large] [--seed 0] [--database-url URL] [--keep]
                        [--day-rows N] [--five-min-rows N]

Reports, per stage, wall time and rows per second, plus this process's peak memory
(PostgreSQL's own memory is not included). New events come as live-feed batches of leads,
tickets, NPS answers, chats and their messages and campaign sends (etl/demo_data/live.py).
Two refreshes follow the full build:
  * the next day: that day's events and FX rates arrive, so the as-of day moves on and every
    figure that depends on it (MRR at the day's rate, overdue invoices...) is redone;
  * five minutes later, on the same as-of day: the every-5-minutes case.
At large scale the day is a large deployment's day (about 25,000 new rows) and the 5-minute
batch its 5-minute share (1/288 of it, at least a few dozen rows). At small and medium scale
both batches are about a medium-scale day (about 735 rows), as they have always been;
`--day-rows 735 --five-min-rows 735` gives that at any scale.
Files are archived to processed/ once handled, as the scheduler and `c360 etl run` do.
"""

from __future__ import annotations

import argparse
import logging
import resource
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from dashboard.db import Database, runtime_dir_default, start_embedded_server, to_sqlalchemy_url, upgrade  # noqa: E402

DAY_VOLUME = 30.0  # live-feed volume of about a medium-scale day
ROWS_PER_VOLUME = 24.5  # new rows a live-feed batch writes per unit of volume, on average
# New rows of a day's events per scale: a large deployment's day, else the medium day.
DAY_ROWS = {"small": DAY_VOLUME * ROWS_PER_VOLUME, "medium": DAY_VOLUME * ROWS_PER_VOLUME, "large": 25_000}
BATCHES_PER_DAY = 24 * 60 // 5
MIN_BATCH_ROWS = 48


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _report(label: str, result, rows_in: int) -> None:
    print(f"{label:<22} status={result.status:<8} wall={result.seconds:7.1f}s  peak={_peak_mb():6.0f} MB")
    for stage, seconds in result.stage_seconds.items():
        rate = f"{rows_in / seconds:12,.0f} rows/s" if stage == "bronze" and seconds and rows_in else ""
        print(f"  {stage:<20} {seconds:7.1f}s {rate}")


def _data_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", default=None, help="admin URL of a server to use")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--landing", type=Path, default=None,
                        help="copy this already generated landing folder instead of generating")
    parser.add_argument("--day-rows", type=float, default=None,
                        help="about how many new rows the next day brings (default: by scale)")
    parser.add_argument("--five-min-rows", type=float, default=None,
                        help="about how many new rows the 5-minute batch brings (default: at large scale "
                             "1/288 of the day, else as many as the day)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step's timing")
    args = parser.parse_args()
    day_rows = args.day_rows or DAY_ROWS[args.scale]
    five_min_rows = args.five_min_rows or (max(day_rows / BATCHES_PER_DAY, MIN_BATCH_ROWS)
                                           if args.scale == "large" else day_rows)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    from etl.demo_data import generate
    from etl.demo_data.live import drop_batch
    from etl.pipeline import run_pipeline

    runtime_dir_default()
    admin_url = to_sqlalchemy_url(args.database_url) if args.database_url else \
        start_embedded_server(Path(tempfile.gettempdir()) / "c360-bench")
    name = f"c360_bench_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        with tempfile.TemporaryDirectory() as tmp:
            landing = Path(tmp)
            started = time.perf_counter()
            if args.landing:
                shutil.copytree(args.landing, landing, dirs_exist_ok=True)
                total_rows = sum(_data_rows(f) for f in landing.rglob("*.csv"))
                print(f"copied {args.landing}: {total_rows:,} rows in {time.perf_counter() - started:.1f}s")
            else:
                summary = generate(landing, scale=args.scale, seed=args.seed, progress=False)
                total_rows = summary.total_rows
                seconds = time.perf_counter() - started
                print(f"generate {args.scale}: {total_rows:,} rows in {seconds:.1f}s "
                      f"({total_rows / seconds:,.0f} rows/s), peak {_peak_mb():.0f} MB")
            database = Database().bind(url)
            full_build = run_pipeline(database, landing, triggered_by="bench", archive=True)
            _report("full build", full_build, total_rows)
            if full_build.as_of is None:
                raise SystemExit(f"the full build did not finish: {full_build.error}")
            next_day = datetime.combine(full_build.as_of + timedelta(days=1), dtime(12, 0), tzinfo=UTC)
            for label, now, rows in (("refresh, next day", next_day, day_rows),
                                     ("refresh, 5 min later", next_day + timedelta(minutes=5), five_min_rows)):
                batch = drop_batch(database, landing, now=now, volume=rows / ROWS_PER_VOLUME, seed=args.seed)
                new_rows = sum(batch.rows.values())
                per_source = ", ".join(f"{name} {n:,}" for name, n in batch.rows.items())
                print(f"events at {now:%Y-%m-%d %H:%M}: {new_rows:,} new rows in {len(batch.files)} files "
                      f"({per_source})")
                _report(label, run_pipeline(database, landing, triggered_by="bench", archive=True), new_rows)
            database.dispose()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
