"""Bronze loader: load metadata, checksum skip, malformed rows, wrong headers, all-or-nothing files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from dashboard.db import Database
from dashboard.tables.bronze import BRONZE_TABLES, LoadFile, QuarantinedRow
from dashboard.tables.landing import dataset
from etl import bronze
from etl.bronze import load_landing
from tests.etl.dbutil import sha256_file
from tests.etl.tiny_landing import ACCOUNTS, CONTACTS, write_csv, write_tiny_landing

ACCOUNT_COLUMNS = dataset("crm", "accounts").columns
CONTACT_COLUMNS = dataset("crm", "contacts").columns


def _rows(scratch_db: Database, sql: str, **params) -> list[tuple]:
    with scratch_db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _count(scratch_db: Database, table: str) -> int:
    with scratch_db.engine.connect() as conn:
        return int(conn.scalar(text(f"SELECT count(*) FROM {table}")))


def test_every_file_lands_with_its_load_metadata(scratch_db: Database, tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")
    result = load_landing(scratch_db, landing, job_run_id=None)

    assert {f.status for f in result.files} == {"loaded"}
    accounts_file = landing / "crm" / "accounts.csv"
    (load_id, file_name, sha, rows_loaded, rows_quarantined), = _rows(
        scratch_db, "SELECT id, file_name, sha256, rows_loaded, rows_quarantined FROM bronze.load_file "
            "WHERE dataset = 'crm_accounts'")
    assert (file_name, sha) == ("crm/accounts.csv", sha256_file(accounts_file))
    stored = _rows(scratch_db, "SELECT _load_id, _source_file, _row_number, _loaded_at IS NOT NULL, account_id, "
                       "account_name, updated_at FROM bronze.crm_accounts ORDER BY _row_number")
    assert {(r[0], r[1], r[3]) for r in stored} == {(load_id, "crm/accounts.csv", True)}
    # _row_number is the record's position in the file (header excluded), so it points at the source row.
    with accounts_file.open(newline="") as fh:
        records = list(csv.reader(fh))[1:]
    assert rows_loaded == len(stored) == len(ACCOUNTS)
    for _, _, number, _, account_id, name, updated_at in stored:
        assert records[number - 1][:3] == [account_id, "", name]
        assert records[number - 1][-1] == updated_at
    assert rows_quarantined == 1  # the tiny accounts file has one row with a field too many
    # The contract's NULL is an empty field.
    assert _rows(scratch_db, "SELECT count(*) FROM bronze.crm_accounts WHERE parent_account_id IS NULL") == [(len(stored),)]
    assert result.rows["crm_accounts"] == len(ACCOUNTS)


def test_rerun_skips_files_already_loaded(scratch_db: Database, tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")
    first = load_landing(scratch_db, landing)
    counts = {name: _count(scratch_db, f"bronze.{name}") for name in BRONZE_TABLES}
    files = _count(scratch_db, "bronze.load_file")
    quarantined = _count(scratch_db, "bronze.quarantine")

    second = load_landing(scratch_db, landing)

    assert {f.status for f in second.files} == {"skipped"}
    assert [f.load_file_id for f in second.files] == [f.load_file_id for f in first.files]
    assert second.rows == {} and second.quarantined == 0
    assert {name: _count(scratch_db, f"bronze.{name}") for name in BRONZE_TABLES} == counts
    assert (_count(scratch_db, "bronze.load_file"), _count(scratch_db, "bronze.quarantine")) == (files, quarantined)

    # A new file with new content is loaded; the same content under another name is not.
    extra = write_csv(landing / "crm" / "contacts_2025-03-11.csv", CONTACT_COLUMNS, [
        ["CON-9", "ACC-1", "Zed", "Z", "zed@example.com", "", "DE", "CEO", "false",
         "2025-03-11T00:00:00Z", "2025-03-11T00:00:00Z", ""]])
    (landing / "crm" / "contacts_copy.csv").write_bytes(extra.read_bytes())
    third = load_landing(scratch_db, landing)
    statuses = {f.source_file: f.status for f in third.files}
    assert statuses["crm/contacts_2025-03-11.csv"] == "loaded"
    assert statuses["crm/contacts_copy.csv"] == "skipped"
    assert _count(scratch_db, "bronze.crm_contacts") == counts["crm_contacts"] + 1


def test_malformed_rows_are_quarantined_and_good_rows_kept(scratch_db: Database, tmp_path: Path) -> None:
    good = [row for row in ACCOUNTS if row[0] != "ACC-4"]
    extra_field = ["ACC-7", "", "Split", "Name", "SMB", "", "Europe", "FR", "", "USR-1", "EUR", "5",
                   "2025-03-01T00:00:00Z", "active", "", "2025-03-01T00:00:00Z"]
    missing_field = ["ACC-8", "", "Short Ltd", "SMB", "", "Europe", "FR", "", "USR-1", "EUR", "5",
                     "2025-03-01T00:00:00Z", "active", ""]
    rows = [good[0], extra_field, good[1], missing_field, good[2], good[3]]
    path = write_csv(tmp_path / "landing" / "crm" / "accounts.csv", ACCOUNT_COLUMNS, rows)
    # A field with an embedded newline and quotes must survive the slow path unchanged.
    rows[2] = list(rows[2])
    rows[2][2] = 'Zulu "Traders"\nof Gauteng, Ltd'
    write_csv(path, ACCOUNT_COLUMNS, rows)

    result = load_landing(scratch_db, tmp_path / "landing")

    (outcome,) = result.files
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", 4, 2)
    loaded = _rows(scratch_db, "SELECT _row_number, account_id, account_name FROM bronze.crm_accounts ORDER BY 1")
    assert loaded == [(1, "ACC-1", "Acme GmbH"), (3, "ACC-1", 'Zulu "Traders"\nof Gauteng, Ltd'),
                      (5, "ACC-2", "Zulu Traders"), (6, "ACC-3", "Nowhere Inc")]
    with scratch_db.session() as session:
        quarantined = session.execute(
            select(QuarantinedRow.row_number, QuarantinedRow.reason, QuarantinedRow.raw, QuarantinedRow.stage,
                   QuarantinedRow.source_file, QuarantinedRow.load_file_id)
            .order_by(QuarantinedRow.row_number)).all()
        load_file = session.scalar(select(LoadFile))
    assert [(q.row_number, q.reason) for q in quarantined] == [
        (2, "wrong field count: expected 15, got 16"),
        (4, "wrong field count: expected 15, got 14"),
    ]
    assert quarantined[0].raw.startswith("ACC-7,,Split,Name,")
    assert {(q.stage, q.source_file, q.load_file_id) for q in quarantined} == {
        ("bronze", "crm/accounts.csv", load_file.id)}
    assert (load_file.rows_loaded, load_file.rows_quarantined) == (4, 2)
    # Empty fields are NULL on the slow path too.
    assert _rows(scratch_db, "SELECT count(*) FROM bronze.crm_accounts WHERE parent_account_id IS NULL") == [(4,)]


def test_reordered_header_still_maps_columns_by_name(scratch_db: Database, tmp_path: Path) -> None:
    columns = list(reversed(CONTACT_COLUMNS))
    write_csv(tmp_path / "landing" / "crm" / "contacts.csv", columns, [list(reversed(r)) for r in CONTACTS])
    load_landing(scratch_db, tmp_path / "landing")
    assert _rows(scratch_db, "SELECT contact_id, email FROM bronze.crm_contacts ORDER BY _row_number") == [
        (r[0], r[4]) for r in CONTACTS]


def test_wrong_header_rejects_the_whole_file(scratch_db: Database, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    columns = ["contact_ref" if c == "contact_id" else c for c in CONTACT_COLUMNS] + ["nickname"]
    write_csv(landing / "crm" / "contacts.csv", columns, [row + ["x"] for row in CONTACTS])
    write_csv(landing / "crm" / "accounts.csv", ACCOUNT_COLUMNS, ACCOUNTS)
    (landing / "crm" / "leads.csv").write_text("")

    result = load_landing(scratch_db, landing)

    statuses = {f.source_file: (f.status, f.error) for f in result.files}
    assert statuses["crm/accounts.csv"][0] == "loaded"
    status, error = statuses["crm/contacts.csv"]
    assert status == "rejected"
    assert "missing columns ['contact_id']" in error and "unexpected columns ['contact_ref', 'nickname']" in error
    assert statuses["crm/leads.csv"][0] == "rejected" and "empty file" in statuses["crm/leads.csv"][1]
    assert _count(scratch_db, "bronze.crm_contacts") == 0
    assert _rows(scratch_db, "SELECT dataset FROM bronze.load_file") == [("crm_accounts",)]
    reasons = _rows(scratch_db, "SELECT source_file, load_file_id, reason FROM bronze.quarantine "
                        "WHERE source_file = 'crm/contacts.csv'")
    assert len(reasons) == 1 and reasons[0][1] is None and "header does not match" in reasons[0][2]

    # A rejected file is not remembered as loaded: it is rejected again, but quarantined only once.
    again = load_landing(scratch_db, landing)
    assert {f.source_file: f.status for f in again.files}["crm/contacts.csv"] == "rejected"
    assert len(_rows(scratch_db, "SELECT 1 FROM bronze.quarantine WHERE source_file = 'crm/contacts.csv'")) == 1


def test_a_failure_mid_file_writes_nothing(scratch_db: Database, tmp_path: Path, monkeypatch) -> None:
    landing = write_tiny_landing(tmp_path / "landing")

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    # The accounts file takes the slow path (it has a malformed row); fail after some rows were written.
    real_records = bronze._records

    def records_then_fail(path):
        for i, record in enumerate(real_records(path)):
            if i == 3:
                raise RuntimeError("connection lost mid-file")
            yield record

    monkeypatch.setattr(bronze, "_records", records_then_fail)
    with pytest.raises(RuntimeError, match="mid-file"):
        bronze.load_file(scratch_db, dataset("crm", "accounts"), landing / "crm" / "accounts.csv", landing_dir=landing)
    # The fast path: the COPY succeeds, then the file's transaction fails before commit.
    real_copy = bronze._copy_whole_file

    def copy_then_fail(*args, **kwargs):
        real_copy(*args, **kwargs)
        explode()

    monkeypatch.setattr(bronze, "_copy_whole_file", copy_then_fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        bronze.load_file(scratch_db, dataset("crm", "contacts"), landing / "crm" / "contacts.csv", landing_dir=landing)

    for table in ("bronze.crm_accounts", "bronze.crm_contacts", "bronze.load_file", "bronze.quarantine"):
        assert _count(scratch_db, table) == 0, table

    # Once the problem is gone the same files load normally: they were never marked as loaded.
    monkeypatch.undo()
    result = load_landing(scratch_db, landing)
    assert {f.dataset: f.status for f in result.files}["crm_accounts"] == "loaded"
    assert _count(scratch_db, "bronze.crm_accounts") == len(ACCOUNTS)


def test_files_are_matched_to_datasets_by_longest_name(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for name in ("campaigns.csv", "campaign_variants_2025.csv", "sends-part2.csv", "unknown.csv"):
        write_csv(landing / "marketing" / name, ["x"], [])
    found = {path.name: d.bronze_table for d, path in bronze.landing_files(landing)}
    assert found == {"campaigns.csv": "marketing_campaigns",
                     "campaign_variants_2025.csv": "marketing_campaign_variants",
                     "sends-part2.csv": "marketing_sends"}


def test_load_file_counts_match_bronze(scratch_db: Database, tmp_path: Path) -> None:
    load_landing(scratch_db, write_tiny_landing(tmp_path / "landing"))
    with scratch_db.session() as session:
        load_files = session.scalars(select(LoadFile)).all()
        assert load_files
        for load_file in load_files:
            table = BRONZE_TABLES[load_file.dataset]
            stored = session.scalar(select(func.count()).select_from(table).where(table.c._load_id == load_file.id))
            assert stored == load_file.rows_loaded, load_file.file_name


# --- lanes: files load side by side on two connections ------------------------------------------


def test_lanes_keep_each_dataset_whole_in_order_and_same_sized_files_together(tmp_path: Path) -> None:
    accounts, contacts = dataset("crm", "accounts"), dataset("crm", "contacts")
    def file(name: str, size: int) -> Path:
        path = tmp_path / name
        path.write_bytes(b"x" * size)
        return path

    files = [(accounts, file("a1.csv", 500)), (accounts, file("a2.csv", 100)),
             (contacts, file("c1.csv", 300)), (contacts, file("c2.csv", 250))]
    lanes = bronze.split_into_lanes(files, 2)
    assert [[p.name for _, p in lane] for lane in lanes] == [["a1.csv", "a2.csv"], ["c1.csv", "c2.csv"]]
    assert [[p.name for _, p in lane] for lane in bronze.split_into_lanes(files, 1)] == [
        ["a1.csv", "a2.csv", "c1.csv", "c2.csv"]]

    # A contacts file the size of an accounts file could be the same bytes: it joins that lane.
    twin = (contacts, file("c3.csv", 100))
    lanes = bronze.split_into_lanes([*files, twin], 2)
    assert len(lanes) == 1 and [p.name for _, p in lanes[0]] == ["a1.csv", "a2.csv", "c1.csv", "c2.csv", "c3.csv"]
    assert bronze.split_into_lanes([], 2) == []


def test_two_lanes_load_what_one_lane_loads(scratch_db: Database, tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")
    # A second accounts file must get the later load id: silver keeps the newest load's version.
    later = write_csv(landing / "crm" / "accounts_2025-04-01.csv", ACCOUNT_COLUMNS, [ACCOUNTS[0]])
    assert len(bronze.split_into_lanes(bronze.landing_files(landing), 2)) == 2
    result = load_landing(scratch_db, landing, lanes=2)

    assert [f.source_file for f in result.files] == [
        path.relative_to(landing).as_posix() for _, path in bronze.landing_files(landing)]
    assert {f.status for f in result.files} == {"loaded"}
    load_ids = {f.source_file: f.load_file_id for f in result.files}
    assert load_ids["crm/accounts.csv"] < load_ids[later.relative_to(landing).as_posix()]
    for f in result.files:
        stored = _rows(scratch_db, f'SELECT count(*) FROM bronze."{f.dataset}" WHERE _load_id = :id',
                       id=f.load_file_id)
        assert stored == [(f.rows_loaded,)] and f.rows_loaded > 0
