"""Database connection: an external PostgreSQL, or an embedded one started with pgserver."""

from __future__ import annotations

import contextvars
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.errors import LockNotAvailable, QueryCanceled
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

# runtime_dir_default lives with the other environment access; the embedded server's callers take it from here.
from dashboard.settings import Settings, runtime_dir_default  # noqa: F401

# platformdirs (used by pgserver) warns when XDG_RUNTIME_DIR is unset, from its import on; pgserver does not need it.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

import fasteners  # noqa: E402
import pgserver  # noqa: E402  (after the filter above)
from pgserver._commands import pg_ctl  # noqa: E402

EMBEDDED_DATABASE = "client360"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseNotMigrated(RuntimeError):
    """The database schema is missing or older than this code."""


def to_sqlalchemy_url(url: str) -> str:
    """Make any postgres URL use the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# The embedded server is a single-node analytical database: no replicas or WAL archive to feed, so
# `minimal` WAL lets a table rebuilt in one transaction (TRUNCATE, then INSERT ... SELECT: silver and
# gold rebuilds) skip writing its rows to the WAL, and a larger WAL budget spaces out checkpoints
# during bulk loads. Crash safety is unchanged. Its data sits on a local disk and mostly in the page
# cache, so an index probe costs little more than a sequential read (random_page_cost): without that,
# the planner scans a million-row table rather than probe an index a few thousand times. The pages'
# sorts and hashes of a few hundred thousand rows stay in memory (work_mem) instead of spilling.
# A server given DATABASE_URL is the operator's to tune (README, "Deploying").
EMBEDDED_SETTINGS = {"wal_level": "minimal", "max_wal_senders": "0", "max_wal_size": "4GB",
                     "checkpoint_timeout": "15min", "random_page_cost": "1.1", "work_mem": "32MB"}


def start_embedded_server(pgdata: Path) -> str:
    """Start (or join) the embedded PostgreSQL in `pgdata` and return its admin URL."""
    pgdata = pgdata.resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    # Processes starting together (web and scheduler, parallel test workers) take turns, so the one
    # that creates the directory has restarted the server before another joins it.
    with fasteners.InterProcessLock(pgdata.parent / f".{pgdata.name}.start.lock"):
        created = not (pgdata / "PG_VERSION").exists()
        # cleanup_mode=None keeps the server up for other processes (web, scheduler, CLI),
        # which join it through the same data directory instead of starting another.
        server = pgserver.get_server(pgdata, cleanup_mode=None)
        url = to_sqlalchemy_url(server.get_uri())
        if _apply_embedded_settings(url) and created:
            # Settings read at start only: restart a server nobody else can be using yet. An older data
            # directory takes them at its next start.
            pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user)
    return url


def _apply_embedded_settings(admin_url: str) -> bool:
    """Persist EMBEDDED_SETTINGS (ALTER SYSTEM) and reload; True when one of them waits for a restart."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            current = dict(conn.execute(text(
                "SELECT name, CASE WHEN unit IS NULL THEN setting ELSE current_setting(name) END FROM pg_settings "
                "WHERE name = ANY(:names)"), {"names": list(EMBEDDED_SETTINGS)}).all())
            changed = [name for name, value in EMBEDDED_SETTINGS.items() if current.get(name) != value]
            for name in changed:
                conn.execute(text(f"ALTER SYSTEM SET {name} = '{EMBEDDED_SETTINGS[name]}'"))
            if changed:
                conn.execute(text("SELECT pg_reload_conf()"))
            return bool(conn.scalar(text("SELECT count(*) FROM pg_settings WHERE pending_restart")))
    finally:
        engine.dispose()


def ensure_database(admin_url: str, database: str) -> str:
    """Create `database` on the server if it does not exist; return its URL."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def resolve_database_url(settings: Settings) -> str:
    """The URL to use: DATABASE_URL when set, else the embedded server's database."""
    if settings.database_url:
        return to_sqlalchemy_url(settings.database_url)
    admin_url = start_embedded_server(settings.pgdata_dir)
    return ensure_database(admin_url, EMBEDDED_DATABASE)


def make_engine(url: str, *, statement_timeout_ms: int | None = None, lock_timeout_ms: int | None = None,
                parallel_workers: int | None = None) -> Engine:
    """An engine with settings suited to short dashboard queries and long ETL jobs alike. The web app's
    engine has a statement timeout, so a runaway query ends with an error instead of holding a worker,
    a shorter lock timeout, so a table locked by another session does not either, and its own number of
    parallel workers per query; jobs have no timeouts and the server's parallelism."""
    options = [f"-c {name}={ms}" for name, ms in (("statement_timeout", statement_timeout_ms),
                                                   ("lock_timeout", lock_timeout_ms)) if ms]
    if parallel_workers is not None:
        options.append(f"-c max_parallel_workers_per_gather={parallel_workers}")
    connect_args = {"options": " ".join(options)} if options else {}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args)


def is_statement_timeout(error: BaseException) -> bool:
    """Whether the database stopped a query at the statement or lock timeout (raised as the driver's
    QueryCanceled or LockNotAvailable, wrapped by SQLAlchemy)."""
    return isinstance(getattr(error, "orig", error), (QueryCanceled, LockNotAvailable))


# SQLSTATEs of a server that is going away, starting or full: class 08 (connection exception) and these.
UNAVAILABLE_STATES = {"57P01", "57P02", "57P03", "53300"}


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached now (down, restarting, shutting down, out of
    connections, or the pool has none free), as opposed to a failure of the query itself."""
    if isinstance(error, PoolTimeout) or (isinstance(error, DBAPIError) and error.connection_invalidated):
        return True
    orig = getattr(error, "orig", error)
    if not isinstance(orig, (psycopg.OperationalError, psycopg.InterfaceError)) or isinstance(orig, QueryCanceled):
        return False
    state = getattr(orig, "sqlstate", None)
    return state is None or state.startswith("08") or state in UNAVAILABLE_STATES


def is_dropped_connection(error: BaseException) -> bool:
    """Whether a statement failed because its connection died under it (a database restart): the pool
    has been emptied, so read-only work can run once more on a fresh connection."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


# How many write units (Database.begin) this context has opened: work that opened none only read, and can
# be retried safely.
_write_units = contextvars.ContextVar("c360_write_units", default=0)


def write_units_opened() -> int:
    return _write_units.get()


class Database:
    """Engine plus session factory, created unbound and bound in the app factory or a job."""

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self.url: str | None = None
        self.statement_timeout_ms: int | None = None
        self.lock_timeout_ms: int | None = None
        self.parallel_workers: int | None = None

    def bind(self, url: str, *, statement_timeout_ms: int | None = None, lock_timeout_ms: int | None = None,
             parallel_workers: int | None = None) -> Database:
        """Connect to `url`; safe to call again with the same URL and settings."""
        if self._engine is not None and (self.url, self.statement_timeout_ms, self.lock_timeout_ms,
                                         self.parallel_workers) == (url, statement_timeout_ms, lock_timeout_ms,
                                                                    parallel_workers):
            return self
        self.dispose()
        self.url = url
        self.statement_timeout_ms = statement_timeout_ms
        self.lock_timeout_ms = lock_timeout_ms
        self.parallel_workers = parallel_workers
        self._engine = make_engine(url, statement_timeout_ms=statement_timeout_ms, lock_timeout_ms=lock_timeout_ms,
                                   parallel_workers=parallel_workers)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        return self

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("Database is not bound; call bind() or create_app() first.")
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only unit of work: rolled back at the end."""
        assert self._sessions is not None, "Database is not bound"
        with self._sessions() as session:
            yield session

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A unit of work that commits on success and rolls back on error."""
        assert self._sessions is not None, "Database is not bound"
        _write_units.set(_write_units.get() + 1)
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._engine = None
        self._sessions = None


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at our migrations and `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def migration_state(engine: Engine) -> tuple[str | None, str | None]:
    """(current revision in the database, newest revision in the code)."""
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn, opts={"version_table_schema": "app"}).get_current_revision()
    return current, head


def check_migrated(engine: Engine) -> None:
    """Raise DatabaseNotMigrated, with the fix, unless the schema is at the newest revision."""
    current, head = migration_state(engine)
    if current != head:
        state = "has no schema yet" if current is None else f"is at revision {current}"
        raise DatabaseNotMigrated(
            f"The database {state}, but this version of Client360 needs revision {head}. "
            "Run `c360 db upgrade` and start again."
        )
