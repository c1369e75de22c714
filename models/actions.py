"""Next-best-action rules engine: rules are data (a JSON document), evaluated on a DataFrame.

A rule set looks like this (see etl/intelligence/action_rules.json for the product's own):

    {"rules": [{"rule_id": "retention_call",
                "when": [{"feature": "churn_risk_score", "op": ">", "value": 70},
                         {"feature": "days_to_contract_expiry", "op": "<", "value": 90}],
                "priority": "HIGH", "action_type": "Retention",
                "action_title": "Schedule Retention Call",
                "action_description": "Renewal in {days_to_contract_expiry:.0f} days ...",
                "expected_outcome": "...",
                "impact": {"feature": "arr_usd", "factor": 0.5}}],
     "factor_actions": {"days_overdue": {... same fields, no "when" ...}}}

Every condition of a rule must hold (AND); a missing feature value never satisfies a condition.
Descriptions may name any feature in braces, with a format spec. `factor_actions` turn an
account's top churn drivers (those pushing risk up) into model-driven recommendations.
"""

from __future__ import annotations

import json
import operator
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PRIORITIES = ("HIGH", "MEDIUM", "LOW")
ACTION_TYPES = ("Retention", "Growth", "Support", "Billing")
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}
RECOMMENDATION_COLUMNS = ("customer_id", "rule_id", "priority", "action_type", "action_title",
                          "action_description", "expected_outcome", "estimated_impact_revenue")


class RuleError(ValueError):
    """A rule set that cannot be evaluated: unknown operator, priority, type or feature."""


@dataclass(frozen=True)
class Condition:
    """`feature op value`, e.g. churn_risk_score > 70."""

    feature: str
    op: str
    value: float | str | bool

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        if self.feature not in frame.columns:
            raise RuleError(f"rule condition names unknown feature {self.feature!r}")
        column = frame[self.feature]
        known = column.notna().to_numpy()
        if isinstance(self.value, bool | str):
            result = OPERATORS[self.op](column, self.value)
        else:
            result = OPERATORS[self.op](pd.to_numeric(column, errors="coerce").astype(float), float(self.value))
        return known & np.asarray(result.fillna(False) if hasattr(result, "fillna") else result, dtype=bool)


@dataclass(frozen=True)
class ActionTemplate:
    """What to recommend: priority, type, title, description, outcome and revenue impact."""

    priority: str
    action_type: str
    action_title: str
    action_description: str
    expected_outcome: str
    impact_feature: str | None = None
    impact_factor: float = 0.0

    def describe(self, row: Mapping[str, Any]) -> str:
        return _render(self.action_description, row)

    def impact(self, row: Mapping[str, Any]) -> float:
        if not self.impact_feature:
            return 0.0
        value = row.get(self.impact_feature)
        try:
            number = float(value)
        except (TypeError, ValueError):
            return 0.0
        return round(max(number, 0.0) * self.impact_factor, 2) if np.isfinite(number) else 0.0


@dataclass(frozen=True)
class Rule:
    rule_id: str
    conditions: tuple[Condition, ...]
    action: ActionTemplate

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        result = np.ones(len(frame), dtype=bool)
        for condition in self.conditions:
            result &= condition.mask(frame)
        return result


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    factor_actions: dict[str, ActionTemplate]

    @property
    def features(self) -> set[str]:
        """Every feature the rules' conditions read."""
        return {c.feature for rule in self.rules for c in rule.conditions}


class _Lenient(string.Formatter):
    """Format `{feature:.0f}` from a row; a missing or unformattable value prints as 'n/a'."""

    def get_value(self, key, args, kwargs):  # noqa: ANN001 - signature fixed by string.Formatter
        return kwargs.get(key)

    def format_field(self, value, format_spec):  # noqa: ANN001
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "n/a"
        try:
            return format(value, format_spec)
        except (TypeError, ValueError):
            return str(value)


def _render(template: str, row: Mapping[str, Any]) -> str:
    return _Lenient().format(template, **dict(row))


def _template(spec: Mapping[str, Any], where: str) -> ActionTemplate:
    for key in ("priority", "action_type", "action_title", "action_description", "expected_outcome"):
        if not isinstance(spec.get(key), str) or not spec[key]:
            raise RuleError(f"{where}: {key!r} is required")
    if spec["priority"] not in PRIORITIES:
        raise RuleError(f"{where}: priority must be one of {PRIORITIES}, not {spec['priority']!r}")
    if spec["action_type"] not in ACTION_TYPES:
        raise RuleError(f"{where}: action_type must be one of {ACTION_TYPES}, not {spec['action_type']!r}")
    impact = spec.get("impact") or {}
    return ActionTemplate(spec["priority"], spec["action_type"], spec["action_title"],
                          spec["action_description"], spec["expected_outcome"],
                          impact.get("feature"), float(impact.get("factor", 0.0)))


def parse_rules(document: Mapping[str, Any]) -> RuleSet:
    """Validate a rules document (as loaded from JSON) into a RuleSet; RuleError if malformed."""
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, spec in enumerate(document.get("rules", [])):
        rule_id = spec.get("rule_id")
        where = f"rule {rule_id or i}"
        if not rule_id or rule_id in seen:
            raise RuleError(f"{where}: every rule needs a unique rule_id")
        seen.add(rule_id)
        conditions = []
        for cond in spec.get("when", []):
            if cond.get("op") not in OPERATORS:
                raise RuleError(f"{where}: operator must be one of {sorted(OPERATORS)}, not {cond.get('op')!r}")
            if not cond.get("feature") or "value" not in cond:
                raise RuleError(f"{where}: a condition needs a feature and a value")
            conditions.append(Condition(cond["feature"], cond["op"], cond["value"]))
        if not conditions:
            raise RuleError(f"{where}: a rule needs at least one condition")
        rules.append(Rule(rule_id, tuple(conditions), _template(spec, where)))
    factor_actions = {feature: _template(spec, f"factor action {feature}")
                      for feature, spec in document.get("factor_actions", {}).items()}
    return RuleSet(tuple(rules), factor_actions)


def load_rules(path: Path) -> RuleSet:
    """Read and validate a JSON rules file."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RuleError(f"{path}: not valid JSON: {exc}") from exc
    return parse_rules(document)


def _rows(frame: pd.DataFrame, positions: np.ndarray) -> Iterable[dict[str, Any]]:
    subset = frame.iloc[positions]
    return subset.to_dict("records")


def _recommendation(customer_id: Any, rule_id: str, action: ActionTemplate, row: Mapping[str, Any]) -> dict[str, Any]:
    return {"customer_id": customer_id, "rule_id": rule_id, "priority": action.priority,
            "action_type": action.action_type, "action_title": action.action_title,
            "action_description": action.describe(row), "expected_outcome": action.expected_outcome,
            "estimated_impact_revenue": action.impact(row)}


def evaluate_rules(rules: RuleSet, features: pd.DataFrame, *, id_col: str = "customer_id") -> pd.DataFrame:
    """One row per (customer, rule) whose conditions all hold, with RECOMMENDATION_COLUMNS."""
    if id_col not in features.columns:
        raise RuleError(f"features need the id column {id_col!r}")
    out: list[dict[str, Any]] = []
    for rule in rules.rules:
        positions = np.flatnonzero(rule.mask(features))
        for row in _rows(features, positions):
            out.append(_recommendation(row[id_col], rule.rule_id, rule.action, row))
    return pd.DataFrame(out, columns=list(RECOMMENDATION_COLUMNS))


def factor_recommendations(rules: RuleSet, factors: Mapping[Any, list[Mapping[str, Any]]],
                           features: pd.DataFrame, *, id_col: str = "customer_id",
                           min_contribution: float = 0.0) -> pd.DataFrame:
    """Model-driven actions: for each customer's churn factors that push risk up, the mapped action.

    `factors` maps a customer id to its explanation list ({feature, contribution, ...}); the rule id
    of such a recommendation is `factor:<feature>`.
    """
    rows_by_id = {row[id_col]: row for row in features.to_dict("records")}
    out: list[dict[str, Any]] = []
    for customer_id, items in factors.items():
        row = rows_by_id.get(customer_id, {id_col: customer_id})
        for item in items or []:
            feature = str(item.get("feature"))
            action = rules.factor_actions.get(feature)
            if action is None or float(item.get("contribution") or 0.0) <= min_contribution:
                continue
            out.append(_recommendation(customer_id, f"factor:{feature}", action, row))
    return pd.DataFrame(out, columns=list(RECOMMENDATION_COLUMNS))


def recommend(rules: RuleSet, features: pd.DataFrame, factors: Mapping[Any, list[Mapping[str, Any]]] | None = None,
              *, id_col: str = "customer_id") -> pd.DataFrame:
    """Rule-based plus model-driven recommendations, one per (customer, rule), highest priority first.

    A model-driven action with the same title as a rule-based one (or as another driver's) for the
    same customer is dropped.
    """
    rule_based = evaluate_rules(rules, features, id_col=id_col)
    model_driven = factor_recommendations(rules, factors or {}, features, id_col=id_col)
    model_driven = model_driven.drop_duplicates(["customer_id", "action_title"])  # two drivers, one action
    if not model_driven.empty and not rule_based.empty:
        taken = set(zip(rule_based["customer_id"], rule_based["action_title"], strict=True))
        keep = [(c, t) not in taken for c, t in zip(model_driven["customer_id"], model_driven["action_title"],
                                                    strict=True)]
        model_driven = model_driven[keep]
    parts = [p for p in (rule_based, model_driven) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=list(RECOMMENDATION_COLUMNS))
    combined = pd.concat(parts, ignore_index=True)
    combined = combined.drop_duplicates(["customer_id", "rule_id"])
    rank = combined["priority"].map({p: i for i, p in enumerate(PRIORITIES)})
    return (combined.assign(_rank=rank).sort_values(["_rank", "estimated_impact_revenue"], ascending=[True, False])
            .drop(columns="_rank").reset_index(drop=True))
