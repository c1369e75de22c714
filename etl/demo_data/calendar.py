"""Day indexing and fast ISO formatting of dates and timestamps.

Times are int64 seconds since 00:00 UTC on day 0 (= as_of - 3 years); day d covers
[d * 86400, (d + 1) * 86400). NULL timestamps use the sentinel `NO_TIME`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from .config import HISTORY_DAYS

DAY = 86_400
NO_TIME = np.iinfo(np.int64).min
DAYS_BEFORE = 3_400  # base accounts were created up to ~9 years before the history starts
DAYS_AFTER = 400  # due dates, close dates and meetings can lie in the future


@lru_cache(maxsize=1)
def _time_of_day() -> np.ndarray:
    return np.array([f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(DAY)], dtype=object)


class Calendar:
    """Maps day indexes and second offsets to ISO strings for one as_of date."""

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        self.n_days = HISTORY_DAYS
        self.start = as_of - timedelta(days=HISTORY_DAYS - 1)
        self.end_seconds = HISTORY_DAYS * DAY  # first second after as_of
        self._days = np.array(
            [(self.start + timedelta(days=d)).isoformat() for d in range(-DAYS_BEFORE, HISTORY_DAYS + DAYS_AFTER)],
            dtype=object)
        self.weekday = (self.start.weekday() + np.arange(HISTORY_DAYS)) % 7  # Monday = 0
        self.day_of_month = np.array([(self.start + timedelta(days=d)).day for d in range(HISTORY_DAYS)])
        self.month_starts = np.flatnonzero(self.day_of_month == 1)

    def date(self, day: int) -> date:
        """The calendar date of a day index."""
        return self.start + timedelta(days=int(day))

    def day_index(self, when: date) -> int:
        """The day index of a calendar date."""
        return (when - self.start).days

    def dates(self, days: np.ndarray, null: np.ndarray | None = None) -> list[str]:
        """YYYY-MM-DD strings for day indexes; '' where `null` is true."""
        out = self._days[np.clip(np.asarray(days, dtype=np.int64) + DAYS_BEFORE, 0, len(self._days) - 1)]
        if null is not None and null.any():
            out = out.copy()
            out[null] = ""
        return out.tolist()

    def timestamps(self, seconds: np.ndarray) -> list[str]:
        """ISO 8601 UTC strings for second offsets; '' for NO_TIME."""
        seconds = np.asarray(seconds, dtype=np.int64)
        valid = seconds != NO_TIME
        if valid.all():
            return (self._days[seconds // DAY + DAYS_BEFORE] + _time_of_day()[seconds % DAY]).tolist()
        out = np.full(len(seconds), "", dtype=object)
        s = seconds[valid]
        out[valid] = self._days[s // DAY + DAYS_BEFORE] + _time_of_day()[s % DAY]
        return out.tolist()
