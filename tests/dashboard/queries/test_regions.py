"""Regional analysis queries on the real pipeline's output: every figure the page shows is
recomputed independently with pandas from the pristine landing files (amounts converted to USD
with the landing FX rates) and compared, in both ways of counting customers, one level down,
and inside a restricted scope. Which regional accounts make up one customer is identity
resolution's answer, read from gold.customer_360 (identity resolution has its own tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.queries import regions as q
from dashboard.queries.glossary import definition
from dashboard.queries.regions import MASTER, PERIODS, REGIONAL, PageQuery, RegionFilters
from dashboard.scope import DataScope
from dashboard.tables.gold import (
    ALL_PRODUCTS,
    Customer360,
    DailyKpiMasterTerritory,
    DailyKpiTerritory,
    ProductMixTerritory,
)
from models.kpi import Period
from tests.callbacks.test_morning_coffee import Expected, Landing, _day

AS_OF = date(2026, 11, 23)
EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
Q3 = Period(date(2026, 7, 1), date(2026, 9, 30))


class Truth(Expected):
    """The regional figures computed with pandas from the landing files."""

    def __init__(self, landing: Landing, masters: dict[str, list[str]]) -> None:
        super().__init__(landing)
        self.territory_of = self.accounts.set_index("account_id")["territory"].replace("", "Unknown")
        self.subs["territory"] = self.subs["account_id"].map(self.territory_of)
        self.invoices["territory"] = self.invoices["account_id"].map(self.territory_of)
        deals = landing.table("crm", "opportunities", dates=("created_at", "updated_at"),
                              required=("opportunity_id",))
        close = pd.to_datetime(deals["close_date"].where(deals["close_date"] != ""), errors="coerce")
        created = deals["created_at"].dt.tz_convert("UTC").dt.tz_localize(None)
        deals["month"] = close.fillna(created).dt.to_period("M")
        deals["region"] = deals["account_id"].map(self.region_of)
        deals["territory"] = deals["account_id"].map(self.territory_of)
        flag = {"true": True, "false": False, "1": True, "0": False}
        deals["closed"] = deals["is_closed"].str.lower().map(flag).fillna(False).astype(bool)
        deals["won"] = deals["is_won"].str.lower().map(flag).fillna(False).astype(bool)
        self.deals = deals
        self.master_of = {regional: master for master, ids in masters.items() for regional in ids}
        products = landing.table("crm", "products")
        self.family_of = products.set_index("product_id")["product_family"]

    def _member(self, frame: pd.DataFrame, region: str | None, master: bool = False) -> pd.Series:
        """The region (or territory of `region`) each row counts in; empty when outside `region`."""
        if master:
            owner = frame["account_id"].map(self.master_of).fillna(frame["account_id"])
            regions_, territories = owner.map(self.region_of), owner.map(self.territory_of)
        else:
            regions_, territories = frame["region"], frame["territory"]
        if region is None:
            return regions_
        return territories.where(regions_ == region)

    def revenue(self, period: Period, region: str | None = None, master: bool = False) -> pd.Series:
        invoices = self.invoices[(self.invoices["status"] != "void") & (self.invoices["issue_day"] >= period.start)
                                 & (self.invoices["issue_day"] <= period.end)]
        usd = self._usd(invoices["amount"], invoices["issue_day"], invoices["currency"])
        return pd.Series(usd, index=self._member(invoices, region, master).to_numpy()).groupby(level=0).sum()

    def customers_and_mrr(self, day: date, region: str | None = None, master: bool = False) -> pd.DataFrame:
        subs = self._active_subs(day, ())
        subs = subs.assign(mrr_usd=self._usd(subs["mrr"], pd.Series([day] * len(subs)), subs["currency"]),
                           member=self._member(subs, region, master).to_numpy())
        subs = subs[subs["member"].notna()]
        owner = subs["account_id"].map(self.master_of).fillna(subs["account_id"]) if master else subs["account_id"]
        return pd.DataFrame({"customers": owner.groupby(subs["member"]).nunique(),
                             "mrr": subs.groupby("member")["mrr_usd"].sum()})

    def win_rate(self, period: Period, region: str | None = None) -> pd.DataFrame:
        months = pd.period_range(period.start, period.end, freq="M")
        deals = self.deals[self.deals["closed"] & self.deals["month"].isin(months)]
        deals = deals.assign(member=self._member(deals, region).to_numpy())
        deals = deals[deals["member"].notna()]
        won = deals["won"].groupby(deals["member"]).sum()
        lost = (~deals["won"]).groupby(deals["member"]).sum()
        return pd.DataFrame({"won": won, "lost": lost})

    def product_mix(self, day: date, region: str | None = None) -> pd.DataFrame:
        """Per member (the master's region, or its territory in `region`) and line: customers
        holding it, their share and the MRR in USD of their subscriptions of the line."""
        subs = self._active_subs(day, ())
        subs = subs.assign(master=subs["account_id"].map(self.master_of).fillna(subs["account_id"]),
                           line=subs["product_id"].map(self.family_of),
                           mrr_usd=self._usd(subs["mrr"], pd.Series([day] * len(subs)), subs["currency"]))
        subs = subs.assign(member=self._member(subs, region, master=True).to_numpy())
        subs = subs[subs["member"].notna()]
        base = subs.groupby("member")["master"].nunique()
        lines = subs[subs["line"].notna()].groupby(["member", "line"])
        held = lines["master"].nunique()
        return pd.DataFrame({"customers": held, "share": held / held.index.get_level_values(0).map(base).to_numpy(),
                             "mrr_usd": lines["mrr_usd"].sum()})


@pytest.fixture(scope="module")
def masters(loaded_database) -> dict[str, list[str]]:
    with loaded_database.session() as session:
        return {m: list(ids) for m, ids in session.execute(select(Customer360.account_id,
                                                                  Customer360.regional_account_ids))}


@pytest.fixture(scope="module")
def truth(pristine_landing_dir, masters) -> Truth:
    return Truth(Landing(pristine_landing_dir), masters)


@pytest.fixture()
def session(loaded_database) -> Iterator[Session]:
    with loaded_database.session() as session:
        yield session


def _comparison(session: Session, view: str = MASTER, region: str | None = None,
                scope: DataScope = EVERYTHING) -> pd.DataFrame:
    filters = RegionFilters(Q3.start, Q3.end, view, region, scope=scope)
    bounds = q.data_date_bounds(session)
    return q.region_comparison(session, filters, bounds=bounds).rows.set_index("member")


def _assert_matches(rows: pd.DataFrame, truth: Truth, *, master: bool, region: str | None = None,
                    territories: set[str] | None = None) -> None:
    periods = q.comparison_periods(Q3)
    assert not rows.empty
    for name in PERIODS:
        period = periods[name]
        revenue = truth.revenue(period, region, master)
        stock = truth.customers_and_mrr(period.end, region, master)
        deals = truth.win_rate(period, region)
        if territories is not None:
            revenue, stock, deals = (frame[frame.index.isin(territories)] for frame in (revenue, stock, deals))
        assert not revenue.empty and not stock.empty and deals["won"].sum() + deals["lost"].sum() > 0
        for member, value in revenue[revenue != 0].items():
            assert rows.loc[member, f"invoiced_{name}"] == pytest.approx(value, abs=1.0), (member, name)
        for member, row in stock.iterrows():
            assert rows.loc[member, f"customers_{name}"] == row["customers"], (member, name)
            assert rows.loc[member, f"mrr_{name}"] == pytest.approx(row["mrr"], abs=1.0), (member, name)
        assert set(stock.index) <= set(rows.index)
        for member, row in deals.iterrows():
            closed = row["won"] + row["lost"]
            assert rows.loc[member, f"won_{name}"] == row["won"], (member, name)
            assert rows.loc[member, f"lost_{name}"] == row["lost"], (member, name)
            assert rows.loc[member, f"win_rate_{name}"] == pytest.approx(row["won"] / closed), (member, name)


def test_the_periods_compared():
    periods = q.comparison_periods(Q3)
    assert periods["previous"] == Period(date(2026, 4, 1), date(2026, 6, 30))
    assert periods["year"] == Period(date(2025, 7, 1), date(2025, 9, 30))
    days = q.comparison_periods(Period(date(2026, 3, 10), date(2026, 3, 19)))
    assert days["previous"] == Period(date(2026, 2, 28), date(2026, 3, 9))
    assert days["year"] == Period(date(2025, 3, 10), date(2025, 3, 19))
    leap = q.comparison_periods(Period(date(2024, 2, 29), date(2024, 3, 2)))["year"]
    assert leap == Period(date(2023, 2, 28), date(2023, 3, 2))


def test_the_default_period_is_the_last_full_quarter(session):
    bounds = q.data_date_bounds(session)
    assert q.last_full_quarter(bounds) == Q3
    assert q.last_full_quarter(q.DateBounds(date(2020, 1, 1), date(2026, 9, 30))) == Q3
    resolved = q.resolve_page(session, PageQuery(), EVERYTHING)
    assert (resolved.filters.start, resolved.filters.end, resolved.filters.view) == (Q3.start, Q3.end, MASTER)
    assert resolved.notes == ()


def test_regional_accounts_match_the_landing_files(session, truth):
    _assert_matches(_comparison(session, REGIONAL), truth, master=False)


def test_master_accounts_roll_linked_accounts_up(session, truth, masters):
    linked = [ids for ids in masters.values() if len(ids) > 1]
    assert linked, "the demo data links some accounts across regions"
    master_rows, regional_rows = _comparison(session, MASTER), _comparison(session, REGIONAL)
    _assert_matches(master_rows, truth, master=True)
    # The toggle changes the counting: fewer customers when linked accounts are rolled up, and
    # MRR and revenue move to the masters' regions, adding up to the same totals.
    assert master_rows["customers_current"].sum() < regional_rows["customers_current"].sum()
    for kind in ("mrr", "invoiced"):
        assert master_rows[f"{kind}_current"].sum() == pytest.approx(regional_rows[f"{kind}_current"].sum(), abs=1.0)
    moved = (master_rows["invoiced_current"] - regional_rows["invoiced_current"].reindex(master_rows.index)).abs()
    assert moved.max() > 1.0, "a linked account invoices outside its master's region"


@pytest.mark.parametrize("view", [MASTER, REGIONAL])
def test_a_region_drills_to_its_territories(session, truth, view):
    region = _comparison(session, view).index[0]
    rows = _comparison(session, view, region)
    assert set(rows.index) <= set(truth.accounts.loc[truth.accounts["region"] == region, "territory"]) | {"Unknown"}
    _assert_matches(rows, truth, master=view == MASTER, region=region)


def test_a_restricted_scope_sees_only_its_territories(session, truth):
    territories = sorted(truth.accounts["territory"].unique())[:2]
    scope = DataScope.restricted_to(territories)
    regions_in_scope = set(truth.accounts.loc[truth.accounts["territory"].isin(territories), "region"])
    rows = _comparison(session, REGIONAL, scope=scope)
    assert set(rows.index) == regions_in_scope
    region = sorted(regions_in_scope)[0]
    inside = _comparison(session, REGIONAL, region, scope)
    assert set(inside.index) <= set(territories)
    _assert_matches(inside, truth, master=False, region=region, territories=set(territories))
    # Rolled up, a customer counts where its master account is: inside the scope or not at all.
    rolled_up = _comparison(session, MASTER, region, scope)
    assert set(rolled_up.index) <= set(territories)
    _assert_matches(rolled_up, truth, master=True, region=region, territories=set(territories))
    assert q.regions(session, scope, AS_OF) == sorted(regions_in_scope)
    nothing = q.region_comparison(session, RegionFilters(Q3.start, Q3.end, scope=DataScope.nothing()),
                                  bounds=q.data_date_bounds(session))
    assert nothing.empty


@pytest.mark.parametrize("view", [MASTER, REGIONAL])
def test_the_product_mix_matches_the_landing_files(session, truth, view):
    bounds = q.data_date_bounds(session)
    region = q.regions(session, EVERYTHING, AS_OF)[0]
    for drilled in (None, region):
        mix = q.product_mix(session, RegionFilters(Q3.start, Q3.end, view, drilled, scope=EVERYTHING), bounds=bounds)
        assert mix.day == AS_OF
        expected = truth.product_mix(AS_OF, drilled)
        got = mix.rows.set_index(["member", "product_line"])
        assert set(got.index) == set(expected.index) and not got.empty, drilled
        for key, row in expected.iterrows():
            assert got.loc[key, "customers"] == row["customers"], (drilled, key)
            assert got.loc[key, "share"] == pytest.approx(row["share"]), (drilled, key)


def test_the_product_mix_table_keeps_the_lines_mrr(session, truth):
    """gold.product_mix_territory's MRR per line, and its 'All products' rows: each customer holding
    any line once, with the MRR of all its subscriptions."""
    rows = pd.DataFrame(session.execute(select(ProductMixTerritory.region, ProductMixTerritory.product_line,
                                               ProductMixTerritory.customers, ProductMixTerritory.mrr_usd)).all(),
                        columns=["region", "line", "customers", "mrr_usd"])
    per_region = rows.groupby(["region", "line"])[["customers", "mrr_usd"]].sum().astype("float64")
    expected = truth.product_mix(AS_OF)
    for (region, line), row in expected.iterrows():
        assert per_region.loc[(region, line), "mrr_usd"] == pytest.approx(row["mrr_usd"], abs=1.0), (region, line)
    customers = truth.customers_and_mrr(AS_OF, master=True)
    every_line = per_region.xs(ALL_PRODUCTS, level="line")
    assert every_line["customers"].sum() == customers["customers"].sum()  # every active customer holds a line
    assert every_line["mrr_usd"].sum() == pytest.approx(customers["mrr"].sum(), abs=1.0)


def test_rolling_up_moves_figures_but_keeps_the_totals(session):
    """gold.daily_kpi_master_territory adds up, on every day, to gold.daily_kpi_territory's MRR and
    revenue: only where they count moves."""
    def daily_totals(table) -> pd.DataFrame:
        return pd.DataFrame(session.execute(
            select(table.day, func.sum(table.mrr_usd), func.sum(table.invoiced_usd)).group_by(table.day)
            .order_by(table.day)
        ).all(), columns=["day", "mrr", "invoiced"]).set_index("day").astype("float64")

    master, regional = daily_totals(DailyKpiMasterTerritory), daily_totals(DailyKpiTerritory)
    assert list(master.index) == list(regional.index) and len(master) > 300
    assert (master - regional).abs().max().max() < 1.0


@pytest.mark.parametrize("query", [
    PageQuery("yesterday", "<script>", "sideways", "Atlantis"),
    PageQuery("2031-01-01", "1999-01-01", None, ["a", "list"]),
    PageQuery("2026-09-30", "2026-07-01", REGIONAL, "'; DROP TABLE gold.customer_360; --"),
    PageQuery(12, None, 3, None),
])
def test_bad_url_input_gives_a_note_never_an_exception(session, query):
    result = q.page_comparison(session, query, EVERYTHING, policy=FULL)
    assert isinstance(result, q.PageComparison)
    assert result.resolved.notes
    assert result.resolved.filters.region is None or isinstance(result.resolved.filters.region, str)
    assert q.resolve_filters(query, q.data_date_bounds(session), ["Europe"], EVERYTHING).filters.start <= \
        result.resolved.filters.end


def test_the_grid_masks_money_without_the_financials_permission(session):
    shown = q.page_comparison(session, PageQuery(), EVERYTHING, policy=FULL)
    masked = q.page_comparison(session, PageQuery(), EVERYTHING, policy=MaskPolicy(False, False))
    assert isinstance(shown.grid.rows[0]["invoiced_current"], float)
    assert isinstance(masked.grid.rows[0]["invoiced_current"], str) and masked.grid.rows[0]["invoiced_vs_previous"] is None
    assert [r["customers_current"] for r in shown.grid.rows] == [r["customers_current"] for r in masked.grid.rows]
    assert [c.kind for c in masked.grid.columns if c.field == "mrr_current"] == ["band"]


def test_the_export_is_the_grid(session):
    args = {"start": ["2026-07-01"], "end": ["2026-09-30"], "view": ["regional"]}
    exported = q.export_comparison(session, args, EVERYTHING, FULL)
    shown = q.page_comparison(session, PageQuery("2026-07-01", "2026-09-30", REGIONAL), EVERYTHING, policy=FULL)
    assert exported.rows == shown.grid.rows and exported.rows
    assert q.export_name(args) == "regions_2026-07-01_2026-09-30"


def test_every_figure_and_column_has_a_definition():
    keys = ["regional_revenue", "regional_customers", "regional_win_rate", "regions_compared", "product_mix"]
    keys += [c.field for c in q.comparison_columns(FULL, "region")]
    assert [key for key in keys if not definition(key)] == []


def test_win_rate_needs_a_closed_deal():
    assert q.win_rate(3, 1) == 0.75 and q.win_rate(0, 0) is None
    assert np.isclose(q.win_rate(0, 4), 0.0)
    assert _day(pd.Series(pd.to_datetime(["2026-07-01T10:00:00Z"]))).iloc[0] == date(2026, 7, 1)


def test_no_comparison_with_a_period_before_the_data(session):
    bounds = q.data_date_bounds(session)
    first_month = Period(bounds.first, q._month_end(bounds.first))
    result = q.page_comparison(session, PageQuery(first_month.start.isoformat(), first_month.end.isoformat()),
                               EVERYTHING, policy=FULL)
    comparison = result.comparison
    assert set(comparison.before_data) == {"previous", "year"}
    assert comparison.total("invoiced", "year") is None and comparison.change("customers", "previous") is None
    assert all(row["invoiced_vs_year"] is None for row in result.grid.rows)
