"""Credential checks shared by the sign-in views (dashboard.auth) and the account pages (dashboard.account):
TOTP codes and browser-session ids. It sits below both so neither has to import the other's views."""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp
from flask import session


def hash_session_id(raw: str) -> str:
    """What app.user_session stores of a browser's session id: its sha256, never the id itself."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def current_session_hash() -> str | None:
    """The hash of this browser session's id, so a password change can keep this session alone."""
    raw = session.get("sid")
    return hash_session_id(raw) if isinstance(raw, str) else None


def verify_totp(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step of a valid code (one step of clock drift allowed, no replay), or None."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = time.time()
    for drift in (0, -1, 1):
        step = int(now // totp.interval) + drift
        if secrets.compare_digest(totp.at(step * totp.interval), code):
            return step if last_step is None or step > last_step else None
    return None
