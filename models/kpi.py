"""KPI arithmetic shared by every page: period comparisons and red/amber/green status."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from statistics import NormalDist


class Rag(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Period:
    """An inclusive date range."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)


def percent_change(current: float | None, previous: float | None) -> float | None:
    """Relative change in percent; None when there is no meaningful base."""
    if current is None or previous is None:
        return None
    if previous == 0 or math.isnan(previous) or math.isnan(current):
        return None
    return (current - previous) / abs(previous) * 100.0


def rag_for_lower_is_better(value: float | None, green_max: float, amber_max: float) -> Rag:
    """Status for a metric where smaller is better, such as a response time."""
    if value is None or math.isnan(value):
        return Rag.UNKNOWN
    if value <= green_max:
        return Rag.GREEN
    if value <= amber_max:
        return Rag.AMBER
    return Rag.RED


WILSON_Z = NormalDist().inv_cdf(0.975)  # a 95% interval


def wilson_interval(successes: int, trials: int, z: float = WILSON_Z) -> tuple[float, float] | None:
    """The Wilson score interval of a rate (95% by default): it stays inside 0-1 and is honest for small
    counts. Closed form, the bounds statsmodels' proportion_confint(method="wilson") gives; None without
    trials."""
    if trials <= 0:
        return None
    rate, z2 = successes / trials, z * z
    denominator = 1 + z2 / trials
    centre = (rate + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


# Two-proportion tests in closed form (the web app compares campaign variants per request and would
# otherwise load statsmodels and SciPy in every web worker just for these); tests check each against
# statsmodels.

def proportion_effect_size(rate_a: float, rate_b: float) -> float:
    """Cohen's h between two rates: 2·asin(√a) − 2·asin(√b) (statsmodels' proportion_effectsize)."""
    return 2 * math.asin(math.sqrt(rate_a)) - 2 * math.asin(math.sqrt(rate_b))


def two_proportion_p_value(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> float:
    """Two-sided p-value of the pooled z-test that two rates are equal (statsmodels' proportions_ztest);
    NaN when the pooled rate is 0 or 1, where the test says nothing."""
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    if spread == 0:
        return math.nan
    z = (successes_a / trials_a - successes_b / trials_b) / spread
    return 2 * NormalDist().cdf(-abs(z))


def rate_difference_interval(successes_a: int, trials_a: int, successes_b: int, trials_b: int,
                             alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe's hybrid score interval of rate a − rate b, from each rate's Wilson interval
    (statsmodels' confint_proportions_2indep(method="newcomb", compare="diff"))."""
    z = NormalDist().inv_cdf(1 - alpha / 2)
    rate_a, rate_b = successes_a / trials_a, successes_b / trials_b
    low_a, high_a = wilson_interval(successes_a, trials_a, z)  # type: ignore[misc]
    low_b, high_b = wilson_interval(successes_b, trials_b, z)  # type: ignore[misc]
    difference = rate_a - rate_b
    return (difference - math.sqrt((rate_a - low_a) ** 2 + (high_b - rate_b) ** 2),
            difference + math.sqrt((high_a - rate_a) ** 2 + (rate_b - low_b) ** 2))


def holm_adjusted(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given (statsmodels' multipletests(method="holm"))."""
    count = len(p_values)
    adjusted = [0.0] * count
    running = 0.0
    for rank, index in enumerate(sorted(range(count), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (count - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
