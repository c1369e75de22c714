"""The one interface every source implements, and where watermarks are kept.

A source lists what is new since a watermark and yields it in batches:

    for batch in source.extract("Account", watermark="2026-11-01T00:00:00.000+0000"):
        land(batch)                              # records -> a landing file
        set_watermark(conn, source.name, "Account", batch.watermark)

A batch's watermark is the highest source timestamp in it; the connector asks for records
strictly after it next time. The watermark is saved only once the batch is landed, so a crash
re-reads at most one batch (bronze is append-only and silver keeps the latest version).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from etl.watermarks import get_watermark, set_watermark


class SourceError(RuntimeError):
    """A source could not be read (after retries); the message never contains a secret."""


@dataclass
class Batch:
    """Records of one source dataset, as received, with the watermark reached after them."""

    dataset: str  # the source's own name, e.g. "Account" or "companies"
    records: list[dict[str, Any]] = field(default_factory=list)
    watermark: str | None = None
    path: Path | None = None  # set instead of records by file-based sources


class Source(Protocol):
    """A source system: its datasets and an incremental extract for each."""

    name: str

    @property
    def datasets(self) -> tuple[str, ...]:
        """The source datasets this connector reads, in order."""
        ...

    def extract(self, dataset: str, watermark: str | None) -> Iterator[Batch]:
        """Yield every record of `dataset` changed after `watermark` (all when None), in batches."""
        ...


__all__ = ["Batch", "Source", "SourceError", "get_watermark", "set_watermark"]
