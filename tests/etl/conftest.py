"""Fixtures for the ETL tests: a private, migrated database per test, cloned from the session's
template (`template_url` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard.db import Database
from tests.etl.dbutil import cloned_database


@pytest.fixture()
def scratch_db(pg_admin_url: str, template_url: str) -> Iterator[Database]:
    """A private, empty, migrated database, so failures and locks never touch the shared one."""
    with cloned_database(pg_admin_url, template_url) as database:
        yield database
