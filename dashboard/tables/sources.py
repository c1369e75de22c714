"""Source bookkeeping: how far each source system has been read, per dataset."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base


class SourceWatermark(Base):
    """The last source value read for one (source, dataset), e.g. a SystemModstamp."""

    __tablename__ = "source_watermark"
    __table_args__ = {"schema": "app"}

    source: Mapped[str] = mapped_column(Text, primary_key=True)  # e.g. "salesforce"
    dataset: Mapped[str] = mapped_column(Text, primary_key=True)  # the source's object, e.g. "Account"
    # Kept as the source's own text (ISO timestamp, epoch millis...): only its connector compares it.
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now())


class GoldPendingAccount(Base):
    """An account whose silver records changed since gold was last built: the per-customer gold
    tables refresh just these (etl.gold). Emptied when a gold build commits."""

    __tablename__ = "gold_pending_account"
    __table_args__ = {"schema": "app"}

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)  # a regional account id
