"""Fixtures for the ETL tests: a private, migrated database per test, cloned from the session's
template (`template_url` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.db import Database
from tests.etl.dbutil import cloned_database
from tests.etl.tiny_landing import write_tiny_landing


@pytest.fixture()
def scratch_db(pg_admin_url: str, template_url: str) -> Iterator[Database]:
    """A private, empty, migrated database, so failures and locks never touch the shared one."""
    with cloned_database(pg_admin_url, template_url) as database:
        yield database


@pytest.fixture()
def tiny_loaded(pg_admin_url: str, tiny_loaded_template_url: str, tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    """A private database the pipeline has loaded with the tiny landing folder, and a fresh copy of
    that folder: the same files byte for byte, so a run on it finds them all loaded, as a second run
    on the folder of the first would."""
    landing = write_tiny_landing(tmp_path / "landing")
    with cloned_database(pg_admin_url, tiny_loaded_template_url) as database:
        yield database, landing
