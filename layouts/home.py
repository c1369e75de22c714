"""Home: "What do you want to know?" over the questions this user may open, then their pages."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.extensions import db
from dashboard.permissions import AUTHENTICATED, has_permission
from dashboard.queries.questions import Question, caller_questions
from dashboard.scope import current_scope
from layouts.components import empty_state, page_header
from layouts.pages import PageSpec, pages_for_current_user


class HomeIds:
    """Component ids of Home, shared by its layout and its callbacks."""

    PAGE = "home-page"
    SEARCH = "home-question-search"
    RESULTS = "home-question-results"
    RESULT_LINK = "home-question-link"  # class of each listed question's link
    NO_MATCH = "home-question-no-match"
    NO_DASHBOARDS = "home-no-dashboards"


ID = HomeIds
PERSONA_LABELS = {"chairman": "Chairman", "ceo": "CEO", "operations": "Operations", "sales": "Sales",
                  "service": "Service", "billing": "Billing", "account_management": "Account management",
                  "marketing": "Marketing",
                  "executive": "Executive"}


def question_list(questions: Sequence[Question], search: str = "") -> html.Div:
    """Each question as a link to the page that answers it, or a plain word when none matches."""
    if not questions:
        text = f"No question matches \u201c{search.strip()}\u201d." if search.strip() else "No questions yet."
        return html.Div(text, id=ID.NO_MATCH, className="text-muted small py-2")
    return html.Div([
        dcc.Link([html.Span(q.question),
                  dbc.Badge(PERSONA_LABELS.get(q.persona, q.persona), color="light", text_color="secondary",
                            className="ms-2 fw-normal")],
                 href=q.url, id={"type": ID.RESULT_LINK, "question": q.id},
                 className=f"list-group-item list-group-item-action {ID.RESULT_LINK}")
        for q in questions
    ], className="list-group")


def _question_search(questions: Sequence[Question]) -> html.Div:
    return html.Div([
        dbc.Label("What do you want to know?", html_for=ID.SEARCH, className="h5"),
        dbc.Input(id=ID.SEARCH, type="search", placeholder="Type a few words, e.g. revenue, leads, campaigns",
                  autocomplete="off", debounce=False, className="mb-2"),
        html.Div(question_list(questions), id=ID.RESULTS),
    ], className="mb-4", style={"maxWidth": "900px"})


def _page_cards(pages: Sequence[PageSpec]) -> dbc.Row:
    return dbc.Row([
        dbc.Col(dbc.Card(dbc.CardBody([
            html.H5(p.name, className="card-title"),
            html.P(p.description, className="card-text text-muted"),
            dbc.Button("Open", href=p.path, color="primary", size="sm"),
        ]), className="h-100 shadow-sm"), md=4, className="mb-3")
        for p in pages
    ])


def layout(**_: object) -> html.Div:
    """The question search (when the role may open any answer), then a card per page the user may open."""
    pages = pages_for_current_user()
    dashboards = [p for p in pages if p.permission != AUTHENTICATED]
    with db.session() as session:
        questions = caller_questions(has_permission, session, current_scope())
    body: list = [_question_search(questions)] if questions else []
    if not dashboards:
        # "My account" is open to everyone, so it does not count as a dashboard.
        body.append(html.Div(empty_state("No dashboards for your role yet",
                                         "Your role has no dashboard pages assigned. Ask an administrator.",
                                         "\u2302"), id=ID.NO_DASHBOARDS))
    body.append(_page_cards(pages))
    return html.Div([page_header("Your dashboards"), *body], id=ID.PAGE)
