"""Watermarks: how far each incremental step (a source pull, a silver or gold refresh) has got.

Apart from the source clients so that the refresh steps, and the lineage that reads their
registries, never load the HTTP clients of `etl.sources`.
"""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert

from dashboard.tables.sources import SourceWatermark


def get_watermark(conn: Connection, source: str, dataset: str) -> str | None:
    """The saved watermark of one source dataset, or None before its first pull."""
    return conn.scalar(select(SourceWatermark.value).where(
        SourceWatermark.source == source, SourceWatermark.dataset == dataset))


def set_watermark(conn: Connection, source: str, dataset: str, value: str) -> None:
    """Save (insert or replace) the watermark of one source dataset."""
    statement = insert(SourceWatermark).values(source=source, dataset=dataset, value=value)
    conn.execute(statement.on_conflict_do_update(
        index_elements=[SourceWatermark.source, SourceWatermark.dataset],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at}))
