"""Alembic environment: migrations for all four schemas, online only."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from dashboard.tables import SCHEMAS, Base

config = context.config


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        for schema in SCHEMAS:
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_schemas=True,
            include_name=lambda name, type_, parent: (
                type_ != "schema" or name in SCHEMAS
            ),
            version_table_schema="app",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
