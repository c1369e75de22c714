"""Audit log page: one callback reads a page of matching events through `dashboard.audit`."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from dash import Input, Output, ctx, html

from dashboard import audit
from dashboard.callback_guard import guarded_callback
from dashboard.extensions import db
from dashboard.permissions import VIEW_AUDIT
from layouts.audit import ID, PAGE_SIZE
from layouts.components import compact_table, empty_state

MAX_FILTER_TEXT = 200


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_filters(actor: Any, action: Any, start: Any, end: Any, text: Any) -> audit.AuditFilters:
    """Filters from untrusted callback inputs: wrong types and bad dates are ignored, text is capped."""
    return audit.AuditFilters(
        actor=actor[:MAX_FILTER_TEXT] if isinstance(actor, str) else "",
        action=action[:MAX_FILTER_TEXT] if isinstance(action, str) else "",
        date_from=_day(start), date_to=_day(end),
        text=text[:MAX_FILTER_TEXT] if isinstance(text, str) else "")


def export_href(filters: audit.AuditFilters) -> str:
    """The CSV export link for the same filters."""
    query = {"actor": filters.actor, "action": filters.action, "text": filters.text,
             "from": filters.date_from.isoformat() if filters.date_from else "",
             "to": filters.date_to.isoformat() if filters.date_to else ""}
    return "/admin/audit/export.csv?" + urlencode({k: v for k, v in query.items() if v})


def results_table(page: audit.AuditPage) -> html.Div:
    if not page.rows:
        return empty_state("No audit entries match", "Widen the dates or clear a filter.", icon="\U0001F50E",
                           state_id="audit-empty")
    rows = [[f"{r.occurred_at:%Y-%m-%d %H:%M:%S}", r.actor or "—", r.action.replace("_", " "), r.target,
             r.ip_address, html.Code(json.dumps(r.detail, default=str)[:300]) if r.detail else ""]
            for r in page.rows]
    return compact_table(["When (UTC)", "User", "Action", "Target", "From", "Details"], rows,
                         table_id="audit-table")


@guarded_callback(VIEW_AUDIT, Output(ID.RESULTS, "children"), Output(ID.SUMMARY, "children"),
                  Output(ID.PAGER, "max_value"), Output(ID.PAGER, "active_page"), Output(ID.EXPORT, "href"),
                  Input(ID.ACTOR, "value"), Input(ID.ACTION, "value"), Input(ID.DATES, "start_date"),
                  Input(ID.DATES, "end_date"), Input(ID.TEXT, "value"), Input(ID.PAGER, "active_page"))
def show_events(actor: Any, action: Any, start: Any, end: Any, text: Any, active_page: Any):
    """A page of matching events, newest first; a new filter goes back to page 1."""
    filters = parse_filters(actor, action, start, end, text)
    page_number = active_page if isinstance(active_page, int) and ctx.triggered_id == ID.PAGER else 1
    with db.session() as session:
        page = audit.search_events(session, filters, page=page_number, page_size=PAGE_SIZE)
    summary = f"{page.total:,} entr{'y' if page.total == 1 else 'ies'} · page {page.page} of {page.page_count}"
    return results_table(page), summary, page.page_count, page.page, export_href(filters)
