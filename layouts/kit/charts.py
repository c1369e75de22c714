"""Chart helpers: PNG file names that say what the chart showed, reading a chart click, and the
MRR waterfall that the account journey and Morning Coffee share."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

import plotly.graph_objects as go

from dashboard.formatting import format_usd
from layouts import theme

MRR_PART_LABELS = {"new": "New", "expansion": "Expansion", "contraction": "Contraction", "churn": "Churn", "fx": "FX"}


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


def mrr_waterfall_figure(start_label: str, start_mrr: float, parts: dict[str, float], end_label: str,
                         end_mrr: float) -> go.Figure:
    """MRR on the start day, each part of its change (rises green, falls red), and MRR on the end day."""
    labels = [start_label, *(MRR_PART_LABELS[p] for p in parts), end_label]
    amounts = [start_mrr, *parts.values(), end_mrr]
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=8, t=16, b=40))
    fig.add_trace(go.Waterfall(
        x=labels, y=amounts, measure=["absolute", *["relative"] * len(parts), "total"],
        text=[format_usd(v) for v in amounts], textposition="outside", cliponaxis=False,
        increasing=dict(marker=dict(color=theme.OKABE_ITO["green"])),
        decreasing=dict(marker=dict(color=theme.OKABE_ITO["vermillion"])),
        totals=dict(marker=dict(color=theme.PRIMARY)), connector=dict(line=dict(color=theme.MUTED)),
        hovertemplate="%{x}: %{text}<extra></extra>"))
    fig.update_yaxes(tickprefix="$", tickformat="~s", nticks=5)
    return fig
