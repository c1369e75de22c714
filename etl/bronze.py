"""Bronze loader: every landing file (CSV, JSONL, Parquet) into its all-text bronze table, with COPY.

A file is identified by its SHA-256, so a file already loaded is skipped and re-running is a
no-op. Each file is loaded in one transaction: the fast path COPYs a whole CSV file; if
PostgreSQL refuses it (a row with the wrong field count, invalid UTF-8 bytes, say), or the file
does not end with a line terminator (a truncated export), the file is streamed through Python's
csv reader instead and only well-formed rows are COPYed, the rest being quarantined with the
reason and row number. JSONL and Parquet records are converted to the same text rows and
streamed with COPY as well. A file whose header (a JSONL file's first record, a Parquet
schema) does not match its dataset, an empty file and an unreadable Parquet file are rejected
whole. `_row_number` is the record's 1-based position in the file, header excluded.

With `archive=True` a file is moved once handled: loaded or already loaded to
`<landing>/processed/<system>/`, rejected to `<landing>/quarantine/<system>/`. The move happens
after the commit; a crash in between leaves the file in place and the next run skips it by its
checksum and moves it then.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.parquet as pq
from sqlalchemy import Connection, insert, select, update

from dashboard.db import Database
from dashboard.tables.bronze import LoadFile, QuarantinedRow
from dashboard.tables.landing import DATASETS, Dataset

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
PROCESSED_DIR = "processed"
QUARANTINE_DIR = "quarantine"
# Lone surrogates are what undecodable bytes become under errors="surrogateescape".
_UNDECODABLE = re.compile("[\udc80-\udcff]")


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
    archived_to: str | None = None  # relative to the landing folder, when the file was moved


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


class UnreadableFile(ValueError):
    """The file cannot be read at all (e.g. a truncated Parquet file)."""


def file_format(path: Path) -> str | None:
    """'csv', 'jsonl' or 'parquet' from the file's suffix, or None for anything else."""
    return FORMATS.get(path.suffix.lower())


def landing_files(landing_dir: Path) -> list[tuple[Dataset, Path]]:
    """Every `<landing>/<system>/<name>*.{csv,jsonl,ndjson,parquet}`, with its dataset, in a stable order.

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
        for path in sorted(p for p in folder.iterdir() if p.is_file() and file_format(p)):
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
    """Raise HeaderMismatch unless `header` holds exactly the dataset's columns (any order); an optional
    column may be left out."""
    if header is None:
        raise HeaderMismatch("empty file: no header row")
    expected = set(dataset.columns)
    missing = [c for c in dataset.columns if c not in header and c not in dataset.optional]
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


def load_landing(database: Database, landing_dir: Path, *, job_run_id: int | None = None,
                 archive: bool = False, lanes: int = 2) -> BronzeResult:
    """Load every new landing file into bronze, one transaction per file; archive=True moves them after.

    The files go through `lanes` connections side by side: PostgreSQL parses a COPY on its own
    core, so a second lane keeps a second core busy. A dataset's files stay in one lane, in order,
    so a later file of a dataset always gets the later load id (silver's "newest version" rule).
    """
    files = landing_files(Path(landing_dir))
    log.info("bronze: %d landing files in %s", len(files), landing_dir)

    def load(dataset: Dataset, path: Path) -> FileLoad:
        return load_file(database, dataset, path, landing_dir=Path(landing_dir), job_run_id=job_run_id,
                         archive=archive)

    outcomes: dict[Path, FileLoad] = {}
    lanes_of_files = split_into_lanes(files, lanes)
    if len(lanes_of_files) <= 1:
        outcomes.update((path, load(dataset, path)) for dataset, path in files)
    else:
        def run_lane(lane: list[tuple[Dataset, Path]]) -> list[tuple[Path, FileLoad]]:
            return [(path, load(dataset, path)) for dataset, path in lane]

        with ThreadPoolExecutor(max_workers=len(lanes_of_files), thread_name_prefix="bronze") as pool:
            for finished in pool.map(run_lane, lanes_of_files):
                outcomes.update(finished)
    result = BronzeResult(files=[outcomes[path] for _, path in files])
    loaded = [f for f in result.files if f.status == "loaded"]
    log.info("bronze: %d files loaded (%d rows, %d quarantined), %d skipped, %d rejected",
             len(loaded), sum(f.rows_loaded for f in loaded), result.quarantined,
             sum(f.status == "skipped" for f in result.files), len(result.rejected))
    return result


def split_into_lanes(files: list[tuple[Dataset, Path]], lanes: int) -> list[list[tuple[Dataset, Path]]]:
    """The files in at most `lanes` lists of about equal bytes, each dataset whole and in order.

    Files of the same size share a lane too: only they can be the same file under two names, and
    two lanes loading one checksum at once would collide on its unique key instead of skipping it.
    """
    groups: list[list[tuple[Dataset, Path]]] = []
    group_of: dict[object, int] = {}
    for dataset, path in files:
        keys = (("dataset", dataset.bronze_table), ("size", path.stat().st_size))
        found = sorted({group_of[k] for k in keys if k in group_of})
        if not found:
            groups.append([])
            target = len(groups) - 1
        else:
            target = found[0]
            for other in found[1:]:  # this file joins two groups: merge them, keeping file order
                groups[target] += groups[other]
                groups[other] = []
                group_of.update({k: target for k, g in group_of.items() if g == other})
        groups[target].append((dataset, path))
        group_of.update({k: target for k in keys})
    order = {path: n for n, (_, path) in enumerate(files)}
    lane_files: list[list[tuple[Dataset, Path]]] = [[] for _ in range(max(1, lanes))]
    lane_bytes = [0] * len(lane_files)
    sized = [(sum(p.stat().st_size for _, p in g), g) for g in groups if g]
    for size, group in sorted(sized, key=lambda item: -item[0]):
        lightest = lane_bytes.index(min(lane_bytes))
        lane_files[lightest] += group
        lane_bytes[lightest] += size
    return [sorted(lane, key=lambda item: order[item[1]]) for lane in lane_files if lane]


def load_file(database: Database, dataset: Dataset, path: Path, *, landing_dir: Path | None = None,
              job_run_id: int | None = None, archive: bool = False) -> FileLoad:
    """Load one file into `bronze.<dataset>` unless a file with the same SHA-256 was loaded."""
    outcome = _load_file(database, dataset, path, landing_dir=landing_dir, job_run_id=job_run_id)
    if archive and landing_dir is not None:
        folder = QUARANTINE_DIR if outcome.status == "rejected" else PROCESSED_DIR
        outcome.archived_to = archive_file(path, Path(landing_dir), folder, outcome.sha256)
    return outcome


def archive_file(path: Path, landing_dir: Path, folder: str, sha256: str) -> str:
    """Move a handled file to `<landing>/<folder>/<system>/`; return its new relative path.

    A file of the same name already there (a re-export under the same name) is kept: the new
    one gets its checksum's first 12 characters added to its name.
    """
    target_dir = landing_dir / folder / path.parent.name
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{path.stem}.{sha256[:12]}{path.suffix}"
    os.replace(path, target)
    return target.relative_to(landing_dir).as_posix()


def _load_file(database: Database, dataset: Dataset, path: Path, *, landing_dir: Path | None,
               job_run_id: int | None) -> FileLoad:
    source_file = path.relative_to(landing_dir).as_posix() if landing_dir else path.name
    sha = file_sha256(path)
    fmt = file_format(path) or "csv"
    outcome = FileLoad(dataset=dataset.bronze_table, source_file=source_file, sha256=sha, status="loaded")
    with database.engine.connect() as conn, conn.begin():
        existing = conn.scalar(select(LoadFile.id).where(LoadFile.sha256 == sha))
        if existing is not None:
            log.debug("bronze: %s already loaded (load %s); skipped", source_file, existing)
            outcome.status, outcome.load_file_id = "skipped", existing
            return outcome
        header: list[str] | None = None
        try:
            if fmt == "csv":
                header = read_header(path)
                check_header(dataset, header)
            elif fmt == "jsonl":
                header = _jsonl_fields(path)
                check_fields(dataset, header)
            else:
                header = _parquet_columns(path)
                check_header(dataset, header)
            with conn.begin_nested():
                _load_records(conn, outcome, dataset, fmt, header, path, job_run_id)
        except (HeaderMismatch, UnreadableFile) as exc:
            outcome.status, outcome.error = "rejected", f"{source_file}: {exc}"
            outcome.rows_loaded = outcome.rows_quarantined = 0
            outcome.load_file_id = None
            _record_rejection(conn, dataset, source_file, header, str(exc))
            log.error("bronze: rejected %s", outcome.error)
            return outcome
    log.info("bronze: %s -> bronze.%s: %d rows, %d quarantined", source_file, dataset.bronze_table,
             outcome.rows_loaded, outcome.rows_quarantined)
    return outcome


def _load_records(conn: Connection, outcome: FileLoad, dataset: Dataset, fmt: str, header: list[str] | None,
                  path: Path, job_run_id: int | None) -> None:
    """Record the file in bronze.load_file, COPY its rows and quarantine the bad ones."""
    assert header is not None
    source_file = outcome.source_file
    load_id = conn.scalar(
        insert(LoadFile).values(dataset=dataset.bronze_table, file_name=source_file, sha256=outcome.sha256,
                                job_run_id=job_run_id).returning(LoadFile.id))
    outcome.load_file_id = load_id
    pg = conn.connection.driver_connection
    assert isinstance(pg, psycopg.Connection)
    rejects: list[Reject] = []
    if fmt == "csv":
        try:
            if not _ends_with_newline(path):
                raise _TakeSlowPath("the last line has no line terminator")
            with conn.begin_nested():
                outcome.rows_loaded = _copy_whole_file(pg, dataset, header, path, load_id, source_file)
        except (psycopg.errors.DataError, _TakeSlowPath) as exc:
            log.info("bronze: COPY refused %s (%s); loading it row by row",
                     source_file, str(exc).splitlines()[0])
            outcome.rows_loaded, rejects = _copy_valid_rows(pg, dataset, header, path, load_id, source_file)
    else:
        records = _jsonl_records(path, dataset) if fmt == "jsonl" else _parquet_records(path, dataset)
        outcome.rows_loaded, rejects = _copy_records(pg, dataset, records, load_id, source_file)
    outcome.rows_quarantined = len(rejects)
    if rejects:
        conn.execute(insert(QuarantinedRow), [
            {"load_file_id": load_id, "dataset": dataset.bronze_table, "stage": "bronze",
             "source_file": source_file, "row_number": n, "raw": raw, "reason": reason, "record_key": key}
            for n, raw, reason, key in rejects
        ])
    conn.execute(update(LoadFile).where(LoadFile.id == load_id).values(
        rows_loaded=outcome.rows_loaded, rows_quarantined=outcome.rows_quarantined))


class _TakeSlowPath(Exception):
    """The CSV fast path would load something it should not; stream the file row by row."""


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            return True
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) in (b"\n", b"\r")


def check_fields(dataset: Dataset, fields: list[str] | None) -> None:
    """A JSONL file's first record: no unknown field, every key column present (others may be omitted)."""
    if fields is None:
        raise HeaderMismatch("empty file: no record")
    unexpected = [f for f in fields if f not in dataset.columns]
    missing = [k for k in dataset.key if k not in fields]
    if unexpected or missing:
        parts = []
        if missing:
            parts.append(f"missing key fields {missing}")
        if unexpected:
            parts.append(f"unexpected fields {unexpected}")
        raise HeaderMismatch(f"first record does not match dataset {dataset.bronze_table}: " + "; ".join(parts))


def _text(value: object) -> str | None:
    """A JSON or Parquet value as bronze text: the contract's NULL is None or an empty string."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return str(value)


def _jsonl_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    number = 0
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            number += 1
            yield number, line


def _jsonl_fields(path: Path) -> list[str] | None:
    """The fields of the first JSON object in the file, or None if there is none."""
    for _, line in _jsonl_lines(path):
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(record, dict):
            return list(record)
    return None


def _jsonl_records(path: Path, dataset: Dataset) -> Iterator[tuple[int, list[str | None] | None, str, str | None]]:
    """(row number, values in dataset column order, raw, error) for every non-blank line."""
    columns = dataset.columns
    for number, line in _jsonl_lines(path):
        raw = line.decode("utf-8", errors="replace").rstrip("\r\n")
        try:
            record = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield number, None, raw, f"invalid UTF-8 bytes at byte {exc.start}"
            continue
        except json.JSONDecodeError as exc:
            truncated = not line.endswith(b"\n")
            yield number, None, raw, ("truncated file: " if truncated else "") + f"invalid JSON: {exc}"
            continue
        if not isinstance(record, dict):
            yield number, None, raw, "not a JSON object"
            continue
        unexpected = [k for k in record if k not in columns]
        if unexpected:
            yield number, None, raw, f"unexpected fields {unexpected}"
            continue
        yield number, [_text(record.get(c)) for c in columns], raw, None


def _parquet_columns(path: Path) -> list[str]:
    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError... for a damaged file
        raise UnreadableFile(f"unreadable Parquet file: {exc}") from None


def _parquet_records(path: Path, dataset: Dataset) -> Iterator[tuple[int, list[str | None] | None, str, str | None]]:
    number = 0
    try:
        parquet = pq.ParquetFile(path)
        present = set(parquet.schema_arrow.names)  # an optional column may be left out
        columns = [c for c in dataset.columns if c in present]
        for batch in parquet.iter_batches(batch_size=10_000, columns=columns):
            for record in batch.to_pylist():
                number += 1
                values = [_text(record.get(c)) for c in dataset.columns]
                yield number, values, "", None
    except Exception as exc:
        raise UnreadableFile(f"unreadable Parquet file after row {number}: {exc}") from None


def _copy_records(pg: psycopg.Connection, dataset: Dataset,
                  records: Iterable[tuple[int, list[str | None] | None, str, str | None]],
                  load_id: int, source_file: str) -> tuple[int, list[Reject]]:
    """COPY converted JSONL/Parquet rows; return (loaded, [(row, raw, reason, key)])."""
    loaded = 0
    rejects: list[Reject] = []
    statement = (f'COPY bronze."{dataset.bronze_table}" ({_quoted(dataset.columns)}, _load_id, _source_file, '
                 "_row_number) FROM STDIN")
    with pg.cursor() as cur, cur.copy(statement) as copy:
        for number, values, raw, error in records:
            if values is None:
                rejects.append((number, raw.replace("\x00", "\\0"), error or "unreadable record", None))
            elif any(v is not None and "\x00" in v for v in values):
                rejects.append((number, raw.replace("\x00", "\\0") or _raw_line([v or "" for v in values])
                                .replace("\x00", "\\0"), "NUL character in " + _columns_where(
                                    dataset.columns, values, lambda v: "\x00" in v),
                                _record_key(dataset, dataset.columns, values)))
            else:
                copy.write_row([*values, load_id, source_file, number])
                loaded += 1
    return loaded, rejects


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
    # Undecodable bytes survive as lone surrogates, so the row can be quarantined, not mangled.
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
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


Reject = tuple[int, str, str, str | None]  # row number, raw text, reason, the row's key when it can be read


def _columns_where(columns: list[str] | tuple[str, ...], values: list[str | None], bad: Any) -> str:
    """'column x' or 'columns x, y': the columns whose value `bad` finds fault with."""
    names = [c for c, v in zip(columns, values, strict=False) if v is not None and bad(v)]
    return ("column " if len(names) == 1 else "columns ") + ", ".join(names)


def _record_key(dataset: Dataset, columns: list[str] | tuple[str, ...], values: list[str | None]) -> str | None:
    """The row's own key (single-column keys) when it reads cleanly: so that the rows of a child
    dataset can tell that their parent was quarantined."""
    if len(dataset.key) != 1 or dataset.key[0] not in columns:
        return None
    position = list(columns).index(dataset.key[0])
    if position >= len(values) or (position > 0 and len(values) != len(columns)):
        return None  # with a field too many or too few, only the first one is surely in its place
    key = values[position]
    if not key or _UNDECODABLE.search(key) or "\x00" in key:
        return None
    return key.strip()


def _raw_line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


def _copy_valid_rows(pg: psycopg.Connection, dataset: Dataset, header: list[str], path: Path,
                     load_id: int, source_file: str) -> tuple[int, list[Reject]]:
    """Slow path: COPY well-formed records one by one; return (loaded, [(row, raw, reason, key)])."""
    expected = len(header)
    loaded = 0
    rejects: list[Reject] = []
    statement = (f'COPY bronze."{dataset.bronze_table}" ({_quoted(header)}, _load_id, _source_file, '
                 "_row_number) FROM STDIN")
    truncated = not _ends_with_newline(path)
    with pg.cursor() as cur, cur.copy(statement) as copy:
        records = _records(path)
        current = next(records, None)
        while current is not None:
            following = next(records, None)
            number, fields, error = current
            # A file cut short ends without a line terminator: its last record may be cut too.
            cut = " (truncated file: the last line has no line terminator)" if truncated and following is None else ""
            key = _record_key(dataset, header, fields) if fields is not None else None
            if fields is None:
                rejects.append((number, "", (error or "unparseable CSV") + cut, None))
            elif len(fields) != expected:
                rejects.append((number, _printable(_raw_line(fields)),
                                f"wrong field count: expected {expected}, got {len(fields)}{cut}", key))
            elif cut:
                rejects.append((number, _printable(_raw_line(fields)), "truncated file: the last line has no "
                                f"line terminator, so it may be cut (in column {header[-1]} or before)", key))
            elif any(_UNDECODABLE.search(value) for value in fields):
                rejects.append((number, _printable(_raw_line(fields)), "invalid UTF-8 bytes (not UTF-8 encoded) in "
                                + _columns_where(header, fields, _UNDECODABLE.search), key))
            elif any("\x00" in value for value in fields):
                rejects.append((number, _printable(_raw_line(fields)),
                                "NUL character in " + _columns_where(header, fields, lambda v: "\x00" in v), key))
            else:
                # The contract says an empty field is NULL, as in the fast path's CSV COPY.
                copy.write_row([value if value != "" else None for value in fields]
                               + [load_id, source_file, number])
                loaded += 1
            current = following
    return loaded, rejects


def _printable(raw: str) -> str:
    """A raw line safe to store as text: NUL shown as \\0, undecodable bytes as U+FFFD."""
    raw = raw.replace("\x00", "\\0")
    return _UNDECODABLE.sub("\ufffd", raw)


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
