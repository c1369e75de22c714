"""The Customer 360 endpoints of the data API: /customers (search), /customers/{id} (the 360 view),
/customers/{id}/timeline and POST /actions/{id}/execute|schedule.

Each answer is checked against its OpenAPI schema and against what the page's query function returns
for the same caller (scope and MaskPolicy), on the scored demo data; then 401/403/404/400/409, masking
(support_lead sees money as bands, an executive sees emails masked), CSRF, audit and the timeline.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.queries import account_journey as journey
from dashboard.queries import customer360 as c360
from dashboard.queries import search
from dashboard.queries.accounts import list_accounts
from dashboard.scope import DataScope
from dashboard.tables.app import AuditEvent
from dashboard.tables.intelligence import NextBestAction
from tests.dashboard.api.api_support import (
    API,
    ApiFacts,
    assert_error,
    bearer,
    role_email,
    session_csrf_token,
    success_schema,
    token_for,
    validate,
)

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
BANDS = MaskPolicy(view_pii=True, view_financials=False)  # support_lead
NO_PII = MaskPolicy(view_pii=False, view_financials=True)  # executive
# A customer every panel has something to say about: money, tickets, an open action, contacts
# with emails, and more than one regional account when there is one.
PICK_ACCOUNT = """
    SELECT c.account_id FROM gold.customer_360 c
    WHERE c.mrr_usd > 0 AND c.open_tickets > 0
      AND EXISTS (SELECT 1 FROM gold.next_best_action n WHERE n.customer_id = c.account_id AND n.status = 'open')
      AND EXISTS (SELECT 1 FROM silver.contacts t WHERE t.account_id = ANY(c.regional_account_ids)
                  AND t.email IS NOT NULL)
    ORDER BY cardinality(c.regional_account_ids) DESC, c.mrr_usd DESC, c.account_id LIMIT 1
"""
VIEW = "/customers/{account_id}"
TIMELINE = "/customers/{account_id}/timeline"


@pytest.fixture(scope="module")
def rich_account(app, scored) -> str:  # noqa: F811
    with db.session() as session:
        account_id = session.scalar(text(PICK_ACCOUNT))
    assert account_id, "no customer with MRR, tickets, an open action and contacts"
    return account_id


@pytest.fixture(scope="module")
def tokens(app) -> dict[str, str]:
    return {role: token_for(role_email(role), f"c360 api {role}")
            for role in ("admin", "executive", "support_lead", "billing", "marketing_manager")}


def _get(app, token: str, path: str, **query):
    return app.test_client().get(API + path, query_string=query, headers=bearer(token))


def _view(app, document, token: str, account_id: str) -> dict:
    response = _get(app, token, f"/customers/{account_id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_json()
    validate(document, success_schema(document, VIEW, "get"), body)
    return body


def _money(amount, band):
    return band if band is not None else (None if amount is None else pytest.approx(float(amount)))


def _series(values) -> list:
    return [None if v is None else pytest.approx(v) for v in values]


def _assert_view_is_the_pages(body: dict, account_id: str, policy: MaskPolicy) -> None:
    """Every figure of the answer equals the overview and people pages' query functions' for `policy`."""
    with db.session() as session:
        header = c360.account_header(session, account_id, EVERYTHING, policy)
        kpis = c360.account_kpis(session, account_id, EVERYTHING, policy)
        risk = c360.risk_panel(session, account_id, EVERYTHING)
        alerts = c360.risk_alerts(session, account_id, EVERYTHING)
        actions = c360.next_best_actions(session, account_id, EVERYTHING, policy)
        linked = journey.linked_accounts(session, account_id, EVERYTHING)
        contacts = journey.account_contacts(session, account_id, EVERYTHING, policy)
    assert header and kpis and risk and actions and contacts
    head = body["header"]
    assert (head["account_id"], head["account_name"], head["risk_level"], head["segment"]) == (
        header.account_id, header.account_name, header.risk_level, header.segment)
    assert head["regional_account_ids"] == list(header.regional_account_ids)
    assert head["annual_revenue_usd"] == _money(header.annual_revenue_usd, header.annual_revenue_band)
    assert head["yoy_growth_pct"] == (None if header.yoy_growth_pct is None else pytest.approx(header.yoy_growth_pct))

    assert body["kpis"]["as_of"] == kpis.as_of.isoformat()
    assert body["kpis"]["months"] == [m.isoformat() for m in kpis.months] and len(kpis.months) == c360.MONTHS
    assert set(body["kpis"]["cards"]) == set(kpis.kpis)
    for key, card in kpis.kpis.items():
        answered = body["kpis"]["cards"][key]
        assert answered["value"] == _money(card.value, card.band), key
        assert answered["series"] == _series(card.series), key
        assert (answered["value_format"], answered["note"]) == (card.value_format, card.note), key

    assert body["risk"]["churn_score"] == pytest.approx(risk.churn_score)
    assert [f["label"] for f in body["risk"]["factors"]] == [f.label for f in risk.factors] and risk.factors
    assert body["risk"]["health_parts"] == pytest.approx(risk.health_parts) and risk.health_parts
    assert body["risk"]["usage_trend"] == risk.usage_trend
    assert body["open_alerts"] == len(alerts)

    assert [a["action_id"] for a in body["actions"]] == [a.action_id for a in actions]
    assert [a["impact_usd"] for a in body["actions"]] == [_money(a.impact_usd, a.impact_band) for a in actions]
    assert [a["account_id"] for a in body["linked_accounts"]] == [a.account_id for a in linked.accounts]
    assert [(c["contact_id"], c["email"], c["phone"]) for c in body["contacts"]] == [
        (c.contact_id, c.email, c.phone) for c in contacts]


# --- GET /customers/{id} ------------------------------------------------------------------------


def test_the_360_view_holds_the_pages_figures(app, document, tokens, rich_account):
    body = _view(app, document, tokens["admin"], rich_account)
    _assert_view_is_the_pages(body, rich_account, FULL)
    assert isinstance(body["kpis"]["cards"]["mrr_usd"]["value"], float)
    assert any("@" in c["email"] and "***" not in c["email"] for c in body["contacts"] if c["email"])


def test_support_lead_sees_money_as_bands(app, document, tokens, rich_account):
    body = _view(app, document, tokens["support_lead"], rich_account)
    _assert_view_is_the_pages(body, rich_account, BANDS)
    mrr = body["kpis"]["cards"]["mrr_usd"]
    assert isinstance(mrr["value"], str) and mrr["value"].startswith("$") and mrr["series"] == []
    assert isinstance(body["header"]["annual_revenue_usd"], str) and body["header"]["yoy_growth_pct"] is None
    assert all(isinstance(a["impact_usd"], str) for a in body["actions"] if a["impact_usd"] is not None)
    assert body["kpis"]["clv"] is None or body["kpis"]["clv"]["projected_12m_usd"] is None


def test_a_role_without_view_pii_sees_contacts_masked(app, document, tokens, rich_account):
    body = _view(app, document, tokens["executive"], rich_account)
    _assert_view_is_the_pages(body, rich_account, NO_PII)
    emails = [c["email"] for c in body["contacts"] if c["email"]]
    assert emails and all("***@" in email for email in emails)


def test_the_360_view_refuses_as_documented(app, tokens, scoped_users, api_facts: ApiFacts):
    assert_error(app.test_client().get(f"{API}/customers/{api_facts.inside_account}"), 401)
    assert_error(_get(app, tokens["marketing_manager"], f"/customers/{api_facts.inside_account}"), 403)
    sales = token_for(scoped_users["sales"])
    for account in (api_facts.outside_account, "NO-SUCH-ACCOUNT", "x" * 201):
        assert_error(_get(app, sales, f"/customers/{account}"), 404)
        assert_error(_get(app, sales, f"/customers/{account}/timeline"), 404)
    assert _get(app, sales, f"/customers/{api_facts.inside_account}").status_code == 200


# --- GET /customers/{id}/timeline ---------------------------------------------------------------


def test_the_timeline_is_the_journey_pages(app, document, tokens, rich_account):
    response = _get(app, tokens["admin"], f"/customers/{rich_account}/timeline", per_page=5, page=2)
    assert response.status_code == 200
    body = response.get_json()
    validate(document, success_schema(document, TIMELINE, "get"), body)
    with db.session() as session:
        page = journey.account_timeline(session, rich_account, EVERYTHING, FULL, page=2, per_page=5)
    assert page.total > 5, "the customer has too few events to page"
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (page.total, 2, 5, page.pages)
    assert body["counts"] == page.counts and body["start"] == page.start.isoformat() and body["end"] is None
    assert [(e["event_id"], e["title"], e["amount_usd"]) for e in body["events"]] == [
        (i.event_id, i.title, _money(i.amount_usd, i.amount_band)) for i in page.items]


def test_timeline_types_repeat_or_join_with_commas(app, tokens, rich_account):
    with db.session() as session:
        page = journey.account_timeline(session, rich_account, EVERYTHING, FULL, types=["support", "billing"],
                                        per_page=50)
    assert page.items
    expected = [i.event_id for i in page.items]
    url = f"{API}/customers/{rich_account}/timeline"
    client = app.test_client()
    for query in ("type=support&type=billing", "type=billing,support", "type=support,billing&per_page=50"):
        body = client.get(f"{url}?{query}&per_page=50", headers=bearer(tokens["admin"])).get_json()
        assert body["types"] == ["support", "billing"] and [e["event_id"] for e in body["events"]] == expected
        assert {e["category"] for e in body["events"]} <= {"support", "billing"}


def test_timeline_dates_bound_the_window(app, tokens, rich_account):
    with db.session() as session:
        as_of = c360.as_of_day(session)
    start, end = as_of - timedelta(days=120), as_of - timedelta(days=30)
    body = _get(app, tokens["admin"], f"/customers/{rich_account}/timeline", start=start.isoformat(),
                end=end.isoformat(), per_page=200).get_json()
    assert body["events"] and (body["start"], body["end"]) == (start.isoformat(), end.isoformat())
    assert all(start.isoformat() <= e["occurred_at"][:10] <= end.isoformat() for e in body["events"])


@pytest.mark.parametrize(("query", "named"), [
    ({"type": "nonsense"}, "type"), ({"type": "support,nonsense"}, "nonsense"), ({"type": "support,"}, "type"),
    ({"start": "2025-02-30"}, "start"), ({"end": "last week"}, "end"), ({"start": "0.0"}, "start"),
    ({"end": "20250101"}, "end"),
    ({"start": "2025-03-01", "end": "2025-02-01"}, "start"),
    ({"per_page": "201"}, "per_page"), ({"per_page": "0"}, "per_page"), ({"page": "0"}, "page"),
])
def test_bad_timeline_parameters_are_400(app, tokens, rich_account, query, named):
    error = assert_error(_get(app, tokens["admin"], f"/customers/{rich_account}/timeline", **query), 400,
                         "invalid_parameter")
    assert named in error["message"]


# --- GET /customers?q= --------------------------------------------------------------------------


def test_customers_search_is_the_navbar_search(app, document, tokens, rich_account):
    with db.session() as session:
        name = session.scalar(text("SELECT account_name FROM gold.customer_360 WHERE account_id = :a"),
                              {"a": rich_account})
        fragment = name.split()[0][:4]
        expected = search.search_accounts(session, fragment, EVERYTHING, FULL, limit=5, offset=5)
    assert expected.total > 5, fragment
    response = _get(app, tokens["admin"], "/customers", q=fragment, per_page=5, page=2)
    body = response.get_json()
    validate(document, success_schema(document, "/customers", "get"), body)
    assert (body["total"], body["page"], body["per_page"]) == (expected.total, 2, 5)
    assert [(c["account_id"], c["matched_kind"], c["matched_term"]) for c in body["customers"]] == [
        (m.account_id, m.matched_kind, m.matched_term) for m in expected.matches]


def test_customers_search_finds_emails_only_with_view_pii(app, tokens, rich_account):
    with db.session() as session:
        email = session.scalar(text("""SELECT t.email FROM silver.contacts t JOIN gold.customer_360 c
                                       ON t.account_id = ANY(c.regional_account_ids)
                                       WHERE c.account_id = :a AND t.email IS NOT NULL ORDER BY t.email LIMIT 1"""),
                               {"a": rich_account})
    found = _get(app, tokens["admin"], "/customers", q=email).get_json()["customers"]
    assert found and found[0]["account_id"] == rich_account and found[0]["matched_kind"] == "email"
    masked = _get(app, tokens["executive"], "/customers", q=email).get_json()["customers"]
    assert all(c["matched_kind"] not in ("email", "phone") for c in masked)


def test_customers_without_q_lists_every_customer_in_scope(app, tokens, scoped_users, scope_facts):
    body = _get(app, tokens["admin"], "/customers", per_page=3).get_json()
    with db.session() as session:
        listed = list_accounts(session, EVERYTHING, per_page=3)
        territory = list_accounts(session, EVERYTHING, territory=scope_facts.territory, per_page=200)
    assert body["total"] == listed.total > 3 and territory.total <= 200
    assert [c["account_id"] for c in body["customers"]] == [r["account_id"] for r in listed.rows]
    assert all(c["matched_kind"] is None for c in body["customers"])
    scoped = _get(app, token_for(scoped_users["sales"]), "/customers", per_page=200).get_json()
    assert {c["account_id"] for c in scoped["customers"]} == {r["account_id"] for r in territory.rows}


def test_customers_search_keeps_to_region_and_scope(app, tokens, scoped_users, scope_facts):
    sales = token_for(scoped_users["sales"])
    outside = _get(app, sales, "/customers", q=scope_facts.other_account).get_json()
    assert outside["total"] == 0 and outside["customers"] == []
    inside = sorted(scope_facts.territory_accounts)[0]
    assert _get(app, sales, "/customers", q=inside).get_json()["customers"][0]["account_id"] == inside
    narrowed = _get(app, tokens["admin"], "/customers", q=inside, territory="no-such-territory").get_json()
    assert narrowed["total"] == 0


# --- POST /actions/{id}/execute and /schedule ----------------------------------------------------


def _audited(action_id: str) -> list[dict]:
    with db.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "action_execution")
                               .order_by(AuditEvent.id)).all()
    return [row.detail for row in rows if row.detail.get("recommendation_id") == action_id]


def _status(action_id: str) -> str:
    with db.session() as session:
        return session.get(NextBestAction, action_id).status


def test_executing_an_action_is_audited_and_shows_on_the_timeline(app, document, tokens, api_facts: ApiFacts):
    action_id = api_facts.spare_actions[2]
    token = tokens["admin"]
    response = app.test_client().post(f"{API}/actions/{action_id}/execute", headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_json()
    validate(document, success_schema(document, "/actions/{action_id}/execute", "post"), body)
    assert (body["status"], body["acted_by"], body["impact_usd"]) == ("executed", role_email("admin"),
                                                                       pytest.approx(12345.67))
    assert _status(action_id) == "executed" and [d["action"] for d in _audited(action_id)] == ["executed"]
    timeline = _get(app, tokens["admin"], f"/customers/{api_facts.inside_account}/timeline", type="action",
                    per_page=200).get_json()
    ours = [e for e in timeline["events"] if e["title"] == f"Action taken: Call the customer ({action_id})"]
    assert len(ours) == 1 and ours[0]["category"] == "action" and ours[0]["status"] == "RESOLVED"
    # Closed now: acting again is a conflict, and nothing more is audited.
    assert_error(app.test_client().post(f"{API}/actions/{action_id}/execute", headers=bearer(token)), 409)
    assert_error(app.test_client().post(f"{API}/actions/{action_id}/schedule", headers=bearer(token),
                                        json={"due_on": date.today().isoformat(), "owner": role_email("admin")}), 409)
    assert len(_audited(action_id)) == 1


def test_scheduling_an_action(app, document, api_facts: ApiFacts):
    action_id = api_facts.spare_actions[3]
    due = date.today() + timedelta(days=7)
    token = token_for(role_email("support_lead"))
    response = app.test_client().post(f"{API}/actions/{action_id}/schedule", headers=bearer(token),
                                      json={"due_on": due.isoformat(), "owner": role_email("admin")})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_json()
    validate(document, success_schema(document, "/actions/{action_id}/schedule", "post"), body)
    assert (body["status"], body["scheduled_for"], body["owner"]) == ("scheduled", due.isoformat(),
                                                                      role_email("admin"))
    assert body["impact_usd"] == "$10k\u2013$50k"  # support_lead: no view_financials
    assert _status(action_id) == "scheduled"
    assert [(d["action"], d["owner"]) for d in _audited(action_id)] == [("scheduled", role_email("admin"))]


@pytest.mark.parametrize("body", [
    None, "not json", [], {}, {"due_on": "2030-01-01"}, {"owner": "admin@test.client360.dev"},
    {"due_on": "someday", "owner": "admin@test.client360.dev"},
    {"due_on": 20300101, "owner": "admin@test.client360.dev"},
    {"due_on": "2030-01-01", "owner": "admin@test.client360.dev", "note": "extra"},
    {"due_on": "2000-01-01", "owner": "admin@test.client360.dev"},  # in the past
    {"due_on": "2030-01-01", "owner": "stranger@example.com"},  # may not act on actions
])
def test_a_bad_schedule_body_is_400(app, api_facts: ApiFacts, body):
    action_id = api_facts.spare_actions[4]
    url = f"{API}/actions/{action_id}/schedule"
    headers = bearer(token_for(role_email("admin")))
    client = app.test_client()
    response = (client.post(url, headers=headers, data=body, content_type="text/plain") if isinstance(body, str)
                else client.post(url, headers=headers, json=body))
    error = assert_error(response, 400, "invalid_parameter")
    assert "body" in error["message"] or "past" in error["message"] or "owner" in error["message"]
    assert _status(action_id) == "open" and _audited(action_id) == []


def test_actions_refuse_as_documented(app, tokens, scoped_users, api_facts: ApiFacts):
    action_id = api_facts.spare_actions[4]
    good = {"due_on": date.today().isoformat(), "owner": role_email("admin")}
    client = app.test_client()
    for tail, body in (("execute", None), ("schedule", good)):
        url = f"{API}/actions/{action_id}/{tail}"
        assert_error(client.post(url, json=body), 401)
        assert_error(client.post(url, json=body, headers=bearer(tokens["billing"])), 403)  # no execute_actions
        assert_error(client.post(f"{API}/actions/no-such-action/{tail}", json=body,
                                 headers=bearer(tokens["admin"])), 404)
        assert_error(client.get(url, headers=bearer(tokens["admin"])), 405)
    # The action's customer is outside the account manager's two assigned accounts.
    outsider = token_for(scoped_users["accounts"])
    assert_error(client.post(f"{API}/actions/{action_id}/execute", headers=bearer(outsider)), 404)
    assert_error(client.post(f"{API}/actions/{action_id}/schedule", json=good, headers=bearer(outsider)), 404)
    assert _status(action_id) == "open" and _audited(action_id) == []


def test_session_posts_need_the_csrf_token(app, login_as, api_facts: ApiFacts):
    action_id = api_facts.spare_actions[5]
    url = f"{API}/actions/{action_id}/execute"
    browser = login_as("support_lead")
    assert_error(browser.post(url), 400, "csrf_failed")
    assert _status(action_id) == "open"
    response = browser.post(url, headers={"X-CSRFToken": session_csrf_token(browser)})
    assert response.status_code == 200 and response.get_json()["status"] == "executed"
