"""Churn model registry (app.churn_model): store trained models, pick the one that serves."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.tables.intelligence import ChurnModel as ChurnModelRow
from models.churn import ChurnModel

DEFAULT_MIN_AUC = 0.70


@dataclass(frozen=True)
class ServingModel:
    version: int
    model: ChurnModel
    roc_auc: float | None


def register_model(session: Session, model: ChurnModel, *, train_cutoffs: list[date],
                   validation_cutoffs: list[date], data_last_day: date, trained_by: str) -> int:
    """Store a trained model with its data window, features and metrics; return its version."""
    metrics = model.metrics.as_dict()
    metrics["validation_cutoffs"] = [d.isoformat() for d in validation_cutoffs]
    auc = metrics.get("roc_auc")
    row = ChurnModelRow(
        trained_by=trained_by, data_first_day=min(train_cutoffs), data_last_day=data_last_day,
        train_cutoffs=sorted(train_cutoffs), validation_cutoff=max(validation_cutoffs) if validation_cutoffs else None,
        features=list(model.feature_names), roc_auc=auc if auc is not None and math.isfinite(auc) else None,
        metrics=metrics, artefact=model.to_bytes(),
    )
    session.add(row)
    session.flush()
    return row.version


@lru_cache(maxsize=4)
def _load(version: int, artefact: bytes) -> ChurnModel:
    return ChurnModel.from_bytes(artefact)


def serving_model(session: Session, min_auc: float = DEFAULT_MIN_AUC) -> ServingModel | None:
    """The newest model whose validation ROC-AUC is at least `min_auc`, or None."""
    row = session.execute(
        select(ChurnModelRow.version, ChurnModelRow.roc_auc, ChurnModelRow.artefact)
        .where(ChurnModelRow.roc_auc >= min_auc)
        .order_by(ChurnModelRow.version.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return ServingModel(row.version, _load(row.version, row.artefact), row.roc_auc)


def has_any_model(session: Session) -> bool:
    """Whether any model has ever been trained (whatever its AUC)."""
    return session.scalar(select(ChurnModelRow.version).limit(1)) is not None
