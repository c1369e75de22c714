"""Migrations build every schema on an empty database, and the app refuses an un-migrated one."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from dashboard.db import DatabaseNotMigrated, check_migrated, migration_state, upgrade
from dashboard.tables import SCHEMAS, Base


def test_unmigrated_database_is_refused_with_the_fix(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        with pytest.raises(DatabaseNotMigrated, match="c360 db upgrade"):
            check_migrated(engine)
    finally:
        engine.dispose()


def test_upgrade_on_empty_database_creates_every_table(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        current, head = migration_state(engine)
        assert current == head is not None
        check_migrated(engine)
        inspector = inspect(engine)
        for schema in SCHEMAS:
            assert schema in inspector.get_schema_names()
        expected = {(t.schema, t.name) for t in Base.metadata.sorted_tables}
        actual = {(s, name) for s in SCHEMAS for name in inspector.get_table_names(schema=s)}
        assert expected <= actual, f"missing tables: {sorted(expected - actual)}"
        # Upgrading again is a no-op.
        upgrade(empty_database_url)
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM app.alembic_version")) == 1
    finally:
        engine.dispose()


def test_orm_matches_migrations(database_url: str) -> None:
    """Autogenerate finds nothing to do: the migrations and the ORM tables agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "include_schemas": True,
                "include_name": lambda name, type_, parent: type_ != "schema" or name in SCHEMAS,
                "version_table_schema": "app",
            })
            diff = [d for d in compare_metadata(context, Base.metadata)
                    if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]
        assert diff == []
    finally:
        engine.dispose()


def test_storage_options_of_the_orm_are_migrated(database_url: str) -> None:
    """Autogenerate does not compare storage options such as a fillfactor: the tables that
    declare one have it in the database too."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                declared = {f"{k}={v}" for k, v in (table.dialect_options["postgresql"]["with"] or {}).items()}
                if not declared:
                    continue
                stored = conn.scalar(text("SELECT reloptions FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                                     {"t": f"{table.schema}.{table.name}"}) or []
                assert declared <= set(stored), f"{table.schema}.{table.name}: {stored} lacks {declared}"
    finally:
        engine.dispose()
