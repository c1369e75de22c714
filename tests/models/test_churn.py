"""Churn model on generated accounts with a planted signal: discrimination, calibration,
explanations naming the planted drivers, persistence and input errors."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from models.churn import (
    ChurnModel,
    ChurnModelError,
    average_precision,
    booster_params,
    churn_risk_score,
    expected_calibration_error,
    factor_sentence,
    make_synthetic_accounts,
    risk_level,
    roc_auc,
    train_churn_model,
)

PLANTED_DRIVERS = {"usage_trend_30d", "days_overdue", "escalations_90d"}
LABELS = {"usage_trend_30d": "Usage {trend} {abs_value:.0%} over the last 30 days", "days_overdue": "Days overdue"}


@pytest.fixture(scope="module")
def later_cutoff() -> tuple[pd.DataFrame, pd.Series]:
    return make_synthetic_accounts(6_000, seed=102)


@pytest.fixture(scope="module")
def model(later_cutoff) -> ChurnModel:
    features, labels = make_synthetic_accounts(12_000, seed=101)
    return train_churn_model(features, labels, seed=3, validation=later_cutoff, feature_labels=LABELS)


def test_finds_the_planted_signal_on_a_later_cutoff(model, later_cutoff):
    metrics = model.metrics
    print(f"churn validation AUC {metrics.roc_auc:.3f}, PR-AUC {metrics.pr_auc:.3f}, "
          f"Brier {metrics.brier:.4f}, ECE {metrics.ece:.4f}, best iteration {metrics.best_iteration}")
    assert metrics.validation == "provided"
    # Small data: cross-fitted inside, then refitted on every row.
    assert metrics.n_valid == 6_000 and metrics.n_train == 12_000 and metrics.inner_split == "folds"
    assert 0.06 < metrics.positive_rate < 0.10
    assert metrics.roc_auc > 0.80
    assert metrics.pr_auc > 0.35  # the base rate is 0.08
    # The returned probabilities score the same as the reported metrics.
    assert roc_auc(later_cutoff[1].to_numpy(), model.predict_proba(later_cutoff[0])) == pytest.approx(metrics.roc_auc)


def test_probabilities_are_calibrated(model, later_cutoff):
    features, labels = later_cutoff
    probabilities = model.predict_proba(features)
    # The planted signal is logistic, so Platt's two parameters predict held-out rows as well as isotonic.
    assert model.metrics.calibration in {"isotonic", "platt"}
    assert model.metrics.ece < 0.03
    assert probabilities.mean() == pytest.approx(labels.mean(), abs=0.015)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()


def test_explanations_of_high_risk_accounts_name_the_planted_drivers(model, later_cutoff):
    features, _ = later_cutoff
    riskiest = features.iloc[np.argsort(-model.predict_proba(features))[:100]]
    explanations = model.explain(riskiest, top_n=3)
    assert len(explanations) == 100 and all(len(factors) == 3 for factors in explanations)
    first_factors = Counter(factors[0].feature for factors in explanations)
    assert sum(first_factors[name] for name in PLANTED_DRIVERS) >= 95, first_factors
    for factors in explanations:
        assert {f.feature for f in factors[:2]} & PLANTED_DRIVERS
        contributions = [abs(f.contribution) for f in factors]
        assert contributions == sorted(contributions, reverse=True)
        for factor in factors:
            assert factor.direction == ("raises risk" if factor.contribution > 0 else "lowers risk")
            assert factor.sentence.endswith(f"({factor.direction})")
    usage = next(f for factors in explanations for f in factors if f.feature == "usage_trend_30d" and f.value < 0)
    assert usage.sentence == f"Usage fell {abs(usage.value):.0%} over the last 30 days (raises risk)"
    assert usage.as_dict()["feature"] == "usage_trend_30d"


def test_contributions_add_up_to_the_raw_margin(model, later_cutoff):
    features = later_cutoff[0].head(200)
    contributions = model.contributions(features)
    np.testing.assert_allclose(contributions.sum(axis=1) + model.base_margin(features), model.raw_margin(features),
                               atol=1e-9)
    if model.linear is None:  # trees alone: LightGBM's own TreeSHAP
        expected_value = model.booster.predict(model.schema.matrix(features), pred_contrib=True)[:, -1]
        np.testing.assert_allclose(model.base_margin(features), expected_value, atol=1e-12)


def test_noise_only_frame_scores_near_chance():
    features, labels = make_synthetic_accounts(4_000, seed=201, signal=False)
    validation = make_synthetic_accounts(4_000, seed=202, signal=False)
    noise_model = train_churn_model(features, labels, seed=0, validation=validation)
    assert 0.42 < noise_model.metrics.roc_auc < 0.58
    # Nothing to learn: predictions stay close to the base rate.
    assert np.ptp(noise_model.predict_proba(validation[0])) < 0.1


def test_internal_split_metrics_on_a_few_thousand_rows():
    features, labels = make_synthetic_accounts(3_000, seed=301)
    small = train_churn_model(features, labels, seed=1)
    assert small.metrics.validation == "internal"
    # Every row is held out once (cross-fitting) and the final model is refitted on all of them.
    assert small.metrics.n_train == small.metrics.n_valid == 3_000
    assert small.metrics.roc_auc > 0.78
    assert small.metrics.ece < 0.05
    # Small data: shallow trees (a slow rate, leaves of 2 % of the rows) or the usual 15-leaf ones, the
    # better on the held-out rows.
    shallow, deep = (booster_params(3_000, len(features.columns), 1, deep=d) for d in (False, True))
    assert shallow["max_depth"] == 2 and shallow["num_leaves"] == 3
    assert shallow["min_data_in_leaf"] == 60 and shallow["learning_rate"] == 0.03
    assert deep["num_leaves"] == 15 and deep["max_depth"] == -1
    assert small.params in (shallow, deep)


def test_small_data_whose_churn_lies_in_an_interaction_gets_the_larger_trees():
    """Churn when a premium customer's usage is low early on, or a basic one's is high with many support
    calls: three-way interactions that two-level trees cannot draw, and the held-out rows say so."""
    rng = np.random.default_rng(7)
    n = 4_000
    usage, premium, tenure, calls = rng.uniform(0, 1, n), rng.integers(0, 2, n), rng.uniform(0, 60, n), \
        rng.poisson(1.5, n)
    noise = pd.DataFrame(rng.normal(size=(n, 4)), columns=[f"noise_{i}" for i in range(4)])
    hit = np.where(premium == 1, (usage < 0.3) & (tenure < 30), (usage > 0.7) & (calls >= 3))
    labels = pd.Series((rng.uniform(size=n) < 1 / (1 + np.exp(-(hit * 3.0 - 2.0)))).astype(int))
    features = pd.concat([pd.DataFrame({"usage": usage, "plan": np.where(premium == 1, "premium", "basic"),
                                        "tenure": tenure, "support_calls": calls}), noise], axis=1)
    model = train_churn_model(features, labels, seed=0)
    assert model.params["num_leaves"] == 15
    assert model.metrics.roc_auc > 0.62


def test_database_style_columns_are_numeric():
    """NUMERIC columns arrive as Decimal objects, nullable integers and booleans as extension dtypes."""
    features, labels = make_synthetic_accounts(1_500, seed=501)
    features["days_overdue"] = [None if np.isnan(v) else Decimal(str(v)) for v in features["days_overdue"]]
    features["escalations_90d"] = features["escalations_90d"].astype("Int64")
    features["auto_renews"] = pd.array(np.arange(1_500) % 3 == 0, dtype="boolean")
    features.loc[features.index[:10], "auto_renews"] = pd.NA
    model = train_churn_model(features, labels, seed=0)
    assert set(model.schema.categories) == {"segment", "region"}
    factors = [f for row in model.explain(features.head(200), top_n=6) for f in row]
    assert any(isinstance(f.value, Decimal) for f in factors)
    json.dumps([f.as_dict() for f in factors])  # Decimal and pd.NA values serialise
    assert model.feature_importance()["days_overdue"] > 0
    assert np.isfinite(model.predict_proba(features.head(50))).all()


def test_groups_keep_an_account_on_one_side_of_the_internal_split():
    features, labels = make_synthetic_accounts(1_000, seed=601, signal=False)
    # The same accounts at four cut-offs with unchanged rows: split by row, the held-out part holds
    # copies of training rows and memorising noise looks like skill (ROC-AUC 1.0 after 2000 trees).
    stacked = pd.concat([features] * 4, ignore_index=True)
    stacked_labels = pd.Series(np.tile(labels.to_numpy(), 4))
    accounts = np.tile(features.index.to_numpy(), 4)
    grouped = train_churn_model(stacked, stacked_labels, seed=0, groups=accounts)
    assert 0.4 < grouped.metrics.roc_auc < 0.6
    assert grouped.metrics.best_iteration < 100
    with pytest.raises(ChurnModelError, match="groups need one non-missing value per feature row"):
        train_churn_model(stacked, stacked_labels, groups=accounts[:-1])


def test_same_seed_same_model():
    features, labels = make_synthetic_accounts(2_000, seed=401)
    first = train_churn_model(features, labels, seed=5).predict_proba(features)
    second = train_churn_model(features, labels, seed=5).predict_proba(features)
    np.testing.assert_array_equal(first, second)


def test_save_load_and_bytes_round_trip(model, later_cutoff, tmp_path):
    features = later_cutoff[0].head(500)
    model.save(tmp_path / "churn.txt")
    assert (tmp_path / "churn.txt.json").exists()
    loaded = ChurnModel.load(tmp_path / "churn.txt")
    restored = ChurnModel.from_bytes(model.to_bytes())
    for other in (loaded, restored):
        np.testing.assert_array_equal(other.predict_proba(features), model.predict_proba(features))
        assert other.metrics == model.metrics
        assert other.explain(features.head(5)) == model.explain(features.head(5))
    with pytest.raises(ChurnModelError, match="not a serialised churn model"):
        ChurnModel.from_bytes(b"\x80 not json")


def test_scoring_tolerates_unseen_and_missing_categories_and_reordered_columns(model, later_cutoff):
    features = later_cutoff[0].head(300).copy()
    baseline = model.predict_proba(features)
    changed = features[features.columns[::-1]].copy()
    changed["extra_column"] = 1.0
    changed["segment"] = ["Government"] * 100 + [None] * 100 + list(features["segment"].iloc[200:])
    changed["region"] = changed["region"].astype(str)  # category at training, text now
    probabilities = model.predict_proba(changed)
    assert np.isfinite(probabilities).all()
    np.testing.assert_array_equal(probabilities[200:], baseline[200:])
    assert model.explain(changed.head(3))[0][0].feature in model.feature_names


def test_missing_column_at_scoring_is_a_clear_error(model, later_cutoff):
    with pytest.raises(ChurnModelError, match=r"lack the columns .*days_overdue"):
        model.predict_proba(later_cutoff[0].drop(columns=["days_overdue"]))
    wrong_type = later_cutoff[0].head(5).assign(days_overdue="many")
    with pytest.raises(ChurnModelError, match="'days_overdue' must be numeric"):
        model.predict_proba(wrong_type)


@pytest.mark.parametrize(
    ("make_inputs", "message"),
    [
        (lambda f, y: (f.iloc[:0], y.iloc[:0]), "empty"),
        (lambda f, y: (f, pd.Series(0, index=f.index)), "single class"),
        (lambda f, y: (f, y.iloc[::-1]), "not aligned"),
        (lambda f, y: (f, y.iloc[:-1]), "not aligned"),
        (lambda f, y: (f, y.replace(1, 2)), "binary"),
        (lambda f, y: (f, y.astype(float).where(y.index > 0)), "missing values"),
        (lambda f, y: (f.assign(signed_up=pd.Timestamp("2026-01-01")), y), "convert it to numbers"),
        (lambda f, y: (f, pd.Series([1] * 3 + [0] * (len(f) - 3), index=f.index)), "too few rows"),
    ],
)
def test_bad_training_inputs_raise_clear_errors(make_inputs, message):
    features, labels = make_synthetic_accounts(300, seed=9)
    with pytest.raises(ChurnModelError, match=message):
        train_churn_model(*make_inputs(features, labels))


def test_risk_score_and_levels():
    assert churn_risk_score(0.7234) == 72.3
    np.testing.assert_array_equal(churn_risk_score(np.array([0.0, 0.3996, 1.2])), [0.0, 40.0, 100.0])
    assert [risk_level(s) for s in (100, 70, 69.9, 40, 39.9, 0)] == ["HIGH", "HIGH", "MEDIUM", "MEDIUM", "LOW", "LOW"]
    with pytest.raises(ChurnModelError):
        risk_level(float("nan"))


def test_metric_functions_on_known_answers():
    labels = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    assert roc_auc(labels, scores) == pytest.approx(0.75)
    assert average_precision(labels, scores) == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))
    # Bin [0.2, 0.3): mean prediction 0.25, observed 0.5; bin [0.9, 1.0): 0.95 vs 1.0.
    ece = expected_calibration_error(np.array([0, 1, 1]), np.array([0.2, 0.3 - 1e-9, 0.95]))
    assert ece == pytest.approx((abs(0.5 - 1) + abs(0.95 - 1)) / 3, abs=1e-6)


def test_factor_sentences():
    assert factor_sentence("days_overdue", 35.0, "raises risk") == "Days overdue is 35 (raises risk)"
    assert factor_sentence("segment", None, "lowers risk", "Segment") == "Segment is unknown (lowers risk)"
    assert factor_sentence("usage", 0.18, "lowers risk", "Usage {trend} {abs_value:.0%}") == "Usage rose 18% (lowers risk)"
    assert factor_sentence("usage", Decimal("-0.25"), "raises risk", "Usage {trend} {abs_value:.0%}") == \
        "Usage fell 25% (raises risk)"
    assert factor_sentence("overdue", Decimal("35.0"), "raises risk") == "Overdue is 35 (raises risk)"
    assert factor_sentence("tickets", pd.NA, "raises risk", "{value:.0f} tickets") == "Tickets is unknown (raises risk)"
    # A numeric format on a text value falls back to the plain sentence.
    assert factor_sentence("plan", "Gold", "raises risk", "Plan {value:.0%}") == "Plan is Gold (raises risk)"


def test_numbers_exported_as_text_are_numbers():
    """A CSV's numeric column with blanks for unknown values reads as text; the model treats it as numbers."""
    features, labels = make_synthetic_accounts(2_000, seed=701)
    overdue = features["days_overdue"]
    features["days_overdue"] = pd.array([" " if np.isnan(v) else f"{v:.1f}" for v in overdue], dtype="str")
    model = train_churn_model(features, labels, seed=0)
    assert "days_overdue" not in model.schema.categories
    assert np.isnan(model.schema.matrix(features)[:, model.feature_names.index("days_overdue")]).sum() == \
        overdue.isna().sum()
    # Scored as text or as numbers, the same.
    numeric = features.assign(days_overdue=overdue)
    np.testing.assert_allclose(model.predict_proba(features.head(300)), model.predict_proba(numeric.head(300)))


def test_blend_of_trees_and_linear_model_explains_and_round_trips():
    features, labels = make_synthetic_accounts(3_000, seed=801)
    model = train_churn_model(features, labels, seed=0)
    # The planted signal is linear in the log-odds: the linear model takes part.
    assert model.linear is not None and 0.0 <= model.tree_weight < 1.0, model.metrics.model
    assert model.metrics.model.startswith("blend")
    head = features.head(200)
    np.testing.assert_allclose(model.contributions(head).sum(axis=1) + model.base_margin(head),
                               model.raw_margin(head), atol=1e-9)
    assert set(model.feature_importance().index[:3]) <= PLANTED_DRIVERS | {"days_to_renewal", "segment"}
    restored = ChurnModel.from_bytes(model.to_bytes())
    np.testing.assert_array_equal(restored.predict_proba(head), model.predict_proba(head))
    assert [[f.as_dict() for f in row] for row in restored.explain(head.head(20))] == \
        [[f.as_dict() for f in row] for row in model.explain(head.head(20))]  # as dicts: NaN values compare


def test_models_saved_before_the_blend_still_load(model, later_cutoff):
    payload = json.loads(model.to_bytes())
    payload.update(format_version=1)
    for key in ("linear", "tree_weight", "importance"):
        payload.pop(key)
    for key in ("model", "inner_split"):
        payload["metrics"].pop(key)
    old = ChurnModel.from_bytes(json.dumps(payload).encode())
    assert old.linear is None and old.metrics.model == "trees"
    features = later_cutoff[0].head(100)
    np.testing.assert_allclose(old.raw_margin(features),
                               old.booster.predict(old.schema.matrix(features), raw_score=True))
    assert old.feature_importance().name == "gain"


def test_observed_at_holds_out_the_latest_rows():
    features, labels = make_synthetic_accounts(4_000, seed=901)
    months = pd.Series(np.repeat(pd.date_range("2026-01-01", periods=8, freq="MS").date, 500), index=features.index)
    timed = train_churn_model(features, labels, seed=0, observed_at=months)
    assert timed.metrics.inner_split == "time"
    # The latest two months (1,000 rows, at least 20 %) were held out, then every row refitted.
    assert timed.metrics.n_valid == 1_000 and timed.metrics.n_train == 4_000
    assert timed.metrics.roc_auc > 0.78
    with pytest.raises(ChurnModelError, match="observed_at need one non-missing value per feature row"):
        train_churn_model(features, labels, observed_at=months.iloc[:-1])


def test_monotone_directions_hold_for_every_account():
    features, labels = make_synthetic_accounts(3_000, seed=1_001)
    model = train_churn_model(features, labels, seed=0, monotone={"days_overdue": 1, "usage_trend_30d": -1})
    sample = features.head(50)
    for column, direction, values in (("days_overdue", 1, np.linspace(0, 120, 13)),
                                      ("usage_trend_30d", -1, np.linspace(-0.9, 1.0, 13))):
        margins = np.column_stack([model.raw_margin(sample.assign(**{column: value})) for value in values])
        assert (direction * np.diff(margins, axis=1) >= -1e-9).all(), column
    with pytest.raises(ChurnModelError, match="numeric columns only"):
        train_churn_model(features, labels, monotone={"segment": 1})
    with pytest.raises(ChurnModelError, match="not among the features"):
        train_churn_model(features, labels, monotone={"tenure": -1})
