"""Every dataset re-exported at once, one value changed in each, refreshes to exactly what a full
rebuild gives: the suite's quick cover of the incremental path of every silver table.

`tests/etl/test_reexport.py` does the same one dataset at a time, which isolates each table's
refresh path but costs a full rebuild per dataset (about 25 minutes on two cores); it runs when
C360_REEXPORT_EACH=1. This test puts one changed record of every dataset of the landing contract
(`dashboard.tables.landing.DATASETS`, so a new dataset is covered without a change here) into one refresh.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dashboard.tables.landing import DATASETS
from etl.identity.store import IDENTITY_TABLES
from etl.pipeline import run_pipeline
from tests.etl.dbutil import GOLD_TABLES, checksums, cloned_database, differing
from tests.etl.reexport import silver_tables_reading, write_reexport


def test_every_dataset_reexported_refreshes_like_a_full_rebuild(
        pg_admin_url: str, loaded_template_url: str, pristine_landing_dir: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(pristine_landing_dir, landing)
    with cloned_database(pg_admin_url, loaded_template_url) as database:
        changes = [write_reexport(database, landing, dataset) for dataset in DATASETS]
        for change in changes:
            assert change.silver_has(database, change.old), f"{change.describe()}: silver did not hold the old value"

        refresh = run_pipeline(database, landing, triggered_by="test")

        assert refresh.status == "success", f"the refresh failed: {refresh.error}"
        for change in changes:
            assert refresh.rows.get(f"bronze.{change.dataset.bronze_table}") == 1, (change.describe(), refresh.rows)
            assert change.silver_has(database, change.new), f"{change.describe()}: the new value is not in silver"
        silver = sorted({t for dataset in DATASETS for t in silver_tables_reading(dataset)})
        tables = [f"gold.{t.name}" for t in GOLD_TABLES] + silver + list(IDENTITY_TABLES)
        refreshed = checksums(database, tables)

        rebuild = run_pipeline(database, landing, triggered_by="test", full=True)

        assert rebuild.status == "success", f"the full rebuild failed: {rebuild.error}"
        assert differing(refreshed, checksums(database, tables)) == [], "the refresh and the full rebuild differ"
