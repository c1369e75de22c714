"""Bronze: every landing dataset as received, all text, plus load metadata.

The tables are generated from `dashboard.tables.landing.DATASETS`, so a new source needs no
hand-written table class here, only a dataset entry and a migration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base
from dashboard.tables.landing import DATASETS

LOAD_METADATA_COLUMNS = ("_load_id", "_source_file", "_row_number", "_loaded_at")


class LoadFile(Base):
    """One landing file loaded into bronze, identified by its checksum."""

    __tablename__ = "load_file"
    __table_args__ = {"schema": "bronze"}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dataset: Mapped[str] = mapped_column(Text, index=True)
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text, unique=True)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    job_run_id: Mapped[int | None] = mapped_column(BigInteger)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class QuarantinedRow(Base):
    """A landing row that could not be accepted, with the reason."""

    __tablename__ = "quarantine"
    __table_args__ = (
        Index("ix_bronze_quarantine_dataset_record_key", "dataset", "record_key",
              postgresql_where=text("record_key IS NOT NULL")),
        Index("ix_bronze_quarantine_waiting", "dataset", "waiting_on", postgresql_where=text("waiting_on IS NOT NULL")),
        {"schema": "bronze"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    load_file_id: Mapped[int | None] = mapped_column(ForeignKey("bronze.load_file.id"))
    dataset: Mapped[str] = mapped_column(Text, index=True)
    # 'bronze': rejected while loading the file (kept across runs); 'silver': failed a type or
    # required-value check while building silver (replaced on every rebuild).
    stage: Mapped[str] = mapped_column(Text, default="bronze", server_default="bronze")
    source_file: Mapped[str | None] = mapped_column(Text)
    row_number: Mapped[int | None] = mapped_column(Integer)
    raw: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    # The row's own key (single-column keys), so rows of a child dataset can see that their
    # parent was quarantined.
    record_key: Mapped[str | None] = mapped_column(Text)
    # Set when the row is not bad in itself and comes back by itself: the dataset it waits on
    # (a parent's, or the FX feed) and what must arrive there (the parent key, "<currency> <day>").
    waiting_on: Mapped[str | None] = mapped_column(Text)
    waiting_key: Mapped[str | None] = mapped_column(Text)
    quarantined_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


def _bronze_table(table_name: str, columns: tuple[str, ...]) -> Table:
    return Table(
        table_name,
        Base.metadata,
        *(Column(name, Text) for name in columns),
        # bronze.load_file.id, without a foreign key: the loader writes both in one transaction,
        # and a per-row key check doubled the time of loading a file.
        Column("_load_id", BigInteger, nullable=False, index=True),
        Column("_source_file", Text, nullable=False),
        Column("_row_number", Integer, nullable=False),
        Column("_loaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        schema="bronze",
    )


BRONZE_TABLES: dict[str, Table] = {
    d.bronze_table: _bronze_table(d.bronze_table, d.columns) for d in DATASETS
}
