"""Sales callbacks: the build functions return the page's components, the callbacks answer a sales
manager through Dash's route within their region and refuse roles without view_sales on the server,
money is hidden without view_financials, the controls and clicks write a canonical URL, a click on
a deal opens its account, and the grids export what they show."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from callbacks.sales import (
    build_forecast,
    build_kpis,
    build_members,
    build_opportunities,
    build_pipeline,
    build_reps,
    build_win_loss,
)
from dashboard.extensions import db
from dashboard.formatting import format_usd
from dashboard.masking import MaskPolicy
from dashboard.queries import sales as q
from dashboard.queries.sales import PageQuery
from dashboard.scope import DataScope
from dashboard.tables.app import Role, User
from dashboard.tables.gold import DailyKpi, SalesOpportunity
from dashboard.tables.insights import ForecastSeries
from dashboard.tables.silver import User as CrmUser
from dashboard.users import create_user, update_user
from layouts.kit.relay import relay_id
from layouts.kit.states import NOTHING_IN_SCOPE
from layouts.sales import FINANCIALS_HIDDEN
from layouts.sales import SalesIds as ID
from tests.callbacks.test_morning_coffee import text_of
from tests.conftest import TEST_PASSWORD
from tests.dashboard.security.dash_requests import (
    DASH_ROUTE,
    callback_keys,
    dash_app,
    page_layout,
    payload,
    post_callback,
    response_outputs,
)

FULL = MaskPolicy(view_pii=True, view_financials=True)
NO_MONEY = MaskPolicy(view_pii=False, view_financials=False)
EVERYTHING = DataScope.everything()
Q3 = PageQuery("2026Q3")
LINKED_SALES = "sales-region@test.client360.dev"
SALES_NO_FINANCIALS = "sales-nofin@test.client360.dev"


@pytest.fixture()
def session(loaded_database) -> Iterator[Session]:
    with loaded_database.session() as session:
        yield session


def _json(outputs) -> str:
    return json.dumps(outputs, cls=PlotlyJSONEncoder)


def linked_sales_manager() -> tuple[str, str]:
    """A sign-in for a sales manager linked to the CRM sales manager of the region with the most deals:
    (email, region). Their scope is that region's territories."""
    with db.session() as session:
        region = session.scalar(select(SalesOpportunity.region).group_by(SalesOpportunity.region)
                                .order_by(func.count().desc(), SalesOpportunity.region).limit(1))
        crm_user = session.scalar(select(CrmUser.user_id).where(CrmUser.role == "sales_manager",
                                                                CrmUser.region == region)
                                  .order_by(CrmUser.user_id).limit(1))
    with db.begin() as session:
        user = session.scalar(select(User).where(User.email == LINKED_SALES))
        if user is None:
            create_user(session, email=LINKED_SALES, role="sales_manager", password=TEST_PASSWORD,
                        full_name="Region Sales", crm_user_id=crm_user, actor="tests")
        else:
            update_user(session, user.id, role="sales_manager", crm_user_id=crm_user, territories=[],
                        account_ids=[], actor="tests")
    return LINKED_SALES, region


@pytest.fixture()
def sales_region(app) -> str:
    return linked_sales_manager()[1]


def _regions(session: Session) -> list[str]:
    return sorted(session.scalars(select(SalesOpportunity.region).distinct()))


def test_build_functions_return_every_panel(session):
    kpis = build_kpis(session, Q3, scope=EVERYTHING, policy=FULL)
    assert set(kpis) == {"breadcrumb", "period_label", "filter_note", "kpis"}
    assert kpis["period_label"].startswith("Q3 2026 (1 Jul 2026 \u2013 30 Sep 2026)")
    text = text_of(kpis["kpis"])
    for title in ("Closed revenue, quarter", "Open pipeline", "Weighted pipeline", "Win rate", "Average deal size",
                  "Sales cycle (median days)", "Quota attainment"):
        assert title in text, title
    assert "All regions" in _json(kpis["breadcrumb"])
    members = build_members(session, Q3, scope=EVERYTHING, policy=FULL)
    assert f'"{ID.MEMBERS_GRAPH}"' in _json(members) and "by region" in text_of(members["members"])
    pipeline = build_pipeline(session, Q3, scope=EVERYTHING, policy=FULL)
    assert '"type": "funnel"' in _json(pipeline["funnel"]) and "Stale deals" in text_of(pipeline["stale"])
    assert "Pipeline by expected close month" in text_of(pipeline["close_months"])
    grid = _json(build_opportunities(session, Q3, scope=EVERYTHING, policy=FULL))
    assert f'"{ID.OPPORTUNITIES_GRID}"' in grid and f"/export/{ID.OPPORTUNITIES}.csv?quarter=2026Q3" in grid
    assert "Win and loss, Q3 2026" in text_of(build_win_loss(session, Q3, scope=EVERYTHING, policy=FULL)["win_loss"])
    reps = _json(build_reps(session, Q3, scope=EVERYTHING, policy=FULL))
    assert f'"{ID.REPS_GRID}"' in reps and f"/export/{ID.REPS}.csv" in reps


def test_the_drill_shows_each_level_and_a_breadcrumb_back(session):
    region = _regions(session)[0]
    territory = session.scalar(select(SalesOpportunity.territory).where(SalesOpportunity.region == region).limit(1))
    rep, rep_name, account = session.execute(
        select(SalesOpportunity.owner_user_id, SalesOpportunity.owner_name, SalesOpportunity.account_id)
        .where(SalesOpportunity.territory == territory).limit(1)).one()
    drilled = PageQuery("2026Q3", region, territory, rep, account)
    crumbs = json.loads(_json(build_kpis(session, drilled, scope=EVERYTHING, policy=FULL)["breadcrumb"]))
    items = crumbs["props"]["items"]
    assert [i["label"] for i in items][:4] == ["All regions", region, territory, rep_name]
    assert items[0]["href"] == "/sales?quarter=2026Q3"
    assert items[2]["href"] == PageQuery("2026Q3", region, territory).href
    assert items[-1]["active"] is True
    assert "by deal" in text_of(build_members(session, drilled, scope=EVERYTHING, policy=FULL)["members"])
    assert "by territory" in text_of(build_members(session, PageQuery("2026Q3", region), scope=EVERYTHING,
                                                   policy=FULL)["members"])


def test_money_is_hidden_without_view_financials(session):
    kpis = text_of(build_kpis(session, Q3, scope=EVERYTHING, policy=NO_MONEY)["kpis"])
    assert FINANCIALS_HIDDEN in kpis and "Band $" in kpis
    assert f'"{ID.MEMBERS_GRAPH}"' not in _json(build_members(session, Q3, scope=EVERYTHING, policy=NO_MONEY))
    grid = _json(build_opportunities(session, Q3, scope=EVERYTHING, policy=NO_MONEY))
    assert '"amount_usd": "$' in grid  # bands, not amounts
    assert '"revenue_usd": "$' in _json(build_reps(session, Q3, scope=EVERYTHING, policy=NO_MONEY))


def test_an_empty_scope_and_an_empty_gold_say_so(session):
    for build, name in ((build_members, "members"), (build_opportunities, "opportunities"),
                        (build_win_loss, "win_loss"), (build_reps, "reps")):
        assert NOTHING_IN_SCOPE in text_of(build(session, Q3, scope=DataScope.nothing(), policy=FULL)[name]), name
    with session.begin_nested() as nested:
        session.execute(delete(DailyKpi))
        assert "No data yet" in text_of(build_kpis(session, Q3, scope=EVERYTHING, policy=FULL)["kpis"])
        nested.rollback()


# --- Through Dash's route, as a browser posts ----------------------------------------------


def _state(**values) -> dict:
    return {f"{ID.STATE}.data": {"quarter": "2026Q3", **values}}


def _key(app, output: str, input_id: str) -> str:
    return next(key for key in callback_keys(app) if output in key
                and any(i["id"] == input_id for i in dash_app(app).callback_map[key]["inputs"]))


def test_a_sales_manager_lands_on_the_page_and_sees_only_their_region(app, login_email, sales_region):
    client = login_email(LINKED_SALES)
    with db.session() as session:
        others = [r for r in _regions(session) if r != sales_region]
    assert others
    kpis = post_callback(client, app, f"{ID.KPIS}.children", _state())
    assert kpis.status_code == 200
    crumb = json.dumps(response_outputs(kpis)[f"{ID.BREADCRUMB_HOLDER}.children"])
    assert sales_region in crumb and "All regions" not in crumb  # the drill starts at their region
    grid = json.dumps(response_outputs(post_callback(client, app, f"{ID.OPPORTUNITIES}.children", _state())))
    with db.session() as session:
        outside = list(session.scalars(select(SalesOpportunity.opportunity_id).where(
            SalesOpportunity.region != sales_region, ~SalesOpportunity.is_closed).limit(20)))
        inside = session.scalar(select(SalesOpportunity.opportunity_id).where(
            SalesOpportunity.region == sales_region, ~SalesOpportunity.is_closed).limit(1))
    assert inside in grid and not [o for o in outside if f'"{o}"' in grid]
    # A region outside the scope in a hand-made state is refused with a note, never shown.
    refused = response_outputs(post_callback(client, app, f"{ID.KPIS}.children", _state(region=others[0])))
    assert "is not available" in json.dumps(refused[f"{ID.FILTER_NOTE}.children"])
    members = json.dumps(response_outputs(post_callback(client, app, f"{ID.MEMBERS}.children",
                                                        _state(region=others[0]))))
    assert f"in {others[0]}" not in members
    # The export holds the same rows.
    export = client.get(f"/export/{ID.OPPORTUNITIES}.csv?quarter=2026Q3")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert rows and {row["Deal id"] for row in rows}.isdisjoint(outside)
    layout = page_layout(client, app, "/sales")
    assert layout.status_code == 200 and f'"{ID.QUARTER}"' in layout.get_data(as_text=True)


def test_clicks_drill_down_and_open_accounts(app, login_email, sales_region):
    client = login_email(LINKED_SALES)
    with db.session() as session:
        territory, rep, account, opportunity = session.execute(
            select(SalesOpportunity.territory, SalesOpportunity.owner_user_id, SalesOpportunity.account_id,
                   SalesOpportunity.opportunity_id)
            .where(SalesOpportunity.region == sales_region, ~SalesOpportunity.is_closed).limit(1)).one()
        outside = session.scalar(select(SalesOpportunity.opportunity_id).where(
            SalesOpportunity.region != sales_region).limit(1))
    key = _key(app, f"{ID.URL}.search", relay_id(ID.MEMBERS_GRAPH, "clickData"))
    # The page starts at their region without the URL saying so: a click goes to the territory.
    for state in (_state(region=sales_region), _state()):
        drill = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.MEMBERS_GRAPH, 'clickData')}.data": {"points": [
            {"y": territory}]}, **state}))
        assert response_outputs(drill)[f"{ID.URL}.search"] == PageQuery("2026Q3", sales_region, territory).search
    key = _key(app, f"{ID.URL}.search", relay_id(ID.REPS_GRID, "cellClicked"))
    to_rep = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.REPS_GRID, 'cellClicked')}.data": {
        "rowId": rep, "colId": "rep_name"}, **_state()}))
    search = response_outputs(to_rep)[f"{ID.URL}.search"]
    assert f"rep={rep}" in search and "territory=" in search and PageQuery(region=sales_region).search[1:] in search
    key = _key(app, f"{ID.URL}.pathname", relay_id(ID.OPPORTUNITIES_GRID, "cellClicked"))
    opened = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.OPPORTUNITIES_GRID, 'cellClicked')}.data": {
        "rowId": opportunity, "colId": "stage"}}, changed=f"{relay_id(ID.OPPORTUNITIES_GRID, 'cellClicked')}.data"))
    assert response_outputs(opened)[f"{ID.URL}.pathname"] == f"/accounts/{account}"
    refused = client.post(DASH_ROUTE, json=payload(app, key, {f"{relay_id(ID.OPPORTUNITIES_GRID, 'cellClicked')}.data": {
        "rowId": outside, "colId": "stage"}}, changed=f"{relay_id(ID.OPPORTUNITIES_GRID, 'cellClicked')}.data"))
    assert refused.status_code == 204  # a deal outside the scope opens nothing
    key = _key(app, f"{ID.URL}.search", ID.QUARTER)
    quarter = client.post(DASH_ROUTE, json=payload(app, key, {f"{ID.QUARTER}.value": "2026Q2",
                                                              **_state(region=sales_region)}))
    assert response_outputs(quarter)[f"{ID.URL}.search"] == PageQuery("2026Q2", sales_region).search


@pytest.mark.parametrize("role", ["support_lead", "account_manager", "marketing_manager", "billing"])
def test_roles_without_view_sales_are_refused_on_the_server(app, login_as, role):
    client = login_as(role)
    for output in (f"{ID.KPIS}.children", f"{ID.OPPORTUNITIES}.children", f"{ID.REPS}.children",
                   f"{ID.FORECAST}.children"):
        response = post_callback(client, app, output, _state())
        assert response.status_code == 403, output
        assert "Closed revenue" not in response.get_data(as_text=True)
    assert client.get(f"/export/{ID.OPPORTUNITIES}.csv").status_code == 403


def test_anonymous_is_refused(app, client):
    assert post_callback(client, app, f"{ID.KPIS}.children", _state()).status_code == 401


def test_a_role_without_view_financials_gets_bands(app, login_email):
    with db.begin() as session:
        if session.get(Role, "sales_no_financials") is None:
            session.add(Role(name="sales_no_financials", description="test role",
                             permissions=["view_sales", "export_data"]))
    with db.begin() as session:
        if session.scalar(select(User).where(User.email == SALES_NO_FINANCIALS)) is None:
            create_user(session, email=SALES_NO_FINANCIALS, role="sales_no_financials", password=TEST_PASSWORD,
                        full_name="No financials", actor="tests")
    client = login_email(SALES_NO_FINANCIALS)
    kpis = json.dumps(response_outputs(post_callback(client, app, f"{ID.KPIS}.children", _state())))
    assert FINANCIALS_HIDDEN in kpis
    forecast = json.dumps(response_outputs(post_callback(client, app, f"{ID.FORECAST}.children", _state())))
    assert "amounts as bands" in forecast and ID.FORECAST_GRAPH not in forecast
    grid = json.dumps(response_outputs(post_callback(client, app, f"{ID.OPPORTUNITIES}.children", _state())))
    assert '"amount_usd": "$' in grid and '"amount_usd": 1' not in grid
    export = client.get(f"/export/{ID.OPPORTUNITIES}.csv?quarter=2026Q3").get_data(as_text=True)
    amounts = [row["Amount (USD)"] for row in csv.DictReader(io.StringIO(export))]
    assert amounts and all(a.startswith("$") or a.startswith("below") or a == "" for a in amounts)


# --- Forecast ---------------------------------------------------------------------------------

Q4 = PageQuery("2026Q4")


def test_the_forecast_panel_shows_the_quarter_and_the_bookings_forecast(session, bookings_forecasts_ran):
    outputs = build_forecast(session, Q4, scope=EVERYTHING, policy=FULL)
    text = text_of(outputs["forecast"])
    for title in ("Forecast, Q4 2026", "Expected revenue", "Closed won", "Weighted open", "Commit", "Best case",
                  "Pipeline", "Quota", "Monthly won bookings, All regions", "Last quarter, Q3 2026: forecast vs actual",
                  "chosen by backtest", "months inside the 80 % band"):
        assert title in text, title
    outlook = q.page_forecast(session, Q4, EVERYTHING, policy=FULL).outlook
    assert format_usd(outlook.expected) in text and format_usd(outlook.commit) in text
    figure = _json(outputs["forecast"])
    assert f'"{ID.FORECAST_GRAPH}"' in figure and '"fill": "toself"' in figure  # the shaded bands
    # A rep's page: their own figures, their territory's statistical forecast, said so.
    rep, territory, region = session.execute(select(SalesOpportunity.owner_user_id, SalesOpportunity.territory,
                                                    SalesOpportunity.region).limit(1)).one()
    at_rep = text_of(build_forecast(session, PageQuery("2026Q4", region, territory, rep), scope=EVERYTHING,
                                    policy=FULL)["forecast"])
    assert f"Territory {territory}" in at_rep and "too few to forecast" in at_rep


def test_the_forecast_without_financials_and_before_the_job_ran(session, bookings_forecasts_ran):
    outlook = q.page_forecast(session, Q4, EVERYTHING, policy=NO_MONEY).outlook
    masked = build_forecast(session, Q4, scope=EVERYTHING, policy=NO_MONEY)
    text, figure = text_of(masked["forecast"]), _json(masked["forecast"])
    assert FINANCIALS_HIDDEN in text and "amounts as bands" in text and f'"{ID.FORECAST_GRAPH}"' not in figure
    for value in (outlook.expected, outlook.commit, outlook.best_case, outlook.pipeline, outlook.closed_won):
        assert format_usd(value) not in figure
    region = _regions(session)[0]
    with session.begin_nested() as nested:
        session.execute(delete(ForecastSeries).where(ForecastSeries.series_key == f"{q.BOOKINGS_METRIC}:region:{region}"))
        assert "No bookings forecast here" in text_of(
            build_forecast(session, PageQuery("2026Q4", region), scope=EVERYTHING, policy=FULL)["forecast"])
        session.execute(delete(ForecastSeries))
        assert "Forecast not run yet: the forecasts job runs nightly at 05:00 UTC" in text_of(
            build_forecast(session, Q4, scope=EVERYTHING, policy=FULL)["forecast"])
        nested.rollback()
    assert NOTHING_IN_SCOPE in text_of(build_forecast(session, Q4, scope=DataScope.nothing(), policy=FULL)["forecast"])


def test_a_sales_manager_sees_their_region_s_forecast_and_no_other(app, login_email, sales_region,
                                                                     bookings_forecasts_ran):
    client = login_email(LINKED_SALES)
    with db.session() as session:
        others = [r for r in _regions(session) if r != sales_region]
    own = json.dumps(response_outputs(post_callback(client, app, f"{ID.FORECAST}.children", _state(quarter="2026Q4"))))
    assert f"Monthly won bookings, {sales_region}" in own and ID.FORECAST_GRAPH in own
    for other in others:
        refused = json.dumps(response_outputs(post_callback(client, app, f"{ID.FORECAST}.children",
                                                            _state(quarter="2026Q4", region=other))))
        assert f"bookings, {other}" not in refused and ID.FORECAST_GRAPH not in refused
        assert "does not hold all of this one" in refused
        # Nor a territory of it.
        with db.session() as session:
            territory = session.scalar(select(SalesOpportunity.territory).where(SalesOpportunity.region == other)
                                       .limit(1))
        refused = json.dumps(response_outputs(post_callback(client, app, f"{ID.FORECAST}.children",
                                                            _state(region=other, territory=territory))))
        assert f"Territory {territory}" not in refused
