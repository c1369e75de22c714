"""Row-level security: scoped users see only their territories and accounts on every page,
filter, chart, table, export and API response; an out-of-scope account id is a 404."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import text

from dashboard.extensions import db
from dashboard.queries.executive import PageQuery
from dashboard.scope import DataScope, scope_for
from layouts import components as c
from layouts.morning_coffee import MorningCoffeeIds as MC
from tests.dashboard.security.dash_requests import (
    find_component,
    page_layout,
    post_callback,
    response_outputs,
)

START, END = "2026-10-01", "2026-10-31"


def _mc_values(regions: list[str] | None = None) -> dict[str, object]:
    """The page's state store as the URL fills it: the panels read nothing else."""
    return {f"{MC.STATE}.data": PageQuery(START, END, tuple(regions or ())).as_state()}


def _territory_figures(territory: str, day: str) -> tuple[int, float]:
    """Active customers and MRR of a territory on a day, straight from the territory table."""
    with db.session() as session:
        customers, mrr = session.execute(text(
            "SELECT coalesce(sum(active_customers), 0), coalesce(sum(mrr_usd), 0) "
            "FROM gold.daily_kpi_territory WHERE territory = :t AND day = :d"), {"t": territory, "d": day}).one()
    return int(customers), float(mrr)


def _territory_regions(territory: str) -> set[str]:
    with db.session() as session:
        return set(session.scalars(text("SELECT DISTINCT region FROM gold.daily_kpi_territory WHERE territory = :t "
                                        "UNION SELECT DISTINCT region FROM gold.customer_360 WHERE territory = :t"),
                                   {"t": territory}))


# --- The rule itself ---------------------------------------------------------------------


@pytest.mark.parametrize(("role", "territories", "accounts", "expected"), [
    ("sales_manager", [], [], DataScope.nothing()),
    ("account_manager", None, None, DataScope.nothing()),
    ("executive", [], [], DataScope.everything()),
    ("support_lead", [], [], DataScope.everything()),
    ("executive", ["West"], [], DataScope.restricted_to(["West"])),
    ("account_manager", [], ["A-1", ""], DataScope.restricted_to([], ["A-1"])),
])
def test_scope_rule(role, territories, accounts, expected):
    assert scope_for(role, territories, accounts) == expected


# --- API and exports -----------------------------------------------------------------------


def test_territory_sales_manager_lists_only_their_territory(login_email, scoped_users, scope_facts):
    client = login_email(scoped_users["sales"])
    body = client.get("/api/v1/accounts?per_page=200").get_json()
    assert body["total"] == len(scope_facts.territory_accounts)
    seen = {row["account_id"] for row in body["accounts"]}
    assert seen == set(scope_facts.territory_accounts) if body["total"] <= 200 else seen < scope_facts.territory_accounts
    assert {row["territory"] for row in body["accounts"]} == {scope_facts.territory}
    # A territory filter for another territory finds nothing rather than widening the scope.
    other = client.get("/api/v1/accounts", query_string={"territory": "Nowhere"}).get_json()
    assert other["total"] == 0


def test_account_manager_lists_only_assigned_accounts(login_email, scoped_users, scope_facts):
    client = login_email(scoped_users["accounts"])
    body = client.get("/api/v1/accounts?per_page=200").get_json()
    assert {row["account_id"] for row in body["accounts"]} == set(scope_facts.assigned_accounts)


def test_out_of_scope_account_is_a_404_like_an_unknown_one(login_email, scoped_users, scope_facts):
    client = login_email(scoped_users["sales"])
    inside = sorted(scope_facts.territory_accounts)[0]
    assert client.get(f"/api/v1/accounts/{inside}").status_code == 200
    outside = client.get(f"/api/v1/accounts/{scope_facts.other_account}")
    unknown = client.get("/api/v1/accounts/NO-SUCH-ACCOUNT")
    assert outside.status_code == unknown.status_code == 404
    assert outside.get_data() == unknown.get_data()
    manager = login_email(scoped_users["accounts"])
    assigned = sorted(scope_facts.assigned_accounts)[0]
    assert manager.get(f"/api/v1/accounts/{assigned}").status_code == 200
    assert manager.get(f"/api/v1/accounts/{inside}").status_code == 404


def test_export_holds_only_rows_in_scope(login_email, scoped_users, scope_facts):
    client = login_email(scoped_users["sales"])
    response = client.get("/api/v1/exports/accounts.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["account_id"] for r in rows} == set(scope_facts.territory_accounts)
    assert {r["territory"] for r in rows} == {scope_facts.territory}


def test_engagement_radar_exports_hold_only_the_sales_manager_s_territory(login_email, scoped_users, scope_facts,
                                                                          scored):
    client = login_email(scoped_users["sales"])
    with db.session() as session:
        names = dict(session.execute(text("SELECT account_id, account_name FROM gold.account_book")).all())
    allowed = {names[a] for a in scope_facts.territory_accounts}
    for grid in ("eg-accounts", "eg-contacts", "eg-campaign-list"):
        response = client.get(f"/export/{grid}.csv")
        assert response.status_code == 200, grid
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert rows and {r["Account"] for r in rows} <= allowed, grid


def test_unassigned_sales_manager_sees_nothing(login_as):
    client = login_as("sales_manager")
    assert client.get("/api/v1/accounts").get_json()["total"] == 0
    export = client.get("/api/v1/exports/accounts.csv").get_data(as_text=True)
    assert export.count("\r\n") == 1  # the header only
    assert client.get("/api/v1/scope").get_json() == {"unrestricted": False, "territories": [], "account_ids": []}


# --- Morning Coffee for a territory-scoped executive -------------------------------------


def test_scoped_executive_region_filter_offers_only_their_regions(login_email, scoped_users, scope_facts, app):
    client = login_email(scoped_users["executive"])
    body = page_layout(client, app, "/executive").get_json()
    dropdown = find_component(body, MC.REGIONS)
    offered = {option["value"] for option in dropdown["props"]["options"]}
    assert offered and offered <= _territory_regions(scope_facts.territory)
    with db.session() as session:
        every_region = set(session.scalars(text("SELECT DISTINCT region FROM gold.daily_kpi")))
    assert offered < every_region


def test_scoped_executive_kpis_come_from_their_territory_only(login_email, scoped_users, scope_facts, app):
    client = login_email(scoped_users["executive"])
    response = post_callback(client, app, f"{MC.KPI_CUSTOMERS}.children", _mc_values())
    assert response.status_code == 200
    outputs = response_outputs(response)
    customers, mrr = _territory_figures(scope_facts.territory, END)
    assert c.format_count(customers) in json.dumps(outputs[f"{MC.KPI_CUSTOMERS}.children"])
    assert c.format_usd(mrr) in json.dumps(outputs[f"{MC.KPI_MRR}.children"])
    # Leads and support exist per region only: not shown rather than shown company-wide.
    assert "Not shown" in json.dumps(outputs[f"{MC.KPI_LEADS}.children"])
    assert "Not shown" in json.dumps(outputs[f"{MC.KPI_EFFICIENCY}.children"])


def test_scoped_executive_top_accounts_are_in_scope(login_email, scoped_users, scope_facts, app):
    client = login_email(scoped_users["executive"])
    response = post_callback(client, app, f"{MC.TOP_ACCOUNTS}.children", _mc_values())
    outputs = json.dumps(response_outputs(response))
    with db.session() as session:
        names = dict(session.execute(text("SELECT account_id, account_name FROM gold.customer_360")).all())
    shown = {account_id for account_id in names if f'"account_id": "{account_id}"' in outputs}
    assert shown and shown <= scope_facts.territory_accounts


def test_out_of_scope_region_in_a_hand_crafted_callback_is_ignored(login_email, scoped_users, scope_facts, app):
    client = login_email(scoped_users["executive"])
    with db.session() as session:
        every_region = set(session.scalars(text("SELECT DISTINCT region FROM gold.daily_kpi")))
    outside = sorted(every_region - _territory_regions(scope_facts.territory))
    assert outside, "the territory should not span every region"
    response = post_callback(client, app, f"{MC.KPI_CUSTOMERS}.children", _mc_values(outside[:1]))
    outputs = json.dumps(response_outputs(response))
    assert "Ignored 1 unknown region value" in outputs
    assert outside[0] not in json.dumps(response_outputs(response)[f"{MC.PERIOD_LABEL}.children"])


def test_scoped_executive_api_kpis_are_scoped(login_email, scoped_users, scope_facts):
    client = login_email(scoped_users["executive"])
    body = client.get("/api/v1/kpis/morning-coffee", query_string={"start": START, "end": END}).get_json()
    customers, mrr = _territory_figures(scope_facts.territory, END)
    assert body["scoped"] is True and body["end"] == date.fromisoformat(END).isoformat()
    assert body["kpis"]["active_customers"] == customers
    assert body["kpis"]["mrr_usd"] == pytest.approx(mrr, abs=0.01)
    assert body["kpis"]["new_leads"] is None
    assert {row["account_id"] for row in body["top_accounts"]} <= scope_facts.territory_accounts



def test_an_api_token_carries_its_user_scope(app, scoped_users, scope_facts):
    from sqlalchemy import select

    from dashboard.tables.app import User
    from dashboard.tokens import create_token

    with db.begin() as session:
        user_id = session.scalar(select(User.id).where(User.email == scoped_users["sales"]))
        _token, raw = create_token(session, user_id, name="scope test", actor="tests")
    client = app.test_client()  # no session cookie: the token alone
    headers = {"Authorization": f"Bearer {raw}"}
    body = client.get("/api/v1/accounts?per_page=200", headers=headers).get_json()
    assert body["total"] == len(scope_facts.territory_accounts)
    assert {row["territory"] for row in body["accounts"]} == {scope_facts.territory}
    assert client.get(f"/api/v1/accounts/{scope_facts.other_account}", headers=headers).status_code == 404
    rows = list(csv.DictReader(io.StringIO(
        client.get("/api/v1/exports/accounts.csv", headers=headers).get_data(as_text=True))))
    assert {r["territory"] for r in rows} == {scope_facts.territory}


def test_leads_and_buyers_show_a_territory_sales_manager_only_their_territory(login_email, scoped_users, scope_facts,
                                                                               leads_scored):
    """The Leads and buyers callbacks and exports: leads by their owner's territory, customers by theirs."""
    from layouts.sales_leads import LeadsIds as SL

    client = login_email(scoped_users["sales"])
    with db.session() as session:
        lead_territories = {t for (t,) in session.execute(text("SELECT DISTINCT territory FROM gold.lead_score"))}
        outside_leads = {lead for (lead,) in session.execute(text(
            "SELECT lead_id FROM gold.lead_score WHERE territory IS DISTINCT FROM :t"), {"t": scope_facts.territory})}
    assert len(lead_territories) > 1 and outside_leads
    for output in (SL.LEADS, SL.REPEAT, SL.DECLINE):
        response = post_callback(client, client.application, f"{output}.children", {f"{SL.STATE}.data": {}})
        assert response.status_code == 200
        body = json.dumps(response_outputs(response))
        assert not any(lead in body for lead in outside_leads), output
        assert scope_facts.other_account not in body, output
    for grid, key in (("ld-leads", "Territory"), ("ld-repeat", "Territory"), ("ld-decline", "Territory")):
        exported = client.get(f"/export/{grid}.csv")
        assert exported.status_code == 200, grid
        rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
        assert {r[key] for r in rows} <= {scope_facts.territory}, grid
