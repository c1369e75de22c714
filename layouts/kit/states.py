"""Loading skeletons, empty states that say why, and error cards that never show a traceback."""

from __future__ import annotations

from dash import dcc, html

from dashboard.scope import DataScope

NOTHING_IN_SCOPE = ("Nothing in your data scope: you see only your territories and accounts, and none of "
                    "them has figures here. Ask an administrator if you need more.")
NOTHING_IN_PERIOD = "Nothing happened in this period for this selection."


def skeleton(kind: str = "card", lines: int = 3) -> html.Div:
    """A grey placeholder in the shape of what is coming (card, chart or grid), shown while it loads."""
    bars = [html.Div(className=f"c360-skeleton-line c360-skeleton-line-{i % 3}") for i in range(lines)]
    return html.Div([html.Div(className="c360-skeleton-title"), *bars],
                    className=f"c360-skeleton c360-skeleton-{kind}", **{"aria-busy": "true"})


def loading(component_id: str, placeholder: object = None, kind: str = "card") -> dcc.Loading:
    """A panel that shows `placeholder` (a skeleton by default) until its callback fills it,
    and a skeleton overlay while it is recomputed."""
    return dcc.Loading(html.Div(placeholder if placeholder is not None else skeleton(kind), id=component_id,
                                className="h-100"),
                       custom_spinner=skeleton(kind), delay_show=250, parent_className="h-100 c360-loading",
                       overlay_style={"visibility": "visible", "opacity": 0.45})


def empty_reason(scope: DataScope, message: str = NOTHING_IN_PERIOD) -> str:
    """Why a panel is empty: the user's scope holds nothing, or nothing happened."""
    return NOTHING_IN_SCOPE if scope.sees_nothing else message


TIMED_OUT = "This panel took too long and was stopped."
TIMED_OUT_ADVICE = "Narrow it (a shorter period, one region or team) or try again later."
UNAVAILABLE = "The database is temporarily unavailable."
UNAVAILABLE_ADVICE = "It may be restarting. Reload the page in a few seconds."


def error_card(reference: str, *, timed_out: bool = False, unavailable: bool = False) -> html.Div:
    """What a panel shows when its callback failed: a plain apology (or, when the database stopped a
    query that ran too long or could not be reached, what to do about it) and a reference the
    administrator can find in the server log; never the exception."""
    if unavailable:
        title, advice = UNAVAILABLE, UNAVAILABLE_ADVICE + " If it lasts, give your administrator the reference "
    elif timed_out:
        title, advice = TIMED_OUT, TIMED_OUT_ADVICE + " If it keeps happening, give your administrator the reference "
    else:
        title, advice = ("Something went wrong while loading this panel.",
                         "Try again in a moment. If it keeps happening, give your administrator the reference ")
    return html.Div([
        html.Div(title, className="fw-semibold"),
        html.Div([advice, html.Code(reference, className="c360-error-reference"), "."], className="small"),
    ], className="c360-error-state alert alert-" + ("warning" if unavailable else "danger") + " mb-0",
        role="alert")
