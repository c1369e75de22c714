"""Append-only audit trail: who did what, when and from where."""

from __future__ import annotations

import logging
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from dashboard.extensions import db
from dashboard.tables.app import AuditEvent

log = logging.getLogger(__name__)


def _client_ip() -> str:
    if not has_request_context():
        return ""
    return request.remote_addr or ""


def record(action: str, *, target: str = "", actor: str | None = None,
           user_id: int | None = None, detail: dict[str, Any] | None = None) -> None:
    """Write one audit event in its own transaction, so a failed request still leaves a trace."""
    if actor is None and has_request_context() and getattr(current_user, "is_authenticated", False):
        actor, user_id = current_user.email, current_user.id
    try:
        with db.begin() as session:
            session.add(AuditEvent(action=action, target=target, actor=actor or "",
                                   user_id=user_id, ip_address=_client_ip(), detail=detail or {}))
    except Exception:  # the audit trail must never turn a denial into a 500
        log.exception("could not record audit event %s", action)


def record_denial(permission: str, *, target: str) -> None:
    """Record that the current user was refused `permission` on `target`."""
    record("permission_denied", target=target, detail={"permission": permission})
