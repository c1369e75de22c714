"""Campaigns: the funnel, A/B tests, the best time to send, ROI, attribution, high-intent contacts and
2 to 4 campaigns side by side, for marketing managers (and executives).

The URL holds the period and the campaigns compared (`?period=90d&compare=<id>&compare=<id>`):
`layout(**query)` builds the page from it, and the panel helpers below turn the queries' typed results
(dashboard/queries/campaigns.py) into cards, tables and charts. Callbacks (callbacks/campaigns.py) only
wire the two together.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_day_short, format_percent, format_usd
from dashboard.permissions import EXPORT_DATA, has_permission
from dashboard.queries.campaigns import (
    COMPARE_MAX,
    COMPARE_MIN,
    HIGH_INTENT_REPLIES,
    MIN_CELL_SENDS,
    PERIOD_LABELS,
    PERIODS,
    WEEKDAYS,
    AbResult,
    AttributionResult,
    CampaignsQuery,
    CompareResult,
    FunnelResult,
    FunnelRow,
    HighIntentResult,
    ResolvedQuery,
    RoiResult,
    RoiRow,
    SendTimeResult,
    receipt_read_rate,
    resolve,
)
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.scope import current_scope
from layouts import theme
from layouts.components import chart_card, empty_state, gold_empty_detail, no_selection_state, page_header
from layouts.kit import kpi
from layouts.kit.grid import data_grid
from layouts.kit.light import static_table
from layouts.kit.page import url_state
from layouts.kit.states import loading, skeleton

TITLE = "Campaigns"
NO_DATA = "No data yet"
NO_RECEIPTS = "no read receipts"
DASH = "\u2014"


class CampaignsIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "cp-page"
    URL = "cp-url"
    STATE = "cp-state"
    NO_DATA = "cp-no-data"
    NOTE = "cp-note"
    PERIOD = "cp-period"
    COMPARE_PICK = "cp-compare-pick"
    KPIS = "cp-kpis"
    FUNNEL = "cp-funnel"
    AB = "cp-ab"
    SEND_TIME = "cp-send-time"
    HEATMAP = "cp-heatmap"
    ROI = "cp-roi"
    ATTRIBUTION = "cp-attribution"
    HIGH_INTENT = "cp-high-intent"
    HIGH_INTENT_GRID = "cp-high-intent-grid"
    COMPARE = "cp-compare"
    COMPARE_GRAPH = "cp-compare-graph"


ID = CampaignsIds
PANELS = (ID.KPIS, ID.FUNNEL, ID.AB, ID.SEND_TIME, ID.ROI, ID.ATTRIBUTION, ID.HIGH_INTENT, ID.COMPARE)
MODEL_NAMES = {"first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear",
               "time_decay": "Time decay", "position_based": "Position based", "markov": "Markov",
               "shapley": "Shapley"}


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    return empty_state(NO_DATA, gold_empty_detail(status), state_id=ID.NO_DATA)


def period_words(resolved: ResolvedQuery) -> str:
    """The period's send days, "1 Sep \u2013 30 Nov 2026" (the year once when both days share it)."""
    if resolved.first_day is None or resolved.last_day is None:
        return "no campaign message sent yet"
    return f"{format_day_short(resolved.first_day, resolved.last_day)} \u2013 {format_day(resolved.last_day)}"


def months_of(resolved: ResolvedQuery) -> str:
    """The months the period touches, "Sep \u2013 Nov 2026", for the panels kept by month."""
    if not resolved.limited or resolved.first_month is None or resolved.last_day is None:
        return "every month"
    first, last = resolved.first_month, resolved.last_day
    if (first.year, first.month) == (last.year, last.month):
        return f"{last:%b %Y}"
    return f"{first:%b}{'' if first.year == last.year else f' {first.year}'} \u2013 {last:%b %Y}"


def _controls(resolved: ResolvedQuery) -> html.Div:
    return html.Div([
        html.Div([
            dbc.Label("Period", html_for=ID.PERIOD, className="c360-filter-label"),
            dbc.RadioItems(id=ID.PERIOD, value=resolved.period, inline=True,
                           options=[{"label": PERIOD_LABELS[p], "value": p} for p in PERIODS]),
        ], className="c360-filter"),
        html.Div([
            dbc.Label(f"Compare {COMPARE_MIN} to {COMPARE_MAX} campaigns", html_for=ID.COMPARE_PICK,
                      className="c360-filter-label"),
            dcc.Dropdown(id=ID.COMPARE_PICK, value=list(resolved.compare), multi=True, clearable=False,
                         options=[{"label": f"{c.campaign_id} \u00b7 {c.name}", "value": c.campaign_id}
                                  for c in resolved.campaigns.values()]),
        ], className="c360-filter", style={"minWidth": "min(100%, 420px)"}),
    ], className="c360-filters")


def layout(**query: Any) -> html.Div:
    """Controls, then one panel per question, each filled by its own callback from the URL's state."""
    requested = CampaignsQuery.from_args(query)
    with db.session() as session:
        resolved = resolve(session, requested, current_scope())
        status = gold_status(session) if resolved is None else None
    header_text = "Funnel, A/B tests, best time to send, ROI, attribution and high-intent contacts"
    if resolved is None:
        return html.Div([page_header(TITLE, header_text), no_data_panel(status)], id=ID.PAGE)
    header = (f"{period_words(resolved)} ({PERIOD_LABELS[resolved.period].lower()}, "
              f"{format_count(len(resolved.campaigns))} campaigns with sends): {header_text[0].lower()}{header_text[1:]}")

    def panel(component_id: str, kind: str = "card", **widths: int) -> dbc.Col:
        return dbc.Col(loading(component_id, skeleton(kind, 5), kind), xs=12, className="mb-3", **widths)

    panels = dbc.Row([
        panel(ID.KPIS), panel(ID.FUNNEL, "grid"), panel(ID.AB, "grid", lg=7), panel(ID.SEND_TIME, "chart", lg=5),
        panel(ID.ROI, "grid"), panel(ID.ATTRIBUTION, "grid"), panel(ID.HIGH_INTENT, "grid", lg=6),
        panel(ID.COMPARE, "chart", lg=6),
    ], className="g-3")
    notes = (html.Div(" ".join(resolved.notes), className="alert alert-warning py-2 px-3 small mb-3", role="status")
             if resolved.notes else None)
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        page_header(TITLE, header, controls=_controls(resolved)),
        html.Div(notes, id=ID.NOTE),
        panels,
    ], id=ID.PAGE, className="c360-campaigns")


# --- Shared pieces ----------------------------------------------------------------------------------




def _table(header: list[str], rows: list[list[Any]], numeric_from: int = 1, row_classes: list[str | None] | None = None
           ) -> Any:
    """A small plain table that scrolls sideways inside its card on a phone, never the page."""
    return static_table(header, rows, numeric=range(numeric_from, len(header)), row_classes=row_classes)


def _money(value: Any) -> str:
    """USD figures, or the band a role without financials sees."""
    if value is None:
        return DASH
    return value if isinstance(value, str) else format_usd(value)


def _pct(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else format_percent(value, digits)


def _interval(interval: tuple[float, float] | None) -> str:
    return "n/a" if interval is None else f"{interval[0] * 100:.1f}\u2013{interval[1] * 100:.1f}%"


# --- KPI cards and the funnel -------------------------------------------------------------------------


FUNNEL_DEFINITION = ("A step counts when it happened (its timestamp is present). Reply rate: replies per send. "
                     "Channels without read receipts (SMS) show no read step: their replies follow delivery.")


def kpis_output(result: FunnelResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    total = result.total

    def card(label: str, value: str, detail: str) -> dbc.Col:
        return dbc.Col(dbc.Card(dbc.CardBody([html.Div(label, className="c360-kpi-title"),
                                              html.Div(value, className="c360-kpi-value"),
                                              html.Div(detail, className="c360-kpi-subtitle text-muted small")]),
                                className="c360-kpi-card h-100"), xs=6, md=4, xl=2, className="mb-2")

    return dbc.Row([
        card("Sent", format_count(total.sent), f"{len(result.resolved.campaigns)} campaigns in the period"),
        card("Delivered", _pct(total.delivered_rate), f"{format_count(total.delivered)} messages"),
        card("Read", _pct(receipt_read_rate(result)), "of delivered, channels with read receipts"),
        card("Reply rate", _pct(total.reply_rate, 2), f"{format_count(total.replied)} replies"),
        card("Cost", _money(result.cost_usd), "of the sends in the period, USD"),
        card("Cost per reply", _money(result.cost_per_reply_usd), "USD"),
    ], className="g-2", id=f"{ID.KPIS}-row")


def _funnel_cells(row: FunnelRow) -> list[Any]:
    read = (html.Span(NO_RECEIPTS, className="text-muted fst-italic") if row.read is None
            else f"{format_count(row.read)} ({_pct(row.read_rate)})")
    lost = ", ".join(f"{step} -{format_count(n)}" for step, n in row.drop_offs())
    return [format_count(row.sent), f"{format_count(row.delivered)} ({_pct(row.delivered_rate)})", read,
            f"{format_count(row.replied)} ({_pct(row.replied_rate)})", _pct(row.reply_rate, 2),
            html.Span(lost, className="small text-muted")]


FUNNEL_HEADER = ["Sent", "Delivered", "Read", "Replied", "Reply rate", "Drop-off per step"]


def funnel_output(result: FunnelResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    if not result.total.sent:
        return chart_card("Funnel", no_selection_state("No campaign message was sent in the period."))
    channel_rows = [[html.Strong(c.channel), *_funnel_cells(c)] for c in (*result.channels, result.total)]
    campaign_rows = [[html.Span([html.Strong(r.campaign_id or ""), " ", r.name], className="small"), r.channel,
                      *_funnel_cells(r)] for r in result.rows]
    body = [_table(["Channel", *FUNNEL_HEADER], channel_rows),
            html.Details([html.Summary(f"Per campaign and channel ({len(result.rows)})", className="small"),
                          _table(["Campaign", "Channel", *FUNNEL_HEADER], campaign_rows, numeric_from=2)],
                         open=False, className="mt-2"),
            html.Div("Rates are of the step before (delivered of sent, read of delivered, replied of read, or of "
                     "delivered without read receipts). " + FUNNEL_DEFINITION, className="small text-muted mt-1")]
    return chart_card("Funnel: sent, delivered, read, replied", body, definition=FUNNEL_DEFINITION,
                      subtitle=f"Every send of {period_words(result.resolved)}, per channel and per campaign")


# --- A/B tests ----------------------------------------------------------------------------------------


AB_DEFINITION = ("Each variant against A: two-proportion z-test on replies per send (statsmodels), 95% interval "
                 "of the difference, Holm's correction for several variants, and the sends per variant that 80% "
                 "power at a 5% significance level needs to detect the lift observed.")
OUTCOME_CLASS = {"better": "text-success fw-semibold", "worse": "text-danger fw-semibold", "undecided": "text-muted"}


def ab_output(result: AbResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    if not result.tests:
        return chart_card("A/B tests", no_selection_state("No campaign has two variants yet."),
                          definition=AB_DEFINITION)
    rows = []
    for test in result.tests:
        rates = {v.variant: v for v in test.variants}
        for comp in test.comparisons:
            v, c = rates[comp.variant], rates[comp.control]
            rows.append([
                html.Span([html.Strong(test.campaign_id), " ", test.name], className="small"),
                f"{comp.variant} vs {comp.control}",
                f"{_pct(v.rate, 2)} of {format_count(v.sends)}", f"{_pct(c.rate, 2)} of {format_count(c.sends)}",
                f"{comp.difference * 100:+.2f} pts [{comp.ci_low * 100:+.2f}, {comp.ci_high * 100:+.2f}]",
                f"{comp.p_value:.3f}" + (f" (Holm {comp.p_adjusted:.3f})" if test.corrected else ""),
                DASH if comp.needed_per_variant is None else format_count(comp.needed_per_variant),
                html.Span(comp.verdict, className=OUTCOME_CLASS[comp.outcome])])
    decided = sum(1 for t in result.tests for c in t.comparisons if c.outcome != "undecided")
    body = [kpi.headlines(kpi.headline("Tests", format_count(len(result.tests)), "campaigns with variants"),
                       kpi.headline("Decided", format_count(decided), "a variant is better at the 5% level")),
            _table(["Campaign", "Variants", "Reply rate", "Control", "Difference [95% CI]", "p-value",
                    "Sends needed per variant", "Verdict"], rows, numeric_from=2),
            html.Div(AB_DEFINITION, className="small text-muted mt-1")]
    return chart_card("A/B tests", body, definition=AB_DEFINITION,
                      subtitle=f"Reply rate per variant, sends of {period_words(result.resolved)}, newest first")


# --- Best time to send --------------------------------------------------------------------------------


SEND_TIME_DEFINITION = (f"Reply rate per weekday and hour the message was sent (UTC). A cell with fewer than "
                        f"{MIN_CELL_SENDS} sends is greyed out and never recommended; the recommendation is the cell "
                        "whose 95% Wilson interval has the highest lower bound.")


def send_time_figure(result: SendTimeResult) -> go.Figure:
    z = [[None] * 24 for _ in WEEKDAYS]
    text = [[""] * 24 for _ in WEEKDAYS]
    for c in result.cells:
        text[c.weekday][c.hour] = (f"{WEEKDAYS[c.weekday]} {c.hour:02d}:00: {_pct(c.rate, 1)} of "
                                   f"{format_count(c.sends)} sends" + ("" if c.enough else " (too few)"))
        if c.enough:
            z[c.weekday][c.hour] = None if c.rate is None else round(c.rate * 100, 2)
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=8, t=8, b=32))
    fig.add_trace(go.Heatmap(z=z, x=list(range(24)), y=list(WEEKDAYS), text=text, hoverinfo="text",
                             colorscale="Blues", hoverongaps=True, colorbar=dict(title="%", thickness=10)))
    fig.update_layout(plot_bgcolor="#e5e7eb")  # cells with too few sends show the grey background
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(dtick=3, title="Hour sent (UTC)")
    return fig


def send_time_output(result: SendTimeResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    if not result.sends:
        return chart_card("Best time to send", no_selection_state("No campaign message was sent in the period."))
    best = result.best
    headline = (kpi.headline("Best time", best.label, f"{_pct(best.rate, 1)} reply rate, 95% interval "
                          f"{_interval(best.interval)}, {format_count(best.sends)} sends", title=SEND_TIME_DEFINITION)
                if best else kpi.headline("Best time", "none yet", f"no cell has {MIN_CELL_SENDS} sends"))
    overall = kpi.headline("Every send", _pct(result.replies / result.sends, 2),
                        f"{format_count(result.replies)} replies of {format_count(result.sends)}")
    rows = [[html.Strong(c.channel), format_count(c.sends), _pct(c.replies / c.sends if c.sends else None, 2),
             c.best.label if c.best else "too few sends", _interval(c.best.interval) if c.best else DASH]
            for c in result.channels]
    body = [kpi.headlines(headline, overall),
            dcc.Graph(id=ID.HEATMAP, figure=send_time_figure(result), config={"displayModeBar": False,
                                                                             "responsive": True},
                      style={"height": "260px"}, className="c360-graph"),
            _table(["Channel", "Sends", "Reply rate", "Best time", "95% interval"], rows),
            html.Div(SEND_TIME_DEFINITION, className="small text-muted mt-1")]
    return chart_card("Best time to send", body, definition=SEND_TIME_DEFINITION,
                      subtitle=f"Reply rate by weekday and hour, and by channel, with counts: sends of "
                               f"{period_words(result.resolved)}")


# --- ROI ----------------------------------------------------------------------------------------------


def roi_definition(window_days: int) -> str:
    """The ROI definition with the configured conversion window."""
    return (f"A conversion is an opportunity of the replying contact's account won within {window_days} days of "
            "the reply (replies from the period's first day on); a deal counts once per campaign and once in the "
            "total. A campaign's cost counts in the share of its sends made in the period. "
            "ROI = (won value - cost) / cost. Costs and values in USD.")


def _roi_cells(row: RoiRow) -> list[Any]:
    return [_money(row.cost_usd), format_count(row.delivered), format_count(row.replies), format_count(row.conversions),
            _money(row.won_usd), _money(row.cost_per_delivered_usd), _money(row.cost_per_reply_usd),
            _money(row.cost_per_conversion_usd), DASH if row.roi is None else f"{row.roi * 100:+,.0f}%"]


ROI_HEADER = ["Cost", "Delivered", "Replies", "Conversions", "Won value", "Per delivered", "Per reply",
              "Per conversion", "ROI"]


def roi_output(result: RoiResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    total, definition = result.total, roi_definition(result.window_days)
    body = [kpi.headlines(kpi.headline("ROI", DASH if total.roi is None else f"{total.roi * 100:+,.0f}%",
                                 "every campaign with sends in the period", title=definition),
                       kpi.headline("Conversions", format_count(total.conversions),
                                 f"won within {result.window_days} days of a reply"),
                       kpi.headline("Cost per conversion", _money(total.cost_per_conversion_usd))),
            _table(["Channel", *ROI_HEADER], [[html.Strong(r.name), *_roi_cells(r)] for r in
                                               (*result.channels, total)]),
            html.Details([html.Summary(f"Per campaign ({len(result.campaigns)})", className="small"),
                          _table(["Campaign", "Channel", *ROI_HEADER],
                                 [[html.Span([html.Strong(r.key), " ", r.name], className="small"), r.channel,
                                   *_roi_cells(r)] for r in result.campaigns], numeric_from=2)], className="mt-2"),
            html.Div(definition, className="small text-muted mt-1")]
    return chart_card("ROI", body, definition=definition,
                      subtitle=f"Cost per delivered, reply and conversion, by channel and campaign: sends of "
                               f"{period_words(result.resolved)}")


# --- Attribution --------------------------------------------------------------------------------------


ATTRIBUTION_DEFINITION = ("Conversions credited to each channel by every attribution model the nightly job "
                          "computes, side by side; the removal effect is the share of conversions lost without the "
                          "channel (Markov). Attribution is kept by month: a period counts every month it touches, "
                          "whole; the credit per campaign is over all journeys.")


def attribution_output(result: AttributionResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    if not result.models:
        return chart_card("Attribution", no_selection_state("The attribution job has not run yet."),
                          definition=ATTRIBUTION_DEFINITION)
    names = [MODEL_NAMES.get(m, m.replace("_", " ").capitalize()) for m in result.models]
    rows = [[html.Strong(ch), *[f"{result.conversions.get((ch, m), 0):,.1f}" for m in result.models],
             _pct(result.removal_effect.get(ch))] for ch in result.channels]
    value_rows = [[html.Strong(ch), *[_money(result.value_usd.get((ch, m))) for m in result.models]]
                  for ch in result.channels]
    campaign_rows = [[html.Span([html.Strong(cid), " ", name], className="small"),
                      *[f"{credit.get(m, 0):,.1f}" for m in result.models], _pct(removal)]
                     for cid, name, credit, removal in result.campaign_rows]
    body = [_table(["Channel", *names, "Removal effect"], rows),
            html.Details([html.Summary("Value credited (USD)", className="small"),
                          _table(["Channel", *names], value_rows)], className="mt-2"),
            html.Details([html.Summary(f"Top campaigns with sends in the period ({len(campaign_rows)}), credit over "
                                       "all their journeys", className="small"),
                          _table(["Campaign", *names, "Removal effect"], campaign_rows)], className="mt-2"),
            html.Div(ATTRIBUTION_DEFINITION, className="small text-muted mt-1")]
    return chart_card("Attribution", body, definition=ATTRIBUTION_DEFINITION,
                      subtitle=f"Conversions credited per channel under {len(result.models)} models, by month: "
                               f"{months_of(result.resolved)}")


# --- High intent --------------------------------------------------------------------------------------


HIGH_INTENT_DEFINITION = (f"Contacts who replied to campaign messages more than {HIGH_INTENT_REPLIES} times (replies "
                          "from the period's first day on, to campaigns with sends in the period), most replies "
                          "first. Emails and phone numbers are masked without personal-data access.")


def high_intent_output(result: HighIntentResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    headline = kpi.headline("High-intent contacts", format_count(result.contacts),
                         f"replied more than {HIGH_INTENT_REPLIES} times", title=HIGH_INTENT_DEFINITION)
    if result.grid.empty:
        body: list = [kpi.headlines(headline), no_selection_state("No contact in your data replied more than "
                                                               f"{HIGH_INTENT_REPLIES} times in the period.")]
    else:
        export = ({"export_name": ID.HIGH_INTENT, "search": result.resolved.canonical.search}
                  if has_permission(EXPORT_DATA) else {})
        body = [kpi.headlines(headline), data_grid(ID.HIGH_INTENT_GRID, result.grid, row_id_field="contact_id", **export)]
    body.append(html.Div(HIGH_INTENT_DEFINITION, className="small text-muted mt-1"))
    return chart_card("High intent", body, definition=HIGH_INTENT_DEFINITION,
                      subtitle=f"Contacts to follow up, within your data scope: replies since "
                               f"{format_day(result.resolved.first_day)}")


# --- Side by side -------------------------------------------------------------------------------------


def compare_figure(result: CompareResult) -> go.Figure:
    fig = theme.figure(showlegend=True, margin=dict(l=8, r=8, t=8, b=32))
    for cid in result.resolved.compare:
        points = result.weekly.get(cid, ())
        fig.add_trace(go.Scatter(x=[p[0].isoformat() for p in points],
                                 y=[round(100 * p[2] / p[1], 2) if p[1] else None for p in points],
                                 mode="lines+markers", name=cid,
                                 hovertemplate=f"{cid}, week of %{{x}}: %{{y:.2f}}%<extra></extra>"))
    fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    fig.update_layout(legend=dict(orientation="h", y=-0.2))
    return fig


def compare_output(result: CompareResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    if not result.funnels:
        return chart_card("Side by side", no_selection_state("No campaign sent anything in the period."))
    rows = [[html.Span([html.Strong(r.campaign_id or ""), " ", r.name], className="small"), r.channel,
             *_funnel_cells(r)[:5], _money(result.cost_per_reply_usd.get(r.campaign_id or ""))]
            for r in result.funnels]
    body = [_table(["Campaign", "Channel", *FUNNEL_HEADER[:5], "Cost per reply"], rows, numeric_from=2),
            dcc.Graph(id=ID.COMPARE_GRAPH, figure=compare_figure(result),
                      config={"displayModeBar": False, "responsive": True}, style={"height": "260px"},
                      className="c360-graph"),
            html.Div("Reply rate per week of sending (replies per send).", className="small text-muted")]
    first_day = min(result.resolved.campaigns[c].start_date for c in result.resolved.compare)
    return chart_card("Side by side", body,
                      subtitle=f"{len(result.funnels)} campaigns from {format_day(first_day)}, sends of "
                               f"{period_words(result.resolved)}: funnel, reply rate over time and cost per reply")
