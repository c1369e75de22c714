"""The lead model and the repeat-purchase maths on hand-made data: the logistic fit against
statsmodels, the time-based split, reasons in words, the BG/NBD likelihood and P(alive) against a
direct numeric integration, and the purchase, expansion and decline tables."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from models import clv
from models.leads import (
    NO_TIER,
    decided_leads,
    decline_reasons,
    decline_table,
    email_kind,
    expansions,
    fit_logistic,
    is_converted,
    lead_features,
    purchase_summary,
    repeat_purchase_scores,
    time_split,
    train_lead_model,
)


def _leads(n: int, seed: int, signal: bool) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    source = rng.choice(["web", "campaign", "referral", "event", "partner"], n)
    personal = rng.random(n) < 0.3
    logit = -2.0 + (2.5 * (source == "referral") + 1.5 * (source == "event") - 2.0 * personal if signal else 0)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    leads = pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)],
        "created_at": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC").astype(str),
        "lead_source": source,
        "email": np.where(personal, "a.b@gmail.com", "a.b@acme-tools.de"),
        "phone": np.where(rng.random(n) < 0.9, "+49 30 1234567", ""),
        "region": rng.choice(["Europe", "Asia Pacific"], n),
        "status": np.where(converted, "converted", "disqualified"),
        "converted_account_id": np.where(converted, "ACC-1", ""),
    })
    return leads, pd.Series(converted, index=leads.index)


def test_email_kinds():
    emails = pd.Series(["Jane@Gmail.com", "jo@acme.co.za", "", None, "not an email"])
    assert email_kind(emails).tolist() == ["personal", "work", "missing", "missing", "missing"]


def test_logistic_fit_matches_statsmodels_without_penalty():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    x = rng.normal(size=(2_000, 3))
    y = (rng.random(2_000) < 1 / (1 + np.exp(-(0.5 + x @ [1.0, -0.5, 0.0])))).astype(float)
    intercept, slopes = fit_logistic(x, y, l2=0.0)
    reference = sm.Logit(y, sm.add_constant(x)).fit(disp=0).params
    assert np.allclose([intercept, *slopes], reference, atol=1e-4)


def test_the_time_split_validates_on_the_latest_leads():
    created = pd.Series(pd.date_range("2025-01-01", periods=100, freq="D"))
    validation, split_at = time_split(created, 0.25)
    assert validation.sum() == 25
    assert created[validation].min() > created[~validation].max() >= split_at - pd.Timedelta(days=1)


def test_the_model_finds_a_planted_signal_on_later_leads_and_none_without_it():
    leads, converted = _leads(6_000, 1, signal=True)
    model = train_lead_model(lead_features(leads), converted, leads["created_at"])
    assert model.validation_auc > 0.7
    assert model.train_rows == 4_500 and model.validation_rows == 1_500
    coefficients = dict(zip(model.columns, model.coefficients, strict=True))
    assert coefficients["lead_source=referral"] > coefficients["lead_source=web"]
    assert coefficients["email_kind=personal"] < coefficients["email_kind=work"]
    noise, labels = _leads(6_000, 2, signal=False)
    assert abs(train_lead_model(lead_features(noise), labels, noise["created_at"]).validation_auc - 0.5) < 0.06


def test_scores_rank_like_probabilities_and_the_reasons_name_the_attributes():
    leads, converted = _leads(4_000, 4, signal=True)
    features = lead_features(leads)
    model = train_lead_model(features, converted, leads["created_at"])
    scored = model.score(features)
    assert np.allclose(scored["conversion_probability"], model.probability(features))
    assert scored["lead_score"].between(0, 100).all()
    referral_work = features.index[(features["lead_source"] == "referral") & (features["email_kind"] == "work")][0]
    assert "referral" in scored.loc[referral_work, "reason"]
    web_personal = features.index[(features["lead_source"] == "web") & (features["email_kind"] == "personal")][0]
    assert scored.loc[web_personal, "lead_score"] < scored.loc[referral_work, "lead_score"]
    assert "referral" not in scored.loc[web_personal, "reason"]


def test_engagement_tier_is_a_feature_with_a_default():
    leads, _ = _leads(10, 5, signal=True)
    tiers = pd.Series({0: "Potential", 3: "Alert"})
    features = lead_features(leads, engagement_tier=tiers)
    assert features.loc[0, "engagement_tier"] == "Potential" and features.loc[1, "engagement_tier"] == NO_TIER


def test_decided_leads_are_the_old_enough_ones():
    leads = pd.DataFrame({"created_at": ["2026-01-01T10:00:00+00:00", "2026-11-20T10:00:00+00:00",
                                         "2026-11-21T10:00:00+00:00"],
                          "status": ["working", "new", "converted"], "converted_account_id": ["", "", "ACC-1"]})
    assert decided_leads(leads, date(2026, 11, 23)).tolist() == [True, False, False]
    assert is_converted(leads).tolist() == [False, False, True]


# --- BG/NBD ------------------------------------------------------------------------------------------

PARAMS = (0.243, 4.414, 0.793, 2.426)  # CDNOW, Fader, Hardie and Lee (2005)


def _gamma_moment(x: float, decay: float) -> float:
    """E[lambda^x exp(-lambda * decay)] for lambda ~ Gamma(r, rate alpha), integrated numerically."""
    r, alpha, _, _ = PARAMS
    density = stats.gamma(r, scale=1 / alpha).pdf
    # lambda^(r-1) is singular at 0: integrate in u = lambda^r, where d lambda = lambda^(1-r) / r du.
    def integrand(u: float) -> float:
        lam = u ** (1 / r)
        return lam ** x * np.exp(-lam * decay) * density(lam) * lam ** (1 - r) / r
    value, _ = integrate.quad(integrand, 0, 200 ** r, limit=400, epsabs=1e-14, epsrel=1e-10)
    return value


def _beta_moment(f) -> float:
    """E[f(p)] for p ~ Beta(a, b), integrated numerically."""
    _, _, a, b = PARAMS
    value, _ = integrate.quad(lambda p: f(p) * stats.beta(a, b).pdf(p), 0, 1, limit=400, epsabs=1e-14, epsrel=1e-10)
    return value


def _integrated(x: float, t_x: float, age: float, alive_only: bool = False) -> float:
    """The BG/NBD likelihood of one customer (FHL 2005, equation 3) integrated over the gamma and beta
    mixing distributions numerically: the survived term, plus (x > 0) the dropped-after-the-last term."""
    value = _beta_moment(lambda p: (1 - p) ** x) * _gamma_moment(x, age)
    if x > 0 and not alive_only:
        value += _beta_moment(lambda p: p * (1 - p) ** (x - 1)) * _gamma_moment(x, t_x)
    return value


@pytest.mark.parametrize(("x", "t_x", "age"), [(0, 0, 38.9), (1, 10.0, 30.0), (3, 25.5, 36.0), (7, 35.0, 38.0)])
def test_bgnbd_log_likelihood_against_a_numeric_integration(x, t_x, age):
    closed = clv.bgnbd_log_likelihood(PARAMS, np.array([x], float), np.array([t_x], float), np.array([age], float))
    assert closed[0] == pytest.approx(np.log(_integrated(x, t_x, age)), abs=2e-3)


@pytest.mark.parametrize(("x", "t_x", "age"), [(0, 0, 20.0), (2, 5.0, 30.0), (5, 29.0, 30.0), (4, 3.0, 40.0)])
def test_p_alive_by_hand_and_by_integration(x, t_x, age):
    r, alpha, a, b = PARAMS
    model = clv.BetaGeoModel(r, alpha, a, b, 0.0, 1, True)
    p_alive = float(np.asarray(model.probability_alive([x], [t_x], [age]))[0])
    by_hand = 1.0 if x == 0 else 1 / (1 + a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x))
    assert p_alive == pytest.approx(by_hand, rel=1e-9)
    assert p_alive == pytest.approx(_integrated(x, t_x, age, alive_only=True) / _integrated(x, t_x, age), abs=2e-3)


def test_a_recent_frequent_buyer_ranks_above_a_lapsed_one():
    rng = np.random.default_rng(0)
    r, alpha, a, b = PARAMS
    summary = clv.simulate_bgnbd(3_000, r=r, alpha=alpha, a=a, b=b, T=rng.uniform(20, 60, 3_000), seed=1)
    summary.loc[0, ["frequency", "recency", "T"]] = [6, 39.0, 40.0]
    summary.loc[1, ["frequency", "recency", "T"]] = [6, 8.0, 40.0]
    scores, fitted = repeat_purchase_scores(summary[["frequency", "recency", "T"]])
    assert scores.loc[0, "p_alive"] > 0.8 and scores.loc[1, "p_alive"] < 0.5
    assert scores.loc[0, "rank"] < scores.loc[1, "rank"]
    assert sorted(scores["rank"]) == list(range(1, len(scores) + 1))
    assert fitted.r == pytest.approx(PARAMS[0], rel=0.35)


def test_purchase_summary_and_expansions_of_a_hand_made_history():
    purchases = pd.DataFrame({
        "account_id": ["A", "A", "A", "B"],
        "purchased_at": ["2026-01-05", "2026-01-06", "2026-03-02", "2026-02-02"],
        "kind": ["won deal", "new subscription", "new subscription", "won deal"],
    })
    summary = purchase_summary(purchases, date(2026, 3, 30))
    assert summary.loc["A", ["frequency", "recency", "T", "purchases"]].tolist() == [1.0, 8.0, 12.0, 2.0]
    assert summary.loc["B", ["frequency", "recency", "T"]].tolist() == [0.0, 0.0, 8.0]
    assert summary.loc["A", "last_purchase"] == date(2026, 3, 2)
    expanded = expansions(purchases)
    assert expanded.loc["A", "last_expansion"] == date(2026, 3, 2)
    assert expanded.loc["A", "last_expansion_kind"] == "new subscription"
    assert pd.isna(expanded.loc["B", "last_expansion"])


def test_decline_kinds_and_reasons():
    frame = pd.DataFrame({
        "account_id": ["gone", "less", "quiet", "steady"],
        "mrr_before_usd": [100.0, 100.0, 0.0, 50.0], "mrr_now_usd": [0.0, 60.0, 0.0, 50.0],
        "ended_subscriptions": [2, 1, 0, 0], "price_rises": [1, 0, 0, 2], "tickets": [0, 4, 0, 0],
        "overdue_usd": [0.0, 10.0, 0.0, 0.0], "churn_risk_score": [80.0, 40.0, None, 10.0],
        "contributing_factors": [[{"direction": "raises risk", "sentence": "Usage fell 40%."}], [], None, []],
        "p_alive": [0.9, 0.9, 0.1, 0.1], "purchases": [5, 5, 4, 1], "last_purchase": [None, None, date(2024, 1, 1),
                                                                                       None],
    }).set_index("account_id", drop=False)
    table = decline_table(frame)
    assert table["decline_kind"].to_dict() == {"gone": "churned", "less": "contracted", "quiet": "stopped buying"}
    assert table.loc["less", "mrr_change_usd"] == -40.0
    assert table.loc["gone", "reasons"] == ("Every subscription ended (2 subscriptions); 1 price rise in the last 6 "
                                            "months; Usage fell 40%.")
    assert table.loc["less", "reasons"] == "1 subscription ended; 4 support tickets in the last 90 days; payments overdue."
    assert table.loc["quiet", "reasons"] == "No purchase since 2024-01-01; 10% chance they still buy."
    assert decline_reasons({}) == "No reason on record."
