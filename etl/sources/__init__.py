"""Sources: every system Client360 reads, behind one interface (etl.sources.base.Source).

- File drops (etl.sources.files): CSV, JSONL and Parquet in `<landing>/<system>/`, loaded into
  bronze once each (by checksum), then moved to `processed/` or `quarantine/`. The chat/WhatsApp
  export (support conversations and messages, marketing sends with delivery statuses) and the
  web-analytics export (web sessions with source, medium and conversions) may be dropped there
  already in the contract's shape, e.g. `support/messages_2026-11-23.jsonl`; exports in their
  own shape go to their own folders instead and are mapped (etl.sources.chat, etl.sources.web).
- Pulled sources (Salesforce, HubSpot, and the JSON exports of etl.sources.chat and web): `pull_all` asks each configured one for what changed since
  its watermarks, maps each batch with etl/mapping/<source>.json and lands it as a CSV of the
  landing contract in `<landing>/<system>/` (plus the raw JSON in `<landing>/_raw/<source>/`, for
  replay); the bronze loader then picks the CSVs up like any other drop.

    result = pull_all(database, landing_dir, settings.sources)
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from dashboard.db import Database
from dashboard.settings import Settings, SourceSettings
from dashboard.tables.bronze import QuarantinedRow
from etl.sources.base import Batch, Source, SourceError, get_watermark, set_watermark
from etl.sources.chat import chat_source
from etl.sources.hubspot import HubSpotSource
from etl.sources.mapping import RecordError, TableMap, load_mapping
from etl.sources.salesforce import SalesforceSource
from etl.sources.web import web_source

log = logging.getLogger(__name__)

__all__ = ["Batch", "PullResult", "PulledDataset", "Source", "SourceError", "SourceSettings",
           "configured_sources", "land_batch", "pull_all", "pull_source"]


def _salesforce(settings: SourceSettings) -> Source | None:
    return SalesforceSource(settings) if settings.salesforce_configured else None


def _hubspot(settings: SourceSettings) -> Source | None:
    return HubSpotSource(settings) if settings.hubspot_configured else None


def _chat(settings: SourceSettings) -> Source | None:
    return chat_source(settings.chat_export_dir) if settings.chat_export_dir else None


def _web(settings: SourceSettings) -> Source | None:
    return web_source(settings.web_export_dir) if settings.web_export_dir else None


# The pulled sources, in pull order; each factory returns None when its settings are missing.
# (Plain file drops in the landing folder need no pull: the bronze loader reads them directly.)
API_SOURCES: dict[str, Callable[[SourceSettings], Source | None]] = {
    "salesforce": _salesforce,
    "hubspot": _hubspot,
    "chat": _chat,
    "web": _web,
}


@dataclass
class PulledDataset:
    """What one source dataset gave in one pull."""

    source: str
    dataset: str
    records: int = 0
    rejected: int = 0
    files: list[str] = field(default_factory=list)  # landed, relative to the landing folder
    watermark: str | None = None


@dataclass
class PullResult:
    """Every dataset pulled, the sources skipped (not configured) and the sources that failed."""

    datasets: list[PulledDataset] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return sum(d.records for d in self.datasets)

    @property
    def files(self) -> list[str]:
        return [f for d in self.datasets for f in d.files]


def configured_sources(settings: SourceSettings) -> tuple[list[Source], list[str]]:
    """(the API sources with settings, the names of those without)."""
    sources: list[Source] = []
    skipped: list[str] = []
    for name, factory in API_SOURCES.items():
        source = factory(settings)
        if source is None:
            skipped.append(name)
        else:
            sources.append(source)
    return sources, skipped


def land_batch(landing_dir: Path, source: str, table: TableMap, batch: Batch, *, sequence: int,
               stamp: str) -> tuple[Path | None, list[tuple[int, str, str]]]:
    """Write a batch as a landing-contract CSV (atomically) and its raw JSONL; return (csv, rejects)."""
    dataset = table.dataset
    rows: list[dict[str, str | None]] = []
    rejects: list[tuple[int, str, str]] = []
    for number, record in enumerate(batch.records, start=1):
        try:
            rows.append(table.map_record(record))
        except RecordError as exc:
            rejects.append((number, json.dumps(record, ensure_ascii=False, default=str), str(exc)))
    if not batch.records:
        return None, rejects
    base = f"{dataset.name}_{source}_{stamp}_{sequence:04d}"
    raw_dir = landing_dir / "_raw" / source
    raw_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(raw_dir / f"{table.name}_{stamp}_{sequence:04d}.jsonl", lambda fh: fh.writelines(
        json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in batch.records))
    if not rows:
        return None, rejects
    folder = landing_dir / dataset.system
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{base}.csv"

    def write(fh) -> None:
        writer = csv.DictWriter(fh, fieldnames=list(dataset.columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    _write_atomically(path, write)
    return path, rejects


def _write_atomically(path: Path, write: Callable) -> None:
    # The loader only globs complete names (*.csv), so a half-written ".part" is never loaded.
    partial = path.with_name(path.name + ".part")
    with partial.open("w", encoding="utf-8", newline="") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, path)


def pull_source(database: Database, source: Source, landing_dir: Path,
                into: list[PulledDataset] | None = None) -> list[PulledDataset]:
    """Pull every dataset of one source from its watermark; save each watermark once its batch is landed.

    Outcomes are appended to `into` as they happen, so a caller still sees what was landed
    before a later dataset failed.
    """
    mapping = getattr(source, "mapping", None) or load_mapping(source.name)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    pulled: list[PulledDataset] = [] if into is None else into
    for name in source.datasets:
        table = mapping.tables[name]
        with database.engine.connect() as conn:
            watermark = get_watermark(conn, source.name, name)
        outcome = PulledDataset(source=source.name, dataset=name, watermark=watermark)
        pulled.append(outcome)
        for sequence, batch in enumerate(source.extract(name, watermark), start=1):
            path, rejects = land_batch(landing_dir, source.name, table, batch, sequence=sequence, stamp=stamp)
            outcome.records += len(batch.records) - len(rejects)
            outcome.rejected += len(rejects)
            if path is not None:
                outcome.files.append(path.relative_to(landing_dir).as_posix())
            with database.engine.begin() as conn:
                if rejects:
                    conn.execute(insert(QuarantinedRow), [
                        {"load_file_id": None, "dataset": table.dataset.bronze_table, "stage": "bronze",
                         "source_file": f"{source.name}:{name}", "row_number": n, "raw": raw, "reason": reason}
                        for n, raw, reason in rejects])
                if batch.watermark and batch.watermark != outcome.watermark:
                    set_watermark(conn, source.name, name, batch.watermark)
                    outcome.watermark = batch.watermark
        log.info("sources: %s %s: %d records landed, %d rejected, watermark %s", source.name, name,
                 outcome.records, outcome.rejected, outcome.watermark)
    return pulled


def pull_all(database: Database, landing_dir: Path, settings: SourceSettings | None = None) -> PullResult:
    """Pull every configured API source into the landing folder; one failing source does not stop the rest.

    Without `settings`, the sources configured in the environment (see dashboard.settings)."""
    settings = settings or Settings.from_env().sources
    result = PullResult()
    sources, result.skipped = configured_sources(settings)
    for name in result.skipped:
        log.info("sources: %s not configured; skipped", name)
    for source in sources:
        try:
            pull_source(database, source, Path(landing_dir), into=result.datasets)
        except SourceError as exc:
            result.errors[source.name] = str(exc)
            log.error("sources: %s", exc)
    return result
