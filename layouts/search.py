"""Account search: the navbar's search box with its suggestions, and the /search results page
(the kit's grid with server export; a row opens the account's Customer 360 page)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.permissions import VIEW_CUSTOMER360
from dashboard.queries.grid import GridRows
from dashboard.queries.search import PAGE_SIZE, SUGGESTION_LIMIT, AccountMatch, SearchResult, normalise_query
from dashboard.scope import DataScope
from dashboard.url_state import first, to_search
from layouts.components import empty_state, page_header
from layouts.kit.grid import ACCOUNT_PATH, data_grid
from layouts.kit.page import url_state
from layouts.kit.scores import score_chip
from layouts.kit.states import NOTHING_IN_SCOPE, loading, skeleton

SEARCH_PERMISSION = VIEW_CUSTOMER360
SEARCH_PATH = "/search"
TITLE = "Search accounts"
# Wait this long after the last key press before asking the server for suggestions.
DEBOUNCE_SECONDS = 0.25


class SearchIds:
    """Component ids of the navbar box and the results page, shared with their callbacks."""

    BOX = "account-search"
    INPUT = "account-search-input"
    SUGGESTIONS = "account-search-suggestions"
    LOCATION = "account-search-location"  # the navbar's URL writer (Enter opens the results)
    SUGGESTION = "account-search-suggestion"  # class of each suggested account
    PAGE = "search-page"
    URL = "search-url"
    STATE = "search-state"
    RESULTS = "search-results"
    GRID = "search-results-grid"
    PAGER = "search-pager"
    CHIP_MODAL = "search-chip-modal"
    CHIP_BODY = "search-chip-body"


ID = SearchIds


def results_href(query: str, page: int = 1) -> str:
    """The results page of a query, e.g. '/search?q=acme&page=2'."""
    return SEARCH_PATH + to_search([("q", query), ("page", str(page) if page > 1 else None)])


def navbar_search() -> html.Div:
    """The box every page's navbar carries for roles that may open accounts: suggestions while
    typing, the results page on Enter. Inside the collapse, so a phone shows it under the toggler."""
    return html.Div([
        dcc.Location(id=ID.LOCATION, refresh="callback-nav"),
        html.Label("Search accounts by name, id or regional id", htmlFor=ID.INPUT, className="visually-hidden"),
        dbc.Input(id=ID.INPUT, type="search", placeholder="Search accounts", debounce=DEBOUNCE_SECONDS,
                  autocomplete="off", maxLength=200, n_submit=0, size="sm", className="c360-search-input"),
        html.Div(id=ID.SUGGESTIONS, className="c360-search-suggestions"),
    ], id=ID.BOX, className="c360-search me-lg-3 my-2 my-lg-0", role="search")


def no_match_message(query: str, scope: DataScope) -> str:
    if scope.sees_nothing:
        return NOTHING_IN_SCOPE
    return f"No account matches '{query}' in your scope"


def _suggestion(match: AccountMatch) -> dcc.Link:
    place = " · ".join(part for part in (match.account_id, match.region) if part)
    return dcc.Link([
        html.Div([html.Span(match.account_name, className="fw-semibold me-2"),
                  score_chip("churn", match.risk_level)], className="c360-suggestion-title"),
        html.Div(place, className="small text-muted"),
        html.Div(match.matched_on, className="small text-muted c360-suggestion-match")
        if match.matched_kind not in ("name", "id") else None,
    ], href=ACCOUNT_PATH + match.account_id, className=f"list-group-item list-group-item-action {ID.SUGGESTION}")


def suggestions(result: SearchResult | None, scope: DataScope) -> Any:
    """Up to SUGGESTION_LIMIT accounts as links, a 'see all' link when there are more, or why nothing."""
    if result is None:
        return None
    if result.empty:
        return html.Div(no_match_message(result.query, scope), className="list-group-item text-muted small",
                        id="account-search-empty")
    items: list = [_suggestion(m) for m in result.matches]
    if result.total > SUGGESTION_LIMIT:
        items.append(dcc.Link(f"See all {result.total:,} matches", href=results_href(result.query),
                              className="list-group-item list-group-item-action small text-primary"))
    return html.Div(items, className="list-group shadow-sm")


# --- The results page ----------------------------------------------------------------------


def layout(**query: Any) -> html.Div:
    """The results of the URL's query (`q`, `page`); the panel fills from the state store."""
    raw = first(query, "q") or ""
    state = {"q": raw, "page": first(query, "page") or "1"}
    chip_modal = dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("Churn risk explained")),
                            dbc.ModalBody(id=ID.CHIP_BODY)], id=ID.CHIP_MODAL, is_open=False)
    return html.Div([
        url_state(ID.URL, ID.STATE, state),
        page_header(TITLE, "By name, account id or regional id; contact email or phone where you may see them"),
        loading(ID.RESULTS, skeleton("grid", 6), "grid"),
        chip_modal,
    ], id=ID.PAGE, className="c360-search-page")


def _pager(result: SearchResult) -> html.Div | None:
    if result.total <= PAGE_SIZE:
        return None
    page, pages = result.offset // PAGE_SIZE + 1, -(-result.total // PAGE_SIZE)
    links = [dbc.Button("Previous", href=results_href(result.query, page - 1), size="sm", color="secondary",
                        outline=True, disabled=page <= 1, className="me-2", id=f"{ID.PAGER}-previous"),
             html.Span(f"Page {page} of {pages}", className="small text-muted me-2"),
             dbc.Button("Next", href=results_href(result.query, page + 1), size="sm", color="secondary",
                        outline=True, disabled=page >= pages, id=f"{ID.PAGER}-next")]
    return html.Div(links, id=ID.PAGER, className="c360-pager mt-2")


def results_panel(result: SearchResult, grid: GridRows, scope: DataScope) -> html.Div:
    """How many accounts match, their grid (export included) and the pager; or why there are none."""
    if normalise_query(result.query) is None:
        return empty_state("Search accounts", "Type a name, an account id or a regional id in the search box.",
                           icon="\U0001f50e", state_id="search-nothing-typed")
    if result.empty:
        return empty_state("No match", no_match_message(result.query, scope), icon="\U0001f50e",
                           state_id="search-no-match")
    first_row, last_row = result.offset + 1, result.offset + len(result.matches)
    count = html.Div(f"{result.total:,} account{'s' if result.total != 1 else ''} match '{result.query}'"
                     + (f" (showing {first_row:,}–{last_row:,})" if result.total > len(result.matches) else ""),
                     className="c360-search-count mb-2", id="search-count")
    search = to_search([("q", result.query)])
    return html.Div([count, data_grid(ID.GRID, grid, export_name=ID.RESULTS, search=search, row_id_field="account_id"),
                     _pager(result)])
