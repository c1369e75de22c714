"""Helpers for the sign-in, session, token and audit tests: users, logins from a given address,
temporary settings, and reading the audit trail."""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.tables.app import AuditEvent, User

PASSWORD = "tidal-ochre-lantern-94"


def new_user(role: str = "executive", *, password: str | None = PASSWORD, prefix: str = "u") -> tuple[int, str]:
    """A fresh user (unique email) with `role`; returns (id, email)."""
    from dashboard.users import create_user

    email = f"{prefix}-{secrets.token_hex(4)}@sec.client360.dev"
    with db.begin() as session:
        created = create_user(session, email=email, role=role, password=password, actor="test")
        return created.user.id, email


def client_from(app, ip: str):
    """A test client whose requests come from address `ip`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    assert token, f"{path} has no CSRF token"
    return token.group(1)


def sign_in(client, email: str, password: str = PASSWORD):
    """Post the login form with its CSRF token, as a browser does."""
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def sign_out(client):
    """Confirm on the sign-out page and post its form with the CSRF token, as a browser does."""
    return client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})


def random_ip() -> str:
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def audit_events(action: str, *, target: str | None = None, actor: str | None = None) -> list[AuditEvent]:
    """Audit events with this action (and target/actor when given), newest first."""
    query = select(AuditEvent).where(AuditEvent.action == action)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    with db.session() as session:
        return list(session.scalars(query.order_by(AuditEvent.id.desc())))


def user_row(user_id: int) -> User:
    with db.session() as session:
        user = session.get(User, user_id)
        session.expunge(user)
        return user


def cli(monkeypatch, database_url: str, tmp_path):
    """Run `c360` commands against the session database: cli(...)(["users", "list"]) -> click Result."""
    from click.testing import CliRunner

    from dashboard.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("C360_ENV", raising=False)
    runner = CliRunner()
    return lambda args: runner.invoke(main, args)


@contextmanager
def settings_changed(app, **changes: object) -> Iterator[None]:
    """Run with some settings changed on the live app (they are read per request), then restore them."""
    original = app.extensions["c360_settings"]
    app.extensions["c360_settings"] = dataclasses.replace(original, **changes)
    try:
        yield
    finally:
        app.extensions["c360_settings"] = original
