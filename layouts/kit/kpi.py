"""KPI cards: value, change vs the previous period, a sparkline, the data's freshness, and
'Why did it move?' / 'Where from?' popovers, with the KPI's definition on its title."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.formatting import FORMATTERS
from dashboard.queries.freshness import GoldStatus
from dashboard.queries.glossary import definition
from dashboard.queries.insights import KpiDriverBreakdown
from dashboard.queries.lineage import Lineage
from layouts import theme
from layouts.components import (
    delta_indicator,
    gold_status_statement,
    humanize_age,
    no_selection_state,
    rag_indicator,
)
from layouts.kit.provenance import drivers_body, lineage_body
from models.kpi import Rag


def sparkline(points: Sequence[float | None], *, up_is_good: bool = True) -> dcc.Graph:
    """The KPI's daily values over the period as a small static line.

    A plain figure dict without the chart template: a 36-pixel line has no axes, legend or text
    to style, and building a templated Figure costs more than the card's query."""
    figure = {
        "data": [{"type": "scatter", "y": list(points), "mode": "lines", "connectgaps": True, "hoverinfo": "skip",
                  "line": {"color": theme.PRIMARY, "width": 1.5}}],
        "layout": {"showlegend": False, "height": 36, "margin": {"l": 0, "r": 0, "t": 2, "b": 2},
                   "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                   "xaxis": {"visible": False}, "yaxis": {"visible": False}},
    }
    return dcc.Graph(figure=figure, config={"staticPlot": True, "displayModeBar": False},
                     style={"height": "36px"}, className="c360-sparkline")


def freshness_note(status: GoldStatus | None) -> html.Div | None:
    """'Data as of ... · 3 hours ago', amber while gold is held back or failing."""
    if status is None or status.refreshed_at is None:
        return None
    tone = "" if status.state == "fresh" else " c360-freshness-stale"
    return html.Div(f"Data as of {status.refreshed_at:%d %b %H:%M} UTC \u00b7 {humanize_age(status.refreshed_at)}",
                    className=f"c360-kpi-freshness small text-muted{tone}", title=gold_status_statement(status))


def _popover_link(card_id: str, key: str, label: str, body: object) -> list:
    target = f"{card_id}-{key}"
    return [html.Button(label, id=target, type="button", className="btn btn-link btn-sm c360-kpi-link"),
            dbc.Popover(dbc.PopoverBody(body), target=target, trigger="legacy", placement="bottom",
                        className="c360-popover")]


def kpi_card(card_id: str, glossary_key: str, title: str, value: float | None, delta: float | None = None, *,
             percent: float | None = None, value_format: str = "count", up_is_good: bool = True,
             comparison: str = "vs previous period", subtitle: str | None = None, rag: Rag | str | None = None,
             series: Sequence[float | None] = (), status: GoldStatus | None = None,
             drivers: KpiDriverBreakdown | None = None, lineage: Lineage | None = None) -> dbc.Card:
    """A headline figure with its change, sparkline, freshness and provenance popovers."""
    header = [html.Span(title, className="c360-kpi-title", title=definition(glossary_key))]
    if rag is not None:
        header.append(rag_indicator(rag))
    body: list = [
        html.Div(header, className="c360-kpi-header"),
        html.Div(FORMATTERS[value_format](value), className="c360-kpi-value"),
        delta_indicator(delta, percent=percent, value_format=value_format, up_is_good=up_is_good,
                        comparison=comparison),
    ]
    if subtitle:
        body.append(html.Div(subtitle, className="c360-kpi-subtitle text-muted"))
    if any(p is not None for p in series):
        body.append(sparkline(series, up_is_good=up_is_good))
    links: list = []
    if drivers is not None:
        links += _popover_link(card_id, "why", "Why did it move?", drivers_body(drivers, value_format))
    if lineage is not None:
        links += _popover_link(card_id, "lineage", "Where from?", lineage_body(lineage))
    if links:
        body.append(html.Div(links, className="c360-kpi-links"))
    note = freshness_note(status)
    if note is not None:
        body.append(note)
    return dbc.Card(dbc.CardBody(body), className="c360-kpi-card h-100")


def kpi_card_empty(glossary_key: str, title: str, message: str) -> dbc.Card:
    """A KPI card with nothing to show, saying why."""
    return dbc.Card(dbc.CardBody([html.Div(html.Span(title, className="c360-kpi-title",
                                                     title=definition(glossary_key)),
                                           className="c360-kpi-header"),
                                  no_selection_state(message)]),
                    className="c360-kpi-card h-100")


def headline(label: str, value: str, detail: str = "", title: str | None = None) -> html.Div:
    """A figure inside a panel: its label (with `title` on hover), the value and a line of detail."""
    return html.Div([html.Div(label, className="c360-kpi-title", title=title),
                     html.Div(value, className="c360-kpi-value"),
                     html.Div(detail, className="c360-kpi-subtitle text-muted small")],
                    className="c360-strategy-headline me-4 mb-2")


def headlines(*items: html.Div) -> html.Div:
    """Panel figures side by side, wrapping on a phone."""
    return html.Div(list(items), className="d-flex flex-wrap")
