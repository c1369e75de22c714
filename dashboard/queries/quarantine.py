"""Quarantined landing rows: what was refused, from where, and why."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.tables.bronze import QuarantinedRow


@dataclass(frozen=True)
class QuarantineSummaryRow:
    dataset: str
    stage: str
    rows: int


def quarantine_summary(session: Session) -> list[QuarantineSummaryRow]:
    """Quarantined row counts per dataset and stage, largest first."""
    statement = (select(QuarantinedRow.dataset, QuarantinedRow.stage, func.count())
                 .group_by(QuarantinedRow.dataset, QuarantinedRow.stage)
                 .order_by(func.count().desc(), QuarantinedRow.dataset))
    return [QuarantineSummaryRow(dataset, stage, count) for dataset, stage, count in session.execute(statement)]


def quarantined_rows(session: Session, *, dataset: str | None = None, limit: int = 50) -> list[QuarantinedRow]:
    """The newest quarantined rows, optionally for one dataset."""
    statement = select(QuarantinedRow).order_by(QuarantinedRow.id.desc()).limit(max(1, min(limit, 10_000)))
    if dataset:
        statement = statement.where(QuarantinedRow.dataset == dataset)
    return list(session.scalars(statement))
