"""`/admin/audit/export.csv`: the audit trail as CSV, for users with view_audit and export_data.

Kept apart from dashboard.audit because it checks permissions, and dashboard.permissions writes its
refusals through dashboard.audit: the trail itself must not depend on the permission guard.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from flask import Flask, Response, request, stream_with_context

from dashboard.audit import count_events, csv_lines, filters_from_args, iter_events, record_export
from dashboard.extensions import db
from dashboard.permissions import EXPORT_DATA, VIEW_AUDIT, permission_granted


def export_view() -> Response:
    """Stream the filtered trail as CSV; the export is itself audited, and so is a refusal."""
    for permission in (VIEW_AUDIT, EXPORT_DATA):
        if not permission_granted(permission, target="export:audit.csv"):
            return Response('{"error": "forbidden"}', status=403, mimetype="application/json")
    filters = filters_from_args(request.args)
    with db.session() as session:
        total = count_events(session, filters)
    record_export("audit.csv", rows=total, filters={k: str(v) for k, v in vars(filters).items() if v})

    def generate() -> Iterator[str]:
        with db.session() as session:
            yield from csv_lines(iter_events(session, filters))

    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(stream_with_context(generate()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"', "Cache-Control": "no-store"})


def init_app(server: Flask) -> None:
    """Register the audit CSV export."""
    server.add_url_rule("/admin/audit/export.csv", "audit_export", export_view)
