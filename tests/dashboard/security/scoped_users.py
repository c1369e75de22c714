"""Users with a data scope or a reduced role, made once per session for the scope and masking
tests (imported as fixtures by those modules)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.tables.app import Role, User
from dashboard.tables.gold import Customer360
from tests.conftest import TEST_PASSWORD, login


@dataclass(frozen=True)
class ScopeFacts:
    """A territory and accounts to assign, and what the data says about them."""

    territory: str
    territory_accounts: frozenset[str]
    other_account: str  # exists, outside the territory and not assigned
    assigned_accounts: frozenset[str]  # outside the territory, assigned by name


def _ensure_user(email: str, role: str, territories: list[str], account_ids: list[str]) -> None:
    from dashboard.users import create_user

    with db.begin() as session:
        existing = session.scalar(select(User).where(User.email == email))
        if existing is None:
            create_user(session, email=email, role=role, password=TEST_PASSWORD, full_name=email.split("@")[0],
                        territories=territories, account_ids=account_ids, actor="tests")
        else:
            existing.role_name, existing.territories, existing.account_ids = role, territories, account_ids


def _ensure_role(name: str, permissions: list[str]) -> None:
    with db.begin() as session:
        role = session.get(Role, name)
        if role is None:
            session.add(Role(name=name, description="test role", permissions=permissions))
        else:
            role.permissions = permissions


@pytest.fixture(scope="session")
def scope_facts(app) -> ScopeFacts:
    """The territory with the most accounts, and two accounts of other territories."""
    with db.session() as session:
        territory = session.scalar(
            select(Customer360.territory).where(Customer360.territory.is_not(None))
            .group_by(Customer360.territory).order_by(func.count().desc(), Customer360.territory).limit(1))
        inside = frozenset(session.scalars(select(Customer360.account_id).where(Customer360.territory == territory)))
        outside = list(session.scalars(
            select(Customer360.account_id).where(Customer360.territory.is_distinct_from(territory))
            .order_by(Customer360.mrr_usd.desc(), Customer360.account_id).limit(3)))
    assert territory and len(inside) >= 3 and len(outside) == 3
    return ScopeFacts(territory, inside, outside[2], frozenset(outside[:2]))


SCOPED_SALES = "scoped-sales@test.client360.dev"
SCOPED_ACCOUNTS = "scoped-am@test.client360.dev"
SCOPED_EXECUTIVE = "scoped-exec@test.client360.dev"
EXECUTIVE_WITHOUT_FINANCIALS = "exec-nofin@test.client360.dev"


@pytest.fixture(scope="session")
def scoped_users(app, scope_facts: ScopeFacts) -> dict[str, str]:
    """A sales manager with one territory, an account manager with two accounts by name, an
    executive limited to the territory, and an executive whose role lacks view_financials."""
    _ensure_user(SCOPED_SALES, "sales_manager", [scope_facts.territory], [])
    _ensure_user(SCOPED_ACCOUNTS, "account_manager", [], sorted(scope_facts.assigned_accounts))
    _ensure_user(SCOPED_EXECUTIVE, "executive", [scope_facts.territory], [])
    _ensure_role("executive_no_financials", ["view_executive", "view_customer360", "export_data"])
    _ensure_user(EXECUTIVE_WITHOUT_FINANCIALS, "executive_no_financials", [], [])
    return {"sales": SCOPED_SALES, "accounts": SCOPED_ACCOUNTS, "executive": SCOPED_EXECUTIVE,
            "no_financials": EXECUTIVE_WITHOUT_FINANCIALS}


@pytest.fixture()
def login_email(app):
    """login_email('x@test.client360.dev') -> a signed-in test client."""

    def make(email: str):
        client = app.test_client()
        response = login(client, email)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        client.get("/")
        return client

    return make
