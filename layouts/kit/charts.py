"""Chart helpers: PNG file names that say what the chart showed, and reading a chart click."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any


def png_filename(page: str, parts: Iterable[Any], today: date | None = None) -> str:
    """'morning-coffee_revenue_2026-10-01_2026-10-31_Europe_2026-12-04': page, chart and
    filters, then the day of the download; only letters, digits, dots and dashes."""
    words = [page, *(str(p) for p in parts if p not in (None, "")), (today or date.today()).isoformat()]
    return "_".join(re.sub(r"[^A-Za-z0-9.-]+", "-", w).strip("-") for w in words if w)[:150]


def clicked_label(click_data: Any, axis: str = "y") -> str | None:
    """The category of the clicked bar/point (`y` for horizontal bars, `x` for vertical), or None."""
    if not isinstance(click_data, dict):
        return None
    points = click_data.get("points")
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    label = points[0].get(axis)
    return label if isinstance(label, str) else None
