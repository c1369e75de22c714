"""File drops: CSV, JSONL and Parquet files in `<landing>/<system>/`, one subfolder per system.

The work is done by the bronze loader (etl.bronze): each file is loaded once, recognised by its
SHA-256, in one transaction, and then moved to `<landing>/processed/<system>/` (loaded, or a
copy of a file already loaded) or `<landing>/quarantine/<system>/` (rejected whole: wrong
header, empty, unreadable; the reason is in bronze.quarantine). Bad rows inside an accepted
file (invalid UTF-8, wrong field count, a truncated last line, invalid JSON) are quarantined
row by row and the good rows load.

The chat/WhatsApp export (support/conversations*, support/messages*, marketing/sends* with
delivery statuses) and the web-analytics export (web/sessions* with source, medium and
conversions) arrive this way, as JSONL or CSV files with the landing contract's fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dashboard.db import Database
from etl.bronze import BronzeResult, file_sha256, landing_files, load_landing
from etl.sources.base import Batch


class FileSource:
    """The landing folder as a Source: each batch is one file not yet handled."""

    name = "files"

    def __init__(self, landing_dir: Path):
        self.landing_dir = Path(landing_dir)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(sorted({d.bronze_table for d, _ in landing_files(self.landing_dir)}))

    def extract(self, dataset: str, watermark: str | None) -> Iterator[Batch]:
        """Every file of `dataset` still in the landing folder; a file's watermark is its checksum.

        Files are tracked by checksum in bronze.load_file rather than by a watermark, since drops
        arrive in any order; `watermark` is accepted for the interface and ignored.
        """
        for found, path in landing_files(self.landing_dir):
            if found.bronze_table == dataset:
                yield Batch(dataset=dataset, path=path, watermark=file_sha256(path))


def load_drops(database: Database, landing_dir: Path, *, job_run_id: int | None = None,
               archive: bool = True) -> BronzeResult:
    """Load every file drop into bronze and move each to processed/ or quarantine/."""
    return load_landing(database, landing_dir, job_run_id=job_run_id, archive=archive)
