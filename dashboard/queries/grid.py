"""Rows for a page's data grid, shared by the grid on screen and its CSV/Excel export.

A query function returns `GridRows`: the columns (field, header and kind) and the rows as
plain dicts, already limited to the caller's scope and masked by their policy. The page's
grid and `dashboard.export` both render the same object, so an export is exactly the grid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# How a column is shown: the grid picks a formatter and alignment, the export a cell type.
TEXT, COUNT, USD, PERCENT, DAY, BAND, ACCOUNT, CHIP = "text", "count", "usd", "percent", "day", "band", "account", \
    "chip"


@dataclass(frozen=True)
class GridColumn:
    """One column: the row key, its header, how it is shown, and whether it stays pinned left."""

    field: str
    header: str
    kind: str = TEXT
    pinned: bool = False
    # Chip columns: which score (churn, health, engagement) the level belongs to.
    score: str | None = None


@dataclass(frozen=True)
class GridRows:
    """A grid's columns and rows; `key_field` names the pinned key column."""

    columns: tuple[GridColumn, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    key_field: str = ""

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.columns]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def records_by_header(self) -> list[dict[str, Any]]:
        """Rows keyed by header, in column order, as exports write them."""
        return [{c.header: row.get(c.field) for c in self.columns} for row in self.rows]

    @property
    def empty(self) -> bool:
        return not self.rows


def plain_rows(records: Sequence[Mapping[str, Any]], columns: Sequence[GridColumn]) -> list[dict[str, Any]]:
    """Only the declared fields of each record (extra keys such as ids for links are kept by
    declaring them as columns)."""
    return [{c.field: record.get(c.field) for c in columns} for record in records]
