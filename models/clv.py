"""Customer lifetime value: BG/NBD for repeat purchases, gamma-gamma for their value.

    summary = summarise_transactions(ledger, "account_id", "invoice_date", "amount_usd", freq="W")
    purchases = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    spend = fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
    values = customer_lifetime_value(purchases, spend, summary, freq="W")   # clv_12m, clv_36m ...

Conventions are those of the BTYD literature and the `lifetimes` package:
- time is counted in whole periods of `freq` (days "D", weeks "W", months "M");
- purchases in the same period count once (their values are summed);
- `frequency` is the number of periods with a purchase after the first one (repeat purchases);
- `recency` runs from the first purchase period to the last; `T` from the first purchase period to
  the period of the end of observation;
- `monetary_value` is the mean value of the repeat purchase periods, excluding the first purchase,
  and 0 when there are none (gamma-gamma is fitted on repeat customers only).

References: Fader, Hardie and Lee (2005), "Counting your customers the easy way: an alternative
to the Pareto/NBD model" (BG/NBD) and "RFM and CLV: using iso-value curves for customer base
analysis" (gamma-gamma).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

DAYS_PER_MONTH = 365.2425 / 12
PERIODS_PER_MONTH = {"D": DAYS_PER_MONTH, "W": DAYS_PER_MONTH / 7, "M": 1.0}
# Log-parameter bounds: wide enough for any real customer base, narrow enough to keep exp() finite.
LOG_BOUNDS = (np.log(1e-6), np.log(1e6))

SUMMARY_COLUMNS = ["frequency", "recency", "T", "monetary_value"]


class ClvModelError(ValueError):
    """Raised for inputs the lifetime-value models cannot use."""


# ----------------------------------------------------------------------------------------------
# Transactions -> frequency, recency, T, monetary value
# ----------------------------------------------------------------------------------------------

def _base_freq(freq: str) -> str:
    base = freq.split("-")[0].upper()
    if base not in PERIODS_PER_MONTH:
        raise ClvModelError(f"freq must be one of {sorted(PERIODS_PER_MONTH)} (optionally anchored, e.g. W-MON), "
                            f"got {freq!r}")
    return base


def summarise_transactions(
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    value_col: str,
    *,
    freq: str = "W",
    observation_end: date | datetime | str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per customer `frequency`, `recency`, `T` and `monetary_value` in periods of `freq`.

    `observation_end` defaults to the last transaction; transactions after it are ignored (a bare
    date includes the whole of that day). Customers whose first purchase is after it are absent.
    """
    _base_freq(freq)
    missing = [column for column in (customer_col, date_col, value_col) if column not in transactions.columns]
    if missing:
        raise ClvModelError(f"transactions lack the columns {missing}")
    if transactions.empty:
        raise ClvModelError("no transactions to summarise")
    try:
        when = pd.to_datetime(transactions[date_col], format="ISO8601")
        value = pd.to_numeric(transactions[value_col], errors="raise").astype("float64")
    except (TypeError, ValueError) as error:
        raise ClvModelError(f"transactions need ISO dates in {date_col!r} and numbers in {value_col!r}: "
                            f"{error}") from error
    ledger = pd.DataFrame({"customer": transactions[customer_col].to_numpy(), "when": when.to_numpy(),
                           "value": value.to_numpy()})
    if ledger["customer"].isna().any() or ledger["when"].isna().any():
        raise ClvModelError("transactions have missing customer ids or dates")
    ledger["value"] = ledger["value"].fillna(0.0)

    if observation_end is None:
        end = ledger["when"].max()
        ledger_end = end
    else:
        end = pd.Timestamp(observation_end)
        # A bare date means the end of that day.
        ledger_end = end + pd.Timedelta(days=1) - pd.Timedelta(1, "ns") if end == end.normalize() else end
        ledger = ledger[ledger["when"] <= ledger_end]
        if ledger.empty:
            raise ClvModelError(f"no transactions on or before the observation end {observation_end}")

    period = ledger["when"].dt.to_period(freq).array.asi8
    end_period = int(pd.Period(ledger_end, freq=freq).ordinal)
    per_period = (ledger.assign(period=period).groupby(["customer", "period"], sort=True)["value"].sum()
                  .reset_index())
    grouped = per_period.groupby("customer", sort=True)
    first_period = grouped["period"].min()
    first_value = grouped["value"].first()  # rows are sorted by period within each customer
    frequency = grouped.size() - 1
    repeat_value = grouped["value"].sum() - first_value
    summary = pd.DataFrame({
        "frequency": frequency.astype("float64"),
        "recency": (grouped["period"].max() - first_period).astype("float64"),
        "T": (end_period - first_period).astype("float64"),
        "monetary_value": np.where(frequency > 0, repeat_value / frequency.clip(lower=1), 0.0),
    })
    summary.index.name = customer_col
    return summary


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------

def _as_array(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values, dtype="float64")
    if array.ndim != 1:
        array = np.atleast_1d(array).ravel()
    if array.size == 0:
        raise ClvModelError(f"{name} is empty")
    if not np.isfinite(array).all():
        raise ClvModelError(f"{name} contains missing or infinite values")
    if (array < 0).any():
        raise ClvModelError(f"{name} contains negative values")
    return array


def _rft(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, t_x, age = _as_array(frequency, "frequency"), _as_array(recency, "recency"), _as_array(T, "T")
    if not (x.size == t_x.size == age.size):
        raise ClvModelError(f"frequency, recency and T differ in length ({x.size}, {t_x.size}, {age.size})")
    if (t_x > age).any():
        raise ClvModelError("recency is longer than T for some customers")
    if ((x > 0) & (t_x == 0)).any():
        raise ClvModelError("customers with repeat purchases need a recency above zero")
    return x, t_x, age


def _index_of(values: Any) -> pd.Index | None:
    return values.index if isinstance(values, pd.Series) else None


# ----------------------------------------------------------------------------------------------
# BG/NBD
# ----------------------------------------------------------------------------------------------

def bgnbd_log_likelihood(params: Sequence[float], x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie and Lee 2005, equation 6)."""
    return _bgnbd_terms(params, x, t_x, age)[0]


def _bgnbd_terms(params: Sequence[float], x: np.ndarray, t_x: np.ndarray, age: np.ndarray,
                 gradient: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Log-likelihood per customer and, if asked, its gradient in (r, alpha, a, b), shape (4, n)."""
    r, alpha, a, b = params
    repeat = x > 0
    x_repeat = np.where(repeat, x, 1.0)  # keeps b + x - 1 positive where the term is unused
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    survived = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + age)
    dropped = np.where(
        repeat,
        betaln(a + 1, b + x_repeat - 1) - betaln(a, b) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    log_likelihood = common + np.logaddexp(survived, dropped)
    if not gradient:
        return log_likelihood, None
    weight_survived = np.exp(survived + common - log_likelihood)
    weight_dropped = np.exp(dropped + common - log_likelihood)
    psi_abx, psi_ab = digamma(a + b + x), digamma(a + b)
    d_r = (digamma(r + x) - digamma(r) + np.log(alpha)
           - weight_survived * np.log(alpha + age) - weight_dropped * np.log(alpha + t_x))
    d_alpha = r / alpha - (r + x) * (weight_survived / (alpha + age) + weight_dropped / (alpha + t_x))
    d_a = (weight_survived * (psi_ab - psi_abx)
           + weight_dropped * (digamma(a + 1) - digamma(a) + psi_ab - psi_abx))
    d_b = (weight_survived * (digamma(b + x) - digamma(b) + psi_ab - psi_abx)
           + weight_dropped * (digamma(b + x_repeat - 1) - digamma(b) + psi_ab - psi_abx))
    return log_likelihood, np.vstack([d_r, d_alpha, d_a, d_b])


def _maximise(terms, weights: np.ndarray, n_params: int) -> tuple[np.ndarray, float, bool]:
    """Maximum likelihood over log-parameters with L-BFGS-B and analytic gradients.

    `terms(params)` returns the per-customer log-likelihood and its gradient (n_params, n).
    Further starting points are tried only when the first does not converge.
    """
    total_weight = weights.sum()

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        log_likelihood, gradient = terms(params)
        value = -np.dot(weights, log_likelihood) / total_weight
        if not np.isfinite(value):
            return 1e12, np.zeros(n_params)
        # Chain rule for the log-parameterisation: d/d log(theta) = theta * d/d theta.
        return float(value), -(gradient @ weights) * params / total_weight

    best = None
    for start in (0.0, -1.0, 1.0):
        result = minimize(objective, np.full(n_params, start), jac=True, method="L-BFGS-B",
                          bounds=[LOG_BOUNDS] * n_params)
        if best is None or result.fun < best.fun:
            best = result
        if best.success and best.fun < 1e12:
            break
    log_likelihood_total = -best.fun * total_weight
    if not np.isfinite(log_likelihood_total) or best.fun >= 1e12:
        raise ClvModelError("the likelihood could not be maximised; check the inputs")
    return np.exp(best.x), float(log_likelihood_total), bool(best.success)


def _unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows and their counts: customers share few (x, t_x, T) triples in whole periods."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype("float64")


@dataclass(frozen=True)
class BetaGeoModel:
    """A fitted BG/NBD model; times are in the periods the data was summarised in."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    converged: bool

    @property
    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray | pd.Series:
        """Probability each customer is still active at T; 1 for customers without repeat purchases."""
        x, t_x, age = _rft(frequency, recency, T)
        odds_dead = self._odds_dropped(x, t_x, age)
        return self._like(frequency, 1.0 / (1.0 + odds_dead))

    def expected_purchases(self, t: float, frequency: Any, recency: Any, T: Any) -> np.ndarray | pd.Series:
        """Expected repeat purchases in the next `t` periods given each customer's history (eq. 10)."""
        if t < 0:
            raise ClvModelError("t must be zero or positive")
        x, t_x, age = _rft(frequency, recency, T)
        return self._like(frequency, self._expected(float(t), x, t_x, age))

    def _odds_dropped(self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
        repeat = x > 0
        x_repeat = np.where(repeat, x, 1.0)
        log_odds = (np.log(self.a) - np.log(self.b + x_repeat - 1)
                    + (self.r + x) * (np.log(self.alpha + age) - np.log(self.alpha + t_x)))
        return np.where(repeat, np.exp(log_odds), 0.0)

    def _expected(self, t: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + age + t)
        # Euler's transformation of ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z): the same
        # value, but its terms stay bounded for customers with hundreds of purchases.
        growth = 1.0 - (1.0 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        return (a + b + x - 1) / (a - 1) * growth / (1.0 + self._odds_dropped(x, t_x, age))

    @staticmethod
    def _like(template: Any, values: np.ndarray) -> np.ndarray | pd.Series:
        index = _index_of(template)
        return pd.Series(values, index=index) if index is not None else values


def fit_bgnbd(frequency: Any, recency: Any, T: Any) -> BetaGeoModel:
    """Fit BG/NBD (r, alpha, a, b) by maximum likelihood."""
    x, t_x, age = _rft(frequency, recency, T)
    if not (x > 0).any():
        raise ClvModelError("no customer has a repeat purchase; BG/NBD cannot be fitted")
    (x_u, t_x_u, age_u), weights = _unique_rows(x, t_x, age)
    params, log_likelihood, converged = _maximise(
        lambda p: _bgnbd_terms(p, x_u, t_x_u, age_u, gradient=True), weights, 4)
    r, alpha, a, b = (float(value) for value in params)
    return BetaGeoModel(r, alpha, a, b, log_likelihood, int(x.size), converged)


# ----------------------------------------------------------------------------------------------
# Gamma-gamma
# ----------------------------------------------------------------------------------------------

def gamma_gamma_log_likelihood(params: Sequence[float], x: np.ndarray, mean_value: np.ndarray) -> np.ndarray:
    """Per-customer gamma-gamma log-likelihood of the mean of x transactions."""
    return _gamma_gamma_terms(params, x, mean_value)[0]


def _gamma_gamma_terms(params: Sequence[float], x: np.ndarray, mean_value: np.ndarray,
                       gradient: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    p, q, v = params
    px = p * x
    log_total = np.log(x * mean_value + v)
    log_likelihood = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
                      + (px - 1) * np.log(mean_value) + px * np.log(x) - (px + q) * log_total)
    if not gradient:
        return log_likelihood, None
    psi_pxq = digamma(px + q)
    d_p = x * (psi_pxq - digamma(px) + np.log(mean_value) + np.log(x) - log_total)
    d_q = psi_pxq - digamma(q) + np.log(v) - log_total
    d_v = q / v - (px + q) / (x * mean_value + v)
    return log_likelihood, np.vstack([d_p, d_q, d_v])


@dataclass(frozen=True)
class GammaGammaModel:
    """A fitted gamma-gamma spend model."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: int
    converged: bool

    @property
    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}

    @property
    def population_mean_value(self) -> float:
        """Expected mean transaction value of a customer with no repeat purchases yet."""
        if self.q <= 1:
            raise ClvModelError(f"q = {self.q:.3f} <= 1: the population mean value is infinite")
        return self.p * self.v / (self.q - 1)

    def conditional_expected_average_profit(self, frequency: Any, monetary_value: Any) -> np.ndarray | pd.Series:
        """Expected mean transaction value per customer, shrunk towards the population mean."""
        x = _as_array(frequency, "frequency")
        mean_value = _as_array(monetary_value, "monetary_value")
        if x.size != mean_value.size:
            raise ClvModelError("frequency and monetary_value differ in length")
        px = self.p * x
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = self.p * (self.v + x * mean_value) / (px + self.q - 1)
        expected = np.where(x > 0, expected, self.population_mean_value if (x == 0).any() else 0.0)
        return BetaGeoModel._like(frequency, expected)


def fit_gamma_gamma(frequency: Any, monetary_value: Any) -> GammaGammaModel:
    """Fit gamma-gamma (p, q, v) by maximum likelihood on customers with repeat purchases."""
    x = _as_array(frequency, "frequency")
    mean_value = _as_array(monetary_value, "monetary_value")
    if x.size != mean_value.size:
        raise ClvModelError("frequency and monetary_value differ in length")
    repeat = (x > 0) & (mean_value > 0)
    if not repeat.any():
        raise ClvModelError("no customer has a repeat purchase with a positive value; gamma-gamma cannot be fitted")
    (x_u, value_u), weights = _unique_rows(x[repeat], mean_value[repeat])
    params, log_likelihood, converged = _maximise(
        lambda p: _gamma_gamma_terms(p, x_u, value_u, gradient=True), weights, 3)
    p, q, v = (float(value) for value in params)
    return GammaGammaModel(p, q, v, log_likelihood, int(repeat.sum()), converged)


# ----------------------------------------------------------------------------------------------
# Lifetime value
# ----------------------------------------------------------------------------------------------

def customer_lifetime_value(
    purchases: BetaGeoModel,
    spend: GammaGammaModel,
    summary: pd.DataFrame,
    *,
    freq: str = "W",
    horizons_months: Sequence[int] = (12, 36),
    monthly_discount_rate: float = 0.0,
) -> pd.DataFrame:
    """Projected value per customer: expected purchases times expected average value.

    `summary` has the columns of `summarise_transactions`, in periods of `freq`. For each horizon
    the result has `expected_purchases_<h>m` and `clv_<h>m`; with a `monthly_discount_rate` each
    month's expected purchases are discounted by (1 + rate) ** month. Also returned:
    `probability_alive` and `expected_average_value`.
    """
    missing = [column for column in SUMMARY_COLUMNS if column not in summary.columns]
    if missing:
        raise ClvModelError(f"summary lacks the columns {missing}")
    if monthly_discount_rate < 0:
        raise ClvModelError("monthly_discount_rate must be zero or positive")
    if not horizons_months or min(horizons_months) < 1:
        raise ClvModelError("horizons_months must be whole months of at least 1")
    periods_per_month = PERIODS_PER_MONTH[_base_freq(freq)]
    x, t_x, age = _rft(summary["frequency"], summary["recency"], summary["T"])
    average_value = np.asarray(spend.conditional_expected_average_profit(x, summary["monetary_value"]))

    result = pd.DataFrame(index=summary.index)
    result["probability_alive"] = purchases.probability_alive(x, t_x, age)
    result["expected_average_value"] = average_value
    longest = max(horizons_months)
    if monthly_discount_rate == 0:
        cumulative = {m: purchases._expected(m * periods_per_month, x, t_x, age) for m in horizons_months}
        for months in horizons_months:
            result[f"expected_purchases_{months}m"] = cumulative[months]
            result[f"clv_{months}m"] = cumulative[months] * average_value
        return result

    previous = np.zeros(x.size)
    discounted_purchases = np.zeros(x.size)
    for month in range(1, longest + 1):
        current = purchases._expected(month * periods_per_month, x, t_x, age)
        discounted_purchases += (current - previous) / (1 + monthly_discount_rate) ** month
        previous = current
        if month in horizons_months:
            result[f"expected_purchases_{month}m"] = current
            result[f"clv_{month}m"] = discounted_purchases * average_value
    return result


# ----------------------------------------------------------------------------------------------
# Simulation from the generative models, for tests and benchmarks
# ----------------------------------------------------------------------------------------------

def simulate_bgnbd(n_customers: int, *, r: float, alpha: float, a: float, b: float,
                   T: float | np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Customers drawn from the BG/NBD process: frequency, recency and T (continuous time).

    Each customer buys as a Poisson process with rate ~ Gamma(r, alpha) and, after each repeat
    purchase, drops out for good with probability ~ Beta(a, b).
    """
    rng = np.random.default_rng(seed)
    age = np.broadcast_to(np.asarray(T, dtype="float64"), (n_customers,)).copy()
    rate = rng.gamma(r, 1.0 / alpha, n_customers)
    dropout = rng.beta(a, b, n_customers)
    now = np.zeros(n_customers)
    frequency = np.zeros(n_customers)
    recency = np.zeros(n_customers)
    active = np.flatnonzero(rate > 0)
    while active.size:
        now[active] += rng.exponential(1.0 / rate[active])
        bought = now[active] <= age[active]
        buyers = active[bought]
        frequency[buyers] += 1
        recency[buyers] = now[buyers]
        survivors = buyers[rng.random(buyers.size) >= dropout[buyers]]
        active = survivors
    return pd.DataFrame({"frequency": frequency, "recency": recency, "T": age})


def simulate_gamma_gamma(frequency: np.ndarray, *, p: float, q: float, v: float, seed: int = 0) -> np.ndarray:
    """Mean transaction value per customer from the gamma-gamma model (0 where frequency is 0)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype="float64")
    spend_rate = rng.gamma(q, 1.0 / v, x.size)
    # The mean of x Gamma(p, nu) values is Gamma(p x, x nu).
    safe_x = np.where(x > 0, x, 1.0)
    mean_value = rng.gamma(p * safe_x, 1.0 / (spend_rate * safe_x))
    return np.where(x > 0, mean_value, 0.0)
