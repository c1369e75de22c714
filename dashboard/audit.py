"""Append-only audit trail: who did what, when and from where.

Write with `record(action, target=..., detail=...)` from a request or job, or with `record_in(session, ...)`
when the event belongs to a change made in that session's transaction (it is then kept only if the
change is). The table refuses UPDATE, DELETE and TRUNCATE (see migration 0008).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from dashboard.extensions import db
from dashboard.tables.app import AuditEvent

log = logging.getLogger(__name__)

# Action names, so pages can filter on a known list and callers do not misspell them.
LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGIN_LOCKED = "login_locked"
LOGOUT = "logout"
SESSION_EXPIRED = "session_expired"
PASSWORD_CHANGED = "password_changed"
TOTP_ENROLLED = "totp_enrolled"
TOTP_REMOVED = "totp_removed"
TOTP_FAILED = "totp_failed"
USER_CREATED = "user_created"
USER_UPDATED = "user_updated"
USER_DEACTIVATED = "user_deactivated"
USER_REACTIVATED = "user_reactivated"
PASSWORD_RESET = "password_reset"
SESSIONS_REVOKED = "sessions_revoked"
ROLE_CHANGED = "role_changed"
TOKEN_CREATED = "token_created"
TOKEN_REVOKED = "token_revoked"
TOKEN_REFUSED = "token_refused"
PERMISSION_DENIED = "permission_denied"
DATA_EXPORTED = "data_export"
ACTION_EXECUTED = "action_execution"
ALERT_STATUS = "alert_status"
JOB_RUN_MANUAL = "job_run_manual"

KNOWN_ACTIONS: tuple[str, ...] = (
    LOGIN, LOGIN_FAILED, LOGIN_LOCKED, LOGOUT, SESSION_EXPIRED, PASSWORD_CHANGED,
    TOTP_ENROLLED, TOTP_REMOVED, TOTP_FAILED,
    USER_CREATED, USER_UPDATED, USER_DEACTIVATED, USER_REACTIVATED, PASSWORD_RESET, SESSIONS_REVOKED,
    ROLE_CHANGED, TOKEN_CREATED, TOKEN_REVOKED, TOKEN_REFUSED,
    PERMISSION_DENIED, DATA_EXPORTED, ACTION_EXECUTED, ALERT_STATUS, JOB_RUN_MANUAL,
)


def client_ip() -> str:
    """The caller's address (after ProxyFix, when the deployment sits behind trusted proxies)."""
    if not has_request_context():
        return ""
    return request.remote_addr or ""


def _current_actor() -> tuple[str, int | None]:
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user.email, current_user.id
    return "", None


def _event(action: str, target: str, actor: str | None, user_id: int | None,
           detail: dict[str, Any] | None) -> AuditEvent:
    if actor is None:
        actor, user_id = _current_actor()
    return AuditEvent(action=action, target=target[:1000], actor=(actor or "")[:254], user_id=user_id,
                      ip_address=client_ip(), detail=detail or {})


def record(action: str, *, target: str = "", actor: str | None = None,
           user_id: int | None = None, detail: dict[str, Any] | None = None) -> None:
    """Write one audit event in its own transaction, so a failed request still leaves a trace.

    `actor` defaults to the logged-in user's email; pass "cli" or a job id outside requests.
    """
    try:
        with db.begin() as session:
            session.add(_event(action, target, actor, user_id, detail))
    except Exception:  # the audit trail must never turn a denial into a 500
        log.exception("could not record audit event %s", action)


def record_in(session: Session, action: str, *, target: str = "", actor: str | None = None,
              user_id: int | None = None, detail: dict[str, Any] | None = None) -> None:
    """Add an audit event to `session`'s transaction: it is kept exactly when the change it describes is."""
    session.add(_event(action, target, actor, user_id, detail))


def record_denial(permission: str, *, target: str) -> None:
    """Record that the current user was refused `permission` on `target`."""
    record(PERMISSION_DENIED, target=target, detail={"permission": permission})


def record_export(target: str, *, rows: int, fmt: str = "csv", filters: dict[str, Any] | None = None) -> None:
    """Record a data export: what was exported, how many rows, in which format and with which filters."""
    record(DATA_EXPORTED, target=target, detail={"rows": rows, "format": fmt, "filters": filters or {}})


def record_action(action_name: str, *, target: str, detail: dict[str, Any] | None = None) -> None:
    """Record the execution of a user action (e.g. a playbook step) on `target`."""
    record(ACTION_EXECUTED, target=target, detail={"action": action_name, **(detail or {})})


def record_job_run(job_id: str, *, run_id: int | None = None, status: str = "started") -> None:
    """Record that a user started a data job by hand."""
    record(JOB_RUN_MANUAL, target=job_id, detail={"run_id": run_id, "status": status})


# --- reading the trail (the admin audit page and its CSV export) --------------------------------
@dataclass(frozen=True)
class AuditFilters:
    """What the audit page filters on; empty values mean no filter."""

    actor: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    text: str = ""


@dataclass(frozen=True)
class AuditRow:
    id: int
    occurred_at: datetime
    actor: str
    action: str
    target: str
    ip_address: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    total: int
    page: int
    page_size: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(filters: AuditFilters):
    query = select(AuditEvent)
    if filters.actor.strip():
        query = query.where(AuditEvent.actor.ilike(f"%{_escape_like(filters.actor.strip())}%"))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.date_from:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(filters.date_from, time.min))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min)
        query = query.where(AuditEvent.occurred_at < end)
    if filters.text.strip():
        pattern = f"%{_escape_like(filters.text.strip())}%"
        query = query.where(or_(AuditEvent.target.ilike(pattern), AuditEvent.ip_address.ilike(pattern),
                                AuditEvent.actor.ilike(pattern),
                                cast(AuditEvent.detail, String).ilike(pattern)))
    return query


def _row(event: AuditEvent) -> AuditRow:
    return AuditRow(id=event.id, occurred_at=event.occurred_at, actor=event.actor, action=event.action,
                    target=event.target, ip_address=event.ip_address, detail=dict(event.detail or {}))


def count_events(session: Session, filters: AuditFilters) -> int:
    """How many events match `filters`."""
    return session.scalar(select(func.count()).select_from(_filtered(filters).subquery())) or 0


def search_events(session: Session, filters: AuditFilters, *, page: int = 1, page_size: int = 50) -> AuditPage:
    """One page of matching events, newest first, with the total count."""
    page_size = max(1, min(page_size, 500))
    query = _filtered(filters)
    total = count_events(session, filters)
    page = max(1, min(page, max(1, -(-total // page_size))))
    events = session.scalars(query.order_by(AuditEvent.id.desc())
                             .offset((page - 1) * page_size).limit(page_size))
    return AuditPage(rows=[_row(e) for e in events], total=total, page=page, page_size=page_size)


def iter_events(session: Session, filters: AuditFilters, *, batch: int = 1000) -> Iterator[AuditRow]:
    """Every matching event, newest first, fetched in batches (for the CSV export)."""
    result = session.execute(_filtered(filters).order_by(AuditEvent.id.desc())
                             .execution_options(yield_per=batch))
    for event in result.scalars():
        yield _row(event)


def known_actions(session: Session) -> list[str]:
    """Every action name: the known ones and any other found in the trail, for the page's filter."""
    found = session.scalars(select(AuditEvent.action).group_by(AuditEvent.action))
    return sorted(set(KNOWN_ACTIONS) | set(found))


def known_actors(session: Session, limit: int = 500) -> list[str]:
    """Distinct actors seen in the trail, for the page's user filter."""
    return list(session.scalars(select(AuditEvent.actor).where(AuditEvent.actor != "")
                                .group_by(AuditEvent.actor).order_by(AuditEvent.actor).limit(limit)))


# --- CSV export ------------------------------------------------------------------------------------
EXPORT_COLUMNS = ("occurred_at", "actor", "action", "target", "ip_address", "detail")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def csv_lines(rows: Iterator[AuditRow]) -> Iterator[str]:
    """The export, one CSV line at a time, every text cell formula-neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_cell(v) for v in values])
        return buffer.getvalue()

    yield line(list(EXPORT_COLUMNS))
    for row in rows:
        yield line([row.occurred_at.isoformat(), row.actor, row.action, row.target, row.ip_address,
                    json.dumps(row.detail, default=str, sort_keys=True) if row.detail else ""])


def filters_from_args(args) -> AuditFilters:
    """Filters from the export link's query string; bad dates are ignored."""
    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(args.get(name, "")[:10]) if args.get(name) else None
        except ValueError:
            return None

    return AuditFilters(actor=args.get("actor", "")[:200], action=args.get("action", "")[:100],
                        date_from=day("from"), date_to=day("to"), text=args.get("text", "")[:200])
