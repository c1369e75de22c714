"""Campaigns wiring: the period and the comparison picker write the URL; the page's state store feeds
one query per panel, whose results the page's layout helpers turn into cards, tables and charts.

The `build_*` functions take a session, the raw URL state, the scope and the mask policy (and ROI the
conversion window, a setting), so unit tests call them directly with their own session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Input, Output, State
from sqlalchemy.orm import Session

from callbacks.kit import page_callback, register_panels, search_or_wait
from dashboard import current_settings
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_MARKETING
from dashboard.queries import campaigns as q
from dashboard.queries.campaigns import COMPARE_MAX, COMPARE_MIN, DEFAULT_PERIOD, PERIODS, CampaignsQuery
from dashboard.scope import DataScope, current_scope
from layouts import campaigns as page
from layouts.campaigns import CampaignsIds as ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def build_kpis(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The KPI cards: sent, delivered, read, reply rate, cost and cost per reply."""
    return page.kpis_output(q.funnel(session, CampaignsQuery.from_state(state), scope, policy=policy))


def build_funnel(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The funnel per channel and per campaign."""
    return page.funnel_output(q.funnel(session, CampaignsQuery.from_state(state), scope, policy=policy))


def build_ab(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The A/B tests with their verdicts."""
    return page.ab_output(q.ab_tests(session, CampaignsQuery.from_state(state), scope, policy=policy))


def build_send_time(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The weekday x hour heatmap and the recommended time."""
    return page.send_time_output(q.send_time(session, CampaignsQuery.from_state(state), scope, policy=policy))


def build_roi(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy, window_days: int) -> Any:
    """Cost per delivered, reply and conversion, and ROI, conversions within `window_days` of a reply."""
    return page.roi_output(q.roi(session, CampaignsQuery.from_state(state), scope, policy=policy,
                                 window_days=window_days))


def build_attribution(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """Every attribution model side by side."""
    return page.attribution_output(q.attribution(session, CampaignsQuery.from_state(state), scope, policy=policy))


def build_high_intent(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The contacts who replied most (masked)."""
    return page.high_intent_output(q.high_intent(session, CampaignsQuery.from_state(state), scope, policy=policy))


def build_compare(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """2 to 4 campaigns side by side."""
    return page.compare_output(q.compare(session, CampaignsQuery.from_state(state), scope, policy=policy))


@page_callback(VIEW_MARKETING, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(chosen=Input(ID.COMPARE_PICK, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_comparison_to_url(chosen: Any, state: Any) -> Any:
    """A new set of 2 to 4 campaigns becomes a new URL; fewer than 2 waits for another pick."""
    current = CampaignsQuery.from_state(state)
    if not isinstance(chosen, list):
        return search_or_wait(None)
    picked = tuple(str(c) for c in chosen if isinstance(c, str))[:COMPARE_MAX]
    if len(picked) < COMPARE_MIN or picked == current.compare:
        return search_or_wait(None)
    return search_or_wait(CampaignsQuery(picked, current.period).search)


@page_callback(VIEW_MARKETING, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(period=Input(ID.PERIOD, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_period_to_url(period: Any, state: Any) -> Any:
    """A new period becomes a new URL (and a history entry); the default stays out of it."""
    current = CampaignsQuery.from_state(state)
    if period not in PERIODS:
        return search_or_wait(None)
    query = CampaignsQuery(current.compare, None if period == DEFAULT_PERIOD else period)
    return search_or_wait(query.search if query != current else None)


# ROI has its own callback: it also reads the conversion window from the settings.
PANELS: dict[str, Callable[..., Any]] = {
    ID.KPIS: build_kpis, ID.FUNNEL: build_funnel, ID.AB: build_ab, ID.SEND_TIME: build_send_time,
    ID.ATTRIBUTION: build_attribution, ID.HIGH_INTENT: build_high_intent, ID.COMPARE: build_compare}
UPDATES = register_panels(VIEW_MARKETING, PANELS, STATE_INPUT)


@page_callback(VIEW_MARKETING, output=Output(ID.ROI, "children"), inputs=STATE_INPUT)
def update_roi(state: Any) -> Any:
    """The ROI panel, with the conversion window of this app's settings."""
    with db.session() as session:
        return build_roi(session, state, scope=current_scope(), policy=MaskPolicy.for_current_user(),
                         window_days=current_settings().conversion_window_days)
