"""Grid exports: served by the server for a page's query string, recomputed through the page's
own query with the caller's scope and mask, behind view + export_data, audited, and with
every formula-like text cell neutralised in CSV and Excel alike."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from dashboard.export import GRIDS, export_href, to_xlsx
from dashboard.extensions import db
from dashboard.masking import MaskPolicy, to_csv
from dashboard.permissions import VIEW_EXECUTIVE
from dashboard.queries import executive as q
from dashboard.queries.grid import GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.app import AuditEvent, Role
from dashboard.users import create_user
from tests.conftest import TEST_PASSWORD, login

QUERY = "?start=2026-10-01&end=2026-10-31"
FILTERS = q.MorningCoffeeFilters(date(2026, 10, 1), date(2026, 10, 31), scope=DataScope.everything())
HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "plain"]


def _export_count(target: str) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "data_export", AuditEvent.target == target))


def _expected_accounts(policy: MaskPolicy) -> GridRows:
    with db.session() as session:
        return q.top_accounts_grid(session, FILTERS, policy)


def test_export_href_keeps_the_page_query():
    assert export_href("mc-top-accounts", "csv", QUERY) == "/export/mc-top-accounts.csv" + QUERY
    assert set(GRIDS) >= {"mc-campaigns", "mc-top-accounts"}


def test_executive_exports_the_grid_rows_as_csv_with_an_audit_row(login_as):
    client = login_as("executive")
    before = _export_count("export:mc-top-accounts")
    response = client.get("/export/mc-top-accounts.csv" + QUERY)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "mc-top-accounts_2026-10-01_2026-10-31.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    expected = _expected_accounts(MaskPolicy(view_pii=False, view_financials=True))
    assert expected.rows, "the loaded data has accounts to export"
    assert rows[0] == expected.headers
    assert [r[1] for r in rows[1:]] == [r["account_name"] for r in expected.rows]
    assert [float(r[5]) for r in rows[1:]] == [r["mrr_usd"] for r in expected.rows]
    assert _export_count("export:mc-top-accounts") == before + 1


def test_executive_exports_the_campaigns_grid_as_excel(login_as):
    client = login_as("executive")
    before = _export_count("export:mc-campaigns")
    response = client.get("/export/mc-campaigns.xlsx" + QUERY)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    with db.session() as session:
        expected = q.campaign_grid(q.active_campaigns(session, FILTERS).funnel)
    assert expected.rows, "the loaded data has campaigns running"
    assert list(values[0]) == expected.headers
    assert [v[0] for v in values[1:]] == [r["campaign_name"] for r in expected.rows]
    assert [v[2] for v in values[1:]] == [r["sent"] for r in expected.rows]
    assert _export_count("export:mc-campaigns") == before + 1


def test_export_follows_the_region_filter(login_as):
    with db.session() as session:
        region = q.regions(session, DataScope.everything())[0]
        expected = q.top_accounts_grid(session, q.MorningCoffeeFilters(FILTERS.start, FILTERS.end, (region,), scope=DataScope.everything()),
                                       MaskPolicy(view_pii=False, view_financials=True))
    assert expected.rows
    body = login_as("executive").get(f"/export/mc-top-accounts.csv{QUERY}&region={region}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))[1:]
    assert {r[3] for r in rows} == {region}
    assert [r[2] for r in rows] == [r["account_id"] for r in expected.rows]


@pytest.mark.parametrize("role", ["support_lead", "marketing_manager", "sales_manager"])
def test_roles_without_the_page_or_export_permission_are_refused(login_as, role):
    response = login_as(role).get("/export/mc-top-accounts.csv" + QUERY)
    assert response.status_code == 403
    assert "Account" not in response.get_data(as_text=True)


def test_a_role_that_sees_the_page_but_may_not_export_is_refused(app):
    with db.begin() as session:
        if session.get(Role, "executive_viewer") is None:
            session.add(Role(name="executive_viewer", description="Morning Coffee, no exports",
                             permissions=[VIEW_EXECUTIVE]))
    with db.begin() as session:
        create_user(session, email="viewer-no-export@test.client360.dev", role="executive_viewer",
                    password=TEST_PASSWORD, full_name="Viewer")
    client = app.test_client()
    assert login(client, "viewer-no-export@test.client360.dev").status_code == 302
    assert client.get("/executive").status_code == 200
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/export/mc-top-accounts.{fmt}{QUERY}").status_code == 403


def test_anonymous_and_unknown_exports(app, login_as):
    assert app.test_client().get("/export/mc-top-accounts.csv" + QUERY).status_code in (302, 401)
    client = login_as("executive")
    assert client.get("/export/no-such-grid.csv").status_code == 404
    assert client.get("/export/mc-top-accounts.pdf").status_code == 404


def test_masked_export_shows_bands_without_financials(app):
    expected = _expected_accounts(MaskPolicy(view_pii=False, view_financials=False))
    assert expected.rows and all(isinstance(r["mrr_usd"], str) and "$" in r["mrr_usd"] for r in expected.rows)
    with db.session() as session:
        exported = GRIDS["mc-top-accounts"].rows(session, {"start": ["2026-10-01"], "end": ["2026-10-31"]},
                                                 DataScope.everything(),
                                                 MaskPolicy(view_pii=False, view_financials=False))
    assert exported.rows == expected.rows


def _hostile_grid() -> GridRows:
    columns = (GridColumn("account_name", "=Name"), GridColumn("mrr_usd", "MRR", "usd"))
    return GridRows(columns, [{"account_name": text, "mrr_usd": -5.0} for text in HOSTILE], "account_name")


def test_formulas_are_neutralised_in_csv_and_excel():
    grid = _hostile_grid()
    rows = list(csv.reader(io.StringIO(to_csv(grid.headers, grid.records_by_header()))))
    assert rows[0] == ["'=Name", "MRR"]
    assert [r[0] for r in rows[1:]] == ["'" + t if t != "plain" else t for t in HOSTILE]
    assert all(r[1] == "-5.0" for r in rows[1:])  # numbers stay numbers
    sheet = load_workbook(io.BytesIO(to_xlsx(grid))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("'=Name", "MRR")
    assert [v[0] for v in values[1:]] == ["'" + t if t != "plain" else t for t in HOSTILE]
    assert all(v[1] == -5.0 for v in values[1:])


@pytest.mark.parametrize(("grid", "query"), [("sq-queue", "?queue=open"), ("sq-breaches", "?period=90"),
                                             ("sq-agents", ""), ("si-repeat", "?days=90"), ("si-vip", "")])
def test_support_grids_export_what_the_page_shows_with_text_masked(login_as, grid, query):
    """An executive (support pages, exports, no personal data) gets the grid's rows for the same URL
    state; a support lead, who may open the pages but not export, is refused."""
    from urllib.parse import parse_qs

    response = login_as("executive").get(f"/export/{grid}.csv{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    with db.session() as session:
        expected = GRIDS[grid].rows(session, parse_qs(query.lstrip("?")), DataScope.everything(),
                                    MaskPolicy(view_pii=False, view_financials=True))
    assert expected.rows, f"the loaded data fills {grid}"
    assert rows[0] == expected.headers and len(rows) == len(expected.rows) + 1
    assert "@" not in response.get_data(as_text=True)  # no email survives in a subject or message
    assert login_as("support_lead").get(f"/export/{grid}.csv{query}").status_code == 403
