"""Application tables: roles, users, sessions, API tokens, audit log and job runs (schema `app`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.tables.base import Base


class Role(Base):
    """A named set of permissions."""

    __tablename__ = "role"
    __table_args__ = {"schema": "app"}

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    permissions: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)


class User(Base):
    """A person who logs in."""

    __tablename__ = "users"
    __table_args__ = {"schema": "app"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(Text, unique=True)
    full_name: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(Text)
    role_name: Mapped[str] = mapped_column(ForeignKey("app.role.name"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Empty means unrestricted; otherwise the territories whose rows this user may see.
    territories: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    # Accounts (gold.customer_360.account_id) assigned by name, on top of the territories.
    account_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    # Their own record in the CRM (silver.users.user_id): the book of business of a scoped role.
    crm_user_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set for a one-time initial or reset password: every page asks for a new one first.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Base32 TOTP secret once the second factor is enrolled; the last accepted time step stops replays.
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    role: Mapped[Role] = relationship(lazy="joined")


class UserSession(Base):
    """A signed-in browser session, checked on every request so it can be ended server-side."""

    __tablename__ = "user_session"
    __table_args__ = {"schema": "app"}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app.users.id", ondelete="CASCADE"), index=True)
    # sha256 of the random session id kept in the signed cookie.
    sid_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ip_address: Mapped[str] = mapped_column(Text, default="")
    user_agent: Mapped[str] = mapped_column(Text, default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for the REST API; only its sha256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = {"schema": "app"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app.users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    # The first characters of the token, so a user can tell their tokens apart.
    token_prefix: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Module-qualified: silver has a User table too.
    user: Mapped[User] = relationship("dashboard.tables.app.User", lazy="joined")


class AuditEvent(Base):
    """Append-only record of who did what, when and from where."""

    __tablename__ = "audit_event"
    __table_args__ = {"schema": "app"}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    user_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, index=True)
    target: Mapped[str] = mapped_column(Text, default="")
    ip_address: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class JobRun(Base):
    """One execution of a data job, successful or not."""

    __tablename__ = "job_run"
    __table_args__ = {"schema": "app"}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    job_id: Mapped[str] = mapped_column(Text, index=True)
    triggered_by: Mapped[str] = mapped_column(Text, default="manual")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, default="running")  # running, success, failed, skipped
    rows: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
