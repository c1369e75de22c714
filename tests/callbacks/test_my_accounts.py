"""My accounts' callbacks posted as each role would: the grid and its export hold the same accounts, an
account manager linked to a CRM user sees only their book, money is banded without view_financials,
the server refuses roles without customer views, and the controls write a canonical URL."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select, text

from callbacks import my_accounts as book
from dashboard.extensions import db
from dashboard.tables.app import User
from dashboard.users import update_user
from layouts.my_accounts import ALL_ACCOUNTS, EXPORT_NAME, ID
from tests.dashboard.security.dash_requests import post_callback, response_outputs

ACCOUNTS = f"{ID.ACCOUNTS}.children"
MANAGER_EMAIL = "account_manager@test.client360.dev"


@pytest.fixture(autouse=True)
def bound(app, insights_ran):  # noqa: F811
    return app


@pytest.fixture()
def linked_manager(bound):
    """The test account manager linked to the CRM account manager owning the most active customers, and
    those customers; unlinked again afterwards."""
    with db.begin() as session:
        owner = session.scalar(text("""SELECT owner_user_id FROM gold.customer_360 WHERE status = 'active'
                                       AND owner_user_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"""))
        assert owner is not None
        owned = set(session.scalars(text("SELECT account_id FROM gold.customer_360 WHERE status = 'active' "
                                         "AND owner_user_id = :o"), {"o": owner}))
        user_id = session.scalar(select(User.id).where(User.email == MANAGER_EMAIL))
        update_user(session, user_id, crm_user_id=owner, actor="test")
    yield owned
    with db.begin() as session:
        update_user(session, user_id, crm_user_id="", actor="test")


def _grid_ids(response) -> set[str]:
    assert response.status_code == 200
    return set(re.findall(r'"account_id": "([^"]+)"', json.dumps(response_outputs(response))))


def _state(view: str | None = None, **extra) -> dict:
    return {f"{ID.STATE}.data": {"view": view, **extra}}


def test_the_grid_and_its_export_hold_the_same_accounts(app, login_as):
    client = login_as("executive")
    ids = _grid_ids(post_callback(client, app, ACCOUNTS, _state("at-risk")))
    assert ids
    export = client.get(f"/export/{EXPORT_NAME}.csv?view=at-risk")
    assert export.status_code == 200
    assert f'filename="{EXPORT_NAME}_at_risk.csv"' in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert {r["Account id"] for r in rows} == ids


def test_an_account_manager_sees_only_their_crm_book(app, login_as, linked_manager):
    client = login_as("account_manager")
    ids = _grid_ids(post_callback(client, app, ACCOUNTS, _state()))
    assert ids and ids <= linked_manager
    assert len(ids) == min(len(linked_manager), 500)
    unlinked_view = _grid_ids(post_callback(login_as("executive"), app, ACCOUNTS, _state()))
    assert len(unlinked_view) > len(ids)


def test_an_empty_scope_says_so(app, login_as):
    response = post_callback(login_as("account_manager"), app, ACCOUNTS, _state())
    assert response.status_code == 200
    assert "Nothing in your data scope" in json.dumps(response_outputs(response))


def test_money_is_banded_without_view_financials(app, login_as):
    plain = json.dumps(response_outputs(post_callback(login_as("executive"), app, ACCOUNTS, _state())))
    banded = json.dumps(response_outputs(post_callback(login_as("support_lead"), app, ACCOUNTS, _state())))
    assert re.search(r'"mrr_usd": \d', plain)
    assert not re.search(r'"mrr_usd": \d', banded) and re.search(r'"mrr_usd": "(\$|below)', banded)


def test_roles_without_customer_views_are_refused(app, login_as):
    assert post_callback(login_as("marketing_manager"), app, ACCOUNTS, _state()).status_code == 403
    assert login_as("marketing_manager").get(f"/export/{EXPORT_NAME}.csv").status_code == 403


def test_the_controls_write_a_canonical_url():
    assert book.query_from_controls(ALL_ACCOUNTS, "6", 60).search == ""
    assert book.query_from_controls("at-risk", "3", 60).search == "?view=at-risk"
    assert book.query_from_controls("renewals", "3", 60).search == "?view=renewals&months=3"
    assert book.query_from_controls("no-contact", "6", 30).search == "?view=no-contact&days=30"
    assert book.query_from_controls("bogus", "9", -1).search == ""


def test_the_feedback_panel_shows_the_book_feedback(app, login_as):
    response = post_callback(login_as("executive"), app, f"{ID.FEEDBACK}.children", _state())
    body = json.dumps(response_outputs(response))
    assert response.status_code == 200 and "Recent survey comments" in body and "book-comments" in body
