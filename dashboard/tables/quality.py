"""Data-quality tables (schema `app`): check results per run, and profile completeness per entity.

Profile completeness lives in `app`, not `gold`: it is written by the quality checks, not by a
gold build step, and every gold table must have one (tests/etl/test_pipeline.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Double, Index, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base


class DqResult(Base):
    """The outcome of one data-quality check in one run (pipeline run or data-quality job)."""

    __tablename__ = "dq_result"
    __table_args__ = (
        Index("ix_dq_result_run_id", "run_id"),
        Index("ix_dq_result_checked_at", "checked_at"),  # latest results, and pruning old ones
        {"schema": "app"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(BigInteger)  # app.job_run.id
    stage: Mapped[str] = mapped_column(Text)  # bronze, silver or gold
    check_id: Mapped[str] = mapped_column(Text)  # stable, e.g. "silver.contacts.account_id.orphans"
    kind: Mapped[str] = mapped_column(Text)  # unique_key, not_null, orphans, range, ...
    table_name: Mapped[str] = mapped_column(Text)  # schema.table
    column_name: Mapped[str | None] = mapped_column(Text)
    # critical or warning: the outcome reached when failed, the worst possible outcome when passed
    severity: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)  # pass or fail
    observed: Mapped[float | None] = mapped_column(Double)
    threshold: Mapped[float | None] = mapped_column(Double)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProfileCompleteness(Base):
    """The share of expected profile fields present, per contact and per account."""

    __tablename__ = "profile_completeness"
    __table_args__ = {"schema": "app"}

    entity_type: Mapped[str] = mapped_column(Text, primary_key=True)  # contact or account
    entity_id: Mapped[str] = mapped_column(Text, primary_key=True)
    completeness_pct: Mapped[float] = mapped_column(Double)
    missing_fields: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
