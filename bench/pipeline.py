"""Benchmark: generate demo data and run the ETL pipeline on a scratch database; print timings.

    python bench/pipeline.py [--scale medium] [--seed 0] [--keep]
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from dashboard.db import Database, runtime_dir_default, start_embedded_server, to_sqlalchemy_url, upgrade  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", default=None, help="admin URL of a server to use")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    from etl.demo_data import generate
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
            started = time.perf_counter()
            summary = generate(Path(tmp), scale=args.scale, seed=args.seed, progress=False)
            generate_s = time.perf_counter() - started
            total_rows = sum(summary.rows.values())
            print(f"generate  scale={args.scale:<6} rows={total_rows:>11,}  {generate_s:7.1f}s "
                  f"({total_rows / generate_s:,.0f} rows/s)")
            database = Database().bind(url)
            for attempt in ("first", "second (idempotent re-run)"):
                started = time.perf_counter()
                result = run_pipeline(database, Path(tmp), triggered_by="bench")
                elapsed = time.perf_counter() - started
                print(f"etl run   {attempt:<28} status={result.status:<8} {elapsed:7.1f}s")
                for stage, seconds in getattr(result, "stage_seconds", {}).items():
                    print(f"          {stage:<28} {seconds:7.1f}s")
            database.dispose()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
