"""404 page for unknown paths."""

from __future__ import annotations

from dash import html

from layouts.components import not_found_state


def layout(**_: object) -> html.Div:
    return not_found_state()
