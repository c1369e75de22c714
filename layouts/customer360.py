"""Customer 360 overview of one customer at /accounts/<account_id>: its header (shared with the
Journey and People pages), KPI cards with 12-month sparklines, why it is at risk, its risk alerts
and its recommended next-best actions.

`layout(account_id=..., **query)` builds the frame; the panels arrive through
callbacks/customer360.py, which turns dashboard.queries.customer360's typed results into the
components below. An unknown customer and one outside the caller's scope both get the plain 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_day, format_percent, format_usd
from dashboard.masking import MaskPolicy
from dashboard.permissions import EXECUTE_ACTIONS, has_permission
from dashboard.queries import customer360 as q
from dashboard.queries.alerts import KIND_LABELS
from dashboard.queries.customer360 import AccountHeader, AccountKpis, ActionState, ClvInputs, Owner, RiskPanel
from dashboard.queries.glossary import definition
from dashboard.queries.intelligence import AlertItem
from dashboard.scope import current_scope
from layouts.components import humanize_age, no_selection_state, not_found_state
from layouts.kit.kpi import kpi_card, kpi_card_empty
from layouts.kit.scores import score_chip
from layouts.kit.states import loading, skeleton

ACCOUNT_PATH = "/accounts/"
TABS: tuple[tuple[str, str, str], ...] = (("overview", "Overview", ""), ("journey", "Journey", "/journey"),
                                         ("people", "People & feedback", "/people"))
NOT_SCORED = "Not scored yet: the scoring job has not run for this customer."
FINANCIALS_HIDDEN = "exact amounts need the financials permission"
SEVERITY_COLORS = {"HIGH": "danger", "MEDIUM": "warning", "LOW": "secondary"}
STATUS_COLORS = {"open": "primary", "scheduled": "info", "executed": "success"}
KIND_ICONS = {"sla_breach": "\u23f1", "payment_overdue": "\U0001f4b3", "renewal_due": "\U0001f4c5",
              "engagement_drop": "\U0001f4c9", "churn_risk_jump": "\u26a0"}
TREND_WORDS = {"increasing": ("\u2197", "Usage increasing", "text-success"),
               "stable": ("\u2192", "Usage stable", "text-muted"),
               "declining": ("\u2198", "Usage declining", "text-danger")}
HEALTH_COLORS = {"payment": "#0072B2", "support": "#E69F00", "usage": "#009E73", "engagement": "#CC79A7"}


class Customer360Ids:
    """Component ids of the overview, shared by its layout and its callbacks."""

    PAGE = "acct-page"
    STATE = "acct-state"
    HEADER = "acct-header"
    TABS = "acct-tabs"
    KPI_CLV = "acct-kpi-clv"
    KPI_MRR = "acct-kpi-mrr"
    KPI_SERVICES = "acct-kpi-services"
    KPI_TICKETS = "acct-kpi-tickets"
    KPI_RESPONSE = "acct-kpi-response"
    KPI_SLA = "acct-kpi-sla"
    KPI_GROWTH = "acct-kpi-growth"
    RISK = "acct-risk"
    ALERTS = "acct-alerts"
    ACTIONS = "acct-actions"
    MESSAGE = "acct-message"
    CHANGED = "acct-changed"  # bumped after an alert or action change, so both lists reload
    ALERT_ITEM = "acct-alert-item"
    ACTION_ITEM = "acct-action-item"
    ALERT_CHANGE = "acct-alert-change"  # pattern-matching id types of the buttons
    EXECUTE = "acct-action-execute"
    SCHEDULE = "acct-action-schedule"
    SCHEDULE_MODAL = "acct-schedule-modal"
    SCHEDULE_TARGET = "acct-schedule-target"
    SCHEDULE_TITLE = "acct-schedule-title"
    SCHEDULE_DATE = "acct-schedule-date"
    SCHEDULE_OWNER = "acct-schedule-owner"
    SCHEDULE_SUBMIT = "acct-schedule-submit"
    SCHEDULE_ERROR = "acct-schedule-error"


ID = Customer360Ids
# KPI card id -> (query key, title), in page order.
KPI_CARDS: dict[str, tuple[str, str]] = {
    ID.KPI_CLV: ("clv_usd", "Lifetime value"),
    ID.KPI_MRR: ("mrr_usd", "MRR"),
    ID.KPI_SERVICES: ("active_services", "Active services"),
    ID.KPI_TICKETS: ("open_tickets", "Open tickets"),
    ID.KPI_RESPONSE: ("avg_first_response_minutes", "Avg first response"),
    ID.KPI_SLA: ("sla_compliance", "SLA compliance"),
    ID.KPI_GROWTH: ("yoy_growth_pct", "YoY growth"),
}
LOWER_IS_BETTER = frozenset({"open_tickets", "avg_first_response_minutes"})


# --- The shared header -------------------------------------------------------------------


def tab_href(account_id: str, suffix: str, search: str = "") -> str:
    return f"{ACCOUNT_PATH}{account_id}{suffix}{search}"


def query_search(query: Mapping[str, Any]) -> str:
    """The page's query string back as '?a=b' (empty without arguments), for the tab links."""
    kept = {k: v for k, v in query.items() if isinstance(v, str) and v}
    return "?" + urlencode(kept) if kept else ""


def _badge(label: str, value: str | None, title: str) -> html.Span | None:
    if not value:
        return None
    return dbc.Badge(f"{label}{value}", color="light", text_color="dark", className="me-1 border c360-acct-badge",
                     title=title)


def account_header(header: AccountHeader, active_tab: str, search: str = "") -> html.Div:
    """Name and badges (health, churn, type, tier, regions, customer since), location, annual
    revenue and growth, and the Overview / Journey / People tabs; the sibling pages call it too."""
    regions = ", ".join(header.regions) if header.regions else header.region
    badges = [
        html.Span("Health", className="small text-muted"), score_chip("health", header.health_band),
        html.Span("Churn risk", className="small text-muted ms-1"), score_chip("churn", header.risk_level),
        _badge("", header.segment, "Account type"),
        _badge("Tier: ", header.engagement_tier, definition("engagement_tier") or "Engagement tier"),
        _badge("", regions, "Regions of the linked regional accounts"),
        _badge("Customer since ", format_day(header.customer_since) if header.customer_since else None,
               "First regional account created"),
    ]
    location = " \u00b7 ".join(p for p in (header.country, header.territory, header.industry) if p)
    if header.financials_hidden:
        revenue = [html.Span("Annual revenue: "), html.Strong(header.annual_revenue_band or "n/a"),
                   html.Span(f" (band; {FINANCIALS_HIDDEN})", className="text-muted")]
    else:
        growth = ("no MRR a year ago" if header.yoy_growth_pct is None
                  else f"{header.yoy_growth_pct:+.1f}% year on year")
        revenue = [html.Span("Annual revenue: "), html.Strong(format_usd(float(header.annual_revenue_usd or 0)),
                                                             title=definition("arr_usd")),
                   html.Span(f" \u00b7 {growth}", className="text-muted")]
    tabs = dbc.Nav([dbc.NavItem(dbc.NavLink(label, href=tab_href(header.account_id, suffix, search),
                                            active=key == active_tab, id=f"{ID.TABS}-{key}"))
                    for key, label, suffix in TABS], pills=True, className="mt-2 c360-acct-tabs", id=ID.TABS)
    return html.Div([
        html.H2(header.account_name, className="c360-page-title mb-1"),
        html.Div([b for b in badges if b is not None], className="d-flex flex-wrap align-items-center gap-1"),
        html.Div([html.Span(location, className="me-3") if location else None, *revenue],
                 className="small mt-1"),
        tabs,
    ], id=ID.HEADER, className="c360-acct-header mb-3")


# --- The page ----------------------------------------------------------------------------


def _schedule_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Schedule this action")),
        dbc.ModalBody([
            html.Div(id=ID.SCHEDULE_TITLE, className="fw-semibold mb-2"),
            dbc.Label("Due on", html_for=ID.SCHEDULE_DATE),
            dcc.DatePickerSingle(id=ID.SCHEDULE_DATE, display_format="D MMM YYYY", first_day_of_week=1,
                                 className="d-block mb-2"),
            dbc.Label("Owner", html_for=ID.SCHEDULE_OWNER),
            dcc.Dropdown(id=ID.SCHEDULE_OWNER, options=[], placeholder="Who will do it", clearable=False),
            html.Div(id=ID.SCHEDULE_ERROR, className="text-danger small mt-2"),
        ]),
        dbc.ModalFooter(dbc.Button("Schedule", id=ID.SCHEDULE_SUBMIT, color="primary")),
    ], id=ID.SCHEDULE_MODAL, is_open=False)


def layout(account_id: str | None = None, **query: Any) -> html.Div:
    """The overview frame for a customer in the caller's scope (the plain 404 otherwise)."""
    with db.session() as session:
        header = (q.account_header(session, account_id, current_scope(), MaskPolicy.for_current_user())
                  if account_id else None)
    if header is None:
        return not_found_state()
    kpis = dbc.Row([dbc.Col(loading(card_id, skeleton("card")), className="c360-kpi-col") for card_id in KPI_CARDS],
                   className="row-cols-1 row-cols-sm-2 row-cols-lg-4 row-cols-xxl-7 g-3 mb-3 c360-kpi-row")
    panels = dbc.Row([
        dbc.Col(loading(ID.RISK, skeleton("card", 6)), lg=12, className="mb-3"),
        dbc.Col(loading(ID.ALERTS, skeleton("grid", 5), "grid"), lg=5),
        dbc.Col(loading(ID.ACTIONS, skeleton("grid", 5), "grid"), lg=7),
    ], className="g-3 mb-4")
    return html.Div([
        dcc.Store(id=ID.STATE, data={"account_id": header.account_id}),
        dcc.Store(id=ID.CHANGED, data=0),
        dcc.Store(id=ID.SCHEDULE_TARGET),
        account_header(header, "overview", query_search(query)),
        html.Div(id=ID.MESSAGE),
        kpis, panels, _schedule_modal(),
    ], id=ID.PAGE, className="c360-customer360")


# --- KPI cards -----------------------------------------------------------------------------


def _month_word(day: date) -> str:
    return f"{day:%b %Y}"


def clv_hover(inputs: ClvInputs | None) -> str:
    """The BG/NBD and gamma-gamma inputs behind the lifetime value, as hover text."""
    if inputs is None:
        return NOT_SCORED
    money = "hidden" if inputs.monetary_value_usd is None else format_usd(inputs.monetary_value_usd)
    alive = "n/a" if inputs.p_alive is None else format_percent(inputs.p_alive)
    return (f"BG/NBD: {inputs.frequency} repeat payment weeks, recency {inputs.recency_weeks} weeks, "
            f"age T {inputs.age_weeks} weeks, P(alive) {alive}. "
            f"Gamma-gamma: mean repeat payment {money}.")


def kpi_outputs(result: AccountKpis | None) -> dict[str, Any]:
    """The seven KPI cards (by card id); figures hidden by masking show their band or why."""
    if result is None:
        return {card_id: kpi_card_empty(key, title, "This customer is not in your data scope.")
                for card_id, (key, title) in KPI_CARDS.items()}
    before = result.months[-2] if len(result.months) > 1 else None
    comparison = f"vs end of {_month_word(before)}" if before else "vs previous month"
    out: dict[str, Any] = {}
    for card_id, (key, title) in KPI_CARDS.items():
        kpi = result.kpis[key]
        if kpi.band is not None:
            out[card_id] = kpi_card_empty(key, title, f"Band {kpi.band}: {FINANCIALS_HIDDEN}.")
            continue
        if kpi.value is None:
            out[card_id] = kpi_card_empty(key, title, kpi.note or _empty_reason(key))
            continue
        previous = kpi.series[-2] if len(kpi.series) > 1 else None
        delta = None if key == "clv_usd" or previous is None else kpi.value - previous
        subtitle = None
        if key == "clv_usd" and result.clv is not None:
            clv = result.clv
            subtitle = (f"{format_usd(clv.historical_revenue_usd)} paid so far + "
                        f"{format_usd(clv.projected_36m_usd)} projected over 36 months")
        card = kpi_card(card_id, key, title, kpi.value, delta, value_format=kpi.value_format,
                        up_is_good=key not in LOWER_IS_BETTER, subtitle=subtitle,
                        comparison="(a model estimate)" if key == "clv_usd" else comparison,
                        series=kpi.series)
        out[card_id] = html.Div(card, title=clv_hover(result.clv), className="h-100") if key == "clv_usd" else card
    return out


def _empty_reason(key: str) -> str:
    return {"avg_first_response_minutes": "No ticket was answered in the last 90 days.",
            "sla_compliance": "No ticket with an SLA target was answered in the last 90 days.",
            "yoy_growth_pct": "No MRR a year ago to compare with."}.get(key, "No figure yet.")


# --- Why at risk -------------------------------------------------------------------------


def health_bar(panel: RiskPanel) -> html.Div:
    """The health score as four segments, each as wide as its weighted contribution, labelled
    with the part's own 0-100 value."""
    bars = [dbc.Progress(value=panel.health_weights[part] * value / 100, bar=True,
                         label=f"{value:.0f}", color=HEALTH_COLORS[part],
                         className="c360-health-part", id=f"acct-health-{part}")
            for part, value in panel.health_parts.items()]
    legend = [html.Li([html.Span("\u25a0 ", style={"color": HEALTH_COLORS[part]}),
                       f"{part.title()} ({panel.health_weights[part]} %): ", html.Strong(f"{value:.0f}"),
                       " of 100"])
              for part, value in panel.health_parts.items()]
    return html.Div([
        html.Div([html.Span("Health ", className="fw-semibold"), score_chip("health", panel.health_band),
                  html.Span(f" {panel.health_score:.0f} of 100", className="ms-1")],
                 title=definition("health_score")),
        dbc.Progress(bars, className="my-2", style={"height": "1.4rem"}),
        html.Ul(legend, className="list-unstyled small mb-0 c360-health-legend"),
    ], className="c360-health")


def risk_outputs(panel: RiskPanel | None) -> dbc.Card:
    """Churn score and its factors beside the health parts, the usage trend and anomalies."""
    if panel is None:
        body: Any = no_selection_state("This customer is not in your data scope.")
    elif panel.churn_score is None and panel.health_score is None:
        body = no_selection_state(NOT_SCORED)
    else:
        churn: list[Any] = [no_selection_state("No churn score yet: no churn model serves.")]
        if panel.churn_score is not None:
            factors = [html.Li([html.Span("\u2191 " if f.raises_risk else "\u2193 ", className="c360-factor-arrow"),
                                f.sentence or f.label]) for f in panel.factors]
            churn = [
                html.Div([html.Span(f"{panel.churn_score:.0f}", className="c360-kpi-value me-2",
                                    id="acct-churn-score"),
                          html.Span("of 100 ", className="text-muted me-2"), score_chip("churn", panel.risk_level)],
                         className="d-flex align-items-center", title=definition("churn_risk_score")),
                html.Div(f"{format_percent(panel.churn_probability)} chance of churning within 90 days",
                         className="small text-muted"),
                html.Div("Top factors", className="small fw-semibold mt-2"),
                html.Ul(factors, className="small mb-0 c360-factors") if factors
                else html.Div("The model names no factor.", className="small text-muted"),
            ]
        health = health_bar(panel) if panel.health_parts else no_selection_state(NOT_SCORED)
        trend = TREND_WORDS.get(panel.usage_trend or "")
        usage = (html.Div([html.Span(trend[0] + " ", className=trend[2]), trend[1],
                           html.Span(f" ({panel.usage_change:+.0%} against the 90 days before)",
                                     className="text-muted")], title=definition("usage_trend"), id="acct-usage-trend")
                 if trend else html.Div("No usage data in the last 120 days.", className="text-muted",
                                        id="acct-usage-trend"))
        anomalies = ([html.Li([dbc.Badge(a.severity.title(), color=SEVERITY_COLORS.get(a.severity, "secondary"),
                                         className="me-1"), f"{format_day(a.detected_on)}: {a.description}"])
                      for a in panel.anomalies])
        body = dbc.Row([
            dbc.Col([html.Div("Churn risk", className="fw-semibold mb-1"), *churn], md=6, className="mb-3"),
            dbc.Col([health, html.Hr(className="my-2"), usage,
                     html.Div("Anomalies", className="small fw-semibold mt-2"),
                     html.Ul(anomalies, className="small mb-0") if anomalies
                     else html.Div("No unusual movement detected.", className="small text-muted")], md=6),
        ])
    return dbc.Card([dbc.CardHeader(html.H6("Why at risk", className="c360-card-title mb-0")),
                     dbc.CardBody(body)], className="c360-chart-card h-100", id="acct-risk-card")


# --- Risk alerts ---------------------------------------------------------------------------


def _scrolling_list(items: list[html.Div] | None, empty: str, max_height: str) -> html.Div:
    """A scrollable list group, or why there is nothing to list (None: outside the scope)."""
    if items is None:
        return no_selection_state("This customer is not in your data scope.")
    if not items:
        return no_selection_state(empty)
    return html.Div(items, className="list-group", style={"maxHeight": max_height, "overflowY": "auto"})


def alert_button_id(alert_id: int, status: str) -> dict[str, object]:
    return {"type": ID.ALERT_CHANGE, "alert_id": alert_id, "status": status}


def _alert_item(alert: AlertItem, *, may_change: bool, now: datetime | None) -> html.Div:
    buttons = []
    if may_change:
        if alert.status == "open":
            buttons.append(dbc.Button("Acknowledge", id=alert_button_id(alert.alert_id, "acknowledged"), size="sm",
                                      color="primary", outline=True, className="me-2"))
        buttons.append(dbc.Button("Resolve", id=alert_button_id(alert.alert_id, "resolved"), size="sm",
                                  color="success", outline=True))
    return html.Div([
        html.Div([html.Span(KIND_ICONS.get(alert.kind, "\u2022"), className="me-2", **{"aria-hidden": "true"}),
                  html.Strong(alert.title, className="me-2"),
                  dbc.Badge(alert.severity.title(), color=SEVERITY_COLORS.get(alert.severity, "secondary")),
                  dbc.Badge("Acknowledged", color="info", className="ms-1") if alert.status == "acknowledged"
                  else None], className="d-flex align-items-center flex-wrap"),
        html.Div([KIND_LABELS.get(alert.kind, alert.kind), " \u00b7 ",
                  html.Span(f"opened {humanize_age(alert.opened_at, now)}",
                            title=f"{alert.opened_at:%Y-%m-%d %H:%M} UTC")], className="small text-muted"),
        html.Div(alert.description, className="small"),
        html.Div(buttons, className="mt-1") if buttons else None,
    ], className=f"list-group-item {ID.ALERT_ITEM}", **{"data-alert-id": str(alert.alert_id)})


def alert_outputs(alerts: list[AlertItem] | None, *, may_change: bool, now: datetime | None = None) -> dbc.Card:
    """The customer's unresolved alerts in a scrollable list."""
    body = _scrolling_list(None if alerts is None else [_alert_item(a, may_change=may_change, now=now)
                                                        for a in alerts],
                           "No open alerts: nothing about this customer needs attention "
                           "(or the scoring job has not run yet).", "26rem")
    count = f"{len(alerts)} unresolved" if alerts else None
    return dbc.Card([dbc.CardHeader([html.H6("Risk alerts", className="c360-card-title mb-0"),
                                     html.Div(count, className="c360-card-subtitle text-muted") if count else None]),
                     dbc.CardBody(body)], className="c360-chart-card h-100", id="acct-alerts-card")


# --- Next-best actions ---------------------------------------------------------------------


def action_button_id(kind: str, action_id: str) -> dict[str, str]:
    return {"type": kind, "action_id": action_id}


def _impact(action: ActionState) -> str:
    if action.impact_usd is None:
        return f"{action.impact_band or 'n/a'} (band)"
    return format_usd(float(action.impact_usd))


def _action_item(action: ActionState, *, may_act: bool) -> html.Div:
    status = action.status.title()
    if action.status == "scheduled" and action.scheduled_for:
        status = f"Scheduled for {format_day(action.scheduled_for)}, owner {action.owner}"
    elif action.status == "executed" and action.acted_by:
        status = f"Executed by {action.acted_by}"
    buttons = ([dbc.Button("Schedule", id=action_button_id(ID.SCHEDULE, action.action_id), size="sm",
                           color="primary", outline=True, className="me-2"),
                dbc.Button("Execute", id=action_button_id(ID.EXECUTE, action.action_id), size="sm",
                           color="success")]
               if may_act and action.status in q.ACTIONABLE else [])
    return html.Div([
        html.Div([dbc.Badge(action.priority.title(), color=SEVERITY_COLORS.get(action.priority, "secondary"),
                            className="me-1"),
                  dbc.Badge(action.category, color="light", text_color="dark", className="me-2 border"),
                  html.Strong(action.title)], className="d-flex align-items-center flex-wrap"),
        html.Div(action.description, className="small"),
        html.Div([html.Span("Expected: "), action.expected_outcome, html.Span(" \u00b7 impact "),
                  html.Strong(_impact(action)), html.Span(f" \u00b7 {action.source}", className="text-muted")],
                 className="small"),
        html.Div([dbc.Badge(status, color=STATUS_COLORS.get(action.status, "secondary"),
                            className="me-2 acct-action-status"), *buttons], className="mt-1 d-flex flex-wrap gap-1"),
    ], className=f"list-group-item {ID.ACTION_ITEM}", **{"data-action-id": action.action_id,
                                                          "data-status": action.status})


def action_outputs(actions: list[ActionState] | None, *, may_act: bool) -> dbc.Card:
    """Open and scheduled actions, highest priority first, then the latest executed ones."""
    body = _scrolling_list(None if actions is None else [_action_item(a, may_act=may_act) for a in actions],
                           "No recommended actions: no rule or churn factor calls for one "
                           "(or the scoring job has not run yet).", "32rem")
    return dbc.Card([dbc.CardHeader(html.H6("Recommended next-best actions", className="c360-card-title mb-0",
                                            title=definition("next_best_action"))),
                     dbc.CardBody(body)], className="c360-chart-card h-100", id="acct-actions-card")


def owner_options(owners: list[Owner]) -> list[dict[str, str]]:
    return [{"label": f"{o.name} ({o.email})" if o.name != o.email else o.email, "value": o.email} for o in owners]


def may_act() -> bool:
    return has_permission(EXECUTE_ACTIONS)


__all__ = ["ID", "KPI_CARDS", "account_header", "action_outputs", "alert_outputs", "kpi_outputs",
           "layout", "owner_options", "risk_outputs"]
