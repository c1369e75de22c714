"""Fixtures for the ETL tests: a private, migrated database per test, cloned from a template."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard.db import Database
from tests.etl.dbutil import cloned_database, create_migrated_template, drop_database


@pytest.fixture(scope="session")
def template_url(pg_admin_url: str) -> Iterator[str]:
    url = create_migrated_template(pg_admin_url)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture()
def scratch_db(pg_admin_url: str, template_url: str) -> Iterator[Database]:
    """A private, empty, migrated database, so failures and locks never touch the shared one."""
    with cloned_database(pg_admin_url, template_url) as database:
        yield database
