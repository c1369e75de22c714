"""My accounts: an account manager's book of business (sales managers and executives see theirs,
within their own scope).

The URL holds the quick filter (`?view=at-risk|renewals|upsell|no-contact`, with `months` = 3 or 6
for renewals and `days` for no contact): `layout(**query)` builds the page from it and the panels
fill from its state store. A summary strip (book MRR, MRR at risk, renewals due, open actions),
the grid of accounts (a row opens its Customer 360 page; server export) and what the book's
customers said (surveys, sentiment, negative texts).
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashboard.formatting import format_count, format_day, format_percent
from dashboard.permissions import VIEW_CUSTOMER360
from dashboard.queries.book import (
    DEFAULT_NO_CONTACT_DAYS,
    MAX_NO_CONTACT_DAYS,
    RENEWAL_MONTHS,
    VIEWS,
    BookFeedback,
    BookPage,
    BookQuery,
    BookSummary,
)
from dashboard.queries.grid import GridRows
from dashboard.scope import DataScope, current_scope
from layouts.components import empty_state, page_header
from layouts.kit.grid import data_grid
from layouts.kit.kpi import kpi_card, kpi_card_empty
from layouts.kit.page import url_state
from layouts.kit.states import NOTHING_IN_SCOPE, loading, skeleton

BOOK_PERMISSION = VIEW_CUSTOMER360
BOOK_PATH = "/my-accounts"
TITLE = "My accounts"
ALL_ACCOUNTS = "all"
SOURCE_LABELS = {"message": "Chat", "ticket": "Ticket", "reply": "Campaign reply"}


class BookIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "book-page"
    URL = "book-url"
    STATE = "book-state"
    VIEW = "book-view"
    MONTHS = "book-months"
    DAYS = "book-days"
    SUMMARY = "book-summary"
    KPI_MRR = "book-kpi-mrr"
    KPI_AT_RISK = "book-kpi-at-risk"
    KPI_RENEWALS = "book-kpi-renewals"
    KPI_ACTIONS = "book-kpi-actions"
    ACCOUNTS = "book-accounts"
    GRID = "book-grid"
    COUNT = "book-count"
    FEEDBACK = "book-feedback"
    CHIP_MODAL = "book-chip-modal"
    CHIP_BODY = "book-chip-body"


ID = BookIds
EXPORT_NAME = ID.ACCOUNTS  # the grid's name in dashboard.export.GRIDS


def _controls(query: BookQuery) -> html.Div:
    options = [{"label": "All accounts", "value": ALL_ACCOUNTS}, *({"label": label, "value": value}
                                                                 for value, label in VIEWS.items())]
    return html.Div([
        html.Div([
            dbc.Label("Show", html_for=ID.VIEW, className="c360-filter-label"),
            dbc.RadioItems(id=ID.VIEW, options=options, value=query.view or ALL_ACCOUNTS, inline=True,
                           className="btn-group flex-wrap c360-quick-filters", inputClassName="btn-check",
                           labelClassName="btn btn-outline-primary btn-sm", labelCheckedClassName="active"),
        ], className="c360-filter"),
        html.Div([
            dbc.Label("Renewing within", html_for=ID.MONTHS, className="c360-filter-label"),
            dbc.Select(id=ID.MONTHS, options=[{"label": f"{m} months", "value": str(m)} for m in RENEWAL_MONTHS],
                       value=str(query.months), size="sm"),
        ], className="c360-filter"),
        html.Div([
            dbc.Label("No contact for (days)", html_for=ID.DAYS, className="c360-filter-label"),
            dbc.Input(id=ID.DAYS, type="number", min=1, max=MAX_NO_CONTACT_DAYS, step=1, value=query.days,
                      debounce=True, size="sm", placeholder=str(DEFAULT_NO_CONTACT_DAYS)),
        ], className="c360-filter"),
    ], className="c360-filters")


def layout(**query_args: Any) -> html.Div:
    """The quick filters, then the summary strip, the grid and the feedback panel, built from the URL."""
    query = BookQuery.from_args(query_args)
    chip_modal = dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("Score explained")),
                            dbc.ModalBody(id=ID.CHIP_BODY)], id=ID.CHIP_MODAL, is_open=False)
    return html.Div([
        url_state(ID.URL, ID.STATE, query.as_state()),
        page_header(TITLE, current_scope().description(), controls=_controls(query)),
        loading(ID.SUMMARY, dbc.Row([dbc.Col(skeleton("card"), className="c360-kpi-col") for _ in range(4)],
                                    className="row-cols-1 row-cols-sm-2 row-cols-xl-4 g-3 mb-3")),
        loading(ID.ACCOUNTS, skeleton("grid", 8), "grid"),
        html.H2("What my customers said", className="h5 mt-4"),
        loading(ID.FEEDBACK, skeleton("card", 5)),
        chip_modal,
    ], id=ID.PAGE, className="c360-my-accounts")


# --- The summary strip --------------------------------------------------------------------


def _money_card(card_id: str, key: str, title: str, value: float | None, band: str | None, subtitle: str) -> Any:
    if value is None:
        return kpi_card_empty(key, title, f"Band {band}" if band else "No MRR")
    return kpi_card(card_id, key, title, value, value_format="usd", subtitle=subtitle)


def summary_strip(summary: BookSummary) -> dbc.Row:
    """Book MRR, MRR at risk, renewals due and open actions, as the kit's KPI cards."""
    accounts = f"{format_count(summary.accounts)} active account{'s' if summary.accounts != 1 else ''}"
    share = format_percent(summary.at_risk_share, 0) if summary.at_risk_share is not None else "n/a"
    cards = [
        (ID.KPI_MRR, _money_card(ID.KPI_MRR, "book_mrr", "Book MRR", summary.mrr_usd, summary.mrr_band, accounts)),
        (ID.KPI_AT_RISK, _money_card(ID.KPI_AT_RISK, "mrr_at_risk", "MRR at risk", summary.mrr_at_risk_usd,
                                     summary.mrr_at_risk_band,
                                     f"{format_count(summary.at_risk_accounts)} at-risk accounts ({share})")),
        (ID.KPI_RENEWALS, kpi_card(ID.KPI_RENEWALS, "renewals_due", "Renewals due", summary.renewals_due,
                                   subtitle=f"In the next {summary.renewal_months} months")),
        (ID.KPI_ACTIONS, kpi_card(ID.KPI_ACTIONS, "open_actions", "Open actions", summary.open_actions,
                                  subtitle="Next-best actions not yet taken")),
    ]
    return dbc.Row([dbc.Col(html.Div(card, id=card_id, className="h-100"), className="c360-kpi-col")
                    for card_id, card in cards], className="row-cols-1 row-cols-sm-2 row-cols-xl-4 g-3 mb-3")


def _nothing(scope: DataScope) -> html.Div:
    return empty_state("No accounts", NOTHING_IN_SCOPE if scope.sees_nothing
                       else "No active account in your scope yet.", icon="\U0001f4c2", state_id="book-empty")


def summary_panel(summary: BookSummary, scope: DataScope) -> Any:
    if summary.accounts == 0:
        return _nothing(scope)
    return summary_strip(summary)


# --- The grid -----------------------------------------------------------------------------


def accounts_panel(page: BookPage, grid: GridRows, scope: DataScope) -> html.Div:
    """How many accounts the filter keeps, and their grid; or why there are none."""
    if page.empty_book:
        return _nothing(scope)
    query = page.query
    if not page.accounts:
        label = VIEWS.get(query.view or "", "").lower()
        return empty_state("No match", f"No account in your book matches the quick filter '{label}'.",
                           icon="\U0001f50e", state_id="book-no-match")
    shown = len(page.accounts)
    filtered = f" {VIEWS[query.view].lower()}" if query.view else ""
    note = f" (the {shown:,} with the most MRR shown; export for all)" if page.matching > shown else ""
    as_of = f" · data as of {format_day(page.as_of)}" if page.as_of else ""
    count = html.Div(f"{page.matching:,} account{'s' if page.matching != 1 else ''}{filtered}{note}{as_of}",
                     id=ID.COUNT, className="c360-book-count mb-2 small text-muted")
    return html.Div([count, data_grid(ID.GRID, grid, export_name=EXPORT_NAME, search=query.search,
                                      row_id_field="account_id")])


# --- Feedback -----------------------------------------------------------------------------


def _figure(label: str, value: str) -> html.Div:
    return html.Div([html.Div(value, className="c360-inline-value"), html.Div(label, className="small text-muted")],
                    className="c360-feedback-figure me-4 mb-2")


def feedback_panel(feedback: BookFeedback, scope: DataScope) -> Any:
    """Survey scores and recent comments of the last year, text sentiment of the last 90 days and the
    newest negative texts across the book."""
    if feedback.empty:
        return empty_state("No feedback", NOTHING_IN_SCOPE if scope.sees_nothing
                           else "Your customers have not answered a survey or written to us yet.",
                           icon="\U0001f4ac", state_id="book-feedback-empty")
    figures = html.Div([
        _figure("Average NPS score (0-10), last 12 months", f"{feedback.nps:.1f}" if feedback.nps is not None
                else "n/a"),
        _figure("Average CSAT (1-5), last 12 months", f"{feedback.csat:.2f}" if feedback.csat is not None else "n/a"),
        _figure("Survey answers, last 12 months", format_count(feedback.responses)),
        _figure("Texts scored, last 90 days", format_count(feedback.texts)),
        _figure("Negative texts, last 90 days", format_percent(feedback.negative_share, 0)
                if feedback.negative_share is not None else "n/a"),
    ], className="d-flex flex-wrap")
    comments = [html.Li([html.Div([html.Strong(c.account_name), f" · {c.survey_type.upper()} {c.score}"
                                   if c.score is not None else f" · {c.survey_type.upper()}",
                                   html.Span(f" · {format_day(c.responded_at.date())}", className="text-muted")],
                                  className="small"),
                         html.Div(c.comment)], className="list-group-item")
                for c in feedback.comments]
    negative = [html.Li([html.Div([html.Strong(n.account_name), f" · {SOURCE_LABELS.get(n.source, n.source)}",
                                   html.Span(f" · {format_day(n.at.date())} · sentiment {n.compound:+.2f}",
                                             className="text-muted")], className="small"),
                         html.Div(n.text)], className="list-group-item")
                for n in feedback.negative]
    return dbc.Card(dbc.CardBody([
        figures,
        dbc.Row([
            dbc.Col([html.H3("Recent survey comments", className="h6"),
                     html.Ul(comments, className="list-group list-group-flush", id="book-comments") if comments
                     else html.Div("No comments yet.", className="text-muted small")], lg=6),
            dbc.Col([html.H3("Negative texts, last 90 days", className="h6"),
                     html.Ul(negative, className="list-group list-group-flush", id="book-negative") if negative
                     else html.Div("No negative texts.", className="text-muted small")], lg=6),
        ], className="g-3"),
    ]), className="c360-book-feedback")
