"""Private databases for ETL tests that must not disturb the session's loaded database."""

from __future__ import annotations

import hashlib
import queue
import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, make_url, text

from dashboard.db import Database, upgrade
from dashboard.tables import Base


def _admin(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def create_migrated_template(admin_url: str) -> str:
    """A migrated database to clone from; returns its URL."""
    name = f"c360_etl_tpl_{secrets.token_hex(4)}"
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_database(admin_url: str, url: str) -> None:
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


# Dropping a database waits for a checkpoint of the whole server, seconds when it is busy: the private
# databases of the tests are dropped by one thread of their own while the next test runs.
_doomed: queue.Queue[tuple[str, str] | None] = queue.Queue()
_dropper: threading.Thread | None = None
_dropper_lock = threading.Lock()
_drop_errors: list[str] = []


def _drop_doomed() -> None:
    while (job := _doomed.get()) is not None:
        try:
            drop_database(*job)
        except Exception as exc:  # reported by finish_drops, at the end of the session
            _drop_errors.append(f"{make_url(job[1]).database}: {exc}")


def drop_database_soon(admin_url: str, url: str) -> None:
    """Drop the database in the background; `finish_drops` waits for every drop asked for."""
    global _dropper
    with _dropper_lock:
        if _dropper is None or not _dropper.is_alive():
            _dropper = threading.Thread(target=_drop_doomed, name="drop-test-databases", daemon=True)
            _dropper.start()
    _doomed.put((admin_url, url))


def finish_drops() -> list[str]:
    """Wait until the databases handed to `drop_database_soon` are gone; the drops that failed."""
    global _dropper
    with _dropper_lock:
        if _dropper is not None:
            _doomed.put(None)
            _dropper.join()
            _dropper = None
    return list(_drop_errors)


def clone_database(admin_url: str, template_url: str, prefix: str = "c360_etl") -> str:
    """A new database copied from `template_url` (which must have no open connection); its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    _admin(admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template_url).database}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def cloned_database(admin_url: str, template_url: str) -> Iterator[Database]:
    """A fresh database copied from the migrated template, dropped afterwards."""
    url = clone_database(admin_url, template_url)
    database = Database().bind(url)
    try:
        yield database
    finally:
        database.dispose()
        drop_database_soon(admin_url, url)


@contextmanager
def loaded_template(admin_url: str, template_url: str, landing: Path) -> Iterator[str]:
    """A database copied from the migrated template and loaded with `landing` by the pipeline, with
    no connection left open, so `cloned_database(admin_url, <its url>)` copies it in seconds; dropped
    afterwards."""
    from etl.pipeline import run_pipeline

    url = clone_database(admin_url, template_url, prefix="c360_etl_loaded")
    try:
        database = Database().bind(url)
        try:
            result = run_pipeline(database, landing, triggered_by="test")
            assert result.status == "success", result.error
        finally:
            database.dispose()
        yield url
    finally:
        drop_database(admin_url, url)


GOLD_TABLES = [t for t in Base.metadata.sorted_tables if t.schema == "gold"]


def table_checksum(conn: Connection, qualified: str) -> tuple[int, str]:
    """(row count, md5 of every row's text in a fixed order) of a table."""
    count, digest = conn.execute(text(
        f"SELECT count(*), md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {qualified} t"
    )).one()
    return int(count), str(digest)


def gold_checksums(database: Database) -> dict[str, tuple[int, str]]:
    """Checksums of every gold table."""
    with database.engine.connect() as conn:
        return {f"gold.{t.name}": table_checksum(conn, f"gold.{t.name}") for t in GOLD_TABLES}


def checksums(database: Database, tables: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Checksums of the named tables ("schema.table")."""
    with database.engine.connect() as conn:
        return {name: table_checksum(conn, name) for name in tables}


def differing(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    """The tables whose checksums differ, with their row counts: ["gold.x (rows 10 vs 11)", ...]."""
    return [f"{name} (rows {before.get(name, (None,))[0]} vs {after.get(name, (None,))[0]})"
            for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
