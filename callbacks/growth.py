"""Growth wiring: the granularity and attribute controls write the URL; the page's state store feeds one query per
panel, whose results the page's layout helpers turn into cards, charts and tables.

The `build_*` functions take a session, the raw URL state, the scope and the mask policy, so unit
tests call them directly with their own session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Input, Output, State
from sqlalchemy.orm import Session

from callbacks.kit import page_callback, register_panels, search_or_wait
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_MARKETING
from dashboard.queries import growth as q
from dashboard.queries.growth import DEFAULT_GRAIN, GrowthQuery
from dashboard.scope import DataScope
from layouts import growth as page
from layouts.growth import GrowthIds as ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def build_velocity(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The growth-velocity card: new contacts and leads per period, growth rate and trend."""
    return page.velocity_output(q.velocity(session, GrowthQuery.from_state(state), scope, policy=policy))


def build_geography(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The contacts-by-country card: the map and the table."""
    return page.geography_output(q.geography(session, GrowthQuery.from_state(state), scope, policy=policy))


def build_segments(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The segments card: the built-in segments, the chosen attribute's values, and their grid."""
    return page.segments_output(q.segments(session, GrowthQuery.from_state(state), scope, policy=policy))


@page_callback(VIEW_MARKETING, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(grain=Input(ID.GRAIN, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_controls_to_url(grain: Any, state: Any) -> Any:
    """A new granularity becomes a new URL (and a history entry); the default stays out of it."""
    current = GrowthQuery.from_state(state)
    chosen = grain if isinstance(grain, str) else current.grain
    query = GrowthQuery(None if chosen == DEFAULT_GRAIN else chosen, current.segment)
    return search_or_wait(query.search if query != current else None)


@page_callback(VIEW_MARKETING, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(segment=Input(ID.SEGMENT_KEY, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_segment_to_url(segment: Any, state: Any) -> Any:
    """Another attribute key becomes a new URL (and a history entry)."""
    current = GrowthQuery.from_state(state)
    chosen = segment if isinstance(segment, str) and segment else current.segment
    query = GrowthQuery(current.grain, chosen)
    return search_or_wait(query.search if query != current else None)


PANELS: dict[str, Callable[..., Any]] = {ID.VELOCITY: build_velocity, ID.GEOGRAPHY: build_geography,
                                         ID.SEGMENTS: build_segments}
UPDATES = register_panels(VIEW_MARKETING, PANELS, STATE_INPUT)
