"""Books of business: a sales or account manager linked to their CRM user sees exactly that
user's customers (account manager) or region (sales manager) plus what an admin assigns; an
unlinked one sees nothing; other roles are unchanged. Linking is validated and audited from the
admin Users page and the CLI, and My account says the scope in words."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, select

from dashboard import audit
from dashboard.cli import main
from dashboard.extensions import db
from dashboard.scope import DataScope, scope_for_user_id
from dashboard.tables.app import AuditEvent, User
from dashboard.tables.gold import Customer360
from dashboard.tables.silver import User as CrmUser
from dashboard.users import UserError, create_user, update_user
from layouts.admin_users import ID
from tests.conftest import TEST_PASSWORD
from tests.dashboard.security.dash_requests import find_component, page_layout, post_callback

BOOK_AM = "book-am@test.client360.dev"
BOOK_SALES = "book-sales@test.client360.dev"
BOOK_EXEC = "book-exec@test.client360.dev"
UNLINKED_AM = "book-unlinked-am@test.client360.dev"


@dataclass(frozen=True)
class Books:
    """A CRM account manager and their customers, a CRM sales manager and their region's territories."""

    account_manager: str
    owned: frozenset[str]
    assigned: frozenset[str]  # two customers the account manager does not own
    sales_manager: str
    region: str
    region_territories: frozenset[str]


def _ensure(email: str, role: str, *, crm_user_id: str | None = None, account_ids: list[str] | None = None) -> int:
    with db.begin() as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(session, email=email, role=role, password=TEST_PASSWORD, crm_user_id=crm_user_id,
                               account_ids=account_ids or [], actor="tests").user
        else:
            update_user(session, user.id, role=role, crm_user_id=crm_user_id or "", account_ids=account_ids or [],
                        territories=[], actor="tests")
        return user.id


@pytest.fixture(scope="module")
def books(app) -> Books:
    with db.session() as session:
        book = func.count(Customer360.account_id)
        manager, _ = session.execute(
            select(CrmUser.user_id, book).join(Customer360, Customer360.owner_user_id == CrmUser.user_id)
            .where(CrmUser.role == "account_manager").group_by(CrmUser.user_id)
            .order_by(book.desc(), CrmUser.user_id).limit(1)).one()
        owned = frozenset(session.scalars(select(Customer360.account_id)
                                          .where(Customer360.owner_user_id == manager)))
        others = list(session.scalars(select(Customer360.account_id)
                                      .where(Customer360.owner_user_id.is_distinct_from(manager))
                                      .order_by(Customer360.account_id).limit(2)))
        sales, region = session.execute(select(CrmUser.user_id, CrmUser.region)
                                        .where(CrmUser.role == "sales_manager")
                                        .order_by(CrmUser.region, CrmUser.user_id).limit(1)).one()
        territories = frozenset(session.scalars(select(Customer360.territory).distinct()
                                                .where(Customer360.region == region,
                                                       Customer360.territory.is_not(None))))
    assert len(owned) >= 3 and len(others) == 2 and territories
    return Books(manager, owned, frozenset(others), sales, region, territories)


@pytest.fixture(scope="module")
def book_users(app, books: Books) -> dict[str, int]:
    return {
        "am": _ensure(BOOK_AM, "account_manager", crm_user_id=books.account_manager,
                      account_ids=sorted(books.assigned)),
        "sales": _ensure(BOOK_SALES, "sales_manager", crm_user_id=books.sales_manager),
        "exec": _ensure(BOOK_EXEC, "executive", crm_user_id=books.account_manager),
        "unlinked": _ensure(UNLINKED_AM, "account_manager"),
    }


def _scope(user_id: int) -> DataScope:
    with db.session() as session:
        return scope_for_user_id(session, user_id)


# --- The scope -----------------------------------------------------------------------------


def test_account_manager_sees_exactly_their_crm_customers_plus_assigned(books, book_users, login_email):
    scope = _scope(book_users["am"])
    assert scope == DataScope.restricted_to([], books.owned | books.assigned)
    client = login_email(BOOK_AM)
    listed = client.get("/api/v1/accounts?per_page=200").get_json()
    assert listed["total"] == len(books.owned | books.assigned)
    assert {row["account_id"] for row in listed["accounts"]} == books.owned | books.assigned
    with db.session() as session:  # a customer neither owned nor assigned is a 404
        stranger = session.scalar(select(Customer360.account_id).where(
            Customer360.account_id.not_in(sorted(books.owned | books.assigned))).limit(1))
    assert stranger and client.get(f"/api/v1/accounts/{stranger}").status_code == 404


def test_sales_manager_sees_exactly_their_region_territories(books, book_users, login_email):
    scope = _scope(book_users["sales"])
    assert scope == DataScope.restricted_to(books.region_territories)
    client = login_email(BOOK_SALES)
    body = client.get("/api/v1/scope").get_json()
    assert body == {"unrestricted": False, "territories": sorted(books.region_territories), "account_ids": []}
    with db.session() as session:
        in_region = session.scalar(select(func.count()).select_from(Customer360)
                                   .where(Customer360.territory.in_(sorted(books.region_territories))))
    assert in_region and client.get("/api/v1/accounts").get_json()["total"] == in_region


def test_unlinked_scoped_user_sees_nothing_and_other_roles_ignore_a_link(book_users, login_email):
    assert _scope(book_users["unlinked"]).sees_nothing
    assert login_email(UNLINKED_AM).get("/api/v1/accounts").get_json()["total"] == 0
    assert _scope(book_users["exec"]) == DataScope.everything()


def test_scope_is_one_query(book_users):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with db.session() as session:
        session.connection()  # connect first: only the scope's own statements are counted
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            for user_id in book_users.values():
                scope_for_user_id(session, user_id)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == len(book_users)


# --- Linking -------------------------------------------------------------------------------


def _audit_since(since: int) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.id > since).order_by(AuditEvent.id)))


def _last_audit_id() -> int:
    with db.session() as session:
        return session.scalar(select(func.max(AuditEvent.id))) or 0


def test_link_refuses_unknown_crm_user(book_users):
    with db.begin() as session, pytest.raises(UserError, match="No CRM user 'NO-SUCH-USER'"):
        update_user(session, book_users["unlinked"], crm_user_id="NO-SUCH-USER", actor="tests")


def test_admin_users_page_links_validates_and_audits(app, login_as, books):
    user_id = _ensure("book-page@test.client360.dev", "account_manager")
    admin = login_as("admin")
    page = page_layout(admin, app, "/admin/users").get_json()
    offered = {o["value"] for o in find_component(page, ID.EDIT_CRM_USER)["props"]["options"]}
    assert books.account_manager in offered and books.sales_manager in offered

    def save(crm_user: str | None):
        return post_callback(admin, app, f"{ID.ACTION_RESULT}.children", {
            f"{ID.SAVE}.n_clicks": 1, f"{ID.USER}.value": user_id, f"{ID.EDIT_ROLE}.value": "account_manager",
            f"{ID.EDIT_TERRITORIES}.value": [], f"{ID.EDIT_ACCOUNTS}.value": [],
            f"{ID.EDIT_CRM_USER}.value": crm_user}, changed=f"{ID.SAVE}.n_clicks")

    since = _last_audit_id()
    refused = save("U-DOES-NOT-EXIST")
    assert refused.status_code == 200 and "No CRM user 'U-DOES-NOT-EXIST'" in refused.get_data(as_text=True)
    assert _scope(user_id).sees_nothing and not _audit_since(since)

    assert "Saved" in save(books.account_manager).get_data(as_text=True)
    assert _scope(user_id).account_ids == books.owned
    [event_] = [e for e in _audit_since(since) if e.action == audit.USER_UPDATED]
    assert event_.actor == "admin@test.client360.dev"
    assert event_.detail["crm_user_id"] == {"from": None, "to": books.account_manager}

    # The form loads the link back, and clearing the choice unlinks.
    loaded = post_callback(admin, app, f"{ID.EDIT_CRM_USER}.value", {f"{ID.USER}.value": user_id})
    assert books.account_manager in loaded.get_data(as_text=True)
    save(None)
    assert _scope(user_id).sees_nothing


def test_cli_add_and_link(app, database_url, books, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", "--email", "book-cli@test.client360.dev", "--role", "sales_manager",
                                 "--password", TEST_PASSWORD, "--crm-user", books.sales_manager])
    assert added.exit_code == 0, added.output
    linked = runner.invoke(main, ["users", "link", "--email", "book-cli@test.client360.dev",
                                  "--crm-user", books.account_manager])
    assert linked.exit_code == 0, linked.output
    assert f"linked to CRM user {books.account_manager}" in linked.output
    with db.session() as session:
        user = session.scalar(select(User).where(User.email == "book-cli@test.client360.dev"))
    assert user.crm_user_id == books.account_manager
    refused = runner.invoke(main, ["users", "link", "--email", "book-cli@test.client360.dev", "--crm-user", "nobody"])
    assert refused.exit_code != 0 and "No CRM user 'nobody'" in refused.output
    unlinked = runner.invoke(main, ["users", "link", "--email", "book-cli@test.client360.dev", "--unlink"])
    assert unlinked.exit_code == 0 and "no longer linked" in unlinked.output
    listed = runner.invoke(main, ["users", "crm", "--role", "account_manager"])
    assert listed.exit_code == 0 and books.account_manager in listed.output


# --- My account ----------------------------------------------------------------------------


def _scope_text(client, app) -> str:
    return find_component(page_layout(client, app, "/account").get_json(), "account-scope")["props"]["children"]


def test_my_account_states_the_real_scope(app, books, book_users, login_email, login_as):
    owned = len(books.owned)
    assert _scope_text(login_email(BOOK_AM), app) == (
        f"{owned:,} account{'s' if owned != 1 else ''} you own in the CRM, plus 2 assigned")
    assert _scope_text(login_email(BOOK_SALES), app) == (
        f"Region {books.region}: territories {', '.join(sorted(books.region_territories))}")
    unlinked = _scope_text(login_email(UNLINKED_AM), app)
    assert unlinked.startswith("Nothing yet") and "all territories" not in unlinked.lower()
    assert _scope_text(login_as("executive"), app) == "All territories and accounts"
