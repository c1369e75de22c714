"""Home callbacks: filter the question list as the user types."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, html

from dashboard.callback_guard import guarded_callback
from dashboard.extensions import db
from dashboard.permissions import AUTHENTICATED, has_permission
from dashboard.queries.questions import caller_questions, matching_questions
from dashboard.scope import current_scope
from layouts.home import ID, question_list

MAX_SEARCH_TEXT = 200


def filtered_questions(search: Any) -> html.Div:
    """The caller's questions matching `search` (untrusted input: non-text ignored, length capped)."""
    text = search[:MAX_SEARCH_TEXT] if isinstance(search, str) else ""
    with db.session() as session:
        questions = caller_questions(has_permission, session, current_scope())
    return question_list(matching_questions(questions, text), text)


@guarded_callback(AUTHENTICATED, Output(ID.RESULTS, "children"), Input(ID.SEARCH, "value"),
                  prevent_initial_call=True)
def filter_questions(search: Any) -> html.Div:
    """Only the questions this user may open are ever listed."""
    return filtered_questions(search)
