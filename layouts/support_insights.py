"""Operations: recurring issues, tickets per customer by product, repeat-issue customers, systemic
issues, satisfaction, inbound sentiment, VIP attention, onboarding delays and complaints, for support
leads (and executives).

The URL holds the page's state (`?days=<7|30|90>&region=<region>`): `layout(**query)` builds the page
from it, and the panel helpers below turn the queries' typed results
(dashboard/queries/support_insights.py) into cards, tables and grids. Callbacks
(callbacks/support_insights.py) only wire the two together.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_percent, format_usd
from dashboard.permissions import EXPORT_DATA, has_permission
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.support_insights import (
    ONBOARDING_DAYS,
    PERIODS,
    RESOLUTION_TARGET_HOURS,
    SATISFACTION_DIMENSIONS,
    SYSTEMIC_MIN_ACCOUNTS,
    SYSTEMIC_RATIO,
    SYSTEMIC_WEEKS,
    ComplaintsResult,
    OnboardingResult,
    OperationsQuery,
    ProductsResult,
    RepeatResult,
    ResolvedQuery,
    SatisfactionResult,
    SentimentResult,
    SystemicResult,
    TopicsResult,
    VipResult,
    interval_text,
    resolve,
    wilson_interval,
)
from dashboard.scope import current_scope
from layouts import theme
from layouts.components import chart_card, empty_state, gold_empty_detail, no_selection_state, page_header
from layouts.kit import kpi
from layouts.kit.grid import data_grid
from layouts.kit.light import static_table
from layouts.kit.page import url_state
from layouts.kit.states import empty_reason, loading, skeleton

TITLE = "Operations"
NO_DATA = "No data yet"
ALL = "all"


class OperationsIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "si-page"
    URL = "si-url"
    STATE = "si-state"
    NO_DATA = "si-no-data"
    DAYS = "si-days"
    REGION = "si-region"
    NOTE = "si-note"
    TOPICS = "si-topics"
    PRODUCTS = "si-products"
    PRODUCTS_GRID = "si-products-grid"
    REPEAT = "si-repeat"
    REPEAT_GRID = "si-repeat-grid"
    SYSTEMIC = "si-systemic"
    SATISFACTION = "si-satisfaction"
    SATISFACTION_TABS = "si-satisfaction-tabs"
    SATISFACTION_GRID = "si-satisfaction-grid"  # + "-product", "-region", "-agent"
    SENTIMENT = "si-sentiment"
    SENTIMENT_GRAPH = "si-sentiment-graph"
    VIP = "si-vip"
    VIP_GRID = "si-vip-grid"
    ONBOARDING = "si-onboarding"
    STUCK_GRID = "si-stuck-grid"
    COMPLAINTS = "si-complaints"


ID = OperationsIds
PANELS = (ID.TOPICS, ID.PRODUCTS, ID.REPEAT, ID.SYSTEMIC, ID.SATISFACTION, ID.SENTIMENT, ID.VIP, ID.ONBOARDING,
          ID.COMPLAINTS)
TITLES = {"topics": "Recurring issues", "products": "Tickets per customer by product",
          "repeat": "Repeat-issue customers", "systemic": "Systemic issues", "satisfaction": "Satisfaction (CSAT)",
          "sentiment": "Inbound sentiment", "vip": "VIP attention", "onboarding": "Onboarding and delivery",
          "complaints": "Complaints resolved within SLA"}



def _export(grid_name: str, resolved: Any) -> dict[str, Any]:
    """The grid's server export for the view shown, for the roles that may export."""
    if not has_permission(EXPORT_DATA):
        return {}
    return {"export_name": grid_name, "search": resolved.canonical.search}


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    return empty_state(NO_DATA, gold_empty_detail(status), state_id=ID.NO_DATA)


def _controls(resolved: ResolvedQuery) -> html.Div:
    return html.Div([
        html.Div([
            dbc.Label("Period", html_for=ID.DAYS, className="c360-filter-label"),
            dcc.Dropdown(id=ID.DAYS, value=str(resolved.days), clearable=False, searchable=False,
                         options=[{"label": f"Last {d} days", "value": str(d)} for d in PERIODS]),
        ], className="c360-filter"),
        html.Div([
            dbc.Label("Region", html_for=ID.REGION, className="c360-filter-label"),
            dcc.Dropdown(id=ID.REGION, value=resolved.region or ALL, clearable=False, searchable=False,
                         options=[{"label": "Every region", "value": ALL}]
                         + [{"label": r, "value": r} for r in resolved.regions]),
        ], className="c360-filter"),
    ], className="c360-filters")


def layout(**query: Any) -> html.Div:
    """Controls, then one panel per question, each filled by its own callback from the URL's state."""
    requested = OperationsQuery.from_args(query)
    with db.session() as session:
        resolved = resolve(session, requested, current_scope())
        status = gold_status(session) if resolved is None else None
    header_text = ("Recurring issues, repeat customers, satisfaction, VIP attention, onboarding delays and "
                   "complaints")
    if resolved is None:
        return html.Div([page_header(TITLE, header_text), no_data_panel(status)], id=ID.PAGE)

    def panel(component_id: str, kind: str = "card", **widths: int) -> dbc.Col:
        return dbc.Col(loading(component_id, skeleton(kind, 5), kind), xs=12, className="mb-3", **widths)

    panels = dbc.Row([
        panel(ID.TOPICS, lg=7), panel(ID.PRODUCTS, "grid", lg=5),
        panel(ID.REPEAT, "grid", lg=8), panel(ID.SYSTEMIC, lg=4),
        panel(ID.SATISFACTION, "grid", lg=7), panel(ID.SENTIMENT, "chart", lg=5),
        panel(ID.VIP, "grid"), panel(ID.ONBOARDING, "grid"), panel(ID.COMPLAINTS),
    ], className="g-3")
    notes = (html.Div(" ".join(resolved.notes), className="alert alert-warning py-2 px-3 small mb-3", role="status")
             if resolved.notes else None)
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        page_header(TITLE, header_text, controls=_controls(resolved)),
        html.Div(notes, id=ID.NOTE),
        panels,
    ], id=ID.PAGE, className="c360-support-insights")


# --- Shared pieces ----------------------------------------------------------------------------------




def _empty(resolved: ResolvedQuery, message: str | None = None) -> html.Div:
    return no_selection_state(empty_reason(resolved.scope, message) if message else empty_reason(resolved.scope))


def _table(header: list[str], rows: list[list[Any]], numeric_from: int = 1) -> Any:
    """A small plain table that scrolls sideways inside its card on a phone, never the page."""
    return static_table(header, rows, numeric=range(numeric_from, len(header)))


def _wrapped(grid: html.Div, field: str, min_width: int = 260) -> html.Div:
    """Let a grid's long text column (a reason in words) wrap onto more lines instead of being cut off."""
    table = grid.children[-1]  # after the export buttons, when there are any
    table.columnDefs = [{**column, "wrapText": True, "autoHeight": True, "minWidth": min_width, "flex": 3,
                         "cellStyle": {"lineHeight": "1.35", "paddingTop": "6px", "paddingBottom": "6px"}}
                        if column.get("field") == field else column for column in table.columnDefs]
    return grid


def _period_words(resolved: ResolvedQuery) -> str:
    return f"the last {resolved.days} days to {format_day(resolved.as_of)}"


def _signed_percent(value: float | None) -> str:
    return "new" if value is None else f"{value:+.0f}%"


def _sentiment(value: float | None) -> str:
    # Rounded first, so a score a hair below zero reads +0.00, not -0.00.
    return "\u2014" if value is None else f"{round(value, 2) + 0.0:+.2f}"


# --- 1. Recurring issues ----------------------------------------------------------------------------


def topics_output(result: TopicsResult | GoldStatus) -> Any:
    """The most mentioned topics with their trend, and a few recent ticket subjects each (masked)."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    source = ("every customer text (chat and WhatsApp messages, ticket subjects, campaign replies)"
              if result.company_wide else "the ticket subjects of your data scope and region")
    if not result.rows:
        body: Any = _empty(resolved, "No topic was mentioned in this period (or the text job has not run yet).")
    else:
        top = result.rows[0]
        items = []
        for row in result.rows:
            items.append(html.Tr([html.Td(html.Strong(row.topic)),
                                  html.Td(format_count(row.mentions), className="text-end"),
                                  html.Td(_signed_percent(row.change_pct), className="text-end text-nowrap"),
                                  html.Td(_sentiment(row.avg_sentiment), className="text-end"),
                                  html.Td(format_percent(row.negative_share, 0), className="text-end")]))
            if row.samples:
                items.append(html.Tr(html.Td(html.Ul([html.Li(s) for s in row.samples],
                                                     className="small text-muted mb-1 c360-topic-samples"),
                                             colSpan=5), className="c360-topic-sample-row"))
        table = html.Div(html.Table([html.Thead(html.Tr([html.Th("Topic"), html.Th("Mentions", className="text-end"),
                                                         html.Th("Change", className="text-end",
                                                                 title="Mentions against the period before"),
                                                         html.Th("Sentiment", className="text-end"),
                                                         html.Th("Negative", className="text-end")])),
                                     html.Tbody(items)], className="table table-sm mb-1 c360-topics-table"),
                         className="table-responsive")
        body = [kpi.headlines(kpi.headline("Top topic", top.topic, f"{format_count(top.mentions)} mentions, "
                                     f"{_signed_percent(top.change_pct)} vs the {resolved.days} days before")),
                table,
                html.Div("Under each topic, its newest ticket subjects; emails and phone numbers are hidden "
                         "without personal-data access.", className="small text-muted")]
    return chart_card(TITLES["topics"], body, subtitle=f"Topics of {source} in {_period_words(resolved)}, "
                      "against the period before; sentiment is VADER's compound score (-1 to +1)")


# --- 2. Tickets per customer by product -------------------------------------------------------------


def products_output(result: ProductsResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if result.grid.empty:
        body: Any = _empty(resolved)
    else:
        top = result.grid.rows[0]
        rate = top["tickets_per_customer"]
        body = [kpi.headlines(kpi.headline("Most tickets per customer", str(top["product_name"]),
                                     f"{rate:.2f} tickets per customer running it" if rate is not None else ""),
                           kpi.headline("Tickets about a product", format_count(result.tickets))),
                data_grid(ID.PRODUCTS_GRID, result.grid, row_id_field="product_id", **_export(ID.PRODUCTS, resolved))]
    return chart_card(TITLES["products"], body,
                      subtitle=f"Tickets opened in {_period_words(resolved)} about each product, over the customers "
                               "running it on at least one day of the period")


# --- 3. Repeat-issue customers ------------------------------------------------------------------------


REPEAT_DEFINITION = ("A repeat issue is a ticket whose account opened a ticket of the same category (billing, "
                     "outage, ...) in the 30 days before it. A customer returns with a repeat issue when one of its "
                     "tickets opened in the period is one.")


def repeat_output(result: RepeatResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    headlines = kpi.headlines(
        kpi.headline("Customers returning", format_percent(result.repeat_share),
                  f"{format_count(result.repeat_customers)} of {format_count(result.customers)} customers with a "
                  "ticket", title=REPEAT_DEFINITION),
        kpi.headline("Repeat tickets", format_count(result.repeat_tickets),
                  f"of {format_count(result.tickets)} tickets"))
    if result.grid.empty:
        body: list = [headlines, _empty(resolved, "No customer returned with the same issue in this period.")]
    else:
        shown = len(result.grid.rows)
        lead = (f"The {shown} of {format_count(result.repeat_customers)} returning customers with the most repeat "
                "tickets" if shown < result.repeat_customers else "Most repeat tickets first")
        body = [headlines, html.Div(f"{lead} \u00b7 click a row for the customer", className="small text-muted mb-1"),
                data_grid(ID.REPEAT_GRID, result.grid, row_id_field="account_id", **_export(ID.REPEAT, result.resolved))]
    body.append(html.Div(REPEAT_DEFINITION, className="small text-muted mt-1"))
    return chart_card(TITLES["repeat"], body, definition=REPEAT_DEFINITION,
                      subtitle=f"Accounts returning with the same ticket category within 30 days, in "
                               f"{_period_words(resolved)}")


# --- 4. Systemic issues ----------------------------------------------------------------------------------


def systemic_output(result: SystemicResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    definition = (f"A ticket category is systemic when the accounts raising it in the last 7 days are at least "
                  f"{SYSTEMIC_RATIO:g} times its usual weekly level (the mean of the {SYSTEMIC_WEEKS} weeks before) "
                  f"and at least {SYSTEMIC_MIN_ACCOUNTS}.")
    if not result.rows:
        return chart_card(TITLES["systemic"], _empty(resolved), definition=definition)
    flagged = result.flagged
    rows = [[html.Span(["\u25b2 " if r.flagged else "", r.category], className="fw-semibold" if r.flagged else None),
             format_count(r.accounts_last_week), f"{r.usual_weekly:.1f}",
             "\u2014" if r.ratio is None else f"\u00d7{r.ratio:.1f}"] for r in result.rows]
    body = [kpi.headlines(kpi.headline("Systemic now", format_count(len(flagged)),
                                 ", ".join(r.category for r in flagged) if flagged else "no category far above usual",
                                 title=definition)),
            _table(["Category", "Accounts, last 7 days", "Usual per week", "vs usual"], rows),
            html.Div(definition, className="small text-muted")]
    return chart_card(TITLES["systemic"], body, definition=definition,
                      subtitle=f"Distinct accounts per ticket category in the 7 days to {format_day(resolved.as_of)}")


# --- 5. Satisfaction ---------------------------------------------------------------------------------------


SATISFACTION_DEFINITION = ("Share of rated tickets with a CSAT of 4 or 5, with its 95% Wilson score interval: "
                           "wide for small groups, so a small team's bad week is not read as a trend.")


def satisfaction_output(result: SatisfactionResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if not result.rated:
        return chart_card(TITLES["satisfaction"], _empty(resolved, "No ticket opened in this period was rated."),
                          definition=SATISFACTION_DEFINITION)
    overall = wilson_interval(result.satisfied, result.rated)
    headlines = kpi.headlines(
        kpi.headline("Satisfied", format_percent(result.satisfied_share),
                  f"95% interval {interval_text(overall)}, {format_count(result.rated)} rated tickets",
                  title=SATISFACTION_DEFINITION),
        kpi.headline("Mean CSAT", f"{result.avg_csat:.2f}", "1 to 5"))
    tabs = dbc.Tabs([dbc.Tab(data_grid(f"{ID.SATISFACTION_GRID}-{dimension}", result.grids[dimension]),
                             label=f"By {label.lower()}", tab_id=dimension)
                     for dimension, label in SATISFACTION_DIMENSIONS.items()],
                    id=ID.SATISFACTION_TABS, active_tab="product", className="mb-2")
    return chart_card(TITLES["satisfaction"], [headlines, tabs,
                                               html.Div("Lowest share satisfied first. " + SATISFACTION_DEFINITION,
                                                        className="small text-muted")],
                      definition=SATISFACTION_DEFINITION,
                      subtitle=f"Tickets opened in {_period_words(resolved)} and rated")


# --- 6. Inbound sentiment --------------------------------------------------------------------------------


def sentiment_figure(result: SentimentResult) -> go.Figure:
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=8, t=8, b=32))
    fig.add_trace(go.Scatter(x=[d.isoformat() for d in result.days], y=list(result.mean), mode="lines+markers",
                             line=dict(color=theme.PRIMARY), customdata=list(result.texts),
                             hovertemplate="%{x}: %{y:+.2f} over %{customdata} messages<extra></extra>"))
    fig.add_hline(y=0, line=dict(color=theme.MUTED, dash="dot"))
    fig.update_yaxes(range=[-1, 1], tickformat="+.1f", nticks=5)
    return fig


def sentiment_output(result: SentimentResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if not result.period_texts:
        return chart_card(TITLES["sentiment"], _empty(resolved, "No inbound message in this period (or the text "
                                                                 "job has not run yet)."))
    change = (None if result.period_mean is None or result.previous_mean is None
              else result.period_mean - result.previous_mean)
    body = [kpi.headlines(
        kpi.headline("Mean sentiment", _sentiment(result.period_mean),
                  f"{'+' if (change or 0) >= 0 else ''}{change:.2f} vs the {resolved.days} days before"
                  if change is not None else "nothing the period before"),
        kpi.headline("Negative", format_percent(result.period_negative_share),
                  f"of {format_count(result.period_texts)} messages")),
        dcc.Graph(id=ID.SENTIMENT_GRAPH, figure=sentiment_figure(result), config={"displayModeBar": False,
                                                                                 "responsive": True},
                  style={"height": "220px"}, className="c360-graph")]
    return chart_card(TITLES["sentiment"], body,
                      subtitle=f"Customers' chat and WhatsApp messages per day in {_period_words(resolved)}: mean "
                               "compound sentiment (-1 to +1)")


# --- 7. VIP attention --------------------------------------------------------------------------------------


VIP_DEFINITION = ("VIPs are the top 10% of paying customers by MRR. Urgency: 3 points per open P1 ticket, 2 per "
                  "open P2, 1 per SLA breach of a ticket opened in the period, 2 when their inbound sentiment fell "
                  "by 0.10 or more against the period before.")


def vip_output(result: VipResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    threshold = f"MRR of {format_usd(result.threshold_usd)} or more" if result.threshold_usd is not None \
        else "the top 10% by MRR"
    headlines = kpi.headlines(
        kpi.headline("Needing attention", format_count(len(result.grid.rows)),
                  f"of {format_count(result.vip_customers)} VIP customers ({threshold})", title=VIP_DEFINITION))
    if result.grid.empty:
        body: list = [headlines, _empty(resolved, "No VIP customer has an open P1/P2 ticket, an SLA breach or "
                                                  "falling sentiment.")]
    else:
        body = [headlines, html.Div("Most urgent first \u00b7 click a row for the customer",
                                    className="small text-muted mb-1"),
                _wrapped(data_grid(ID.VIP_GRID, result.grid, row_id_field="account_id", **_export(ID.VIP, resolved)), "reason")]
    body.append(html.Div(VIP_DEFINITION, className="small text-muted mt-1"))
    return chart_card(TITLES["vip"], body, definition=VIP_DEFINITION,
                      subtitle=f"High-value customers with open high-severity tickets, SLA breaches or falling "
                               f"sentiment in {_period_words(resolved)}")


# --- 8. Onboarding and delivery ------------------------------------------------------------------------------


ONBOARDING_DEFINITION = ("Each stage starts when the one before it completed (kickoff at the contract start, the "
                         "first subscription's start); days late are the completion day less the planned day. "
                         "Stuck: an open milestone past its planned day, at active customers.")


def onboarding_output(result: OnboardingResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if not result.stages and result.stuck.empty:
        return chart_card(TITLES["onboarding"], _empty(resolved, "No onboarding milestone in the last year."),
                          definition=ONBOARDING_DEFINITION)
    slowest = result.slowest_stage

    def days(value: float | None) -> str:
        return "\u2014" if value is None else f"{value:.0f}"

    headlines = kpi.headlines(
        kpi.headline("Contract to go-live", f"{days(result.median_days_to_live)} days",
                  f"median of {format_count(result.went_live)} customers live in the last {ONBOARDING_DAYS} days"),
        kpi.headline("Longest delays", slowest.milestone.replace("_", " ") if slowest else "\u2014",
                  f"{slowest.owner_team}, median {days(slowest.median_days_late)} days late" if slowest else ""),
        kpi.headline("Stuck now", format_count(len(result.stuck.rows)), "customers past a planned milestone"))
    rows = [[html.Span(s.milestone.replace("_", " "), className="fw-semibold" if s is slowest else None),
             s.owner_team, format_count(s.completed), days(s.median_days_taken), days(s.median_days_late),
             format_percent(s.late_share, 0)] for s in result.stages]
    body: list = [headlines,
                  _table(["Stage", "Owner team", "Completed", "Median days taken", "Median days late", "Late"], rows,
                         numeric_from=2)]
    if not result.stuck.empty:
        body += [html.Div("Stuck customers, longest overdue first \u00b7 click a row for the customer",
                          className="small text-muted mt-2 mb-1"),
                 data_grid(ID.STUCK_GRID, result.stuck, row_id_field="account_id")]
    body.append(html.Div(ONBOARDING_DEFINITION, className="small text-muted mt-1"))
    return chart_card(TITLES["onboarding"], body, definition=ONBOARDING_DEFINITION,
                      subtitle=f"Milestones completed in the {ONBOARDING_DAYS} days to {format_day(resolved.as_of)}, "
                               "kickoff to go-live, and the customers stuck now")


# --- 9. Complaints ---------------------------------------------------------------------------------------------


COMPLAINT_DEFINITION = (
    "A complaint is a ticket whose subject reads negative (the text job's sentiment) or that was escalated. Resolved "
    "within SLA: first response within the ticket's SLA target and resolved within "
    + ", ".join(f"{s} {h} h" for s, h in RESOLUTION_TARGET_HOURS.items())
    + ". Complaints still open and inside their target are not counted yet.")


def complaints_output(result: ComplaintsResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if not result.rows:
        return chart_card(TITLES["complaints"], _empty(resolved, "No complaint in this period."),
                          definition=COMPLAINT_DEFINITION)
    total = result.total
    rows = [[r.severity, format_count(r.complaints), format_count(r.decided), format_count(r.within_sla),
             format_percent(r.share)] for r in (*result.rows, total)]
    body = [kpi.headlines(kpi.headline("Within SLA", format_percent(total.share),
                                 f"{format_count(total.within_sla)} of {format_count(total.decided)} complaints due",
                                 title=COMPLAINT_DEFINITION),
                       kpi.headline("Complaints", format_count(total.complaints),
                                 f"opened in the last {resolved.days} days")),
            _table(["Severity", "Complaints", "Due", "Within SLA", "Share"], rows),
            html.Div(COMPLAINT_DEFINITION, className="small text-muted")]
    return chart_card(TITLES["complaints"], body, definition=COMPLAINT_DEFINITION,
                      subtitle=f"Complaints opened in {_period_words(resolved)}, by severity")
