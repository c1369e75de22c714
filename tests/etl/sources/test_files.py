"""File drops: CSV, JSONL and Parquet; processed/quarantine moves; bad files never crash or lose rows."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from dashboard.db import Database
from dashboard.tables.landing import dataset
from etl.bronze import load_landing
from etl.sources.files import FileSource, load_drops
from tests.etl.tiny_landing import CONTACTS, write_csv

CONTACT_COLUMNS = dataset("crm", "contacts").columns


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _quarantine(db: Database) -> list[tuple]:
    return _rows(db, "SELECT source_file, row_number, reason FROM bronze.quarantine ORDER BY source_file, row_number")


def _contact(n: int, **overrides) -> dict:
    record = dict(zip(CONTACT_COLUMNS, CONTACTS[0], strict=True))
    record.update(contact_id=f"CON-J{n}", email=f"j{n}@example.com", **overrides)
    return record


def test_csv_jsonl_and_parquet_load_once_and_move_to_processed(scratch_db: Database, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_csv(landing / "crm" / "contacts.csv", CONTACT_COLUMNS, CONTACTS)
    (landing / "crm" / "contacts_2026-11-23.jsonl").write_text(
        json.dumps(_contact(1, is_primary=True, phone=None)) + "\n\n" + json.dumps(_contact(2)) + "\n")
    table = pa.table({c: [r[i] or None for r in CONTACTS] for i, c in enumerate(CONTACT_COLUMNS)})
    table = table.set_column(0, "contact_id", pa.array([f"CON-P{i}" for i in range(len(CONTACTS))]))
    pq.write_table(table, landing / "crm" / "contacts_export.parquet")

    assert FileSource(landing).datasets == ("crm_contacts",)
    assert len(list(FileSource(landing).extract("crm_contacts", None))) == 3
    result = load_drops(scratch_db, landing)

    assert {f.source_file: (f.status, f.rows_loaded) for f in result.files} == {
        "crm/contacts.csv": ("loaded", len(CONTACTS)),
        "crm/contacts_2026-11-23.jsonl": ("loaded", 2),
        "crm/contacts_export.parquet": ("loaded", len(CONTACTS))}
    assert sorted(p.relative_to(landing).as_posix() for p in landing.rglob("*.*")) == [
        "processed/crm/contacts.csv", "processed/crm/contacts_2026-11-23.jsonl",
        "processed/crm/contacts_export.parquet"]
    assert _rows(scratch_db, "SELECT is_primary, phone, _row_number FROM bronze.crm_contacts "
                             "WHERE contact_id = 'CON-J1'") == [("true", None, 1)]
    assert _rows(scratch_db, "SELECT _row_number FROM bronze.crm_contacts WHERE contact_id = 'CON-J2'") == [(2,)]
    assert _rows(scratch_db, "SELECT email FROM bronze.crm_contacts WHERE contact_id = 'CON-P0'") == [(CONTACTS[0][4],)]

    # The same bytes dropped again, under another name or the same one: skipped, still moved.
    write_csv(landing / "crm" / "contacts.csv", CONTACT_COLUMNS, CONTACTS)
    again = load_drops(scratch_db, landing)
    assert [(f.status, f.archived_to) for f in again.files] == [
        ("skipped", f"processed/crm/contacts.{again.files[0].sha256[:12]}.csv")]
    assert _rows(scratch_db, "SELECT count(*) FROM bronze.load_file") == [(3,)]


def test_invalid_utf8_bytes_quarantine_the_row_not_the_file(scratch_db: Database, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    path = write_csv(landing / "crm" / "contacts.csv", CONTACT_COLUMNS, CONTACTS)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"Alice", b"Al\xefce\xff", 1)  # Latin-1 bytes in a UTF-8 file
    assert b"\xff" in lines[2]
    path.write_bytes(b"\n".join(lines))

    (outcome,) = load_drops(scratch_db, landing).files

    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", len(CONTACTS) - 1, 1)
    assert _quarantine(scratch_db) == [
        ("crm/contacts.csv", 2, "invalid UTF-8 bytes (not UTF-8 encoded) in column first_name")]
    assert "\ufffd" in _rows(scratch_db, "SELECT raw FROM bronze.quarantine")[0][0]
    assert (landing / "processed" / "crm" / "contacts.csv").exists()


def test_a_truncated_csv_keeps_every_complete_row(scratch_db: Database, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    path = write_csv(landing / "crm" / "contacts.csv", CONTACT_COLUMNS, CONTACTS)
    path.write_bytes(path.read_bytes()[:-12])  # cut inside the last record's updated_at (its last field lost too)

    (outcome,) = load_landing(scratch_db, landing).files

    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", len(CONTACTS) - 1, 1)
    ((source_file, number, reason),) = _quarantine(scratch_db)
    assert (source_file, number) == ("crm/contacts.csv", len(CONTACTS)) and "truncated file" in reason
    assert path.exists()  # archive is off by default


def test_a_truncated_jsonl_keeps_every_complete_record(scratch_db: Database, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    text_ = "".join(json.dumps(_contact(n)) + "\n" for n in range(1, 4))
    (landing / "crm").mkdir(parents=True)
    (landing / "crm" / "contacts.jsonl").write_text(text_[:-20] + "\n{\"contact_id\": \"CON-X\", \"email\": \"x@exa")

    (outcome,) = load_drops(scratch_db, landing).files

    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", 2, 2)
    reasons = _quarantine(scratch_db)
    assert [(n, r.split(":")[0]) for _, n, r in reasons] == [(3, "invalid JSON"), (4, "truncated file")]


def test_wrong_header_empty_and_damaged_files_are_rejected_to_quarantine(scratch_db: Database, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_csv(landing / "crm" / "contacts.csv", [*CONTACT_COLUMNS[:-1], "modified"], CONTACTS)
    (landing / "crm" / "leads.csv").write_bytes(b"")
    (landing / "crm" / "accounts.jsonl").write_text(json.dumps({"account_ref": "A-1", "name": "Acme"}) + "\n")
    table = pa.table({c: ["x"] for c in CONTACT_COLUMNS})
    pq.write_table(table, landing / "crm" / "contacts_damaged.parquet")
    damaged = landing / "crm" / "contacts_damaged.parquet"
    damaged.write_bytes(damaged.read_bytes()[:-30])  # footer cut off

    result = load_drops(scratch_db, landing)

    outcomes = {f.source_file: f for f in result.files}
    assert {name: f.status for name, f in outcomes.items()} == dict.fromkeys(outcomes, "rejected")
    assert "unexpected columns ['modified']" in outcomes["crm/contacts.csv"].error
    assert "empty file" in outcomes["crm/leads.csv"].error
    assert "missing key fields ['account_id']" in outcomes["crm/accounts.jsonl"].error
    assert "unreadable Parquet file" in outcomes["crm/contacts_damaged.parquet"].error
    assert sorted(p.relative_to(landing).as_posix() for p in landing.rglob("*.*")) == [
        "quarantine/crm/accounts.jsonl", "quarantine/crm/contacts.csv",
        "quarantine/crm/contacts_damaged.parquet", "quarantine/crm/leads.csv"]
    assert {r[0] for r in _quarantine(scratch_db)} == set(outcomes)
    assert _rows(scratch_db, "SELECT count(*) FROM bronze.load_file") == [(0,)]
    assert _rows(scratch_db, "SELECT count(*) FROM bronze.crm_contacts") == [(0,)]


def test_a_parquet_file_failing_mid_read_writes_nothing(scratch_db: Database, tmp_path: Path, monkeypatch) -> None:
    from etl import bronze

    landing = tmp_path / "landing"
    table = pa.table({c: [f"{c}-{i}" for i in range(5)] for c in CONTACT_COLUMNS})
    (landing / "crm").mkdir(parents=True)
    pq.write_table(table, landing / "crm" / "contacts.parquet")
    real = bronze._parquet_records

    def fail_after_two(path, ds):
        for i, record in enumerate(real(path, ds)):
            if i == 2:
                raise bronze.UnreadableFile("unreadable Parquet file after row 2: corrupt page")
            yield record

    monkeypatch.setattr(bronze, "_parquet_records", fail_after_two)
    (outcome,) = load_landing(scratch_db, landing).files
    assert outcome.status == "rejected" and "after row 2" in outcome.error
    assert _rows(scratch_db, "SELECT count(*) FROM bronze.crm_contacts") == [(0,)]
    assert _rows(scratch_db, "SELECT count(*) FROM bronze.load_file") == [(0,)]


@pytest.mark.parametrize("name", ["contacts.txt", "contacts.csv.part"])
def test_unknown_suffixes_and_partial_files_are_ignored(tmp_path: Path, name: str) -> None:
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / name).write_text("x")
    assert FileSource(tmp_path).datasets == ()
