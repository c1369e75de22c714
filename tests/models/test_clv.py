"""Lifetime value: the BTYD summary of a hand-made ledger, BG/NBD and gamma-gamma fits that
recover the parameters data was simulated from, and the projected value per customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.clv import (
    BetaGeoModel,
    ClvModelError,
    GammaGammaModel,
    bgnbd_log_likelihood,
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    simulate_bgnbd,
    simulate_gamma_gamma,
    summarise_transactions,
)

# The CDNOW estimates of Fader, Hardie and Lee (2005).
BGNBD_TRUTH = {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}
GAMMA_GAMMA_TRUTH = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture
def ledger() -> pd.DataFrame:
    rows = [
        # acme: weeks 0, 0 (same week, counted once), 2 and 4; the observation ends in week 7 (Feb 23-Mar 1).
        ("acme", "2026-01-05", 100.0), ("acme", "2026-01-07", 50.0), ("acme", "2026-01-19", 30.0),
        ("acme", "2026-02-02", 60.0),
        # bolt: one purchase; the one after the observation end is ignored.
        ("bolt", "2026-02-10", 80.0), ("bolt", "2026-03-02", 999.0),
        # crux: first purchase after the observation end, so absent.
        ("crux", "2026-03-05", 10.0),
        # dyne: two purchases in one week, the second late on the last observed day.
        ("dyne", "2026-02-23", 5.0), ("dyne", "2026-03-01 18:00", 7.0),
    ]
    return pd.DataFrame(rows, columns=["account_id", "invoice_date", "amount_usd"])


def test_summary_of_a_hand_made_ledger_in_weeks(ledger):
    summary = summarise_transactions(ledger, "account_id", "invoice_date", "amount_usd",
                                     freq="W", observation_end="2026-03-01")
    expected = pd.DataFrame(
        {"frequency": [2.0, 0.0, 0.0], "recency": [4.0, 0.0, 0.0], "T": [7.0, 2.0, 0.0],
         "monetary_value": [45.0, 0.0, 0.0]},
        index=pd.Index(["acme", "bolt", "dyne"], name="account_id"),
    )
    pd.testing.assert_frame_equal(summary, expected)


def test_summary_in_days_defaults_to_the_last_transaction(ledger):
    acme = ledger[ledger["account_id"] == "acme"]
    summary = summarise_transactions(acme, "account_id", "invoice_date", "amount_usd", freq="D")
    assert summary.loc["acme"].to_dict() == pytest.approx(
        {"frequency": 3.0, "recency": 28.0, "T": 28.0, "monetary_value": (50 + 30 + 60) / 3})


def test_summary_rejects_bad_input(ledger):
    with pytest.raises(ClvModelError, match="lack the columns"):
        summarise_transactions(ledger, "customer", "invoice_date", "amount_usd")
    with pytest.raises(ClvModelError, match="no transactions"):
        summarise_transactions(ledger.iloc[:0], "account_id", "invoice_date", "amount_usd")
    with pytest.raises(ClvModelError, match="freq must be one of"):
        summarise_transactions(ledger, "account_id", "invoice_date", "amount_usd", freq="fortnight")
    with pytest.raises(ClvModelError, match="ISO dates"):
        summarise_transactions(ledger.assign(invoice_date="soon"), "account_id", "invoice_date", "amount_usd")
    with pytest.raises(ClvModelError, match="no transactions on or before"):
        summarise_transactions(ledger, "account_id", "invoice_date", "amount_usd", observation_end="2025-01-01")


@pytest.fixture(scope="module")
def simulated_customers() -> pd.DataFrame:
    ages = np.random.default_rng(11).uniform(26, 78, 10_000)
    return simulate_bgnbd(10_000, **BGNBD_TRUTH, T=ages, seed=12)


@pytest.fixture(scope="module")
def purchases(simulated_customers) -> BetaGeoModel:
    customers = simulated_customers
    return fit_bgnbd(customers["frequency"], customers["recency"], customers["T"])


def test_bgnbd_recovers_simulated_parameters(purchases, simulated_customers):
    fitted = purchases.params
    print("BG/NBD fitted", {name: round(value, 3) for name, value in fitted.items()})
    assert purchases.converged and purchases.n_customers == 10_000
    for name in ("r", "alpha"):
        assert fitted[name] == pytest.approx(BGNBD_TRUTH[name], rel=0.10), name
    for name in ("a", "b"):
        assert fitted[name] == pytest.approx(BGNBD_TRUTH[name], rel=0.30), name
    customers = simulated_customers
    at_truth = bgnbd_log_likelihood(list(BGNBD_TRUTH.values()), *customers[["frequency", "recency", "T"]].T.to_numpy())
    assert purchases.log_likelihood >= at_truth.sum()


def test_bgnbd_conditional_expectation_matches_the_published_example():
    # Fader, Hardie and Lee (2005), section 5: x = 2, t_x = 30.43, T = 38.86 -> 1.226 in 39 weeks.
    cdnow = BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n_customers=0, converged=True)
    assert cdnow.expected_purchases(39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=5e-4)


def test_bgnbd_expectation_stays_finite_for_very_frequent_buyers():
    cdnow = BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n_customers=0, converged=True)
    # Weekly buyers for eight years: nearly their own rate, (r + x) / (alpha + T) per week.
    expected = cdnow.expected_purchases(52, [400.0, 2000.0], [400.0, 2000.0], [401.0, 2001.0])
    assert np.isfinite(expected).all()
    assert expected == pytest.approx(52 * np.array([400.243 / 405.414, 2000.243 / 2005.414]), rel=0.08)


def test_bgnbd_expectation_of_a_new_customer_matches_simulation():
    truth = BetaGeoModel(**BGNBD_TRUTH, log_likelihood=0.0, n_customers=0, converged=True)
    simulated = simulate_bgnbd(200_000, **BGNBD_TRUTH, T=52.0, seed=5)["frequency"].mean()
    assert truth.expected_purchases(52, [0], [0], [0])[0] == pytest.approx(simulated, rel=0.02)


def test_probability_alive(purchases):
    assert (purchases.probability_alive([0, 0], [0, 0], [5, 60]) == 1.0).all()
    since_last_purchase = purchases.probability_alive([3, 3, 3, 3], [50, 40, 25, 10], [52, 52, 52, 52])
    assert (np.diff(since_last_purchase) < 0).all() and (since_last_purchase > 0).all()
    customers = pd.DataFrame({"frequency": [4.0], "recency": [20.0], "T": [30.0]}, index=["acme"])
    alive = purchases.probability_alive(customers["frequency"], customers["recency"], customers["T"])
    assert isinstance(alive, pd.Series) and list(alive.index) == ["acme"]


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([], [], [], "empty"),
        ([0, 0], [0, 0], [4, 9], "no customer has a repeat purchase"),
        ([1, 2], [5, 12], [4, 20], "recency is longer than T"),
        ([1, -2], [5, 6], [8, 9], "negative"),
        ([1, np.nan], [5, 6], [8, 9], "missing"),
        ([1, 2], [5, 6], [8], "differ in length"),
    ],
)
def test_bgnbd_rejects_bad_input(frequency, recency, T, message):
    with pytest.raises(ClvModelError, match=message):
        fit_bgnbd(frequency, recency, T)


@pytest.fixture(scope="module")
def spend() -> tuple[GammaGammaModel, np.ndarray, np.ndarray]:
    frequency = np.random.default_rng(21).integers(1, 12, 5_000).astype(float)
    mean_value = simulate_gamma_gamma(frequency, **GAMMA_GAMMA_TRUTH, seed=22)
    return fit_gamma_gamma(frequency, mean_value), frequency, mean_value


def test_gamma_gamma_recovers_simulated_parameters(spend):
    model, frequency, mean_value = spend
    print("gamma-gamma fitted", {name: round(value, 3) for name, value in model.params.items()})
    assert model.q == pytest.approx(GAMMA_GAMMA_TRUTH["q"], rel=0.10)
    # p and v trade off against each other; their population mean is pinned down tighter.
    assert model.p == pytest.approx(GAMMA_GAMMA_TRUTH["p"], rel=0.25)
    assert model.v == pytest.approx(GAMMA_GAMMA_TRUTH["v"], rel=0.25)
    truth = GAMMA_GAMMA_TRUTH
    assert model.population_mean_value == pytest.approx(truth["p"] * truth["v"] / (truth["q"] - 1), rel=0.05)
    at_truth = gamma_gamma_log_likelihood(list(truth.values()), frequency, mean_value).sum()
    assert model.log_likelihood >= at_truth


def test_expected_average_profit_shrinks_towards_the_population_mean():
    model = GammaGammaModel(p=6.0, q=4.0, v=15.0, log_likelihood=0.0, n_customers=0, converged=True)
    expected = model.conditional_expected_average_profit([0, 1, 4, 100], [0.0, 60.0, 60.0, 60.0])
    # p (v + x m) / (p x + q - 1); the population mean is p v / (q - 1) = 30.
    assert expected == pytest.approx([30.0, 6 * (15 + 60) / 9, 6 * (15 + 240) / 27, 6 * (15 + 6000) / 603])
    assert 30 < expected[1] < expected[2] < expected[3] < 60


def test_gamma_gamma_rejects_customers_without_repeat_purchases():
    with pytest.raises(ClvModelError, match="no customer has a repeat purchase"):
        fit_gamma_gamma([0, 0, 0], [0.0, 0.0, 0.0])
    with pytest.raises(ClvModelError, match="empty"):
        fit_gamma_gamma([], [])


def test_customer_lifetime_value(purchases):
    spend_model = GammaGammaModel(p=6.0, q=4.0, v=15.0, log_likelihood=0.0, n_customers=0, converged=True)
    summary = pd.DataFrame(
        {"frequency": [0.0, 3.0, 3.0, 10.0], "recency": [0.0, 50.0, 10.0, 50.0], "T": [52.0] * 4,
         "monetary_value": [0.0, 120.0, 120.0, 40.0]},
        index=pd.Index(["new", "loyal", "lapsed", "frequent"], name="account_id"),
    )
    values = customer_lifetime_value(purchases, spend_model, summary, freq="W")
    weeks_per_year = 365.2425 / 7
    expected_12m = purchases.expected_purchases(weeks_per_year, summary["frequency"], summary["recency"], summary["T"])
    average = spend_model.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"])
    pd.testing.assert_series_equal(values["clv_12m"], expected_12m * average, check_names=False)
    assert (values["clv_36m"] > values["clv_12m"]).all()
    assert values.loc["loyal", "clv_12m"] > values.loc["lapsed", "clv_12m"]

    discounted = customer_lifetime_value(purchases, spend_model, summary, freq="W", monthly_discount_rate=0.01)
    months = np.arange(13)
    cumulative = np.array([purchases.expected_purchases(m * weeks_per_year / 12, [3.0], [50.0], [52.0])[0]
                           for m in months])
    by_hand = np.sum(np.diff(cumulative) / 1.01 ** months[1:]) * average["loyal"]
    assert discounted.loc["loyal", "clv_12m"] == pytest.approx(by_hand)
    assert (discounted["clv_36m"] < values["clv_36m"]).all()
    pd.testing.assert_series_equal(discounted["expected_purchases_12m"], values["expected_purchases_12m"])
    with pytest.raises(ClvModelError, match="lacks the columns"):
        customer_lifetime_value(purchases, spend_model, summary.drop(columns=["T"]))
