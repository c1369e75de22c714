"""REST data API under /api/v1/: JSON, scoped to the user's data and masked as their role requires.

Authentication is the session cookie or an `Authorization: Bearer` API token (both end up as
`current_user`). Every endpoint is registered through `api_endpoint`: it declares the permissions it
needs (kept in `ENDPOINT_PERMISSIONS`, which the permission matrix test enumerates) and the pydantic
models of its query string and answer (dashboard.api_models), from which the OpenAPI document at
/api/v1/openapi.json is generated (dashboard.openapi). Adding an endpoint is a decorated function
that calls the page's query function and returns a model. Errors have one shape (dashboard.api_errors).
"""

from __future__ import annotations

import functools
import logging
import math
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from dashboard import api_models as m
from dashboard import audit
from dashboard.api_errors import INVALID_PARAMETER, QUERY_TIMEOUT, error_response
from dashboard.db import is_dropped_connection, is_statement_timeout
from dashboard.extensions import db
from dashboard.masking import MaskPolicy, mask_records, to_csv
from dashboard.openapi import PATH_PARAMETERS, Operation, build_document, describe
from dashboard.permissions import (
    AUTHENTICATED,
    EXECUTE_ACTIONS,
    EXPORT_DATA,
    VIEW_CUSTOMER360,
    VIEW_EXECUTIVE,
    has_permission,
    permission_granted,
)
from dashboard.queries import account_journey as journey_queries
from dashboard.queries import accounts as account_queries
from dashboard.queries import alerts as alert_queries
from dashboard.queries import customer360 as c360_queries
from dashboard.queries import executive as executive_queries
from dashboard.queries import intelligence as intelligence_queries
from dashboard.queries import questions as question_queries
from dashboard.queries import search as search_queries
from dashboard.queries.executive import resolve_filters
from dashboard.scope import DataScope, current_scope

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)

# (method, URL rule) -> the permissions it needs, all of them; filled by `api_endpoint`.
ENDPOINT_PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {}
OPERATIONS: list[Operation] = []
NOT_FOUND = "not found"


class ApiError(Exception):
    """A client error answered in the API's error shape with a clear message."""

    def __init__(self, message: str, status: int = 400, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def _query_values(model: type[BaseModel]) -> dict[str, Any]:
    """The model's fields present in the query string; list fields take every value."""
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name not in request.args:
            continue
        many = typing.get_origin(field.annotation) is list
        values[name] = request.args.getlist(name) if many else request.args.get(name)
    return values


def _validation_message(error: ValidationError) -> str:
    problems = [f"{'.'.join(str(part) for part in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()]
    return "; ".join(problems[:5])


def _path_values(kwargs: Mapping[str, str]) -> dict[str, Any]:
    """Typed path variables; one that cannot be an id names nothing there is (404)."""
    typed = {}
    for name, raw in kwargs.items():
        if name not in PATH_PARAMETERS:
            typed[name] = raw
            continue
        try:
            typed[name] = PATH_PARAMETERS[name].validate_python(raw)
        except ValidationError:
            raise ApiError(NOT_FOUND, 404) from None
    return typed


def _answer(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return jsonify(result.model_dump(mode="json"))
    return result


def _request_body(model: type[BaseModel]) -> BaseModel:
    """The JSON request body as `model`; 400 when it is not JSON or does not fit."""
    if not request.is_json:
        raise ApiError("body: send a JSON object with Content-Type: application/json", 400, INVALID_PARAMETER)
    try:
        return model.model_validate_json(request.get_data(cache=True) or b"")
    except ValidationError as exc:
        raise ApiError("body: " + _validation_message(exc), 400, INVALID_PARAMETER) from None


def api_endpoint(rule: str, *permissions: str, methods: tuple[str, ...] = ("GET",),
                 query: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
                 body: type[BaseModel] | None = None, media_type: str = "application/json",
                 errors: Iterable[int] = (), tag: str = "data",
                 documented: bool = True) -> Callable[[Callable], Callable]:
    """Register a view under /api/v1 behind every one of `permissions` (401 anonymous, 403 without).

    The view receives its typed path variables, plus `params` (a `query` instance) when a query
    model is given and `body` (a `body` instance, from the JSON request body) when a body model is,
    and returns a `response` instance (or a Response for other media types).
    `documented=False` keeps it out of the OpenAPI document (the docs page's asset files).
    """
    if not permissions:
        raise ValueError(f"{rule} must declare the permission it needs")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(**kwargs: Any) -> Any:
            if not getattr(current_user, "is_authenticated", False):
                return error_response(401, "authentication required")
            if not all(permission_granted(p, target=f"api:{PREFIX}{rule}") for p in permissions):
                return error_response(403, "forbidden")
            try:
                arguments = _path_values(kwargs)
                if query is not None:
                    try:
                        arguments["params"] = query.model_validate(_query_values(query))
                    except ValidationError as exc:
                        raise ApiError(_validation_message(exc), 400, INVALID_PARAMETER) from None
                if body is not None:
                    arguments["body"] = _request_body(body)
                return _answer(_read_again_if_dropped(view, arguments))
            except ApiError as exc:
                return error_response(exc.status, exc.message, exc.code)
            except OperationalError as exc:
                if not is_statement_timeout(exc):
                    raise  # the database being unreachable is answered by security._database_error
                return error_response(503, "the request took too long and was stopped; ask for less (a narrower "
                                           "filter, a smaller page) or try again later", QUERY_TIMEOUT)

        for method in methods:
            ENDPOINT_PERMISSIONS[(method, PREFIX + rule)] = permissions
            if documented:
                OPERATIONS.append(describe(method, rule, view, permissions, tag=tag, query=query, response=response,
                                           media_type=media_type, errors=errors, body=body))
        bp.add_url_rule(rule, view.__name__, guarded, methods=list(methods))
        return guarded

    return decorator


def _read_again_if_dropped(view: Callable, arguments: dict[str, Any]) -> Any:
    """The view's answer; a GET whose connection died under it (the database restarted) runs once more on a
    fresh one, since reading twice changes nothing."""
    try:
        return view(**arguments)
    except DBAPIError as exc:
        if request.method != "GET" or not is_dropped_connection(exc):
            raise
        log.warning("%s %s lost its database connection; reading again", request.method, request.path)
        return view(**arguments)


def _plain(value: Any) -> Any:
    """JSON-ready values: numbers as numbers, days and moments as ISO 8601."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def _masked(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return _plain(mask_records(records, MaskPolicy.for_current_user()))


def _record(item: Any) -> dict[str, Any]:
    """A query function's frozen dataclass as a plain mapping."""
    return {name: getattr(item, name) for name in item.__dataclass_fields__}


# --- The caller ------------------------------------------------------------------------


@api_endpoint("/me", AUTHENTICATED, response=m.Me, tag="caller")
def me() -> m.Me:
    """Who the caller is: email, role, permissions and how they authenticated."""
    return m.Me(email=current_user.email, role=current_user.role, permissions=sorted(current_user.permissions),
                auth_method=current_user.auth_method, territories=list(current_user.territories),
                account_ids=list(current_user.account_ids))


@api_endpoint("/scope", AUTHENTICATED, response=m.Scope, tag="caller")
def my_scope() -> m.Scope:
    """What the caller may see: their territories and assigned accounts, or everything."""
    scope = current_scope()
    return m.Scope(unrestricted=scope.unrestricted, territories=sorted(scope.territories),
                   account_ids=sorted(scope.account_ids))


@api_endpoint("/questions", AUTHENTICATED, response=m.Questions, tag="caller")
def questions() -> m.Questions:
    """The persona questions the caller may open.

    Each with its id, persona, question, url (a deep link) and the CSS selector of the element answering it.
    A question about one customer links to the caller's largest active customer."""
    with db.session() as session:
        questions = question_queries.caller_questions(has_permission, session, current_scope())
    return m.Questions.model_validate([q.public() for q in questions])


# --- Accounts --------------------------------------------------------------------------


def _account_page(search: str, region: str, territory: str, paging: m.Paging) -> tuple[list[dict], dict[str, int]]:
    """One page of the caller's accounts, masked, and the page's total, number and size."""
    with db.session() as session:
        page = account_queries.list_accounts(session, current_scope(), search=search, region=region,
                                             territory=territory, page=paging.page, per_page=paging.per_page)
    return _masked(page.rows), {"total": page.total, "page": page.page, "per_page": page.per_page}


@api_endpoint("/accounts", VIEW_CUSTOMER360, query=m.AccountsQuery, response=m.AccountPage, tag="accounts")
def accounts(params: m.AccountsQuery) -> m.AccountPage:
    """Accounts in the caller's scope, by name, a page at a time."""
    rows, paging = _account_page(params.search, params.region, params.territory, params)
    return m.AccountPage(accounts=rows, **paging)


@api_endpoint("/accounts/<account_id>", VIEW_CUSTOMER360, response=m.AccountDetail, tag="accounts")
def account(account_id: str) -> m.AccountDetail:
    """One account with its contacts.

    404 whether it is unknown or outside the caller's scope."""
    with db.session() as session:
        detail = account_queries.account_detail(session, current_scope(), account_id)
    if detail is None:
        raise ApiError(NOT_FOUND, 404)
    contacts = _masked(detail.pop("contacts"))
    return m.AccountDetail.model_validate({**_masked([detail])[0], "contacts": contacts})


@api_endpoint("/exports/accounts.csv", VIEW_CUSTOMER360, EXPORT_DATA, query=m.AccountFilters,
              media_type="text/csv", tag="accounts")
def export_accounts_csv(params: m.AccountFilters) -> Response:
    """The caller's accounts as CSV: scoped, masked, formulas neutralised, and audited."""
    filters = params.model_dump()
    policy = MaskPolicy.for_current_user()
    with db.session() as session:
        rows = account_queries.export_accounts(session, current_scope(), **filters)
    body = to_csv(account_queries.ACCOUNT_COLUMNS, mask_records(rows, policy))
    audit.record("data_export", target="accounts.csv",
                 detail={"rows": len(rows), "filters": {k: v for k, v in filters.items() if v},
                         "pii_masked": not policy.view_pii, "financials_masked": not policy.view_financials})
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="accounts.csv"',
        "Cache-Control": "no-store",
    })


# --- Customer 360 ----------------------------------------------------------------------


@api_endpoint("/customers", VIEW_CUSTOMER360, query=m.CustomersQuery, response=m.CustomerPage, tag="customers")
def customers(params: m.CustomersQuery) -> m.CustomerPage:
    """Customers in the caller's scope matching `q`, best first, a page at a time.

    The navbar's search (the same query function, scope and masking): name, id, regional id, and with
    `view_pii` a contact's email or phone. Without `q`, every customer in scope by name."""
    scope, policy = current_scope(), MaskPolicy.for_current_user()
    paging = {"page": params.page, "per_page": params.per_page}
    if not params.q:
        rows, listed = _account_page("", params.region, params.territory, params)
        found = [{name: row[name] for name in LISTING_FIELDS} | {"matched_kind": None, "matched_term": None}
                 for row in rows]
        return m.CustomerPage(customers=found, **listed)
    with db.session() as session:
        result = search_queries.search_accounts(session, params.q, scope, policy, limit=params.per_page,
                                                offset=(params.page - 1) * params.per_page, region=params.region,
                                                territory=params.territory)
    found = [{name: getattr(match, name) for name in LISTING_FIELDS}
             | {"matched_kind": match.matched_kind, "matched_term": match.matched_term} for match in result.matches]
    return m.CustomerPage(customers=found, total=result.total, **paging)


# What a customer row of /customers shows, whether listed or found.
LISTING_FIELDS = ("account_id", "account_name", "region", "territory", "segment", "risk_level")


def _for_customer(account_id: str, read: Callable[..., Iterable[Any]], **options: Any) -> list[dict[str, Any]]:
    """What a Customer 360 query function reads about one customer, masked; 404 whether the customer is
    unknown or outside the caller's scope (the query functions answer "nothing" for both)."""
    scope = current_scope()
    with db.session() as session:
        if not scope.allows_account(session, account_id):
            raise ApiError(NOT_FOUND, 404)
        items = read(session, account_id, scope, **options)
    return _masked(_record(item) for item in items)


@api_endpoint("/customers/<account_id>/alerts", VIEW_CUSTOMER360, query=m.AlertsQuery, response=m.Alerts,
              tag="customers")
def customer_alerts(account_id: str, params: m.AlertsQuery) -> m.Alerts:
    """A customer's alerts, most severe and newest first (unresolved ones unless asked).

    404 whether the customer is unknown or outside the caller's scope."""
    return m.Alerts(alerts=_for_customer(account_id, intelligence_queries.account_alerts,
                                         include_resolved=params.include_resolved))


@api_endpoint("/customers/<account_id>/recommendations", VIEW_CUSTOMER360, query=m.RecommendationsQuery,
              response=m.Recommendations, tag="customers")
def customer_recommendations(account_id: str, params: m.RecommendationsQuery) -> m.Recommendations:
    """A customer's recommended actions, highest priority and impact first (open and scheduled unless asked).

    404 whether the customer is unknown or outside the caller's scope."""
    return m.Recommendations(recommendations=_for_customer(account_id, intelligence_queries.account_actions,
                                                           include_closed=params.include_closed))


def _money_value(amount: Any, band: str | None) -> Any:
    """An amount, or its band for roles without view_financials (the API's `Money`)."""
    return band if band is not None else _plain(amount)


def _view_360(session: Any, account_id: str, scope: DataScope, policy: MaskPolicy) -> m.Customer360View | None:
    """The overview page's panels, from the page's own query functions; None outside the scope."""
    header = c360_queries.account_header(session, account_id, scope, policy)
    if header is None:
        return None
    # The header found the customer inside the caller's scope; every panel below is about that one
    # customer, so the scope would only repeat the same check in each of their queries.
    scope = DataScope.everything()
    kpis = c360_queries.account_kpis(session, account_id, scope, policy)
    risk = c360_queries.risk_panel(session, account_id, scope)
    alerts = c360_queries.risk_alerts(session, account_id, scope) or []
    actions = c360_queries.next_best_actions(session, account_id, scope, policy) or []
    linked = journey_queries.linked_accounts(session, account_id, scope)
    contacts = journey_queries.account_contacts(session, account_id, scope, policy) or ()
    head = _record(header)
    head["annual_revenue_usd"] = _money_value(head.pop("annual_revenue_usd"), head.pop("annual_revenue_band"))
    del head["financials_hidden"]
    return m.Customer360View.model_validate(_plain({
        "header": head,
        "kpis": None if kpis is None else {
            "as_of": kpis.as_of, "months": kpis.months, "clv": kpis.clv and _record(kpis.clv),
            "cards": {key: {"key": k.key, "value": _money_value(k.value, k.band), "value_format": k.value_format,
                            "series": k.series, "note": k.note} for key, k in kpis.kpis.items()}},
        "risk": None if risk is None else {
            **_record(risk), "factors": [_record(f) for f in risk.factors],
            "anomalies": [_record(a) for a in risk.anomalies]},
        "open_alerts": len(alerts),
        "actions": [_action(a) for a in actions],
        "linked_accounts": [_record(a) for a in (linked.accounts if linked else ())],
        "contacts": [_record(c) for c in contacts],
    }))


def _action(state: c360_queries.ActionState) -> dict[str, Any]:
    record = _record(state)
    record["impact_usd"] = _money_value(record.pop("impact_usd"), record.pop("impact_band"))
    return _plain(record)


@api_endpoint("/customers/<account_id>", VIEW_CUSTOMER360, response=m.Customer360View, tag="customers")
def customer_360(account_id: str) -> m.Customer360View:
    """A customer's 360 view: header, KPIs with their 12-month series, why at risk, open alerts, actions,
    linked accounts and contacts.

    The overview page's figures from the same query functions: money is a band without `view_financials`,
    emails and phones are masked without `view_pii`. 404 whether the customer is unknown or outside the
    caller's scope."""
    with db.session() as session:
        view = _view_360(session, account_id, current_scope(), MaskPolicy.for_current_user())
    if view is None:
        raise ApiError(NOT_FOUND, 404)
    return view


@api_endpoint("/customers/<account_id>/timeline", VIEW_CUSTOMER360, query=m.TimelineQuery, response=m.Timeline,
              tag="customers")
def customer_timeline(account_id: str, params: m.TimelineQuery) -> m.Timeline:
    """A customer's journey, newest first, a page at a time: renewals, support, billing, usage, meetings,
    escalations, campaign replies, opportunities and actions taken.

    The Journey page's query function: descriptions masked without `view_pii`, amounts banded without
    `view_financials`. 400 on an unknown type, a bad date or `start` after `end`; 404 whether the
    customer is unknown or outside the caller's scope."""
    with db.session() as session:
        page = journey_queries.account_timeline(session, account_id, current_scope(), MaskPolicy.for_current_user(),
                                                types=params.types, start=params.start, end=params.end,
                                                page=params.page, per_page=params.per_page)
    if page is None:
        raise ApiError(NOT_FOUND, 404)
    events = [{**_record(item), "amount_usd": _money_value(item.amount_usd, item.amount_band)}
              for item in page.items]
    for event in events:
        del event["amount_band"]
    return m.Timeline.model_validate(_plain({
        "account_id": page.account_id, "start": page.start, "end": page.end, "types": page.types,
        "page": page.page, "per_page": page.per_page, "total": page.total, "pages": page.pages,
        "counts": page.counts, "events": events}))


def _act_on(action_id: str, act: Callable[..., c360_queries.ActionState], **options: Any) -> m.CustomerAction:
    """Run an action service in its own transaction (its audit row commits with it): 404 unknown or
    outside the scope, 409 closed, 400 bad input."""
    policy = MaskPolicy.for_current_user()
    try:
        with db.begin() as session:
            state = act(session, current_scope(), action_id, actor=current_user.email, policy=policy, **options)
    except c360_queries.NotFound:
        raise ApiError(NOT_FOUND, 404) from None
    except c360_queries.ActionClosed as exc:
        raise ApiError(str(exc), 409) from None
    except ValueError as exc:
        raise ApiError(str(exc), 400, INVALID_PARAMETER) from None
    return m.CustomerAction.model_validate(_action(state))


@api_endpoint("/actions/<action_id>/execute", EXECUTE_ACTIONS, methods=("POST",), response=m.CustomerAction,
              errors=(409,), tag="actions")
def execute_action(action_id: str) -> m.CustomerAction:
    """Mark a recommended action executed, for everyone. Audited as `action_execution`.

    It then shows on the customer's timeline. 404 whether the action is unknown or its customer outside
    the caller's scope; 409 when it is already executed, dismissed or expired."""
    return _act_on(action_id, c360_queries.execute_action)


@api_endpoint("/actions/<action_id>/schedule", EXECUTE_ACTIONS, methods=("POST",), body=m.ScheduleBody,
              response=m.CustomerAction, errors=(409,), tag="actions")
def schedule_action(action_id: str, body: m.ScheduleBody) -> m.CustomerAction:
    """Schedule a recommended action for a day, with an owner. Audited as `action_execution`.

    400 when the body is not a JSON object with `due_on` (today or later) and `owner` (an active user who
    may act on actions); 404 whether the action is unknown or its customer outside the caller's scope;
    409 when it is already executed, dismissed or expired."""
    return _act_on(action_id, c360_queries.schedule_action, due_on=body.due_on, owner=body.owner)


def _change_alert(alert_id: int, status: str) -> m.AlertChange:
    try:
        with db.begin() as session:
            alert = alert_queries.change_alert_status(session, current_scope(), alert_id, status,
                                                      actor=current_user.email)
            return m.AlertChange(alert_id=alert.alert_id, account_id=alert.account_id, status=alert.status,
                                 acknowledged_by=alert.acknowledged_by, updated_at=alert.updated_at,
                                 resolved_at=alert.resolved_at)
    except alert_queries.AlertError:
        raise ApiError(NOT_FOUND, 404) from None


@api_endpoint("/alerts/<alert_id>/acknowledge", EXECUTE_ACTIONS, methods=("POST",), response=m.AlertChange,
              tag="alerts")
def acknowledge_alert(alert_id: int) -> m.AlertChange:
    """Acknowledge an alert: someone is on it. Audited as `alert_status`.

    404 whether the alert is unknown or its customer outside the caller's scope."""
    return _change_alert(alert_id, "acknowledged")


@api_endpoint("/alerts/<alert_id>/resolve", EXECUTE_ACTIONS, methods=("POST",), response=m.AlertChange,
              tag="alerts")
def resolve_alert(alert_id: int) -> m.AlertChange:
    """Resolve an alert. Audited as `alert_status`.

    404 whether the alert is unknown or its customer outside the caller's scope."""
    return _change_alert(alert_id, "resolved")


# --- KPIs ------------------------------------------------------------------------------


@api_endpoint("/kpis/morning-coffee", VIEW_EXECUTIVE, query=m.MorningCoffeeQuery, response=m.MorningCoffee,
              errors=(404,), tag="kpis")
def morning_coffee_kpis(params: m.MorningCoffeeQuery) -> m.MorningCoffee:
    """The Morning Coffee figures for a period and regions.

    404 until data has been loaded."""
    regions = [r.strip() for r in params.regions.split(",") if r.strip()]
    scope = current_scope()
    with db.session() as session:
        bounds = executive_queries.data_date_bounds(session)
        if bounds is None:
            raise ApiError("no data has been loaded yet", 404)
        resolved = resolve_filters(params.start and params.start.isoformat(), params.end and params.end.isoformat(),
                                   regions, bounds, executive_queries.regions(session, scope), scope)
        filters = resolved.filters
        stock = executive_queries.stock_kpis(session, filters)
        leads = executive_queries.new_leads(session, filters)
        efficiency = executive_queries.team_efficiency(session, filters)
        kpis = {
            "active_customers": stock.active_customers.current,
            "previous_active_customers": stock.active_customers.previous,
            "active_contacts": stock.active_contacts.current,
            "previous_active_contacts": stock.active_contacts.previous,
            "mrr_usd": stock.mrr_usd.current,
            "previous_mrr_usd": stock.mrr_usd.previous,
            "new_leads": leads.on_end_date.current if leads.has_data else None,
            "new_leads_in_period": leads.period_total if leads.has_data else None,
            "median_first_response_minutes": efficiency.median_first_response_minutes.current,
        }
        trend = executive_queries.mrr_trend(session, filters).to_dict("records")
        revenue = executive_queries.revenue_by_region(session, filters).to_dict("records")
        top = executive_queries.top_accounts(session, filters).to_dict("records")
    return m.MorningCoffee.model_validate({
        "start": filters.start, "end": filters.end, "regions": list(filters.regions),
        "scoped": not scope.unrestricted, "notes": list(resolved.notes),
        "kpis": _masked([kpis])[0], "mrr_trend": _masked(trend),
        "revenue_by_region": _masked(revenue), "top_accounts": _masked(top),
    })


# --- The document and its browsable docs -----------------------------------------------


@api_endpoint("/openapi.json", AUTHENTICATED, tag="documentation")
def openapi_document() -> Response:
    """This document: OpenAPI 3.1, generated from the endpoints' code."""
    document = current_app.extensions.get("c360_openapi")
    if document is None:
        document = build_document(PREFIX, OPERATIONS, session_cookie=current_app.config["SESSION_COOKIE_NAME"])
        current_app.extensions["c360_openapi"] = document
    return jsonify(document)


# Swagger UI 5 (Apache-2.0; its LICENSE and NOTICE beside it) is vendored as its two built files and
# served from here, behind sign-in like the rest of /api: no CDN.
STATIC = Path(__file__).parent / "static"
DOCS_ASSETS: dict[str, Path] = {
    "swagger-ui.css": STATIC / "swagger-ui" / "swagger-ui.css",
    "swagger-ui-bundle.js": STATIC / "swagger-ui" / "swagger-ui-bundle.js",
    "docs.js": STATIC / "api-docs.js",
}
DOCS_ASSET_MAX_AGE = 3600


@api_endpoint("/docs", AUTHENTICATED, media_type="text/html", tag="documentation")
def docs() -> str:
    """This documentation, browsable (Swagger UI); calls made from it use your session."""
    # Only a browser session needs the token; writing it for a bearer call would hand the script a
    # session cookie, and a cookie Flask-Login did not issue makes its next bearer call anonymous.
    csrf_token = generate_csrf() if current_user.auth_method == "session" else ""
    return render_template("api_docs.html", csrf_token=csrf_token, openapi_url=url_for(f"{bp.name}.openapi_document"),
                           asset_url=lambda name: url_for(f"{bp.name}.docs_asset", asset=name))


@api_endpoint("/docs/assets/<asset>", AUTHENTICATED, documented=False)
def docs_asset(asset: str) -> Response:
    """A file of the docs page."""
    path = DOCS_ASSETS.get(asset)
    if path is None:
        raise ApiError(NOT_FOUND, 404)
    return send_from_directory(path.parent, path.name, max_age=DOCS_ASSET_MAX_AGE)


def init_app(server: Any) -> None:
    server.register_blueprint(bp)
