"""Failed sign-ins are limited per account and per address, with a clear message and an audit entry."""

from __future__ import annotations

import pytest

from dashboard.security import limiter
from tests.dashboard.security.auth_support import (
    PASSWORD,
    audit_events,
    client_from,
    new_user,
    random_ip,
    settings_changed,
    sign_in,
)


@pytest.fixture(autouse=True)
def fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


def test_account_is_locked_after_its_failed_attempts_from_any_address(app) -> None:
    _, email = new_user()
    _, bystander = new_user()
    with settings_changed(app, login_limit_account="3 per 10 minutes", login_limit_ip="100 per 10 minutes"):
        for _ in range(3):  # three wrong passwords, each from a different address
            assert sign_in(client_from(app, random_ip()), email, "wrong-password-123").status_code == 401
        refused = sign_in(client_from(app, random_ip()), email)  # even the right password now
        body = refused.get_data(as_text=True)
        assert refused.status_code == 429
        assert "Too many failed sign-in attempts for this account" in body and "try again in about" in body
        assert int(refused.headers["Retry-After"]) > 0
        # Another account from the same kind of address is unaffected.
        assert sign_in(client_from(app, random_ip()), bystander).status_code == 302
    locked = audit_events("login_locked", target=f"account:{email}")
    assert locked and locked[0].detail["scope"] == "account"


def test_address_is_locked_after_its_failed_attempts_on_any_account(app) -> None:
    ip, other_ip = random_ip(), random_ip()
    _, valid = new_user()
    with settings_changed(app, login_limit_account="100 per 10 minutes", login_limit_ip="4 per 10 minutes"):
        for n in range(4):  # four different (unknown) accounts, one address
            response = sign_in(client_from(app, ip), f"nobody{n}@sec.client360.dev", "wrong-password-123")
            assert response.status_code == 401
        refused = sign_in(client_from(app, ip), valid)
        assert refused.status_code == 429
        assert "your network address" in refused.get_data(as_text=True)
        assert sign_in(client_from(app, other_ip), valid).status_code == 302
    locked = audit_events("login_locked", target=f"ip:{ip}")
    assert locked and locked[0].ip_address == ip


def test_successful_sign_ins_do_not_count(app) -> None:
    ip = random_ip()
    _, email = new_user()
    with settings_changed(app, login_limit_account="2 per 10 minutes", login_limit_ip="2 per 10 minutes"):
        for _ in range(4):
            assert sign_in(client_from(app, ip), email, PASSWORD).status_code == 302


def test_lockout_is_audited_once_not_per_attempt(app) -> None:
    _, email = new_user()
    with settings_changed(app, login_limit_account="1 per 10 minutes", login_limit_ip="100 per 10 minutes"):
        assert sign_in(client_from(app, random_ip()), email, "wrong-password-123").status_code == 401
        for _ in range(3):
            assert sign_in(client_from(app, random_ip()), email, "wrong-password-123").status_code == 429
    assert len(audit_events("login_locked", target=f"account:{email}")) == 1


def test_get_of_the_login_page_is_never_limited(app) -> None:
    client = client_from(app, random_ip())
    with settings_changed(app, login_limit_ip="1 per 10 minutes"):
        assert all(client.get("/login").status_code == 200 for _ in range(5))
