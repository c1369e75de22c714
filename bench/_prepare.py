"""A demo database at a given scale, loaded through the real pipeline and jobs, kept for reuse.

Preparing takes from seconds (small) to many minutes (large, 100k accounts), so the database is
kept in an embedded PostgreSQL under a cache folder and found again on later runs. Its name
holds the scale, the seed and a fingerprint of the migrations and gold SQL, so a schema or
gold change prepares a fresh one instead of measuring stale tables. A database counts as ready
only once every step finished (a comment on the database says so): an interrupted preparation
is redone, never reused half-loaded.

The benches import it; on its own it prepares one database and prints its URL:

    python bench/_prepare.py [--scale small] [--seed 0] [--data-dir DIR] [--rebuild]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.db import Database, runtime_dir_default, start_embedded_server, upgrade  # noqa: E402
from dashboard.permissions import sync_default_roles  # noqa: E402
from etl.demo_data import generate  # noqa: E402
from etl.intelligence.scoring import run_scoring  # noqa: E402
from etl.intelligence.training import train_churn  # noqa: E402
from etl.pipeline import run_pipeline  # noqa: E402
from etl.quality import run_all_checks  # noqa: E402
from etl.scheduler import INSIGHT_JOBS  # noqa: E402

# Unix socket paths are limited to about 100 characters, so the default folder stays short.
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "c360-bench-pages"
READY = "client360 bench: ready"


def schema_fingerprint() -> str:
    """A short hash of what shapes the prepared tables: migrations and the ETL's SQL."""
    digest = hashlib.sha256()
    sources = sorted([*(REPO / "dashboard" / "migrations").rglob("*.py"), *(REPO / "etl").rglob("*.sql")])
    for path in sources:
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _is_ready(admin_url: str, name: str) -> bool:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            comment = conn.execute(
                text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :name"),
                {"name": name}).scalar()
    finally:
        engine.dispose()
    return comment == READY


def _run_admin(admin_url: str, *statements: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _step(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"  {label:<28} {time.perf_counter() - started:7.1f}s", flush=True)
    return result


def load_everything(database: Database, landing: Path, *, seed: int) -> None:
    """Run what a deployment runs: the pipeline, the quality checks, text scoring, churn training and
    scoring, then every other insight job, so that every page has data to show."""
    result = _step("pipeline (bronze → gold)", run_pipeline, database, landing, triggered_by="bench")
    if result.status != "success":
        raise SystemExit(f"the pipeline did not finish: {result.error}")
    _step("data quality checks", run_all_checks, database, triggered_by="bench")
    # Texts first: their sentiment is one of the churn model's features.
    insights = dict(INSIGHT_JOBS)
    module_name, runner = insights.pop("text_insights")
    _step("text_insights", getattr(importlib.import_module(module_name), runner), database, triggered_by="bench")
    _step("churn training", train_churn, database, triggered_by="bench", seed=seed)
    _step("scoring", run_scoring, database, triggered_by="bench")
    for job_id, (module_name, runner) in insights.items():
        _step(job_id, getattr(importlib.import_module(module_name), runner), database, triggered_by="bench")


def prepared_database(scale: str, seed: int, data_dir: Path = DEFAULT_DATA_DIR, *, rebuild: bool = False) -> str:
    """The URL of a ready database for `scale` and `seed`, preparing it first if needed."""
    runtime_dir_default()
    admin_url = start_embedded_server(data_dir / "pg")
    name = f"c360_pages_{scale}_{seed}_{schema_fingerprint()}"
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    if not rebuild and _is_ready(admin_url, name):
        print(f"reusing {name} (prepared earlier; --rebuild to prepare again)", flush=True)
        return url
    print(f"preparing {name} ...", flush=True)
    started = time.perf_counter()
    _run_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    upgrade(url)
    database = Database().bind(url)
    try:
        with database.begin() as session:
            sync_default_roles(session)
        with tempfile.TemporaryDirectory() as landing:
            _step(f"generate {scale}", generate, Path(landing), scale=scale, seed=seed, progress=False)
            load_everything(database, Path(landing), seed=seed)
    finally:
        database.dispose()
    _run_admin(admin_url, f"COMMENT ON DATABASE \"{name}\" IS '{READY}'")
    print(f"prepared {name} in {time.perf_counter() - started:.0f}s", flush=True)
    return url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Prepare a demo database for the benches and print its URL.")
    parser.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where prepared databases are kept")
    parser.add_argument("--rebuild", action="store_true", help="prepare the database again")
    args = parser.parse_args(argv)
    print(prepared_database(args.scale, args.seed, args.data_dir, rebuild=args.rebuild))


if __name__ == "__main__":
    main()
