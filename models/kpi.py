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
