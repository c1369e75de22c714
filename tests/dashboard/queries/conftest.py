"""Fixtures for the query tests: the ETL tests' private databases, and a rolled-back session on
the shared one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from dashboard.db import Database
from tests.etl.conftest import scratch_db  # noqa: F401


@pytest.fixture()
def rolled_back(loaded_database: Database) -> Iterator[Session]:
    """A session on the loaded session database whose changes are all rolled back afterwards."""
    connection = loaded_database.engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()
