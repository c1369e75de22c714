"""API tokens for the REST API: created and shown once, stored as sha256, revocable, optionally expiring.

A token authenticates `Authorization: Bearer <token>` requests under `/api/` as its user, with that
user's current role and permissions (reloaded on every request, like a browser session).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import audit
from dashboard.tables.app import ApiToken, User
from dashboard.users import UserError

TOKEN_PREFIX = "c360_"
MAX_EXPIRES_DAYS = 3650
# Writing last_used_at on every call would turn each API read into a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(UserError):
    """A token could not be created or revoked; the message says why."""


@dataclass(frozen=True)
class TokenSummary:
    """A token as lists show it: never the secret, only its first characters."""

    id: int
    user_email: str
    name: str
    token_prefix: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            return "expired"
        return "active"


def hash_token(raw: str) -> str:
    """sha256 hex of the token: the token has 256 bits of entropy, so a fast hash is enough."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(session: Session, user_id: int, *, name: str, expires_days: int | None = None,
                 actor: str) -> tuple[ApiToken, str]:
    """A new token for an active user; returns the row and the raw token, which is never shown again."""
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise TokenError(f"No user with id {user_id!r}.")
    if not user.is_active:
        raise TokenError(f"{user.email} is deactivated; reactivate them before creating a token.")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise TokenError("Give the token a name of 1 to 100 characters, e.g. 'reporting script'.")
    if expires_days is not None and not (isinstance(expires_days, int) and 1 <= expires_days <= MAX_EXPIRES_DAYS):
        raise TokenError(f"Expiry must be a whole number of days from 1 to {MAX_EXPIRES_DAYS}, or none.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(raw), token_prefix=raw[:12],
                     created_by=actor or "", created_at=now,
                     expires_at=now + timedelta(days=expires_days) if expires_days else None)
    session.add(token)
    session.flush()
    audit.record_in(session, audit.TOKEN_CREATED, target=user.email, actor=actor, detail={
        "token_id": token.id, "name": name, "prefix": token.token_prefix, "expires_days": expires_days})
    return token, raw


def revoke_token(session: Session, token_id: int, *, actor: str) -> ApiToken:
    """Revoke a token at once; revoking twice is harmless."""
    token = session.get(ApiToken, token_id) if isinstance(token_id, int) else None
    if token is None:
        raise TokenError(f"No API token with id {token_id!r}.")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        session.flush()
        audit.record_in(session, audit.TOKEN_REVOKED, target=token.user.email, actor=actor,
                        detail={"token_id": token.id, "name": token.name, "prefix": token.token_prefix})
    return token


def list_tokens(session: Session, user_id: int | None = None) -> list[TokenSummary]:
    """Tokens of one user (or of everyone), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return [TokenSummary(id=t.id, user_email=t.user.email, name=t.name, token_prefix=t.token_prefix,
                         created_by=t.created_by, created_at=t.created_at, expires_at=t.expires_at,
                         last_used_at=t.last_used_at, revoked_at=t.revoked_at)
            for t in session.scalars(query)]


def token_owner(session: Session, token_id: int) -> int | None:
    """The user id a token belongs to, or None; for "users manage their own tokens" checks."""
    return session.scalar(select(ApiToken.user_id).where(ApiToken.id == token_id))


def authenticate_token(session: Session, raw: str) -> User | None:
    """The active user of a valid, unexpired, unrevoked token, recording its use; else None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token.user
