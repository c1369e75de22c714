"""PII and financial masking on the server, and formula neutralisation in exports.

Known emails, phone numbers and amounts are read from the loaded data; for roles without
`view_pii` / `view_financials` none of them may appear unmasked in any response body."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import delete, select, text

from dashboard.extensions import db
from dashboard.masking import (
    MaskPolicy,
    amount_band,
    mask_email,
    mask_phone,
    mask_record,
    mask_text,
    neutralise_formula,
    to_csv,
)
from dashboard.tables.gold import Customer360
from layouts.morning_coffee import MorningCoffeeIds as MC
from tests.dashboard.security.dash_requests import post_callback, response_outputs

NOTHING = MaskPolicy(view_pii=False, view_financials=False)
BAND = re.compile(r"^(\$\d+[kM]?\u2013\$\d+[kM]?|\$\d+[kM]?\+|below \$0)$")
# A band inside a JSON body, where the en dash is written as \u2013.
BAND_IN_JSON = re.compile(r"\$\d+[kM]?(\\u2013|\u2013)\$\d+[kM]?|\$\d+[kM]?\+")


# --- Unit rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "masked"), [
    ("john@example.com", "j***@example.com"),
    ("Jane.Doe@Acme.co.za", "J***@Acme.co.za"),
    ("not-an-email", "***"),
    (None, None),
])
def test_mask_email(raw, masked):
    assert mask_email(raw) == masked


@pytest.mark.parametrize(("raw", "masked"), [
    ("+27 82 123 4567", "+27 ** *** 4567"),
    ("+1 (415) 555-0134", "+1 (***) ***-0134"),
    ("082 123 4567", "*** *** 4567"),
    ("4567", "4567"),
])
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(("amount", "band"), [
    (0, "$0\u2013$1k"), (999.99, "$0\u2013$1k"), (12_345.67, "$10k\u2013$50k"), (750_000, "$500k\u2013$1M"),
    (25_000_000, "$10M+"), (-5, "below $0"), (None, None),
])
def test_amount_band(amount, band):
    assert amount_band(amount) == band


def test_mask_record_by_field_name():
    record = {"email": "ann@x.io", "primary_contact_phone": "+44 20 7946 0958", "mrr_usd": 1500,
              "mrr_yoy_growth_pct": 12.5, "account_name": "Acme", "active_contacts": 4}
    assert mask_record(record, NOTHING) == {
        "email": "a***@x.io", "primary_contact_phone": "+44 ** **** 0958", "mrr_usd": "$1k\u2013$10k",
        "mrr_yoy_growth_pct": None, "account_name": "Acme", "active_contacts": 4}
    assert mask_record(record, MaskPolicy(True, True)) == record


def test_mask_text_masks_emails_and_phones_but_not_dates_or_amounts():
    raw = "A-1,jane.doe@x.co.za,+27 82 123 4567,2026-11-23 10:00,12345.67"
    assert mask_text(raw, NOTHING) == "A-1,j***@x.co.za,+27 ** *** 4567,2026-11-23 10:00,12345.67"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")'])
def test_formula_cells_are_neutralised(cell):
    assert neutralise_formula(cell) == "'" + cell
    parsed = next(csv.reader(io.StringIO(to_csv(["name"], [{"name": cell}]).split("\r\n", 1)[1])))
    assert parsed == ["'" + cell]


def test_plain_cells_and_numbers_are_left_alone():
    assert neutralise_formula("Acme") == "Acme" and neutralise_formula(-5) == -5


# --- Known data never leaks ----------------------------------------------------------------


@pytest.fixture(scope="module")
def known_pii(app) -> tuple[set[str], set[str]]:
    """Every email and phone number of every contact in silver."""
    with db.session() as session:
        rows = session.execute(text("SELECT email, phone FROM silver.contacts")).all()
    emails = {e for e, _ in rows if e}
    phones = {p for _, p in rows if p and sum(ch.isdigit() for ch in p) >= 7}
    assert len(emails) > 50 and len(phones) > 50
    return emails, phones


def _leaks(body: str, known: set[str]) -> list[str]:
    return sorted(value for value in known if value in body)


def _api_bodies(client, account_ids: list[str]) -> str:
    parts = [client.get("/api/v1/accounts?per_page=200").get_data(as_text=True)]
    parts += [client.get(f"/api/v1/accounts/{a}").get_data(as_text=True) for a in account_ids]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def contact_accounts(app) -> list[str]:
    """Accounts with contacts that have both an email and a phone."""
    with db.session() as session:
        return list(session.scalars(text(
            "SELECT c360.account_id FROM gold.customer_360 c360 "
            "JOIN silver.account_master am ON am.master_account_id = c360.account_id "
            "JOIN silver.contacts c ON c.account_id = am.account_id "
            "WHERE c.email IS NOT NULL AND c.phone IS NOT NULL "
            "GROUP BY c360.account_id ORDER BY count(*) DESC, c360.account_id LIMIT 5")))


def test_a_role_without_view_pii_never_receives_an_email_or_phone(login_as, known_pii, contact_accounts):
    emails, phones = known_pii
    client = login_as("executive")
    bodies = [client.get("/api/v1/exports/accounts.csv").get_data(as_text=True),
              _api_bodies(client, contact_accounts)]
    detail = client.get(f"/api/v1/accounts/{contact_accounts[0]}").get_json()
    assert detail["contacts"] and all("***" in (ct["email"] or "***") for ct in detail["contacts"])
    body = "\n".join(bodies)
    assert _leaks(body, emails) == [] and _leaks(body, phones) == []
    assert "***@" in body


def test_marketing_may_export_but_not_read_accounts(login_as):
    """Exporting accounts needs view_customer360 as well as export_data."""
    client = login_as("marketing_manager")
    assert client.get("/api/v1/exports/accounts.csv").status_code == 403
    assert client.get("/api/v1/accounts").status_code == 403


def test_a_role_with_view_pii_receives_them(login_as, known_pii, contact_accounts):
    """The same requests as billing (view_pii) show real values: the check above can fail."""
    emails, phones = known_pii
    client = login_as("billing")
    body = _api_bodies(client, contact_accounts) + client.get("/api/v1/exports/accounts.csv").get_data(as_text=True)
    assert _leaks(body, emails) and _leaks(body, phones)


@pytest.fixture(scope="module")
def known_amounts(app) -> list[float]:
    """Exact non-round MRR, ARR and overdue amounts of the accounts."""
    with db.session() as session:
        values = session.execute(select(Customer360.mrr_usd, Customer360.arr_usd, Customer360.overdue_usd)).all()
    amounts = sorted({float(v) for row in values for v in row if v is not None and float(v) % 1 and v > 100})
    assert len(amounts) > 50
    return amounts


def test_role_without_view_financials_gets_bands_in_api_and_export(login_as, known_amounts):
    client = login_as("support_lead")  # view_customer360, no view_financials, no export
    body = client.get("/api/v1/accounts?per_page=200").get_json()
    for row in body["accounts"]:
        for field in ("mrr_usd", "arr_usd", "overdue_usd", "clv_usd"):
            assert row[field] is None or BAND.match(row[field]), (field, row[field])
        assert row["mrr_yoy_growth_pct"] is None
    raw = json.dumps(body)
    assert [a for a in known_amounts if json.dumps(a) in raw] == []


def test_export_without_view_financials_has_no_amounts(login_email, scoped_users, known_amounts):
    client = login_email(scoped_users["no_financials"])
    response = client.get("/api/v1/exports/accounts.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and all(BAND.match(r["mrr_usd"]) for r in rows)
    assert [a for a in known_amounts if f"{a:.2f}" in response.get_data(as_text=True)] == []


def test_morning_coffee_without_view_financials_hides_revenue(login_email, scoped_users, login_as, app):
    values = {f"{MC.DATE_RANGE}.start_date": "2026-10-01", f"{MC.DATE_RANGE}.end_date": "2026-10-31",
              f"{MC.REGIONS}.value": []}
    full = login_as("executive")
    masked = login_email(scoped_users["no_financials"])
    shown: dict[str, str] = {}
    for output in (MC.KPI_MRR, MC.MRR_TREND, MC.TOP_ACCOUNTS):
        executive_view = json.dumps(response_outputs(post_callback(full, app, f"{output}.children", values)))
        response = post_callback(masked, app, f"{output}.children", values)
        assert response.status_code == 200
        shown[output] = json.dumps(response_outputs(response))
        # Every dollar figure the executive sees is absent from the masked response (bands aside).
        figures = set(re.findall(r"\$[\d.,]+[kKM]?", executive_view)) - {"$0"}
        without_bands = BAND_IN_JSON.sub("", shown[output])
        assert figures and [f for f in figures if f in without_bands] == []
    assert "Band" in shown[MC.KPI_MRR] and "Hidden" in shown[MC.MRR_TREND]
    assert "MRR band on" in shown[MC.TOP_ACCOUNTS]
    api = masked.get("/api/v1/kpis/morning-coffee").get_json()
    assert BAND.match(api["kpis"]["mrr_usd"]) and all(BAND.match(r["mrr_usd"]) for r in api["mrr_trend"])


def test_the_engagement_radar_masks_contacts_without_view_pii(login_as, known_pii, app, scored):
    """The contacts grid and the campaign list: masked for the executive (no view_pii), real for an
    administrator, on screen and in the export alike."""
    from layouts.sales_engagement import EngagementIds as EG

    emails, phones = known_pii
    values = {f"{EG.STATE}.data": {"tier": "Potential"}}

    def bodies(client) -> str:
        grid = post_callback(client, app, f"{EG.CONTACTS}.children", values)
        assert grid.status_code == 200
        return "\n".join([json.dumps(response_outputs(grid)),
                          client.get("/export/eg-campaign-list.csv").get_data(as_text=True),
                          client.get("/export/eg-contacts.csv?tier=Potential").get_data(as_text=True)])

    masked = bodies(login_as("executive"))
    assert _leaks(masked, emails) == [] and _leaks(masked, phones) == []
    assert "***@" in masked
    full = bodies(login_as("admin"))
    assert _leaks(full, emails) and _leaks(full, phones)


# --- Formula neutralisation with data in gold ----------------------------------------------

FORMULA_NAME = '=HYPERLINK("http://x","y")'


@pytest.fixture()
def formula_account(app, scope_facts):
    """An account named like a spreadsheet formula, in gold for the duration of one test."""
    account_id = "TEST-FORMULA-1"
    with db.begin() as session:
        session.add(Customer360(account_id=account_id, account_name=FORMULA_NAME, segment="@SMB", region="-West",
                                territory=scope_facts.territory, status="churned", mrr_usd=0, arr_usd=0))
    yield account_id
    with db.begin() as session:
        session.execute(delete(Customer360).where(Customer360.account_id == account_id))


@pytest.mark.parametrize("who", ["admin", "scoped"])
def test_exported_formula_names_are_neutralised(login_as, login_email, scoped_users, formula_account, who):
    client = login_as("admin") if who == "admin" else login_email(scoped_users["sales"])
    response = client.get("/api/v1/exports/accounts.csv", query_string={"search": "HYPERLINK"})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["account_id"] for r in rows] == [formula_account]
    assert rows[0]["account_name"] == "'" + FORMULA_NAME
    assert rows[0]["segment"] == "'@SMB" and rows[0]["region"] == "'-West"
    # JSON is not a spreadsheet: the API returns the name as it is.
    api = client.get(f"/api/v1/accounts/{formula_account}").get_json()
    assert api["account_name"] == FORMULA_NAME


def test_exports_are_audited(login_as):
    from dashboard.tables.app import AuditEvent

    with db.session() as session:
        before = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    login_as("billing").get("/api/v1/exports/accounts.csv", query_string={"region": "Nowhere"})
    with db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.id > before,
                                                          AuditEvent.action == "data_export")).all()
    assert len(events) == 1
    assert events[0].actor == "billing@test.client360.dev" and events[0].target == "accounts.csv"
    assert events[0].detail["rows"] == 0 and events[0].detail["filters"] == {"region": "Nowhere"}


def test_leads_and_buyers_mask_lead_contacts(login_as, leads_scored):
    """The executive (no view_pii) gets masked lead emails and phones, in the callback and the export.
    Amounts without view_financials: tests/dashboard/queries/test_sales_leads.py (no default role has
    view_sales without view_financials)."""
    from layouts.sales_leads import LeadsIds as SL
    from tests.dashboard.security.dash_requests import post_callback, response_outputs

    with db.session() as session:
        emails = [e for (e,) in session.execute(text("SELECT email FROM gold.lead_score WHERE email <> ''"))]
        phones = [p for (p,) in session.execute(text("SELECT phone FROM gold.lead_score WHERE phone <> ''"))]
    client = login_as("executive")
    leads = post_callback(client, client.application, f"{SL.LEADS}.children", {f"{SL.STATE}.data": {}})
    assert leads.status_code == 200
    body = json.dumps(response_outputs(leads)) + client.get("/export/ld-leads.csv").get_data(as_text=True)
    assert "***@" in body
    assert _leaks(body, emails) == [] and _leaks(body, phones) == []
