"""'Why did it move?' (the KPI's driver breakdown) and 'Where from?' (its lineage) as popover bodies."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import html

from dashboard.formatting import FORMATTERS, format_day
from dashboard.queries.insights import KpiDriverBreakdown
from dashboard.queries.lineage import Lineage

COMPONENT_WORDS = {"new": "New customers", "expansion": "Expansion", "contraction": "Contraction",
                   "churn": "Churn", "reactivated": "Reactivated", "churned": "Churned", "fx": "FX"}


def _utc(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment.astimezone(UTC):%d %b %Y %H:%M} UTC"


def drivers_body(breakdown: KpiDriverBreakdown, value_format: str = "count") -> html.Div:
    """The change between two days split into its parts (new, expansion, contraction, churn, ...)."""
    fmt = FORMATTERS[value_format]
    parts = [(name, figure) for name, figure in breakdown.components.items() if name not in ("start", "end")]
    rows = [html.Tr([html.Td(COMPONENT_WORDS.get(name, name.replace("_", " ").capitalize())),
                     html.Td(("+" if figure > 0 else "\u2212" if figure < 0 else "") + fmt(abs(figure)),
                             className="text-end text-nowrap")]) for name, figure in parts]
    start, end = breakdown.components.get("start"), breakdown.components.get("end")
    body = [html.Div(f"{format_day(breakdown.period_start)} \u2192 {format_day(breakdown.period_end)}",
                     className="small text-muted mb-1")]
    if start is not None and end is not None:
        body.append(html.Div(f"From {fmt(start)} to {fmt(end)}", className="small mb-1"))
    body.append(html.Table(html.Tbody(rows), className="table table-sm mb-1 c360-drivers"))
    if not breakdown.top_accounts.empty:
        top = breakdown.top_accounts.head(3)
        body.append(html.Div("Moved most: " + ", ".join(str(n) for n in top["account_name"]), className="small"))
    body.append(html.Div("Worked out daily for the last 30 days of data (gold.kpi_driver).",
                         className="small text-muted"))
    return html.Div(body)


def lineage_body(lineage: Lineage) -> html.Div:
    """Gold table, its SQL file, the silver tables behind it and the newest landing file of each source."""
    loads = [html.Li([html.Code(s.dataset), f" \u00b7 {s.file_name} \u00b7 loaded {_utc(s.loaded_at)}"
                      if s.file_name else " \u00b7 never loaded"]) for s in lineage.sources]
    parts = [
        html.Div([html.Code(lineage.gold_table), " built by ", html.Code(f"etl/gold/{lineage.sql_file}")]),
    ]
    if lineage.gold_inputs:
        parts.append(html.Div(["via ", *[html.Code(t, className="me-1") for t in lineage.gold_inputs]],
                              className="small"))
    parts += [
        html.Div("From silver:", className="small mt-1"),
        html.Div([html.Code(t, className="me-1") for t in lineage.silver_tables], className="small c360-lineage"),
        html.Div("Source loads:", className="small mt-1"),
        html.Ul(loads, className="small mb-1 c360-lineage"),
        html.Div(f"Last data refresh: {_utc(lineage.refreshed_at)}", className="small text-muted"),
    ]
    return html.Div(parts)
