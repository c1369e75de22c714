"""Session fixtures: the churn model trained once and the scoring job run once on the demo data."""

from __future__ import annotations

import pytest

from dashboard.db import Database


@pytest.fixture(scope="session")
def trained_model(loaded_database: Database):
    """The churn-training job run once on the session's small demo data."""
    from etl.intelligence.training import train_churn

    return train_churn(loaded_database, triggered_by="test")


@pytest.fixture(scope="session")
def scored(loaded_database: Database, trained_model):
    """The scoring job run once after training."""
    from etl.intelligence.scoring import run_scoring

    return run_scoring(loaded_database, triggered_by="test", train_if_missing=False)
