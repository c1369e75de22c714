"""Morning Coffee callbacks: validate the filters, call the executive queries, shape the cards.

Each callback opens one read-only session and hands it to a `build_*` function, which
unit tests call directly with their own session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, html
from sqlalchemy.orm import Session

from dashboard import current_settings
from dashboard.callback_guard import guarded_callback
from dashboard.extensions import db
from dashboard.masking import MaskPolicy, amount_band
from dashboard.permissions import VIEW_EXECUTIVE
from dashboard.queries import executive as q
from dashboard.queries.executive import MorningCoffeeFilters, ResolvedFilters, resolve_filters
from dashboard.queries.freshness import gold_status
from dashboard.scope import DataScope, current_scope
from layouts import theme
from layouts.components import (
    NO_SELECTION_MESSAGE,
    chart_card,
    compact_table,
    delta_indicator,
    format_count,
    format_day,
    format_day_short,
    format_percent,
    format_usd,
    kpi_card,
    kpi_card_empty,
    no_selection_state,
)
from layouts.morning_coffee import KPI_TITLES, no_data_panel
from layouts.morning_coffee import MorningCoffeeIds as ID
from models.kpi import rag_for_lower_is_better

FINANCIALS_HIDDEN = "Hidden: exact revenue figures need the financials permission"
NOT_IN_SCOPE = "Not shown: this figure is company-wide and your view is limited to your territories"
FULL_ACCESS = MaskPolicy(view_pii=True, view_financials=True)

FILTER_INPUTS = dict(
    start_date=Input(ID.DATE_RANGE, "start_date"),
    end_date=Input(ID.DATE_RANGE, "end_date"),
    selected_regions=Input(ID.REGIONS, "value"),
)


def _resolve(session: Session, start_raw: Any, end_raw: Any, regions_raw: Any,
             scope: DataScope | None) -> ResolvedFilters | None:
    """Regions outside the scope are unknown regions: dropped like any other bad value."""
    bounds = q.data_date_bounds(session)
    if bounds is None:
        return None
    return resolve_filters(start_raw, end_raw, regions_raw, bounds, q.regions(session, scope), scope)


def _no_data_outputs(names: Sequence[str]) -> dict[str, Any]:
    return {name: no_selection_state("No data yet") for name in names}


# --- KPI cards -----------------------------------------------------------------------

KPI_CARDS = dict(customers=ID.KPI_CUSTOMERS, contacts=ID.KPI_CONTACTS, leads=ID.KPI_LEADS,
                 efficiency=ID.KPI_EFFICIENCY, mrr=ID.KPI_MRR)
KPI_OUTPUTS = dict(
    period_label=Output(ID.PERIOD_LABEL, "children"),
    filter_note=Output(ID.FILTER_NOTE, "children"),
    **{name: Output(component_id, "children") for name, component_id in KPI_CARDS.items()},
)


def _period_label(filters: MorningCoffeeFilters) -> str:
    previous = filters.previous
    region_text = ", ".join(filters.regions) if filters.regions else "All regions"
    return (f"{format_day(filters.start)} \u2013 {format_day(filters.end)} ({filters.period.days} days), "
            f"compared with {format_day(previous.start)} \u2013 {format_day(previous.end)} \u00b7 {region_text}")


def build_kpis(session: Session, start_date: Any, end_date: Any, selected_regions: Any, *,
               green_minutes: float, amber_minutes: float, scope: DataScope | None = None,
               policy: MaskPolicy = FULL_ACCESS) -> dict[str, Any]:
    """Period label, adjustment notes and the five KPI cards for the raw filter values."""
    resolved = _resolve(session, start_date, end_date, selected_regions, scope)
    if resolved is None:
        return {"period_label": "", "filter_note": no_data_panel(gold_status(session)),
                **{name: kpi_card_empty(KPI_TITLES[component_id], "No data yet")
                   for name, component_id in KPI_CARDS.items()}}
    filters = resolved.filters
    note = (html.Div(" ".join(resolved.notes), className="alert alert-warning py-2 px-3 small mb-3",
                     role="status") if resolved.notes else None)
    outputs: dict[str, Any] = {"period_label": _period_label(filters), "filter_note": note}
    since = f"vs {format_day_short(filters.day_before_start, filters.end)}"

    stock = q.stock_kpis(session, filters)
    if resolved.selects_nothing or not stock.has_data:
        outputs["customers"] = kpi_card_empty("Active customers")
        outputs["contacts"] = kpi_card_empty("Active contacts")
        outputs["mrr"] = kpi_card_empty("MRR")
    else:
        on_end = f"on {format_day(filters.end)}"
        outputs["customers"] = kpi_card("Active customers", stock.active_customers.current,
                                        stock.active_customers.delta, percent=stock.active_customers.percent_change,
                                        comparison=since, subtitle=on_end)
        outputs["contacts"] = kpi_card("Active contacts", stock.active_contacts.current,
                                       stock.active_contacts.delta, percent=stock.active_contacts.percent_change,
                                       comparison=since, subtitle=on_end)
        if policy.view_financials:
            outputs["mrr"] = kpi_card("MRR", stock.mrr_usd.current, stock.mrr_usd.delta,
                                      percent=stock.mrr_usd.percent_change, value_format="usd",
                                      comparison=since, subtitle=f"Monthly recurring revenue {on_end}")
        else:
            outputs["mrr"] = kpi_card_empty("MRR", f"Band {amount_band(stock.mrr_usd.current)}. {FINANCIALS_HIDDEN}")

    leads = q.new_leads(session, filters)
    if not filters.company_wide:
        outputs["leads"] = kpi_card_empty("New leads", NOT_IN_SCOPE)
    elif resolved.selects_nothing or not leads.has_data:
        outputs["leads"] = kpi_card_empty("New leads")
    else:
        yesterday = filters.end == resolved.bounds.last - timedelta(days=1)
        title = "New leads yesterday" if yesterday else f"New leads on {format_day(filters.end)}"
        outputs["leads"] = kpi_card(title, leads.on_end_date.current, leads.on_end_date.delta,
                                    percent=leads.on_end_date.percent_change,
                                    comparison="vs the day before",
                                    subtitle=f"{format_count(leads.period_total)} in the period")

    efficiency = q.team_efficiency(session, filters)
    median = efficiency.median_first_response_minutes
    if not filters.company_wide:
        outputs["efficiency"] = kpi_card_empty("Team efficiency", NOT_IN_SCOPE)
    elif resolved.selects_nothing or median.current is None:
        outputs["efficiency"] = kpi_card_empty("Team efficiency")
    else:
        outputs["efficiency"] = kpi_card(
            "Team efficiency", median.current, median.delta, percent=median.percent_change,
            value_format="minutes", up_is_good=False, comparison="vs previous period",
            rag=rag_for_lower_is_better(median.current, green_minutes, amber_minutes),
            subtitle=f"Median first response \u00b7 {format_count(efficiency.responses)} tickets",
        )
    return outputs


@guarded_callback(VIEW_EXECUTIVE, output=KPI_OUTPUTS, inputs=FILTER_INPUTS)
def update_kpis(start_date: Any, end_date: Any, selected_regions: Any) -> dict[str, Any]:
    """Recompute the KPI cards when a filter changes."""
    settings = current_settings()
    with db.session() as session:
        return build_kpis(session, start_date, end_date, selected_regions,
                          green_minutes=settings.first_response_green_minutes,
                          amber_minutes=settings.first_response_amber_minutes,
                          scope=current_scope(), policy=MaskPolicy.for_current_user())


# --- Charts --------------------------------------------------------------------------

CHART_OUTPUTS = dict(
    mrr_trend=Output(ID.MRR_TREND, "children"),
    revenue=Output(ID.REVENUE_BY_REGION, "children"),
)


def _month_labels(days: Sequence[date]) -> list[str]:
    """'Dec<br>2025', 'Jan<br>2026', 'Feb', ... and the end date as '22 Nov'."""
    labels = []
    for index, day in enumerate(days):
        if index == len(days) - 1:
            labels.append(f"{day.day} {day:%b}" + (f"<br>{day.year}" if day.month == 1 or index == 0 else ""))
        elif index == 0 or day.month == 1:
            labels.append(f"{day:%b}<br>{day.year}")
        else:
            labels.append(f"{day:%b}")
    return labels


def mrr_trend_figure(trend: pd.DataFrame) -> go.Figure:
    """Month-end MRR as a line with markers, one evenly spaced point per month."""
    days = list(trend["day"])
    positions = list(range(len(days)))
    fig = theme.figure(showlegend=False)
    fig.add_trace(go.Scatter(
        x=positions, y=trend["mrr_usd"], mode="lines+markers", name="MRR",
        line=dict(color=theme.PRIMARY, width=2.5), marker=dict(size=7),
        customdata=[[format_day(d), format_usd(v)] for d, v in zip(days, trend["mrr_usd"], strict=True)],
        hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>",
    ))
    # A line need not start at zero: the month-to-month movement is the point of this chart.
    fig.update_xaxes(tickmode="array", tickvals=positions, ticktext=_month_labels(days),
                     range=[-0.4, len(days) - 0.6])
    fig.update_yaxes(tickprefix="$", tickformat="~s", nticks=6)
    return fig


def revenue_figure(revenue: pd.DataFrame) -> go.Figure:
    """Invoiced USD per region as horizontal bars, largest on top, the previous period behind."""
    ordered = revenue.iloc[::-1]  # Plotly draws the first category at the bottom
    fig = theme.figure(barmode="group", bargap=0.3, bargroupgap=0.05,
                       legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, traceorder="reversed"),
                       margin=dict(l=8, r=56, t=28, b=28))
    fig.add_trace(go.Bar(
        y=ordered["region"], x=ordered["previous_invoiced_usd"], name="Previous period", orientation="h",
        marker_color=theme.MUTED,
        customdata=[format_usd(v) for v in ordered["previous_invoiced_usd"]],
        hovertemplate="%{y}: %{customdata}<extra>Previous period</extra>",
    ))
    fig.add_trace(go.Bar(
        y=ordered["region"], x=ordered["invoiced_usd"], name="This period", orientation="h",
        marker_color=theme.PRIMARY,
        text=[format_usd(v) for v in ordered["invoiced_usd"]], textposition="outside", cliponaxis=False,
        textfont=dict(size=11), constraintext="none",
        customdata=[format_usd(v) for v in ordered["invoiced_usd"]],
        hovertemplate="%{y}: %{customdata}<extra>This period</extra>",
    ))
    fig.update_xaxes(tickprefix="$", tickformat="~s", rangemode="tozero", showgrid=True, gridcolor="#eef0f3",
                     nticks=5)
    fig.update_yaxes(showgrid=False, ticksuffix="  ")
    return fig


def build_charts(session: Session, start_date: Any, end_date: Any, selected_regions: Any, *,
                 scope: DataScope | None = None, policy: MaskPolicy = FULL_ACCESS) -> dict[str, Any]:
    """The MRR trend and revenue-by-region cards for the raw filter values."""
    resolved = _resolve(session, start_date, end_date, selected_regions, scope)
    if resolved is None:
        return _no_data_outputs(CHART_OUTPUTS)
    if not policy.view_financials:  # no query at all: nothing to leak
        return {"mrr_trend": chart_card("MRR, last 12 months", no_selection_state(FINANCIALS_HIDDEN)),
                "revenue": chart_card("Revenue by region", no_selection_state(FINANCIALS_HIDDEN))}
    filters = resolved.filters
    trend = pd.DataFrame() if resolved.selects_nothing else q.mrr_trend(session, filters)
    revenue = pd.DataFrame() if resolved.selects_nothing else q.revenue_by_region(session, filters)

    trend_subtitle = f"Month-end MRR in USD, 12 months to {format_day(filters.end)}"
    mrr_card = chart_card("MRR, last 12 months",
                          mrr_trend_figure(trend) if not trend.empty else no_selection_state(),
                          subtitle=trend_subtitle)
    if revenue.empty:
        revenue_card = chart_card("Revenue by region", no_selection_state(), subtitle="Invoiced USD")
    else:
        total = revenue["invoiced_usd"].sum()
        previous_total = revenue["previous_invoiced_usd"].sum()
        delta = total - previous_total
        percent = None if previous_total == 0 else delta / previous_total * 100
        revenue_card = chart_card(
            "Revenue by region", revenue_figure(revenue),
            subtitle=f"Invoiced USD in the period: {format_usd(total)}",
            footer=delta_indicator(delta, percent=percent, value_format="usd",
                                   comparison="vs previous period"),
        )
    return {"mrr_trend": mrr_card, "revenue": revenue_card}


@guarded_callback(VIEW_EXECUTIVE, output=CHART_OUTPUTS, inputs=FILTER_INPUTS)
def update_charts(start_date: Any, end_date: Any, selected_regions: Any) -> dict[str, Any]:
    """Redraw the MRR trend and revenue by region when a filter changes."""
    with db.session() as session:
        return build_charts(session, start_date, end_date, selected_regions,
                            scope=current_scope(), policy=MaskPolicy.for_current_user())


# --- Tables --------------------------------------------------------------------------

TABLE_OUTPUTS = dict(
    campaigns=Output(ID.CAMPAIGNS, "children"),
    top_accounts=Output(ID.TOP_ACCOUNTS, "children"),
)


CHANNEL_LABELS = {"email": "Email", "whatsapp": "WhatsApp", "sms": "SMS"}


def _step(count: int, rate: float | None) -> html.Div:
    rate_text = "" if rate is None or math.isnan(rate) else format_percent(rate, 0)
    return html.Div([html.Span(format_count(count)), html.Span(rate_text, className="c360-rate")],
                    className="c360-step")


# SMS has no read receipts: a zero there would read as "nobody read it".
CHANNELS_WITHOUT_READ_RECEIPTS = frozenset({"sms"})


def _funnel_cell(row: Any, step: str) -> html.Div:
    if step == "read" and row.channel in CHANNELS_WITHOUT_READ_RECEIPTS:
        return html.Div(html.Span("n/a", title="SMS has no read receipts", className="text-muted"),
                        className="c360-step")
    return _step(getattr(row, step), getattr(row, f"{step}_rate"))


def campaigns_table(funnel: pd.DataFrame) -> html.Div:
    """One row per campaign: sent, then delivered, read and replied with their share of sent."""
    steps = ("delivered", "read", "replied")
    rows = [
        [html.Div([html.Div(row.campaign_name, className="c360-campaign-name", title=row.campaign_name),
                   html.Div(CHANNEL_LABELS.get(row.channel, row.channel), className="c360-channel text-muted")]),
         format_count(row.sent), *[_funnel_cell(row, s) for s in steps]]
        for row in funnel.itertuples(index=False)
    ]
    sent = int(funnel["sent"].sum())
    totals = ["Total", format_count(sent),
              *[_step(int(funnel[s].sum()), funnel[s].sum() / sent if sent else None) for s in steps]]
    return compact_table(["Campaign", "Sent", "Delivered", "Read", "Replied"], rows,
                         numeric=(1, 2, 3, 4), footer=totals)


def accounts_table(accounts: pd.DataFrame, policy: MaskPolicy = FULL_ACCESS) -> html.Div:
    """Rank, account, region, segment and MRR (a band without the financials permission)."""
    show = format_usd if policy.view_financials else amount_band
    rows = [[str(rank), html.Span(row.account_name, title=row.account_id, className="c360-account-name"),
             row.region, row.segment, show(row.mrr_usd)]
            for rank, row in enumerate(accounts.itertuples(index=False), start=1)]
    return compact_table(["#", "Account", "Region", "Segment", "MRR"], rows, numeric=(0, 4))


def build_tables(session: Session, start_date: Any, end_date: Any, selected_regions: Any, *,
                 scope: DataScope | None = None, policy: MaskPolicy = FULL_ACCESS) -> dict[str, Any]:
    """The active-campaigns funnel and the largest accounts for the raw filter values."""
    resolved = _resolve(session, start_date, end_date, selected_regions, scope)
    if resolved is None:
        return _no_data_outputs(TABLE_OUTPUTS)
    filters = resolved.filters

    campaigns = q.active_campaigns(session, filters)
    count = campaigns.count
    header = html.Div([
        html.Span(format_count(count.current), className="c360-inline-value"),
        html.Span(f" running on {format_day(filters.end)}", className="text-muted me-3"),
        delta_indicator(count.delta, percent=count.percent_change,
                        comparison=f"vs {format_day_short(filters.day_before_start, filters.end)}"),
    ], className="c360-inline-kpi")
    if not filters.company_wide:
        body: Any = no_selection_state(NOT_IN_SCOPE)
    elif campaigns.funnel.empty:
        body = [header, no_selection_state(f"No campaign was running on {format_day(filters.end)}")]
    elif resolved.selects_nothing:
        body = [header, no_selection_state()]
    else:
        body = [header, campaigns_table(campaigns.funnel)]
    campaigns_card = chart_card("Active campaigns", body,
                                subtitle="Sends to recipients in the selected regions during the period; "
                                         "rates are shares of sent")

    accounts = pd.DataFrame() if resolved.selects_nothing else q.top_accounts(session, filters)
    accounts_card = chart_card("Largest accounts by MRR",
                               accounts_table(accounts, policy) if not accounts.empty else no_selection_state(),
                               subtitle="Current MRR in USD" if policy.view_financials else "Current MRR band")
    return {"campaigns": campaigns_card, "top_accounts": accounts_card}


@guarded_callback(VIEW_EXECUTIVE, output=TABLE_OUTPUTS, inputs=FILTER_INPUTS)
def update_tables(start_date: Any, end_date: Any, selected_regions: Any) -> dict[str, Any]:
    """Refresh the campaigns funnel and the largest accounts when a filter changes."""
    with db.session() as session:
        return build_tables(session, start_date, end_date, selected_regions,
                            scope=current_scope(), policy=MaskPolicy.for_current_user())


__all__ = ["NO_SELECTION_MESSAGE", "build_charts", "build_kpis", "build_tables", "resolve_filters",
           "update_charts", "update_kpis", "update_tables"]
