"""Nightly churn-model training: features at monthly cut-offs, validated on later ones, registered."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from dashboard.db import Database
from etl.gold import data_window
from etl.intelligence.features import FEATURE_LABELS, LABEL, MODEL_FEATURES, build_features, training_cutoffs
from etl.intelligence.registry import register_model
from etl.runs import recorded_run
from models.churn import train_churn_model

log = logging.getLogger(__name__)
JOB_ID = "churn_train"


@dataclass(frozen=True)
class TrainingResult:
    version: int
    metrics: dict[str, Any]
    train_rows: int
    validation_rows: int
    seconds: float


def train_churn(database: Database, *, triggered_by: str = "manual", seed: int = 0) -> TrainingResult:
    """Build features at past cut-offs, train on the earlier ones, validate on the later ones, register."""
    started = time.monotonic()
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as run, database.begin() as session:
        conn = session.connection()
        window = data_window(conn)
        train_days, validation_days = training_cutoffs(window.first_day, window.as_of)
        features = build_features(conn, train_days + validation_days)
        train = features[features["cutoff"].isin(train_days)]
        validation = features[features["cutoff"].isin(validation_days)]
        columns = list(MODEL_FEATURES)
        # Early stopping and calibration hold out the latest training cut-offs, as later ones will be scored.
        model = train_churn_model(train[columns], train[LABEL], seed=seed,
                                  validation=(validation[columns], validation[LABEL]),
                                  feature_labels=FEATURE_LABELS, observed_at=train["cutoff"])
        version = register_model(session, model, train_cutoffs=train_days, validation_cutoffs=validation_days,
                                 data_last_day=window.as_of, trained_by=triggered_by)
        run.add_rows("app.churn_model", 1)
        metrics = model.metrics.as_dict()
        log.info("churn model v%d: ROC-AUC %.3f on %d validation rows (%d training rows)",
                 version, metrics.get("roc_auc") or float("nan"), len(validation), len(train))
    return TrainingResult(version, metrics, len(train), len(validation), time.monotonic() - started)
