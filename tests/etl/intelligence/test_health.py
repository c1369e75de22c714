"""Health score: the 30/25/25/20 weights, the component formulas and the band boundaries."""

from __future__ import annotations

import pandas as pd
import pytest

from models.health import HealthBand, HealthWeights, health_band, health_scores

PERFECT = {"days_overdue": 0, "late_payment_share": 0.0, "open_tickets": 0, "escalations_90d": 0,
           "sla_breaches_90d": 0, "usage_trend_90d": 0.125, "engagement_score": 1.0}


def _score(**changes: float) -> pd.Series:
    return health_scores(pd.DataFrame([{**PERFECT, **changes}])).iloc[0]


def test_a_perfect_account_scores_100_and_each_component_carries_its_weight() -> None:
    assert _score()["health_score"] == 100.0
    # Zeroing one component costs exactly its weight.
    assert _score(days_overdue=60, late_payment_share=1.0)["health_score"] == 70.0  # payment 30 %
    assert _score(escalations_90d=7)["health_score"] == 75.0  # support 25 %
    assert _score(usage_trend_90d=-0.5)["health_score"] == 75.0  # usage 25 %
    assert _score(engagement_score=0.0)["health_score"] == 80.0  # engagement 20 %


def test_component_formulas_on_known_inputs() -> None:
    row = _score(days_overdue=30, late_payment_share=0.2, open_tickets=1, escalations_90d=1, sla_breaches_90d=2,
                 usage_trend_90d=0.0, engagement_score=0.5)
    assert row["payment_score"] == pytest.approx(100 - 25 - 10)
    assert row["support_score"] == pytest.approx(100 - 15 - 20 - 5)
    assert row["usage_score"] == pytest.approx(80)
    assert row["engagement_component"] == pytest.approx(50)
    assert row["health_score"] == pytest.approx(0.3 * 65 + 0.25 * 60 + 0.25 * 80 + 0.2 * 50)
    assert row["health_band"] == "At-Risk"


def test_missing_history_is_neutral_not_punished() -> None:
    row = health_scores(pd.DataFrame([{**{k: None for k in PERFECT}, "engagement_score": 1.0}])).iloc[0]
    assert row["payment_score"] == 100 and row["support_score"] == 100 and row["usage_score"] == 80


@pytest.mark.parametrize(("score", "band"), [
    (100, HealthBand.HEALTHY), (80, HealthBand.HEALTHY), (79.9, HealthBand.AT_RISK), (50, HealthBand.AT_RISK),
    (49.9, HealthBand.CRITICAL), (0, HealthBand.CRITICAL),
])
def test_band_boundaries(score: float, band: HealthBand) -> None:
    assert health_band(score) is band


def test_bad_weights_and_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="add up to 1"):
        HealthWeights(payment=0.5)
    with pytest.raises(ValueError, match="usage_trend_90d"):
        health_scores(pd.DataFrame([{k: v for k, v in PERFECT.items() if k != "usage_trend_90d"}]))
