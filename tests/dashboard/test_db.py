"""The embedded PostgreSQL: started once, shared by a second process, data kept across restarts."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from dashboard.db import ensure_database, resolve_database_url, start_embedded_server, to_sqlalchemy_url
from dashboard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_url_normalisation() -> None:
    assert to_sqlalchemy_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert to_sqlalchemy_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert to_sqlalchemy_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_external_database_url_is_used_as_is() -> None:
    settings = Settings(database_url="postgresql://c360@db.internal:5432/c360")
    assert resolve_database_url(settings) == "postgresql+psycopg://c360@db.internal:5432/c360"


def test_second_process_joins_the_running_embedded_server() -> None:
    # A short path: Unix socket paths are limited to about 100 characters.
    with tempfile.TemporaryDirectory(prefix="c360-", dir="/tmp") as tmp:
        admin_url = start_embedded_server(Path(tmp) / "pg")
        url = ensure_database(admin_url, "client360")
        engine = create_engine(url)
        with engine.begin() as conn:
            started = conn.scalar(text("SELECT pg_postmaster_start_time()"))
            conn.execute(text("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)"))
        engine.dispose()
        code = (
            "from pathlib import Path; from sqlalchemy import create_engine, text;"
            "from dashboard.db import start_embedded_server, ensure_database;"
            f"url = ensure_database(start_embedded_server(Path({str(Path(tmp) / 'pg')!r})), 'client360');"
            "c = create_engine(url).connect();"
            "print(c.scalar(text('SELECT pg_postmaster_start_time()')).isoformat(), "
            "c.scalar(text('SELECT n FROM kept')))"
        )
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120, check=True)
        other_started, value = out.stdout.split()
        assert other_started == started.isoformat(), "the second process started its own server"
        assert value == "42"
        import pgserver

        pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop").cleanup()
