"""JSON exports as a source: files an external job writes into an export folder, mapped by config.

The chat/WhatsApp export (etl.sources.chat) and the web-analytics export (etl.sources.web) are
read this way: each dataset is `<export_dir>/<dataset>*.jsonl` (or `.json` holding a list),
files are taken in name order (exports carry a timestamp in their names) and the watermark is
the name of the last file read, so each file is read once. Records are mapped with
etl/mapping/<source>.json and landed by `pull_all` like the API sources' batches.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from etl.sources.base import Batch
from etl.sources.mapping import SourceMapping, load_mapping

log = logging.getLogger(__name__)


class JsonExportSource:
    """One export folder whose files are named after the mapping's tables."""

    def __init__(self, name: str, export_dir: Path, mapping: SourceMapping | None = None):
        self.name = name
        self.export_dir = Path(export_dir)
        self.mapping = mapping or load_mapping(name)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(self.mapping.tables)

    def files(self, dataset: str) -> list[Path]:
        """Export files of one dataset, oldest name first; longer dataset names win a shared prefix."""
        others = [d for d in self.datasets if d != dataset and d.startswith(dataset)]
        return sorted(p for p in self.export_dir.glob(f"{dataset}*")
                      if p.suffix in (".jsonl", ".json") and not any(p.name.startswith(o) for o in others))

    def extract(self, dataset: str, watermark: str | None) -> Iterator[Batch]:
        """One batch per export file named after `watermark`; bad lines are skipped and logged."""
        for path in self.files(dataset):
            if watermark is not None and path.name <= watermark:
                continue
            yield Batch(dataset=dataset, records=list(_read(path)), watermark=path.name, path=path)


def _read(path: Path) -> Iterator[dict[str, Any]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        loaded = json.loads(text)
        yield from (r for r in (loaded if isinstance(loaded, list) else [loaded]) if isinstance(r, dict))
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            log.warning("%s line %d: invalid JSON (%s); skipped", path, number, exc)
            continue
        if isinstance(record, dict):
            yield record
