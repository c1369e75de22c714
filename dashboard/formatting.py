"""Number and date wording shared by pages, exports and generated summaries.

Plain functions with no web dependency, so the jobs that write summaries word figures
exactly as the pages do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_count(value: float | None) -> str:
    """12,345; an em dash when missing."""
    return "\u2014" if _is_missing(value) else f"{value:,.0f}"


def format_usd(value: float | None) -> str:
    """US dollars, compact: $950, $9,876, $12.3K, $1.2M, $3.4B."""
    if _is_missing(value):
        return "\u2014"
    sign = "-" if value < 0 else ""
    size = abs(value)
    if round(size) < 10_000:
        return f"{sign}${size:,.0f}"
    for divisor, suffix in ((1e3, "K"), (1e6, "M"), (1e9, "B")):
        # Round first so that 999,960 reads $1.0M, not $1,000.0K.
        if round(size / divisor, 1) < 1000 or suffix == "B":
            return f"{sign}${size / divisor:,.1f}{suffix}"
    raise AssertionError("unreachable")


def format_minutes(value: float | None) -> str:
    """A duration given in minutes: 42 min, 3 h 05 min, 2 d 4 h."""
    if _is_missing(value):
        return "\u2014"
    sign = "-" if value < 0 else ""
    minutes = round(abs(value))
    if minutes < 60:
        return f"{sign}{minutes} min"
    if minutes < 24 * 60:
        return f"{sign}{minutes // 60} h {minutes % 60:02d} min"
    return f"{sign}{minutes // 1440} d {(minutes % 1440) // 60} h"


def format_day(day: date | None) -> str:
    """22 Nov 2026."""
    return "\u2014" if day is None else f"{day.day} {day:%b %Y}"


def format_day_short(day: date | None, reference: date | None = None) -> str:
    """22 Nov, with the year only when it differs from `reference`'s."""
    if day is None:
        return "\u2014"
    return f"{day.day} {day:%b}" if reference is not None and day.year == reference.year else format_day(day)


def format_percent(fraction: float | None, digits: int = 1) -> str:
    """0.123 -> 12.3%."""
    return "\u2014" if _is_missing(fraction) else f"{fraction * 100:.{digits}f}%"


FORMATTERS: dict[str, Callable[[float | None], str]] = {
    "count": format_count, "usd": format_usd, "minutes": format_minutes, "percent": format_percent,
}
