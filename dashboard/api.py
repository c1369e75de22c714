"""REST data API under /api/v1/: JSON, scoped to the user's data and masked as their role requires.

Authentication is the session cookie or an `Authorization: Bearer` API token (both end up as
`current_user`). Every endpoint is registered through `api_endpoint`, which declares the
permissions it needs in `ENDPOINT_PERMISSIONS`; the permission matrix test enumerates it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from dashboard import audit
from dashboard.extensions import db
from dashboard.masking import MaskPolicy, mask_record, mask_records, to_csv
from dashboard.permissions import (
    AUTHENTICATED,
    EXPORT_DATA,
    VIEW_CUSTOMER360,
    VIEW_EXECUTIVE,
    has_permission,
    permission_granted,
)
from dashboard.queries import accounts as account_queries
from dashboard.queries import executive as executive_queries
from dashboard.queries import questions as question_queries
from dashboard.queries.executive import resolve_filters
from dashboard.scope import current_scope

PREFIX = "/api/v1"
bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)

# (method, URL rule) -> the permissions it needs, all of them; filled by `api_endpoint`.
ENDPOINT_PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    # The caller's own profile (dashboard.account): any signed-in user or token; the
    # request gate in dashboard.auth answers 401 to anonymous calls under /api/.
    ("GET", PREFIX + "/me"): (AUTHENTICATED,),
}


class ApiError(Exception):
    """A client error answered as JSON with a clear message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


NOT_FOUND = "not found"


def api_endpoint(rule: str, *permissions: str, methods: tuple[str, ...] = ("GET",)) -> Callable[[Callable], Callable]:
    """Register a view under /api/v1 behind every one of `permissions` (401 anonymous, 403 without)."""
    if not permissions:
        raise ValueError(f"{rule} must declare the permission it needs")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(**kwargs: Any) -> Any:
            if not getattr(current_user, "is_authenticated", False):
                return jsonify(error="authentication required"), 401
            if not all(permission_granted(p, target=f"api:{PREFIX}{rule}") for p in permissions):
                return jsonify(error="forbidden"), 403
            try:
                return view(**kwargs)
            except ApiError as exc:
                return jsonify(error=exc.message), exc.status

        for method in methods:
            ENDPOINT_PERMISSIONS[(method, PREFIX + rule)] = permissions
        bp.add_url_rule(rule, view.__name__, guarded, methods=list(methods))
        return guarded

    return decorator


# --- Parameters and JSON ---------------------------------------------------------------


def _int_arg(name: str, default: int, *, minimum: int = 1, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(f"{name} must be a whole number, got {raw[:40]!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ApiError(f"{name} must be {bound}")
    return value


def _str_arg(name: str, max_length: int = 200) -> str:
    value = request.args.get(name, "")
    if len(value) > max_length:
        raise ApiError(f"{name} is longer than {max_length} characters")
    return value.strip()


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


def _account_filters() -> dict[str, str]:
    return {"search": _str_arg("search"), "region": _str_arg("region"), "territory": _str_arg("territory")}


# --- Endpoints -------------------------------------------------------------------------


@api_endpoint("/accounts", VIEW_CUSTOMER360)
def accounts() -> Any:
    """Accounts in the caller's scope; `search`, `region`, `territory`, `page`, `per_page`."""
    page_number = _int_arg("page", 1, maximum=1_000_000)
    per_page = _int_arg("per_page", account_queries.DEFAULT_PAGE_SIZE, maximum=account_queries.MAX_PAGE_SIZE)
    with db.session() as session:
        page = account_queries.list_accounts(session, current_scope(), page=page_number, per_page=per_page,
                                             **_account_filters())
    policy = MaskPolicy.for_current_user()
    return jsonify(_plain({"accounts": mask_records(page.rows, policy), "total": page.total,
                           "page": page.page, "per_page": page.per_page}))


@api_endpoint("/accounts/<account_id>", VIEW_CUSTOMER360)
def account(account_id: str) -> Any:
    """One account with its contacts; 404 whether it is unknown or outside the caller's scope."""
    with db.session() as session:
        detail = account_queries.account_detail(session, current_scope(), account_id[:200])
    if detail is None:
        return jsonify(error=NOT_FOUND), 404
    policy = MaskPolicy.for_current_user()
    contacts = mask_records(detail.pop("contacts"), policy)
    return jsonify(_plain({**mask_record(detail, policy), "contacts": contacts}))


@api_endpoint("/kpis/morning-coffee", VIEW_EXECUTIVE)
def morning_coffee_kpis() -> Any:
    """The Morning Coffee figures for `start`, `end` (ISO dates) and `regions` (comma-separated)."""
    regions = [r for raw in request.args.getlist("regions") for r in raw.split(",") if r.strip()]
    scope = current_scope()
    with db.session() as session:
        bounds = executive_queries.data_date_bounds(session)
        if bounds is None:
            return jsonify(error="no data has been loaded yet"), 404
        resolved = resolve_filters(request.args.get("start"), request.args.get("end"), regions, bounds,
                                   executive_queries.regions(session, scope), scope)
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
    policy = MaskPolicy.for_current_user()
    return jsonify(_plain({
        "start": filters.start, "end": filters.end, "regions": list(filters.regions),
        "scoped": not scope.unrestricted, "notes": list(resolved.notes),
        "kpis": mask_record(kpis, policy), "mrr_trend": mask_records(trend, policy),
        "revenue_by_region": mask_records(revenue, policy), "top_accounts": mask_records(top, policy),
    }))


@api_endpoint("/exports/accounts.csv", VIEW_CUSTOMER360, EXPORT_DATA)
def export_accounts_csv() -> Response:
    """The caller's accounts as CSV: scoped, masked, formulas neutralised, and audited."""
    filters = _account_filters()
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


@api_endpoint("/scope", AUTHENTICATED)
def my_scope() -> Any:
    """What the caller may see: their territories and assigned accounts, or everything."""
    scope = current_scope()
    return jsonify(unrestricted=scope.unrestricted, territories=sorted(scope.territories),
                   account_ids=sorted(scope.account_ids))


def init_app(server: Any) -> None:
    server.register_blueprint(bp)


@api_endpoint("/questions", AUTHENTICATED)
def questions() -> Any:
    """The persona questions the caller may open: id, persona, question, url (a deep link) and the
    CSS selector of the element answering it."""
    return jsonify([q.public() for q in question_queries.questions_for(has_permission)])
