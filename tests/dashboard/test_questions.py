"""The question catalogue: the shipped file is valid, a malformed one is refused with a reason, and
GET /api/v1/questions gives each caller only the entries whose permissions they hold."""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text

from dashboard.extensions import db
from dashboard.permissions import AUTHENTICATED, DEFAULT_ROLES
from dashboard.queries.questions import (
    ACCOUNT_PLACEHOLDER,
    ACCOUNT_TEMPLATE_VARIABLE,
    PUBLIC_FIELDS,
    CatalogueError,
    load_questions,
    matching_questions,
    parse_questions,
    questions_with_accounts,
)
from dashboard.scope import DataScope, scope_for_user_id
from dashboard.tables.app import User
from layouts.pages import HOME, NOT_FOUND, PAGES
from tests.conftest import ROLES
from tests.dashboard.api.api_support import role_email

PAGE_PERMISSIONS = {path: spec.permission for spec in (HOME, NOT_FOUND, *PAGES)
                    for path in (spec.path, spec.path_template) if path}


def _page_of(question) -> str:
    return question.page_path.replace(ACCOUNT_PLACEHOLDER, ACCOUNT_TEMPLATE_VARIABLE)
VALID_ENTRY = {"id": "chairman-2", "persona": "chairman", "question": "Who are our top customers?",
               "url": "/executive?start=2026-10-24", "answer_selector": "#mc-top-accounts",
               "permission": "view_executive"}


@pytest.fixture(scope="module")
def catalogue():
    questions = load_questions(PAGE_PERMISSIONS)
    assert questions, "the catalogue is empty"
    return questions


def test_the_shipped_catalogue_is_valid_and_each_entry_needs_its_pages_permission(catalogue):
    assert len({q.id for q in catalogue}) == len(catalogue)
    for question in catalogue:
        assert question.permission == PAGE_PERMISSIONS[_page_of(question)], question.id
        assert question.answer_selector.startswith("#"), question.id
        assert question.url.startswith(question.page_path)


def test_the_morning_coffee_entries_point_at_its_elements(catalogue):
    assert {q.answer_selector for q in catalogue if q.page_path == "/executive"} >= {
        "#mc-kpi-customers", "#mc-kpi-contacts", "#mc-kpi-leads", "#mc-kpi-efficiency", "#mc-kpi-mrr",
        "#mc-mrr-trend", "#mc-revenue-by-region", "#mc-campaigns"}


def test_the_sales_entries_are_answered_on_the_sales_managers_landing_page(catalogue):
    """The sales persona's pipeline and revenue questions are on /sales, where a sales manager lands:
    no click away (tests/layouts/test_sales.py opens them in a browser)."""
    from dashboard.landing import landing_path

    by_id = {q.id: q for q in catalogue}
    expected = {"sales-1": "#sl-opportunities", "sales-3": "#sl-kpis", "sales-4": "#sl-opportunities",
                "sales-6": "#sl-forecast"}
    for question_id, selector in expected.items():
        assert by_id[question_id].answer_selector == selector, question_id
        assert by_id[question_id].url == landing_path("sales_manager") == "/sales", question_id


def test_the_support_entries_are_answered_on_the_support_leads_pages(catalogue):
    """The operations and service-management questions are on Queues, where a support lead lands, or
    on Operations, one navbar click away (tests/layouts/test_question_catalogue.py opens each)."""
    from dashboard.landing import landing_path

    by_id = {q.id: q for q in catalogue}
    on_queues = {"service-1": "#sq-queue", "service-2": "#sq-speed"}
    on_operations = {"operations-1": "#si-topics", "operations-2": "#si-onboarding", "operations-3": "#si-complaints",
                     "operations-4": "#si-products", "operations-5": "#si-repeat", "service-3": "#si-satisfaction",
                     "service-4": "#si-systemic", "service-5": "#si-vip"}
    for question_id, selector in on_queues.items():
        question = by_id[question_id]
        assert (question.page_path, question.answer_selector) == (landing_path("support_lead"), selector), question_id
    for question_id, selector in on_operations.items():
        question = by_id[question_id]
        assert (question.page_path, question.answer_selector) == ("/support/insights", selector), question_id


def test_the_marketing_entries_are_answered_on_the_marketing_managers_landing_page(catalogue):
    """The marketing persona's questions are on Campaigns, where a marketing manager lands: no click away
    (tests/layouts/test_question_catalogue.py opens each)."""
    from dashboard.landing import landing_path

    by_id = {q.id: q for q in catalogue}
    expected = {"marketing-1": "#cp-funnel", "marketing-2": "#cp-send-time", "marketing-3": "#cp-ab",
                "marketing-4": "#cp-roi", "marketing-5": "#cp-attribution", "marketing-6": "#cp-high-intent"}
    for question_id, selector in expected.items():
        question = by_id[question_id]
        assert (question.page_path, question.answer_selector) == (landing_path("marketing_manager"), selector)
        assert question.persona == "marketing"


def test_the_strategy_entries_point_at_its_panels(catalogue):
    """The chairman's and CEO's questions the Strategy page answers, one click from Morning Coffee
    (the navbar link): the 3-year trend of the top customers is on its concentration panel."""
    by_id = {q.id: q for q in catalogue}
    expected = {"chairman-1": "#st-retention", "chairman-2": "#st-concentration", "chairman-3": "#st-concentration",
                "chairman-4": "#st-segments", "chairman-5": "#st-satisfaction", "ceo-1": "#st-growth", "ceo-3": "#st-churn",
                "ceo-2": "#st-lifetime-value", "ceo-4": "#st-potential", "ceo-5": "#st-satisfaction"}
    for question_id, selector in expected.items():
        question = by_id[question_id]
        assert (question.page_path, question.answer_selector) == ("/executive/strategy", selector), question_id


def _document(*entries: dict) -> dict:
    return {"questions": list(entries)}


def _changed(**changes) -> dict:
    entry = copy.deepcopy(VALID_ENTRY)
    entry.update(changes)
    return entry


@pytest.mark.parametrize(("entry", "reason"), [
    (_changed(permission="view_everything"), "unknown permission"),
    (_changed(also_requires=["view_secrets"]), "unknown permission"),
    (_changed(persona="janitor"), "unknown persona"),
    (_changed(url="/nowhere?x=1"), "not on a registered page"),
    (_changed(url="/executive-extra"), "not on a registered page"),
    (_changed(url="https://evil.example/executive"), "not on a registered page"),
    (_changed(url="/executive/{account}"), "not on a registered page"),  # no page about one customer there
    (_changed(url="/accounts/{account}/journey?q={account}"), "not on a registered page"),
    (_changed(answer_selector=""), "answer_selector must be a non-empty string"),
    ({k: v for k, v in VALID_ENTRY.items() if k != "question"}, "question must be a non-empty string"),
])
def test_a_malformed_entry_is_refused_with_its_reason(entry, reason):
    with pytest.raises(CatalogueError, match=reason):
        parse_questions(_document(entry), PAGE_PERMISSIONS)


def test_ids_must_be_unique_and_the_list_must_exist():
    with pytest.raises(CatalogueError, match="used twice"):
        parse_questions(_document(VALID_ENTRY, _changed(question="Another?")), PAGE_PERMISSIONS)
    with pytest.raises(CatalogueError, match="'questions' list"):
        parse_questions({"entries": []}, PAGE_PERMISSIONS)
    assert parse_questions(_document(VALID_ENTRY), PAGE_PERMISSIONS)[0].url == "/executive?start=2026-10-24"


def _scope_of(email: str) -> DataScope:
    with db.session() as session:
        return scope_for_user_id(session, session.scalar(select(User.id).where(User.email == email)))


def _largest_active_customers(scope: DataScope) -> list[tuple[str, float]]:
    """Every active customer the scope holds with its MRR, read apart from the query under test."""
    with db.session() as session:
        rows = session.execute(text("SELECT account_id, territory, mrr_usd FROM gold.customer_360 "
                                    "WHERE status = 'active'")).all()
    return sorted(((r.account_id, float(r.mrr_usd)) for r in rows
                   if scope.unrestricted or r.territory in scope.territories or r.account_id in scope.account_ids),
                  key=lambda item: (-item[1], item[0]))


def test_a_one_customer_question_links_to_the_callers_largest_customer(app, scoped_users, catalogue):
    one_customer = [q for q in catalogue if q.needs_account]
    assert [q.id for q in one_customer] == ["account-management-1"]
    for email in (scoped_users["accounts"], scoped_users["sales"], role_email("executive")):
        scope = _scope_of(email)
        with db.session() as session:
            resolved = questions_with_accounts(catalogue, session, scope)
        assert [q.id for q in resolved] == [q.id for q in catalogue]
        largest = _largest_active_customers(scope)
        assert largest, email
        (link,) = [q for q in resolved if q.id == "account-management-1"]
        assert urlsplit(link.url).path == f"/accounts/{largest[0][0]}/journey", (email, largest[:3])
    # A caller whose scope holds no customer is not offered the question at all.
    with db.session() as session:
        resolved = questions_with_accounts(catalogue, session, DataScope.nothing())
    assert [q.id for q in resolved] == [q.id for q in catalogue if not q.needs_account]


def test_search_matches_every_word_in_any_order(catalogue):
    found = matching_questions(catalogue, "REVENUE region")
    assert [q.id for q in found] == ["executive-9"]
    assert matching_questions(catalogue, "") == list(catalogue)
    assert matching_questions(catalogue, "no such words anywhere") == []


# --- The API ------------------------------------------------------------------------------


def _role_permissions(role: str) -> frozenset[str]:
    return frozenset(next(r for r in DEFAULT_ROLES if r.name == role).permissions) | {AUTHENTICATED}


@pytest.mark.parametrize("role", ROLES)
def test_the_api_lists_only_the_entries_the_role_may_open(login_as, catalogue, role):
    allowed = [q for q in catalogue if set(q.permissions) <= _role_permissions(role)]
    with db.session() as session:
        expected = [q.public() for q in questions_with_accounts(allowed, session, _scope_of(role_email(role)))]
    assert all(ACCOUNT_PLACEHOLDER not in entry["url"] for entry in expected)
    response = login_as(role).get("/api/v1/questions")
    assert response.status_code == 200
    body = response.get_json()
    assert body == expected
    for entry in body:
        assert sorted(entry) == sorted(PUBLIC_FIELDS)


def test_the_api_gives_executives_every_entry_and_support_only_the_customer_and_support_views(login_as, catalogue):
    assert len(login_as("executive").get("/api/v1/questions").get_json()) == len(catalogue)
    support = {entry["id"] for entry in login_as("support_lead").get("/api/v1/questions").get_json()}
    assert support and support == {q.id for q in catalogue if q.permissions in (("view_customer360",),
                                                                                 ("view_support",))}
    assert {q.id for q in catalogue if q.persona in ("operations", "service")} <= support
    assert not any(question_id.startswith(("executive", "chairman")) for question_id in support)


def test_a_role_without_financials_gets_no_revenue_answer(login_email, scoped_users, catalogue):
    body = login_email(scoped_users["no_financials"]).get("/api/v1/questions").get_json()
    ids = {entry["id"] for entry in body}
    held = {"view_executive", "view_customer360", "export_data"}  # the role of scoped_users["no_financials"]
    assert ids and ids == {q.id for q in catalogue if set(q.permissions) <= held}
    assert not any("view_financials" in q.permissions for q in catalogue if q.id in ids)
    assert "executive-7" not in ids  # MRR


def test_the_api_refuses_anonymous_callers(client):
    response = client.get("/api/v1/questions")
    assert response.status_code == 401
    assert response.get_json() == {"error": {"status": 401, "code": "unauthorized", "message": "authentication required"}}
