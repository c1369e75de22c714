"""Next-best-action rules engine: each of the five product rules on its boundary, and rules as data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from etl.intelligence.config import DEFAULT_RULES_FILE
from models.actions import RuleError, evaluate_rules, load_rules, parse_rules, recommend

RULES = load_rules(DEFAULT_RULES_FILE)
# An account that triggers nothing; each case changes only what its rule reads.
QUIET = {"customer_id": "A", "churn_risk_score": 10.0, "days_to_contract_expiry": 200, "usage_change_pct": 0.0,
         "active_services": 3, "days_overdue": 0, "overdue_usd": 0.0, "sla_breaches_30d": 0,
         "revenue_growth_pct": 0.0, "arr_usd": 120_000.0, "mrr_usd": 10_000.0}


def _fired(**changes: object) -> set[str]:
    frame = pd.DataFrame([{**QUIET, **changes}])
    return set(evaluate_rules(RULES, frame)["rule_id"])


def test_a_quiet_account_triggers_nothing() -> None:
    assert _fired() == set()


@pytest.mark.parametrize(("changes", "fires"), [
    # churn > 70 and contract expires in < 90 days
    ({"churn_risk_score": 70.1, "days_to_contract_expiry": 89}, True),
    ({"churn_risk_score": 70.0, "days_to_contract_expiry": 89}, False),
    ({"churn_risk_score": 70.1, "days_to_contract_expiry": 90}, False),
    ({"churn_risk_score": None, "days_to_contract_expiry": 10}, False),
])
def test_retention_call_boundary(changes: dict, fires: bool) -> None:
    assert ("retention_call" in _fired(**changes)) is fires


@pytest.mark.parametrize(("changes", "fires"), [
    ({"usage_change_pct": 50.1, "active_services": 4}, True),
    ({"usage_change_pct": 50.0, "active_services": 4}, False),
    ({"usage_change_pct": 50.1, "active_services": 5}, False),
])
def test_service_upgrade_boundary(changes: dict, fires: bool) -> None:
    assert ("service_upgrade" in _fired(**changes)) is fires


@pytest.mark.parametrize(("days", "fires"), [(16, True), (15, False)])
def test_payment_reminder_boundary(days: int, fires: bool) -> None:
    assert ("payment_reminder" in _fired(days_overdue=days)) is fires


@pytest.mark.parametrize(("breaches", "fires"), [(1, True), (0, False)])
def test_technical_review_boundary(breaches: int, fires: bool) -> None:
    assert ("technical_review" in _fired(sla_breaches_30d=breaches)) is fires


@pytest.mark.parametrize(("growth", "fires"), [(20.01, True), (20.0, False), (None, False)])
def test_executive_relationship_boundary(growth: float | None, fires: bool) -> None:
    assert ("executive_relationship" in _fired(revenue_growth_pct=growth)) is fires


def test_recommendation_fields_priority_text_and_impact() -> None:
    frame = pd.DataFrame([{**QUIET, "churn_risk_score": 82.0, "days_to_contract_expiry": 30,
                           "days_overdue": 40, "overdue_usd": 5_000.0}])
    recs = recommend(RULES, frame)
    assert recs["rule_id"].tolist() == ["retention_call", "payment_reminder"]  # HIGH before MEDIUM
    call = recs.iloc[0]
    assert (call["priority"], call["action_type"], call["action_title"]) == ("HIGH", "Retention",
                                                                              "Schedule Retention Call")
    assert "82/100" in call["action_description"] and "30 days" in call["action_description"]
    assert call["estimated_impact_revenue"] == 120_000.0  # the ARR at stake
    assert recs.iloc[1]["estimated_impact_revenue"] == 5_000.0  # the overdue balance


def test_model_driven_actions_come_from_risk_raising_factors_only() -> None:
    frame = pd.DataFrame([{**QUIET, "usage_change_pct": -35.0}, {**QUIET, "customer_id": "B"}])
    factors = {
        "A": [{"feature": "usage_trend_90d", "contribution": 0.9}, {"feature": "tenure_days", "contribution": 0.4},
              {"feature": "days_overdue", "contribution": -0.3}],
        "B": [{"feature": "usage_trend_30d", "contribution": -0.5}],
    }
    recs = recommend(RULES, frame, factors)
    assert recs[["customer_id", "rule_id"]].values.tolist() == [["A", "factor:usage_trend_90d"]]
    assert "-35%" in recs.iloc[0]["action_description"]


def test_rules_are_data_an_admin_can_change(tmp_path: Path) -> None:
    document = json.loads(DEFAULT_RULES_FILE.read_text())
    document["rules"][2]["when"][0]["value"] = 30  # payment reminders only after 30 days
    custom = tmp_path / "rules.json"
    custom.write_text(json.dumps(document))
    rules = load_rules(custom)
    frame = pd.DataFrame([{**QUIET, "days_overdue": 20}])
    assert evaluate_rules(rules, frame).empty
    assert not evaluate_rules(RULES, frame).empty


@pytest.mark.parametrize(("change", "message"), [
    ({"op": "~"}, "operator"),
    ({"priority": "URGENT"}, "priority"),
    ({"action_type": "Fun"}, "action_type"),
    ({"when": []}, "at least one condition"),
])
def test_malformed_rules_are_refused(change: dict, message: str) -> None:
    rule = {"rule_id": "r", "when": [{"feature": "days_overdue", "op": ">", "value": 1}], "priority": "LOW",
            "action_type": "Billing", "action_title": "t", "action_description": "d", "expected_outcome": "o"}
    if "op" in change:
        rule["when"][0]["op"] = change["op"]
    else:
        rule.update(change)
    with pytest.raises(RuleError, match=message):
        parse_rules({"rules": [rule]})


def test_a_rule_naming_an_unknown_feature_is_an_error() -> None:
    rules = parse_rules({"rules": [{"rule_id": "r", "when": [{"feature": "nps", "op": ">", "value": 1}],
                                    "priority": "LOW", "action_type": "Growth", "action_title": "t",
                                    "action_description": "d", "expected_outcome": "o"}]})
    with pytest.raises(RuleError, match="nps"):
        evaluate_rules(rules, pd.DataFrame([QUIET]))


def test_two_drivers_mapped_to_one_action_give_one_recommendation() -> None:
    factors = {"A": [{"feature": "usage_trend_30d", "contribution": 0.5},
                     {"feature": "usage_trend_90d", "contribution": 0.4}]}
    recs = recommend(RULES, pd.DataFrame([QUIET]), factors)
    assert recs["action_title"].tolist() == ["Adoption Review"]
