"""Score chips explain themselves: one severity code for every score, and plain words built
from the churn model's factors, the health components and the engagement parts."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dashboard.queries import scores
from dashboard.scope import DataScope
from dashboard.tables.gold import Customer360
from dashboard.tables.intelligence import AccountHealth, ChurnPrediction
from layouts.kit.scores import chip_renderer_params, score_chip, score_explanation

FACTORS = [
    {"feature": "days_since_last_login", "label": "Days since last login", "direction": "up",
     "contribution": 0.31, "sentence": "Nobody has logged in for 45 days."},
    {"feature": "open_tickets", "label": "Open tickets", "direction": "up", "contribution": 0.12,
     "sentence": "4 support tickets are open."},
    {"feature": "tenure_days", "label": "Tenure", "direction": "down", "contribution": -0.05,
     "sentence": "A customer for 3 years."},
]


@pytest.fixture()
def account(rolled_back: Session) -> tuple[str, str]:
    """An account of the loaded data with known churn and health rows (rolled back afterwards)."""
    account_id, territory = rolled_back.execute(
        select(Customer360.account_id, Customer360.territory).order_by(Customer360.account_id).limit(1)).one()
    rolled_back.execute(delete(ChurnPrediction).where(ChurnPrediction.account_id == account_id))
    rolled_back.execute(delete(AccountHealth).where(AccountHealth.account_id == account_id))
    now = datetime(2026, 11, 23, 6, 0)
    rolled_back.add(ChurnPrediction(account_id=account_id, churn_probability=0.72, churn_risk_score=72.0,
                                    previous_churn_risk_score=40.0, risk_level="HIGH", contributing_factors=FACTORS,
                                    recommended_action="Call the sponsor this week", model_version=1,
                                    scored_at=now))
    rolled_back.add(AccountHealth(account_id=account_id, health_score=38.0, health_band="Critical",
                                  payment_score=20.0, support_score=45.0, usage_score=60.0,
                                  engagement_component=30.0, scored_at=now))
    rolled_back.flush()
    return account_id, territory or "Unknown"


EVERYTHING = DataScope.everything()


def test_one_severity_code_for_every_score():
    assert [scores.severity(scores.CHURN, level) for level in ("HIGH", "MEDIUM", "LOW")] == ["severe", "watch", "good"]
    assert [scores.severity(scores.HEALTH, b) for b in ("Critical", "At-Risk", "Healthy")] == ["severe", "watch", "good"]
    assert [scores.severity(scores.ENGAGEMENT, t) for t in ("Alert", "Watch List", "Potential")] == \
        ["severe", "watch", "good"]
    assert scores.severity(scores.CHURN, None) == "unknown"


def test_chips_carry_a_text_label_and_a_shape_not_only_a_colour():
    chip = score_chip(scores.CHURN, "HIGH")
    assert "c360-chip-severe" in chip.className
    assert "High" in chip.children and chip.children[0].children == "\u25b2"
    params = chip_renderer_params(scores.CHURN)  # the grid draws the same chip in the browser
    assert params["levels"]["MEDIUM"] == {"tone": "watch", "label": "Medium", "shape": "\u25c6"}


def test_churn_explanation_lists_the_models_factors(rolled_back, account):
    account_id, _ = account
    explained = scores.explain(rolled_back, scores.CHURN, account_id, EVERYTHING)
    assert explained is not None and explained.severity == "severe"
    assert "High risk" in explained.summary and "72%" in explained.summary
    assert [f.label for f in explained.factors] == [f["label"] for f in FACTORS]
    assert [f.raises_concern for f in explained.factors] == [True, True, False]
    text = str(score_explanation(explained).to_plotly_json())
    assert "Nobody has logged in for 45 days." in text and "Call the sponsor this week" in text


def test_health_explanation_lists_the_components_weakest_first(rolled_back, account):
    account_id, _ = account
    explained = scores.explain(rolled_back, scores.HEALTH, account_id, EVERYTHING)
    assert explained is not None and explained.level == "Critical" and explained.severity == "severe"
    assert [f.label.split(" ")[0] for f in explained.factors] == ["Payment", "Engagement", "Support", "Usage"]
    assert "30 %" in explained.factors[0].label


def test_explanations_stay_inside_the_scope(rolled_back, account):
    account_id, territory = account
    outside = DataScope.restricted_to(territories=["No such territory"])
    assert scores.explain(rolled_back, scores.CHURN, account_id, outside) is None
    inside = DataScope.restricted_to(account_ids=[account_id])
    assert scores.explain(rolled_back, scores.CHURN, account_id, inside) is not None
    assert scores.explain(rolled_back, "no_such_score", account_id, EVERYTHING) is None
    assert scores.explain(rolled_back, scores.CHURN, "no-such-account", EVERYTHING) is None


def test_an_unscored_account_says_so(rolled_back, account):
    account_id, _ = account
    rolled_back.execute(delete(ChurnPrediction).where(ChurnPrediction.account_id == account_id))
    explained = scores.explain(rolled_back, scores.CHURN, account_id, EVERYTHING)
    assert explained is not None and explained.severity == "unknown" and "not scored" in explained.summary
