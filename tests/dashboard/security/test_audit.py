"""The audit trail: append-only in the database, an entry for each audited event with who, what,
when and from where, and an admin page to filter and export it."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from callbacks.audit import export_href, parse_filters
from dashboard import audit
from dashboard.extensions import db
from tests.dashboard.security.auth_support import (
    audit_events,
    client_from,
    new_user,
    random_ip,
    sign_in,
    sign_out,
)

DASH_UPDATE = "/_dash-update-component"


@pytest.mark.parametrize("statement", [
    "UPDATE app.audit_event SET action = 'nothing' WHERE id = (SELECT max(id) FROM app.audit_event)",
    "DELETE FROM app.audit_event WHERE id = (SELECT max(id) FROM app.audit_event)",
    "TRUNCATE app.audit_event",
])
def test_audit_table_refuses_changes(app, statement: str) -> None:
    audit.record("test_marker", actor="test")
    with pytest.raises(DBAPIError, match="append-only"), db.begin() as session:
        session.execute(text(statement))
    assert audit_events("test_marker")


def test_sign_in_events_say_who_what_when_and_from_where(app) -> None:
    ip = random_ip()
    _, email = new_user()
    client = client_from(app, ip)
    before = datetime.now(UTC) - timedelta(seconds=5)
    assert sign_in(client, email, "wrong-password-123").status_code == 401
    assert sign_in(client, email).status_code == 302
    assert sign_out(client).status_code == 302
    for action in ("login_failed", "login", "logout"):
        (event,) = audit_events(action, actor=email)
        assert event.ip_address == ip and event.occurred_at >= before
    assert audit_events("login", actor=email)[0].user_id is not None


def test_helpers_for_exports_actions_and_job_runs(app) -> None:
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.0.2.7"}):
        audit.record_export("accounts.csv", rows=12, filters={"region": "EMEA"})
        audit.record_action("send_renewal_reminder", target="ACC-1", detail={"channel": "email"})
        audit.record_job_run("etl_refresh", run_id=99)
    export = audit_events("data_export", target="accounts.csv")[0]
    assert export.detail == {"rows": 12, "format": "csv", "filters": {"region": "EMEA"}}
    assert export.ip_address == "192.0.2.7"
    assert audit_events("action_execution", target="ACC-1")[0].detail == {
        "action": "send_renewal_reminder", "channel": "email"}
    assert audit_events("job_run_manual", target="etl_refresh")[0].detail == {"run_id": 99, "status": "started"}


def test_permission_denial_is_audited(login_as) -> None:
    client = login_as("support_lead")
    assert client.get("/admin/audit/export.csv").status_code == 403
    denial = audit_events("permission_denied", target="export:audit.csv", actor="support_lead@test.client360.dev")
    assert denial and denial[0].detail == {"permission": "view_audit"}


def test_search_filters_by_user_action_dates_and_text(app) -> None:
    _, email = new_user(prefix="auditee")
    audit.record("data_export", actor=email, target="needle-7f3a.csv", detail={"rows": 3})
    audit.record("login", actor=email)
    with db.session() as session:
        everything = audit.search_events(session, audit.AuditFilters(actor=email))
        exports = audit.search_events(session, audit.AuditFilters(actor=email, action="data_export"))
        by_text = audit.search_events(session, audit.AuditFilters(text="NEEDLE-7F3A"))
        today = datetime.now(UTC).date()
        in_range = audit.search_events(session, audit.AuditFilters(actor=email, date_from=today, date_to=today))
        past = audit.search_events(session, audit.AuditFilters(actor=email, date_to=today - timedelta(days=2)))
        wildcard = audit.search_events(session, audit.AuditFilters(text="%"))
    assert everything.total == 2  # user_created was done by "test", not by this user
    assert [r.action for r in exports.rows] == ["data_export"]
    assert [r.target for r in by_text.rows] == ["needle-7f3a.csv"]
    assert in_range.total == 2 and past.total == 0
    assert all("%" in (r.target + r.actor + json.dumps(r.detail)) for r in wildcard.rows)


def test_search_pages_newest_first(app) -> None:
    _, email = new_user(prefix="pager")
    for n in range(5):
        audit.record("action_execution", actor=email, target=f"step-{n}")
    with db.session() as session:
        first = audit.search_events(session, audit.AuditFilters(actor=email, action="action_execution"),
                                    page=1, page_size=2)
        last = audit.search_events(session, audit.AuditFilters(actor=email, action="action_execution"),
                                   page=99, page_size=2)
    assert first.total == 5 and first.page_count == 3
    assert [r.target for r in first.rows] == ["step-4", "step-3"]
    assert last.page == 3 and [r.target for r in last.rows] == ["step-0"]


def test_callback_filters_ignore_bad_input() -> None:
    filters = parse_filters(["not", "text"], {"action": 1}, "2026-13-45", "2026-11-23", 42)
    assert filters == audit.AuditFilters(date_to=date(2026, 11, 23))
    assert export_href(filters) == "/admin/audit/export.csv?to=2026-11-23"


def _page_callback_body(actor: str) -> str:
    outputs = [("audit-results", "children"), ("audit-summary", "children"), ("audit-pager", "max_value"),
               ("audit-pager", "active_page"), ("audit-export", "href")]
    inputs = [("audit-actor", "value", actor), ("audit-action", "value", None),
              ("audit-dates", "start_date", None), ("audit-dates", "end_date", None),
              ("audit-text", "value", None), ("audit-pager", "active_page", 1)]
    return json.dumps({
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": ["audit-actor.value"]})


def test_audit_page_answers_admins_and_refuses_others(login_as) -> None:
    _, email = new_user(prefix="shown")
    audit.record("password_changed", actor=email, target=email)
    admin = login_as("admin")
    response = admin.post(DASH_UPDATE, data=_page_callback_body(email), content_type="application/json")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert email in body and "1 entry" in body and "password changed" in body
    empty = admin.post(DASH_UPDATE, data=_page_callback_body("nobody-at-all"), content_type="application/json")
    assert "No audit entries match" in empty.get_data(as_text=True)
    refused = login_as("executive").post(DASH_UPDATE, data=_page_callback_body(email),
                                         content_type="application/json")
    assert refused.status_code == 403


def test_csv_export_needs_both_permissions_and_neutralises_formulas(app, login_as) -> None:
    audit.record("data_export", actor="mallory@example.com", target='=HYPERLINK("http://evil","x")')
    assert login_as("executive").get("/admin/audit/export.csv").status_code == 403  # no view_audit
    response = login_as("admin").get("/admin/audit/export.csv?actor=mallory@example.com&action=data_export")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == list(audit.EXPORT_COLUMNS)
    assert rows[1][1:4] == ["mallory@example.com", "data_export", "'=HYPERLINK(\"http://evil\",\"x\")"]
    assert len(rows) == 2
    exported = audit_events("data_export", target="audit.csv", actor="admin@test.client360.dev")
    assert exported and exported[0].detail["rows"] == 1


def test_export_without_view_audit_is_refused_even_with_export_data(app) -> None:
    _, email = new_user("executive")  # executive: export_data but not view_audit
    client = client_from(app, random_ip())
    assert sign_in(client, email).status_code == 302
    assert client.get("/admin/audit/export.csv").status_code == 403
