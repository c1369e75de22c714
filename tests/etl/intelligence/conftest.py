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


@pytest.fixture(scope="session")
def insights_ran(loaded_database: Database, scored):
    """Every insight job (attribution, text, forecasts, anomalies, KPI drivers, summaries) run once after
    scoring, as the demo does: the pages that show them all have data."""
    import importlib

    from etl.scheduler import INSIGHT_JOBS

    for module_name, runner in INSIGHT_JOBS.values():
        getattr(importlib.import_module(module_name), runner)(loaded_database, triggered_by="test")
    return loaded_database
