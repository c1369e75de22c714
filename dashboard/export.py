"""Grid exports served by the server: GET /export/<grid>.<csv|xlsx>?<the page's query string>.

The export recomputes the grid's rows through the same query function as the page, with the
caller's data scope and masking policy, so a file holds exactly what the grid shows. It needs
the page's permission and `export_data`, is written to the audit trail, and every text cell a
spreadsheet would run as a formula is neutralised (CSV and Excel alike).

A page makes a grid exportable with one line in `GRIDS`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, abort, jsonify, request
from flask_login import current_user
from openpyxl import Workbook

from dashboard import audit
from dashboard.extensions import db
from dashboard.masking import MaskPolicy, neutralise_formula, to_csv
from dashboard.permissions import (
    EXPORT_DATA,
    VIEW_BILLING,
    VIEW_CUSTOMER360,
    VIEW_EXECUTIVE,
    VIEW_MARKETING,
    VIEW_SALES,
    VIEW_SUPPORT,
    permission_granted,
)
from dashboard.queries import (
    book,
    campaigns,
    engagement,
    executive,
    executive_outlook,
    growth,
    receivables,
    regions,
    sales,
    sales_leads,
    search,
    strategy,
    support,
    support_insights,
)
from dashboard.queries.grid import GridRows
from dashboard.scope import DataScope, current_scope
from dashboard.url_state import MAX_VALUES

bp = Blueprint("export", __name__, url_prefix="/export")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class GridExport:
    """An exportable grid: the page permission it needs, its rows, and its file name."""

    permission: str
    rows: Callable[[Any, Mapping[str, Any], DataScope, MaskPolicy], GridRows]
    file_stem: Callable[[Mapping[str, Any]], str]


# Grid id (as the page names it) -> how to recompute it. One line per exportable grid.
GRIDS: dict[str, GridExport] = {
    "mc-campaigns": GridExport(VIEW_EXECUTIVE, executive.export_campaigns, executive.export_name),
    "mc-top-accounts": GridExport(VIEW_EXECUTIVE, executive.export_top_accounts, executive.export_name),
    "rg-comparison": GridExport(VIEW_EXECUTIVE, regions.export_comparison, regions.export_name),
    "st-concentration": GridExport(VIEW_EXECUTIVE, strategy.export_top_customers, strategy.export_name),
    "st-potential": GridExport(VIEW_EXECUTIVE, strategy.export_potential, strategy.export_name),
    "mc-at-risk-grid": GridExport(VIEW_EXECUTIVE, executive_outlook.export_at_risk, executive.export_name),
    "mc-segment-grid": GridExport(VIEW_EXECUTIVE, executive_outlook.export_segment_accounts, executive.export_name),
    "search-results": GridExport(VIEW_CUSTOMER360, search.export_results, search.export_name),
    "book-accounts": GridExport(VIEW_CUSTOMER360, book.export_book, book.export_name),
    "eg-accounts": GridExport(VIEW_SALES, engagement.export_accounts, engagement.export_name),
    "eg-contacts": GridExport(VIEW_SALES, engagement.export_contacts, engagement.export_name),
    "eg-campaign-list": GridExport(VIEW_SALES, engagement.export_campaign_list, engagement.campaign_export_name),
    "ld-leads": GridExport(VIEW_SALES, sales_leads.export_leads, sales_leads.export_name),
    "ld-repeat": GridExport(VIEW_SALES, sales_leads.export_repeat, sales_leads.export_name),
    "ld-decline": GridExport(VIEW_SALES, sales_leads.export_declines, sales_leads.export_name),
    "ld-renewals": GridExport(VIEW_SALES, sales_leads.export_renewals, sales_leads.export_name),
    "ld-potential": GridExport(VIEW_SALES, sales_leads.export_potential, sales_leads.export_name),
    "sl-opportunities": GridExport(VIEW_SALES, sales.export_opportunities, sales.export_name),
    "sl-reps": GridExport(VIEW_SALES, sales.export_reps, sales.export_name),
    "sq-queue": GridExport(VIEW_SUPPORT, support.export_queue, support.export_name),
    "sq-breaches": GridExport(VIEW_SUPPORT, support.export_breaches, support.export_name),
    "sq-agents": GridExport(VIEW_SUPPORT, support.export_agents, support.export_name),
    "sq-cases": GridExport(VIEW_SUPPORT, support.export_cases, support.export_name),
    "rv-ageing": GridExport(VIEW_BILLING, receivables.export_invoices, receivables.export_name),
    "rv-disputes": GridExport(VIEW_BILLING, receivables.export_disputes, receivables.export_name),
    "rv-holds": GridExport(VIEW_BILLING, receivables.export_holds, receivables.export_name),
    "si-products": GridExport(VIEW_SUPPORT, support_insights.export_products, support_insights.export_name),
    "si-repeat": GridExport(VIEW_SUPPORT, support_insights.export_repeats, support_insights.export_name),
    "si-vip": GridExport(VIEW_SUPPORT, support_insights.export_vip, support_insights.export_name),
    "cp-high-intent": GridExport(VIEW_MARKETING, campaigns.export_high_intent, campaigns.export_name),
    "gw-segments": GridExport(VIEW_MARKETING, growth.export_segments, growth.export_name),
}


def export_href(grid: str, fmt: str, search: str) -> str:
    """The export URL of `grid` for a page whose query string is `search` ('?start=...')."""
    return f"{bp.url_prefix}/{grid}.{fmt}{search or ''}"


def to_xlsx(grid: GridRows, sheet: str = "Export") -> bytes:
    """An Excel workbook of the grid; text cells are formula-neutralised as in CSV."""
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet[:31])
    worksheet.append([neutralise_formula(h) for h in grid.headers])
    for row in grid.rows:
        worksheet.append([neutralise_formula(row.get(f)) for f in grid.fields])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _query_args() -> dict[str, list[str]]:
    return {name: request.args.getlist(name)[:MAX_VALUES] for name in list(request.args)[:MAX_VALUES]}


@bp.get("/<grid>.<fmt>")
def export_grid(grid: str, fmt: str) -> Response | tuple[Response, int]:
    """Answer one grid export: 401 anonymous, 403 without the permissions, 404 unknown grid."""
    if not getattr(current_user, "is_authenticated", False):
        return jsonify(error="authentication required"), 401
    spec = GRIDS.get(grid)
    if spec is None or fmt not in FORMATS:
        abort(404)
    target = f"export:{grid}"
    if not (permission_granted(spec.permission, target=target) and permission_granted(EXPORT_DATA, target=target)):
        return jsonify(error="forbidden"), 403
    args = _query_args()
    with db.session() as session:
        rows = spec.rows(session, args, current_scope(), MaskPolicy.for_current_user())
    if fmt == "csv":
        body: str | bytes = to_csv(rows.headers, rows.records_by_header())
    else:
        body = to_xlsx(rows, sheet=grid)
    audit.record_export(target, rows=len(rows.rows), fmt=fmt, filters=args)
    file_name = f"{grid}_{spec.file_stem(args)}.{fmt}"
    return Response(body, mimetype=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{file_name}"',
                             "Cache-Control": "no-store"})


def init_app(server: Flask) -> None:
    """Serve the grid exports."""
    server.register_blueprint(bp)
