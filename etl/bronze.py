"""Bronze loader: every landing CSV into its all-text bronze table, with COPY.

A file is identified by its SHA-256, so a file already loaded is skipped and re-running is a
no-op. Each file is loaded in one transaction: the fast path COPYs the whole file; if
PostgreSQL refuses it (a row with the wrong field count, say), the file is streamed through
Python's csv reader instead and only well-formed rows are COPYed, the rest being quarantined
with the reason and row number. A file whose header does not match its dataset is rejected
whole. `_row_number` is the record's 1-based position in the file, header excluded.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import Connection, insert, select, update

from dashboard.db import Database
from dashboard.tables.bronze import LoadFile, QuarantinedRow
from etl.datasets import DATASETS, Dataset

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


@dataclass
class FileLoad:
    """What happened to one landing file."""

    dataset: str
    source_file: str  # relative to the landing folder, e.g. "crm/accounts.csv"
    sha256: str
    status: str  # loaded, skipped (already loaded), rejected (bad header or empty file)
    rows_loaded: int = 0
    rows_quarantined: int = 0
    load_file_id: int | None = None
    error: str | None = None


@dataclass
class BronzeResult:
    """Every file seen in one bronze run."""

    files: list[FileLoad] = field(default_factory=list)

    @property
    def rows(self) -> dict[str, int]:
        """Rows loaded per bronze table in this run (tables without new rows are left out)."""
        rows: dict[str, int] = {}
        for f in self.files:
            if f.status == "loaded":
                rows[f.dataset] = rows.get(f.dataset, 0) + f.rows_loaded
        return rows

    @property
    def quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rejected(self) -> list[FileLoad]:
        return [f for f in self.files if f.status == "rejected"]


class HeaderMismatch(ValueError):
    """The file's header is not the dataset's column list."""


def landing_files(landing_dir: Path) -> list[tuple[Dataset, Path]]:
    """Every `<landing>/<system>/<name>*.csv`, paired with its dataset, in a stable order.

    When several dataset names of a system prefix a file name, the longest wins: were there
    an `accounts_history` dataset, `accounts_history_2025.csv` would not go to `accounts`.
    """
    found: list[tuple[Dataset, Path]] = []
    by_system: dict[str, list[Dataset]] = {}
    for d in DATASETS:
        by_system.setdefault(d.system, []).append(d)
    for system, datasets in sorted(by_system.items()):
        folder = landing_dir / system
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.csv")):
            matches = [d for d in datasets if path.name.startswith(d.name)]
            if not matches:
                log.warning("bronze: %s matches no dataset of system %r; ignored", path, system)
                continue
            found.append((max(matches, key=lambda d: len(d.name)), path))
    return found


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_header(path: Path) -> list[str] | None:
    """The first CSV record of the file (BOM and surrounding spaces removed), or None if empty."""
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        row = next(csv.reader(fh), None)
    if not row:
        return None
    row[0] = row[0].lstrip("\ufeff")
    return [name.strip() for name in row]


def check_header(dataset: Dataset, header: list[str] | None) -> None:
    """Raise HeaderMismatch unless `header` holds exactly the dataset's columns (any order)."""
    if header is None:
        raise HeaderMismatch("empty file: no header row")
    expected = set(dataset.columns)
    missing = [c for c in dataset.columns if c not in header]
    unexpected = [c for c in header if c not in expected]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if missing or unexpected or duplicated:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if unexpected:
            parts.append(f"unexpected columns {unexpected}")
        if duplicated:
            parts.append(f"duplicated columns {duplicated}")
        raise HeaderMismatch(f"header does not match dataset {dataset.bronze_table}: " + "; ".join(parts))


def load_landing(database: Database, landing_dir: Path, *, job_run_id: int | None = None) -> BronzeResult:
    """Load every new landing file into bronze, one transaction per file."""
    result = BronzeResult()
    files = landing_files(Path(landing_dir))
    log.info("bronze: %d landing files in %s", len(files), landing_dir)
    for dataset, path in files:
        outcome = load_file(database, dataset, path, landing_dir=Path(landing_dir), job_run_id=job_run_id)
        result.files.append(outcome)
    loaded = [f for f in result.files if f.status == "loaded"]
    log.info("bronze: %d files loaded (%d rows, %d quarantined), %d skipped, %d rejected",
             len(loaded), sum(f.rows_loaded for f in loaded), result.quarantined,
             sum(f.status == "skipped" for f in result.files), len(result.rejected))
    return result


def load_file(database: Database, dataset: Dataset, path: Path, *, landing_dir: Path | None = None,
              job_run_id: int | None = None) -> FileLoad:
    """Load one file into `bronze.<dataset>` unless a file with the same SHA-256 was loaded."""
    source_file = path.relative_to(landing_dir).as_posix() if landing_dir else path.name
    sha = file_sha256(path)
    outcome = FileLoad(dataset=dataset.bronze_table, source_file=source_file, sha256=sha, status="loaded")
    with database.engine.connect() as conn, conn.begin():
        existing = conn.scalar(select(LoadFile.id).where(LoadFile.sha256 == sha))
        if existing is not None:
            log.debug("bronze: %s already loaded (load %s); skipped", source_file, existing)
            outcome.status, outcome.load_file_id = "skipped", existing
            return outcome
        header = read_header(path)
        try:
            check_header(dataset, header)
        except HeaderMismatch as exc:
            outcome.status, outcome.error = "rejected", f"{source_file}: {exc}"
            _record_rejection(conn, dataset, source_file, header, str(exc))
            log.error("bronze: rejected %s", outcome.error)
            return outcome
        assert header is not None
        load_id = conn.scalar(
            insert(LoadFile).values(dataset=dataset.bronze_table, file_name=source_file, sha256=sha,
                                    job_run_id=job_run_id).returning(LoadFile.id))
        outcome.load_file_id = load_id
        pg = conn.connection.driver_connection
        assert isinstance(pg, psycopg.Connection)
        try:
            with conn.begin_nested():
                outcome.rows_loaded = _copy_whole_file(pg, dataset, header, path, load_id, source_file)
        except psycopg.errors.DataError as exc:
            log.info("bronze: COPY refused %s (%s); loading it row by row",
                     source_file, str(exc).splitlines()[0])
            loaded, rejects = _copy_valid_rows(pg, dataset, header, path, load_id, source_file)
            outcome.rows_loaded = loaded
            outcome.rows_quarantined = len(rejects)
            if rejects:
                conn.execute(insert(QuarantinedRow), [
                    {"load_file_id": load_id, "dataset": dataset.bronze_table, "stage": "bronze",
                     "source_file": source_file, "row_number": n, "raw": raw, "reason": reason}
                    for n, raw, reason in rejects
                ])
        conn.execute(update(LoadFile).where(LoadFile.id == load_id).values(
            rows_loaded=outcome.rows_loaded, rows_quarantined=outcome.rows_quarantined))
    log.info("bronze: %s -> bronze.%s: %d rows, %d quarantined", source_file, dataset.bronze_table,
             outcome.rows_loaded, outcome.rows_quarantined)
    return outcome


def _quoted(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _copy_whole_file(pg: psycopg.Connection, dataset: Dataset, header: list[str], path: Path,
                     load_id: int, source_file: str) -> int:
    """Fast path: COPY the file into a temporary table, then add the load metadata in one INSERT."""
    with pg.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS pg_temp._bronze_stage")
        cur.execute(
            "CREATE TEMP TABLE _bronze_stage ("
            + ", ".join(f'"{c}" text' for c in dataset.columns)
            + ", _row_number bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP")
        # The column list follows the file's header, so a reordered header still loads.
        with cur.copy(f"COPY _bronze_stage ({_quoted(header)}) FROM STDIN (FORMAT csv, HEADER true)") as copy:
            with path.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    copy.write(chunk)
        cols = _quoted(dataset.columns)
        cur.execute(
            f'INSERT INTO bronze."{dataset.bronze_table}" ({cols}, _load_id, _source_file, _row_number) '
            f"SELECT {cols}, %s, %s, _row_number FROM _bronze_stage",
            (load_id, source_file))
        count = cur.rowcount
        cur.execute("DROP TABLE pg_temp._bronze_stage")
    return count


def _records(path: Path) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(row number, fields, parse error) for every data record after the header."""
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        number = 0
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield number + 1, None, f"unparseable CSV: {exc}"
                return
            if not fields:  # a blank line: nothing to load, nothing to report
                continue
            number += 1
            yield number, fields, None


def _raw_line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


def _copy_valid_rows(pg: psycopg.Connection, dataset: Dataset, header: list[str], path: Path,
                     load_id: int, source_file: str) -> tuple[int, list[tuple[int, str, str]]]:
    """Slow path: COPY well-formed records one by one; return (loaded, [(row, raw, reason)])."""
    expected = len(header)
    loaded = 0
    rejects: list[tuple[int, str, str]] = []
    statement = (f'COPY bronze."{dataset.bronze_table}" ({_quoted(header)}, _load_id, _source_file, '
                 "_row_number) FROM STDIN")
    with pg.cursor() as cur, cur.copy(statement) as copy:
        for number, fields, error in _records(path):
            if fields is None:
                rejects.append((number, "", error or "unparseable CSV"))
            elif len(fields) != expected:
                rejects.append((number, _raw_line(fields),
                                f"wrong field count: expected {expected}, got {len(fields)}"))
            elif any("\x00" in value for value in fields):
                rejects.append((number, _raw_line(fields).replace("\x00", "\\0"), "NUL character in a field"))
            else:
                # The contract says an empty field is NULL, as in the fast path's CSV COPY.
                copy.write_row([value if value != "" else None for value in fields]
                               + [load_id, source_file, number])
                loaded += 1
    return loaded, rejects


def _record_rejection(conn: Connection, dataset: Dataset, source_file: str, header: list[str] | None,
                      reason: str) -> None:
    """Quarantine a rejected file once: re-running reports it again but does not pile up rows."""
    raw = _raw_line(header) if header else ""
    already = conn.scalar(select(QuarantinedRow.id).where(
        QuarantinedRow.stage == "bronze", QuarantinedRow.load_file_id.is_(None),
        QuarantinedRow.source_file == source_file, QuarantinedRow.reason == reason,
        QuarantinedRow.raw == raw).limit(1))
    if already is None:
        conn.execute(insert(QuarantinedRow).values(
            load_file_id=None, dataset=dataset.bronze_table, stage="bronze", source_file=source_file,
            row_number=0, raw=raw, reason=reason))
