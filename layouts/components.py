"""Shared building blocks: page header, KPI and chart cards, freshness badge, empty and error states."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html
from dash.development.base_component import Component

from dashboard.formatting import (  # noqa: F401  (re-exported for the pages)
    FORMATTERS,
    _is_missing,
    format_count,
    format_day,
    format_day_short,
    format_minutes,
    format_percent,
    format_usd,
)
from dashboard.queries.freshness import GoldStatus
from layouts.kit.light import static_table
from models.kpi import Rag

NO_SELECTION_MESSAGE = "No data for this selection"


def humanize_age(moment: datetime, now: datetime | None = None) -> str:
    """'5 minutes ago', '3 hours ago', '2 days ago'."""
    now = now or datetime.now(UTC)
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def _utc(moment: datetime | None) -> str:
    return "\u2014" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _checks_phrase(status: GoldStatus) -> str:
    count = status.failing_check_count
    return f"{count} failing critical check{'s' if count != 1 else ''}" if count else "a failing critical check"


def gold_status_statement(status: GoldStatus) -> str:
    """One plain sentence on what gold is and, when it did not move, why; the badge, the jobs
    page banner and the empty states all say it the same way."""
    if status.state == "fresh":
        return f"Data as of {_utc(status.refreshed_at)}."
    if status.state == "held_back":
        return (f"Gold held back since {_utc(status.since)}: {status.cause} ({_checks_phrase(status)}). "
                f"The data of {_utc(status.refreshed_at)} is still served.")
    if status.state == "failed":
        return (f"Data refresh failing since {_utc(status.since)}: {status.cause}. "
                f"The data of {_utc(status.refreshed_at)} is still served.")
    if status.cause is None:
        return "No data loaded yet: no data refresh has run."
    if status.blocked:
        return (f"Gold never built: promotion held back by data quality since {_utc(status.since)}: "
                f"{status.cause} ({_checks_phrase(status)}).")
    return f"Gold never built: the data refresh failed at {_utc(status.since)}: {status.cause}."


def freshness_badge(status: GoldStatus) -> dbc.Badge:
    """Green 'Data as of ...' while gold is fresh (amber when older than a day), amber while a
    data-quality check holds gold back, red while refreshes fail or gold was never built."""
    props = {"id": "freshness-badge", "className": "c360-freshness", "title": gold_status_statement(status)}
    if status.state == "fresh":
        refreshed_at = status.refreshed_at or datetime.now(UTC)
        stale = (datetime.now(UTC) - refreshed_at).total_seconds() > 26 * 3600
        label = f"Data as of {refreshed_at:%Y-%m-%d %H:%M} UTC \u00b7 {humanize_age(refreshed_at)}"
        return dbc.Badge(label, color="warning" if stale else "success", **props)
    if status.state == "held_back":
        label = f"Gold held back since {_utc(status.since)}: {status.cause} \u00b7 {_checks_phrase(status)}"
        return dbc.Badge(label, color="warning", text_color="dark", **props)
    if status.state == "failed":
        return dbc.Badge(f"Data refresh failing since {_utc(status.since)}: {status.cause}", color="danger", **props)
    if status.cause is None:
        return dbc.Badge("No data loaded yet", color="danger", **props)
    return dbc.Badge(f"No data yet: {status.cause}", color="danger", **props)


def gold_status_banner(status: GoldStatus, banner_id: str | None = None, max_checks: int = 20) -> html.Div:
    """The gold statement as an alert with the failing checks listed; nothing while gold is fresh."""
    props = {"id": banner_id} if banner_id else {}
    if status.state == "fresh":
        return html.Div(**props)
    checks = list(status.failing_checks[:max_checks])
    more = status.failing_check_count - len(checks)
    listed = [html.Li(html.Code(check)) for check in checks]
    if more > 0:
        listed.append(html.Li(f"and {more} more"))
    body = [html.Div(gold_status_statement(status), className="fw-semibold")]
    if listed:
        body += [html.Div("Failing critical checks:", className="mt-2 small"),
                 html.Ul(listed, className="mb-0 small c360-failing-checks")]
    color = "warning" if status.state == "held_back" else "danger"
    return html.Div(dbc.Alert(body, color=color, className="mb-3"), **props)


def gold_empty_detail(status: GoldStatus | None) -> list:
    """What an empty page says: why there is no data and what to do, naming the cause when a
    refresh was held back or failed."""
    if status is None or status.state == "fresh" or (status.state == "never" and status.cause is None):
        return ["Nothing has been loaded into Client360 yet. Run ", html.Code("c360 etl run"),
                " to load the landing files, then reload this page."]
    advice = (" Fix the data named by the failing checks (see Data quality), then run "
              if status.blocked else " Fix the cause, then run ")
    return [gold_status_statement(status), advice, html.Code("c360 etl run"), " again."]


COPY_LINK_ID = "page-copy-link"


def page_header(title: str, subtitle: str = "", controls: object = None, *, copy_link: bool = True) -> html.Div:
    """Title, subtitle and a "copy link" button on the left (the URL holds the page's state, so
    the link reproduces the view), the page's filters on the right."""
    copy = html.Span([dcc.Clipboard(id=COPY_LINK_ID, title="Copy a link to this view",
                                    className="c360-copy-link"),
                      html.Span("Copy link", className="c360-copy-link-label")],
                     className="c360-copy-link-wrap") if copy_link else None
    return html.Div(
        [
            html.Div([html.Div([html.H2(title, className="c360-page-title mb-0"), copy],
                               className="c360-page-title-row"),
                      html.P(subtitle, className="text-muted mb-0") if subtitle else None]),
            html.Div(controls, className="c360-page-controls") if controls is not None else None,
        ],
        className="c360-page-header",
    )


def empty_state(title: str, detail: str | list, icon: str = "\u2615", state_id: str | None = None) -> html.Div:
    """A friendly panel for 'nothing here yet', saying what to do about it."""
    props = {"id": state_id} if state_id else {}
    return html.Div(
        [html.Div(icon, className="c360-empty-icon"), html.H4(title), html.P(detail, className="text-muted")],
        className="c360-empty-state", **props,
    )


def forbidden_state() -> html.Div:
    """The 403 page body."""
    return html.Div(
        [html.Div("403", className="c360-error-code"), html.H3("You do not have access to this page"),
         html.P("Ask an administrator if you need it for your work.", className="text-muted"),
         dbc.Button("Go to my dashboards", href="/", color="primary")],
        className="c360-empty-state", id="forbidden-page",
    )


def not_found_state() -> html.Div:
    """The 404 page body."""
    return html.Div(
        [html.Div("404", className="c360-error-code"), html.H3("Page not found"),
         dbc.Button("Go to my dashboards", href="/", color="primary")],
        className="c360-empty-state", id="not-found-page",
    )


# --- KPI and chart cards -----------------------------------------------------------


def delta_indicator(delta: float | None, *, percent: float | None = None, value_format: str = "count",
                    up_is_good: bool = True, comparison: str = "vs previous period") -> html.Div:
    """'▲ 120 (+3.4%) vs previous period', green when the change is good and red when bad."""
    if _is_missing(delta):
        return html.Div([html.Span("No comparison", className="c360-delta-none"),
                         html.Span(f" {comparison}", className="text-muted")],
                        className="c360-delta")
    if delta == 0:
        return html.Div([html.Span("\u25cf No change", className="c360-delta-neutral"),
                         html.Span(f" {comparison}", className="text-muted")],
                        className="c360-delta", title=comparison)
    else:
        arrow = "\u25b2" if delta > 0 else "\u25bc"
        tone = "good" if (delta > 0) == up_is_good else "bad"
    text = f"{arrow} {FORMATTERS[value_format](abs(delta))}"
    if not _is_missing(percent) and delta != 0:
        text += f" ({percent:+.1f}%)"
    return html.Div([html.Span(text, className=f"c360-delta-{tone}"),
                     html.Span(f" {comparison}", className="text-muted")],
                    className="c360-delta", title=comparison)


def rag_indicator(status: Rag | str | None, label: str | None = None) -> html.Span:
    """A coloured dot and a word: green 'On target', amber 'Watch', red 'Off target'."""
    status = Rag(status) if status else Rag.UNKNOWN
    words = {Rag.GREEN: "On target", Rag.AMBER: "Watch", Rag.RED: "Off target", Rag.UNKNOWN: "No data"}
    return html.Span([html.Span(className=f"c360-rag-dot c360-rag-{status.value}"),
                      label or words[status]],
                     className=f"c360-rag c360-rag-text-{status.value}", title=f"Status: {status.value}")


def kpi_card(title: str, value: float | None, delta: float | None = None, *, percent: float | None = None,
             value_format: str = "count", up_is_good: bool = True, comparison: str = "vs previous period",
             subtitle: str | None = None, rag: Rag | str | None = None, card_id: str | None = None,
             ) -> dbc.Card:
    """A headline figure with its change against the comparison period."""
    header = [html.Span(title, className="c360-kpi-title")]
    if rag is not None:
        header.append(rag_indicator(rag))
    body = [
        html.Div(header, className="c360-kpi-header"),
        html.Div(FORMATTERS[value_format](value), className="c360-kpi-value"),
        delta_indicator(delta, percent=percent, value_format=value_format, up_is_good=up_is_good,
                        comparison=comparison),
    ]
    if subtitle:
        body.append(html.Div(subtitle, className="c360-kpi-subtitle text-muted"))
    props = {"id": card_id} if card_id else {}
    return dbc.Card(dbc.CardBody(body), className="c360-kpi-card h-100", **props)


def kpi_card_empty(title: str, message: str = NO_SELECTION_MESSAGE) -> dbc.Card:
    """A KPI card whose selection has no data."""
    return dbc.Card(dbc.CardBody([html.Div(html.Span(title, className="c360-kpi-title"),
                                           className="c360-kpi-header"),
                                  no_selection_state(message)]),
                    className="c360-kpi-card h-100")


def graph(figure: go.Figure, height: int = 300, *, graph_id: str | None = None,
          png_filename: str | None = None) -> dcc.Graph:
    """A chart at a fixed height so cards line up. With `png_filename` the mode bar offers only
    "download as PNG", under that name (page, filters and date); without it there is none."""
    config: dict = {"displayModeBar": False, "responsive": True}
    if png_filename:
        config = {"displayModeBar": "hover", "displaylogo": False, "responsive": True,
                  "modeBarButtons": [["toImage"]],
                  "toImageButtonOptions": {"format": "png", "filename": png_filename, "scale": 2}}
    props = {"id": graph_id} if graph_id else {}
    return dcc.Graph(figure=figure, config=config, style={"height": f"{height}px"}, className="c360-graph",
                     **props)


def chart_card(title: str, figure_or_children: go.Figure | dict | object, *, subtitle: str | None = None,
               height: int = 300, card_id: str | None = None, footer: object = None,
               definition: str | None = None, graph_id: str | None = None, png_filename: str | None = None,
               extra: object = None) -> dbc.Card:
    """A titled card around a Plotly figure (drawn with the Client360 template) or any children;
    `definition` shows on hovering the title, `extra` sits under the header (e.g. a breadcrumb)."""
    is_figure = isinstance(figure_or_children, go.Figure) or (
        isinstance(figure_or_children, dict) and {"data", "layout"} <= figure_or_children.keys())  # theme.figure_dict
    content = graph(figure_or_children, height, graph_id=graph_id, png_filename=png_filename) \
        if is_figure else figure_or_children
    if extra is not None:
        content = [extra, content]
    header = [html.H6(title, className="c360-card-title mb-0", title=definition)]
    if subtitle:
        header.append(html.Div(subtitle, className="c360-card-subtitle text-muted"))
    parts = [dbc.CardHeader(header, className="c360-card-header"), dbc.CardBody(content, className="c360-card-body")]
    if footer is not None:
        parts.append(dbc.CardFooter(footer, className="c360-card-footer text-muted"))
    props = {"id": card_id} if card_id else {}
    return dbc.Card(parts, className="c360-chart-card h-100", **props)


def compact_table(columns: Sequence[str], rows: Sequence[Sequence[object]], *, numeric: Sequence[int] = (),
                  footer: Sequence[object] | None = None, table_id: str | None = None) -> Component:
    """A small striped table; `numeric` holds the indexes of right-aligned columns."""
    return static_table(columns, rows, numeric=numeric, footer=footer, table_id=table_id,
                        table_class="c360-table mb-0 table table-sm table-hover", wrap_class="c360-table-wrap")


def no_selection_state(message: str = NO_SELECTION_MESSAGE) -> html.Div:
    """The per-card panel shown when the filters select nothing."""
    return html.Div(message, className="c360-no-selection")
