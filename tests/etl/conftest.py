"""Fixtures for the ETL tests: a private, migrated database per test, cloned from a template."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.db import Database
from tests.etl.dbutil import cloned_database, create_migrated_template, drop_database, loaded_template


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


@pytest.fixture(scope="session")
def loaded_template_url(pg_admin_url: str, template_url: str, pristine_landing_dir: Path) -> Iterator[str]:
    """A database the pipeline loaded with the small landing data (`pristine_landing_dir`), loaded
    once per session: `cloned_database(pg_admin_url, loaded_template_url)` gives a test its own copy
    in seconds. Never connect to it directly (a database with connections cannot be copied)."""
    with loaded_template(pg_admin_url, template_url, pristine_landing_dir) as url:
        yield url
