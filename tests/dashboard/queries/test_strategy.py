"""Strategy queries: every figure the page shows, recomputed independently with pandas.

Subscriptions, products, accounts, invoices, tickets and FX rates are read from the pristine
landing CSVs (tests/etl/reference.py: newest version per key, malformed rows dropped, USD at the
day's rate under the silver rules). Which regional accounts make one customer comes from identity
resolution (silver.account_master), and the churn scores and lifetime values from the models'
output (gold.churn_prediction, gold.clv): neither can be recomputed from the files.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.queries import strategy as q
from dashboard.queries.freshness import GoldStatus
from dashboard.queries.strategy import StrategyQuery
from dashboard.scope import DataScope
from tests.etl.reference import Landing, raw_rows, typed

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
NO_FINANCIALS = MaskPolicy(view_pii=True, view_financials=False)
COST_PER_TICKET = 25.0


def frame(session: Session, sql: str, **params) -> pd.DataFrame:
    result = session.execute(text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


class Expected:
    """The Strategy figures from the landing files (and the identity links and model outputs)."""

    def __init__(self, landing_dir, links: pd.DataFrame, churn: pd.DataFrame, clv: pd.DataFrame) -> None:
        self.ref = Landing.read(landing_dir)
        accounts = self.ref.accounts.copy()
        master_of = links.set_index("account_id")["master_account_id"]
        accounts["master_id"] = accounts["account_id"].map(master_of).fillna(accounts["account_id"])
        self.master_of = accounts.set_index("account_id")["master_id"]
        # A customer is a master account, with the master's own region, territory and segment.
        masters = accounts[accounts["account_id"].isin(set(accounts["master_id"]))].copy()
        masters["region"] = masters["region"].fillna("Unknown")
        masters["territory"] = masters["territory"].fillna("Unknown")
        masters["segment"] = masters["account_type"].fillna("Unknown")
        active = accounts[accounts["status"] == "active"]["master_id"]
        masters["active"] = masters["account_id"].isin(set(active))
        self.customers = masters.set_index("account_id")[["region", "territory", "segment", "active",
                                                          "account_name"]]
        products = raw_rows(landing_dir, "crm/products").drop_duplicates("product_id", keep="last")
        line_of = products.set_index("product_id")["product_family"]
        self.line_of_subscription = self.ref.subscriptions.set_index("subscription_id")["product_id"].map(line_of)
        self.churn = churn.set_index("account_id")
        self.clv = clv.set_index("account_id")["clv_usd"].astype(float)
        invoices = typed(landing_dir, "billing/invoices")
        invoices = invoices[invoices["status"] != "void"].copy()
        invoices["day"] = invoices["issue_date"].dt.date
        rates = {key: self.ref.rate_used(*key) for key in set(zip(invoices["currency"], invoices["day"], strict=True))}
        invoices["amount_usd"] = [amount * rates[(cur, day)][0] if rates[(cur, day)] else float("nan")
                                  for amount, cur, day in zip(invoices["amount"], invoices["currency"],
                                                              invoices["day"], strict=True)]
        self.invoices = self._of_customers(invoices)
        tickets = typed(landing_dir, "support/tickets")
        tickets["day"] = tickets["created_at"].dt.tz_convert("UTC").dt.date
        self.tickets = self._of_customers(tickets)

    def _of_customers(self, rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.assign(customer=rows["account_id"].map(self.master_of))
        rows = rows[rows["customer"].isin(self.customers.index)]
        return rows.join(self.customers, on="customer")

    @cache  # noqa: B019 - one instance per test module
    def held(self, day: date) -> pd.DataFrame:
        """customer, line, mrr_usd on `day`: the subscriptions counting that day per customer and line."""
        subs = self.ref.mrr_usd_on(day)
        subs = subs.assign(customer=subs["account_id"].map(self.master_of),
                           line=subs["subscription_id"].map(self.line_of_subscription).fillna("Unknown"))
        subs = subs[subs["customer"].isin(self.customers.index)]
        return subs.groupby(["customer", "line"], as_index=False)["mrr_usd"].sum(min_count=0)

    def by_customer(self, day: date) -> pd.Series:
        return self.held(day).groupby("customer")["mrr_usd"].sum()

    def retention(self, start: date, end: date, by: str, territories: set[str] | None = None) -> pd.DataFrame:
        """member, start_customers, retained_customers, start_mrr_usd, retained_mrr_usd over the window."""
        keys = ["customer", "line"] if by == "product_line" else ["customer"]
        before = self.held(start).groupby(keys, as_index=False)["mrr_usd"].sum()
        after = self.held(end).groupby(keys, as_index=False)["mrr_usd"].sum()
        cohort = before.merge(after, on=keys, how="left", suffixes=("_start", "_end"), indicator=True)
        cohort["retained"] = cohort["_merge"] == "both"
        cohort["retained_mrr_usd"] = cohort["mrr_usd_end"].fillna(0.0)
        cohort = cohort.join(self.customers[["region", "segment", "territory"]], on="customer")
        if territories is not None:
            cohort = cohort[cohort["territory"].isin(territories)]
        member = "line" if by == "product_line" else by
        grouped = cohort.groupby(member).agg(start_customers=("retained", "size"),
                                             retained_customers=("retained", "sum"),
                                             start_mrr_usd=("mrr_usd_start", "sum"),
                                             retained_mrr_usd=("retained_mrr_usd", "sum"))
        return grouped.rename_axis("member")

    def segments(self, start: date, end: date) -> pd.DataFrame:
        rows = {}
        for name, day in (("customers", end), ("customers_year_ago", start)):
            mrr = self.by_customer(day)
            rows[name] = mrr.groupby(self.customers["segment"].reindex(mrr.index).to_numpy()).size()
            rows[name.replace("customers", "mrr_usd")] = mrr.groupby(
                self.customers["segment"].reindex(mrr.index).to_numpy()).sum()
        invoiced = self.invoices[(self.invoices["day"] > start) & (self.invoices["day"] <= end)]
        tickets = self.tickets[(self.tickets["day"] > start) & (self.tickets["day"] <= end)]
        rows["invoiced_usd"] = invoiced.groupby("segment")["amount_usd"].sum()
        rows["tickets"] = tickets.groupby("segment").size()
        active = self.customers[self.customers["active"]].join(self.churn, how="left")
        rows["avg_churn_score"] = active.groupby("segment")["churn_risk_score"].mean()
        rows["high_risk_share"] = active.groupby("segment")["risk_level"].apply(
            lambda levels: (levels == "HIGH").sum() / levels.notna().sum() if levels.notna().any() else float("nan"))
        return pd.DataFrame(rows).fillna({"customers": 0, "customers_year_ago": 0, "tickets": 0, "invoiced_usd": 0.0,
                                          "mrr_usd": 0.0, "mrr_usd_year_ago": 0.0})


@pytest.fixture(scope="module")
def expected(pristine_landing_dir, loaded_database, insights_ran) -> Expected:
    with loaded_database.session() as session:
        links = frame(session, "SELECT account_id, master_account_id FROM silver.account_master")
        churn = frame(session, "SELECT account_id, churn_risk_score, risk_level FROM gold.churn_prediction")
        clv = frame(session, "SELECT account_id, clv_usd FROM gold.clv")
    return Expected(pristine_landing_dir, links, churn, clv)


@pytest.fixture()
def session(rolled_back: Session, insights_ran) -> Session:  # noqa: F811
    return rolled_back


def _window(session: Session, month: str) -> tuple[date, date]:
    result = q.retention(session, StrategyQuery("region", month), EVERYTHING, policy=FULL)
    assert not isinstance(result, GoldStatus)
    assert result.window_start is not None and result.window_end is not None
    return result.window_start, result.window_end


def _compare(actual: pd.DataFrame, wanted: pd.DataFrame) -> None:
    actual = actual.set_index("member").sort_index()
    wanted = wanted[wanted["start_customers"] > 0].sort_index()
    assert list(actual.index) == list(wanted.index)
    assert actual["start_customers"].tolist() == wanted["start_customers"].astype(int).tolist()
    assert actual["retained_customers"].tolist() == wanted["retained_customers"].astype(int).tolist()
    assert actual["start_mrr_usd"].to_numpy() == pytest.approx(wanted["start_mrr_usd"].to_numpy(), abs=0.05)
    assert actual["retained_mrr_usd"].to_numpy() == pytest.approx(wanted["retained_mrr_usd"].to_numpy(), abs=0.05)
    assert actual["logo_retention"].to_numpy() == pytest.approx(
        (wanted["retained_customers"] / wanted["start_customers"]).to_numpy())
    assert actual["nrr"].to_numpy() == pytest.approx(
        (wanted["retained_mrr_usd"] / wanted["start_mrr_usd"]).to_numpy(), rel=1e-6)


# --- 1. Retention ----------------------------------------------------------------------


def test_the_window_is_the_twelve_months_to_the_months_end(session):
    months = q.available_months(session)
    assert len(months) >= 12
    start, end = _window(session, f"{months[0]:%Y-%m}")
    latest = session.scalar(text("SELECT max(day) FROM gold.daily_kpi"))
    assert end == latest and start == date(end.year - 1, end.month, end.day)
    start, end = _window(session, "2026-02")
    assert (start, end) == (date(2025, 2, 28), date(2026, 2, 28))


@pytest.mark.parametrize("by", ["region", "segment", "product_line"])
@pytest.mark.parametrize("month", ["2026-11", "2026-03"])
def test_retention_by_breakdown_matches_the_landing_files(session, expected, by, month):
    result = q.retention(session, StrategyQuery(by, month), EVERYTHING, policy=FULL)
    assert not isinstance(result, GoldStatus) and result.resolved.notes == ()
    start, end = result.window_start, result.window_end
    _compare(result.breakdown, expected.retention(start, end, by))
    overall = expected.retention(start, end, "region").sum()
    assert result.overall.start_customers == overall["start_customers"]
    assert result.overall.retained_customers == overall["retained_customers"]
    assert result.overall.logo_retention == pytest.approx(overall["retained_customers"] / overall["start_customers"])
    assert result.overall.nrr == pytest.approx(overall["retained_mrr_usd"] / overall["start_mrr_usd"], rel=1e-6)


def test_the_retention_trend_matches_the_landing_files(session, expected):
    result = q.retention(session, StrategyQuery(), EVERYTHING, policy=FULL)
    assert not isinstance(result, GoldStatus)
    assert len(result.trend) == q.TREND_MONTHS
    assert list(result.trend["month"]) == sorted(result.trend["month"])
    for row in result.trend.iloc[[0, 5, -1]].itertuples():
        start = date(row.window_end.year - 1, row.window_end.month, row.window_end.day)
        wanted = expected.retention(start, row.window_end, "region").sum()
        assert row.logo_retention == pytest.approx(wanted["retained_customers"] / wanted["start_customers"])
        assert row.nrr == pytest.approx(wanted["retained_mrr_usd"] / wanted["start_mrr_usd"], rel=1e-6)


def test_a_territory_scope_sees_its_territories_only(session, expected):
    territory = session.scalar(text("SELECT territory FROM gold.customer_360 WHERE territory IS NOT NULL "
                                    "GROUP BY territory ORDER BY count(*) DESC LIMIT 1"))
    scope = DataScope.restricted_to([territory])
    result = q.retention(session, StrategyQuery("segment"), scope, policy=FULL)
    assert not isinstance(result, GoldStatus)
    _compare(result.breakdown, expected.retention(result.window_start, result.window_end, "segment", {territory}))
    everyone = q.retention(session, StrategyQuery("segment"), EVERYTHING, policy=FULL)
    assert result.overall.start_customers < everyone.overall.start_customers
    nothing = q.retention(session, StrategyQuery(), DataScope.nothing(), policy=FULL)
    assert nothing.breakdown.empty and nothing.overall.logo_retention is None
    segments = q.segments(session, StrategyQuery(), DataScope.nothing(), policy=FULL, cost_per_ticket_usd=25)
    assert segments.rows.empty
    top = q.concentration(session, StrategyQuery(), scope, policy=FULL)
    named = frame(session, "SELECT account_id FROM gold.customer_360 WHERE territory = :t", t=territory)
    assert {row["account_id"] for row in top.top.rows} <= set(named["account_id"])


def test_revenue_figures_need_the_financials_permission(session):
    result = q.retention(session, StrategyQuery(), EVERYTHING, policy=NO_FINANCIALS)
    assert result.overall.nrr is None and result.overall.start_mrr_usd is None
    assert result.breakdown["nrr"].isna().all() and result.trend["nrr"].isna().all()
    assert result.overall.logo_retention is not None
    top = q.concentration(session, StrategyQuery(), EVERYTHING, policy=NO_FINANCIALS)
    assert top.total_mrr_usd is None and set(top.shares.values()) == {None}
    assert all(isinstance(row["mrr_usd_now"], str) and "$" in row["mrr_usd_now"] for row in top.top.rows)
    segments = q.segments(session, StrategyQuery(), EVERYTHING, policy=NO_FINANCIALS, cost_per_ticket_usd=25)
    assert segments.rows["profit_usd"].isna().all() and segments.rows["mrr_growth"].isna().all()
    assert segments.rows["customer_growth"].notna().any()
    assert q.lifetime_value(session, StrategyQuery(), EVERYTHING, policy=NO_FINANCIALS) is None


@pytest.mark.parametrize(("by", "month", "note"), [
    ("'; DROP TABLE x; --", None, "Unknown breakdown"),
    (None, "2099-01", "No figures for the month"),
    (None, "not-a-month", "No figures for the month"),
    ("x" * 500, "2026-13", "Unknown breakdown"),
])
def test_garbage_in_the_url_gives_a_note_never_an_exception(session, by, month, note):
    resolved = q.resolve(session, StrategyQuery(by, month), EVERYTHING)
    assert resolved is not None and any(note in n for n in resolved.notes)
    assert resolved.by in q.BREAKDOWNS and resolved.month == q.available_months(session)[0]
    assert all(len(n) < 200 for n in resolved.notes)
    result = q.retention(session, StrategyQuery(by, month), EVERYTHING, policy=FULL)
    assert not result.breakdown.empty


# --- 2. Concentration -------------------------------------------------------------------


def test_concentration_matches_the_landing_files(session, expected):
    result = q.concentration(session, StrategyQuery(), EVERYTHING, policy=FULL)
    assert not isinstance(result, GoldStatus) and result.as_of is not None
    mrr = expected.by_customer(result.as_of).round(2)
    mrr = mrr[mrr > 0].sort_values(ascending=False, kind="stable")
    assert result.customers == len(mrr)
    assert result.total_mrr_usd == pytest.approx(mrr.sum(), abs=0.05)
    for n in q.TOP_SHARES:
        assert result.shares[n] == pytest.approx(mrr.head(n).sum() / mrr.sum(), rel=1e-6), n
    top = result.top.rows
    assert len(top) == q.TOP_TREND_ACCOUNTS
    assert [row["mrr_usd_now"] for row in top] == pytest.approx(mrr.head(q.TOP_TREND_ACCOUNTS).tolist(), abs=0.01)
    assert [row["rank"] for row in top] == list(range(1, q.TOP_TREND_ACCOUNTS + 1))
    assert result.years[-1] == result.as_of and len(result.years) == q.TREND_YEARS + 1
    for years_back in (1, 2, 3):
        day = result.years[-1 - years_back]
        assert day == date(result.as_of.year - years_back, result.as_of.month, result.as_of.day)
        before = expected.by_customer(day)
        for row in top:
            assert row[f"mrr_usd_{years_back}y"] == pytest.approx(float(before.get(row["account_id"], 0.0)),
                                                                 abs=0.01), (row["account_id"], day)
    for row in top:
        level = expected.churn["risk_level"].get(row["account_id"])
        assert row["churn_risk"] == level


# --- 3. Segments ------------------------------------------------------------------------


def test_segments_growth_profit_and_risk_match_the_landing_files(session, expected):
    result = q.segments(session, StrategyQuery(), EVERYTHING, policy=FULL, cost_per_ticket_usd=COST_PER_TICKET)
    assert not isinstance(result, GoldStatus)
    start, end = _window(session, f"{q.available_months(session)[0]:%Y-%m}")
    wanted = expected.segments(start, end)
    actual = result.rows.set_index("segment").sort_index()
    wanted = wanted.loc[actual.index]
    assert set(actual.index) == set(wanted[(wanted["customers"] > 0) | (wanted["customers_year_ago"] > 0)].index)
    for column in ("customers", "customers_year_ago", "tickets"):
        assert actual[column].tolist() == wanted[column].astype(int).tolist(), column
    for column in ("mrr_usd", "mrr_usd_year_ago", "invoiced_usd"):
        assert actual[column].to_numpy() == pytest.approx(wanted[column].to_numpy(), abs=0.5), column
    assert actual["customer_growth"].to_numpy() == pytest.approx(
        (wanted["customers"] / wanted["customers_year_ago"] - 1).to_numpy())
    assert actual["mrr_growth"].to_numpy() == pytest.approx(
        (wanted["mrr_usd"] / wanted["mrr_usd_year_ago"] - 1).to_numpy(), rel=1e-6)
    profit = wanted["invoiced_usd"] - COST_PER_TICKET * wanted["tickets"]
    assert actual["support_cost_usd"].to_numpy() == pytest.approx((COST_PER_TICKET * wanted["tickets"]).to_numpy())
    assert actual["profit_usd"].to_numpy() == pytest.approx(profit.to_numpy(), abs=0.5)
    assert actual["profit_margin"].to_numpy() == pytest.approx((profit / wanted["invoiced_usd"]).to_numpy(), rel=1e-6)
    assert actual["avg_churn_score"].to_numpy() == pytest.approx(wanted["avg_churn_score"].to_numpy())
    assert actual["high_risk_share"].to_numpy() == pytest.approx(wanted["high_risk_share"].to_numpy())


def test_the_cost_per_ticket_is_the_callers(session):
    cheap = q.segments(session, StrategyQuery(), EVERYTHING, policy=FULL, cost_per_ticket_usd=0)
    dear = q.segments(session, StrategyQuery(), EVERYTHING, policy=FULL, cost_per_ticket_usd=100)
    assert (cheap.rows["profit_usd"] - dear.rows["profit_usd"]).to_numpy() == pytest.approx(
        (100 * dear.rows["tickets"]).to_numpy())


# --- 4. Lifetime value ------------------------------------------------------------------


def test_lifetime_value_by_region_and_product_line_matches(session, expected):
    result = q.lifetime_value(session, StrategyQuery(), EVERYTHING, policy=FULL)
    assert result is not None and not isinstance(result, GoldStatus)
    customers = expected.customers[expected.customers["active"]].join(expected.clv, how="inner")
    assert result.customers == len(customers)
    assert result.average_usd == pytest.approx(customers["clv_usd"].mean(), rel=1e-6)
    by_region = customers.groupby("region")["clv_usd"].mean()
    actual = result.by_region.set_index("member")["average_clv_usd"].sort_index()
    assert list(actual.index) == list(by_region.sort_index().index)
    assert actual.to_numpy() == pytest.approx(by_region.sort_index().to_numpy(), rel=1e-6)
    as_of = session.scalar(text("SELECT max(day) FROM gold.daily_kpi"))
    held = expected.held(as_of)
    held = held[held["customer"].isin(customers.index)].drop_duplicates(["customer", "line"])
    held = held[held["line"] != "Unknown"].join(customers["clv_usd"], on="customer")
    by_line = held.groupby("line")["clv_usd"].agg(["size", "mean"]).sort_index()
    actual_lines = result.by_product_line.set_index("member").sort_index()
    assert list(actual_lines.index) == list(by_line.index)
    assert actual_lines["customers"].tolist() == by_line["size"].tolist()
    assert actual_lines["average_clv_usd"].to_numpy() == pytest.approx(by_line["mean"].to_numpy(), rel=1e-6)



# --- 5. Satisfaction and value ------------------------------------------------------------


def _fisher_interval(r: float, n: int) -> tuple[float, float]:
    z, half = np.arctanh(r), 1.959963984540054 / np.sqrt(n - 3)
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def _surveys(landing_dir, expected: Expected) -> pd.DataFrame:
    surveys = typed(landing_dir, "support/surveys")
    surveys = surveys[surveys["account_id"].notna() & surveys["responded_at"].notna()]
    surveys = surveys.assign(day=surveys["responded_at"].dt.tz_convert("UTC").dt.date,
                             customer=surveys["account_id"].map(expected.master_of))
    return surveys[surveys["customer"].isin(expected.customers.index)]


def _satisfaction_expected(expected: Expected, surveys: pd.DataFrame, start: date, end: date):
    """Per customer over the window (start, end]: average NPS and CSAT with counts, and for the
    customers active with MRR at the start, retained (1/0) and MRR growth (in cents)."""
    window = surveys[(surveys["day"] > start) & (surveys["day"] <= end)]
    nps = window[window["survey_type"] == "nps"].dropna(subset=["nps_score"]).groupby("customer")["nps_score"]
    csat = window[window["survey_type"] == "csat"].dropna(subset=["csat_score"]).groupby("customer")["csat_score"]
    customers = expected.customers.copy()
    customers["nps"], customers["nps_n"] = nps.mean(), nps.size()
    customers["csat"], customers["csat_n"] = csat.mean(), csat.size()
    before, after = expected.by_customer(start), expected.by_customer(end)
    cohort = customers.loc[customers.index.isin(before.index)].copy()
    cohort["mrr_before"] = before.reindex(cohort.index).round(2)
    cohort["mrr_now"] = after.reindex(cohort.index).round(2).fillna(0.0)
    cohort["retained"] = cohort.index.isin(after.index).astype(float)
    cohort = cohort[cohort["mrr_before"] > 0]
    cohort["growth"] = cohort["mrr_now"] / cohort["mrr_before"] - 1
    return customers, cohort


def test_satisfaction_against_value_matches_the_landing_files(session, expected, pristine_landing_dir):
    result = q.satisfaction(session, StrategyQuery(), EVERYTHING, policy=FULL)
    assert not isinstance(result, GoldStatus)
    start, end = _window(session, f"{result.resolved.month:%Y-%m}")
    customers, cohort = _satisfaction_expected(expected, _surveys(pristine_landing_dir, expected), start, end)
    retention = expected.retention(start, end, "segment")

    by_segment = result.by_segment.set_index("segment")
    assert len(by_segment) > 1
    for segment, row in by_segment.iterrows():
        mine = customers[customers["segment"] == segment]
        assert row["nps_responses"] == mine["nps_n"].sum()
        assert row["csat_responses"] == mine["csat_n"].sum()
        assert row["nps"] == pytest.approx((mine["nps"] * mine["nps_n"]).sum() / mine["nps_n"].sum())
        assert row["csat"] == pytest.approx((mine["csat"] * mine["csat_n"]).sum() / mine["csat_n"].sum())
        kept = retention.loc[segment]
        assert row["cohort"] == kept["start_customers"]
        assert row["retention"] == pytest.approx(kept["retained_customers"] / kept["start_customers"])
        assert row["mrr_growth"] == pytest.approx(kept["retained_mrr_usd"] / kept["start_mrr_usd"] - 1, abs=1e-6)

    against = {"Retention": "retained", "MRR growth": "growth"}
    assert [(c.score, c.against) for c in result.correlations] == [
        ("NPS", "Retention"), ("CSAT", "Retention"), ("NPS", "MRR growth"), ("CSAT", "MRR growth")]
    assert any(c.r is not None for c in result.correlations)
    for correlation in result.correlations:
        pairs = cohort[[correlation.score.lower(), against[correlation.against]]].dropna()
        assert correlation.n == len(pairs), correlation
        if len(pairs) < q.MIN_CORRELATION_SAMPLE or pairs.iloc[:, 1].nunique() < 2:
            assert correlation.r is None
            continue
        r = pairs.iloc[:, 0].corr(pairs.iloc[:, 1])
        assert correlation.r == pytest.approx(r, abs=1e-6)
        assert correlation.interval == pytest.approx(_fisher_interval(r, len(pairs)))

    masked = q.satisfaction(session, StrategyQuery(), EVERYTHING, policy=NO_FINANCIALS)
    assert [c.against for c in masked.correlations] == ["Retention", "Retention"]
    assert masked.by_segment["mrr_growth"].isna().all() and masked.trend["mrr_growth"].isna().all()


def test_the_satisfaction_trend_matches_the_landing_files(session, expected, pristine_landing_dir):
    result = q.satisfaction(session, StrategyQuery(), EVERYTHING, policy=FULL)
    assert not isinstance(result, GoldStatus)
    trend = result.trend
    months = sorted(set(trend["month"]))
    assert len(months) == min(q.TREND_MONTHS, len(result.resolved.months)) and months[-1] == result.resolved.month
    surveys = _surveys(pristine_landing_dir, expected)
    for month in (months[0], months[len(months) // 2]):  # two earlier windows, checked whole
        start, end = _window(session, f"{month:%Y-%m}")
        customers, _ = _satisfaction_expected(expected, surveys, start, end)
        retention = expected.retention(start, end, "segment")
        rows = trend[trend["month"] == month].set_index("segment")
        assert rows.loc[q.ALL_SEGMENTS, "window_end"] == end
        assert set(rows.index) - {q.ALL_SEGMENTS} <= set(customers["segment"])
        for segment, row in rows.iterrows():
            mine = customers if segment == q.ALL_SEGMENTS else customers[customers["segment"] == segment]
            kept = retention.sum() if segment == q.ALL_SEGMENTS else retention.loc[segment]
            if mine["nps_n"].sum():
                assert row["nps"] == pytest.approx((mine["nps"] * mine["nps_n"]).sum() / mine["nps_n"].sum())
            else:
                assert pd.isna(row["nps"])
            if mine["csat_n"].sum():
                assert row["csat"] == pytest.approx((mine["csat"] * mine["csat_n"]).sum() / mine["csat_n"].sum())
            assert row["retention"] == pytest.approx(kept["retained_customers"] / kept["start_customers"])
            assert row["mrr_growth"] == pytest.approx(kept["retained_mrr_usd"] / kept["start_mrr_usd"] - 1, abs=1e-6)


def test_a_territory_scope_sees_its_territories_satisfaction_only(session):
    territories = [row[0] for row in session.execute(text(
        "SELECT territory FROM gold.retention_monthly GROUP BY territory ORDER BY sum(nps_responses) DESC LIMIT 1"))]
    scoped = q.satisfaction(session, StrategyQuery(), DataScope.restricted_to(territories), policy=FULL)
    everything = q.satisfaction(session, StrategyQuery(), EVERYTHING, policy=FULL)
    month = everything.resolved.month
    wanted = session.execute(text(
        "SELECT sum(nps_responses), sum(nps_cohort_n) FROM gold.retention_monthly "
        "WHERE month = :m AND product_line = 'All products' AND territory = :t"), {"m": month, "t": territories[0]}).one()
    assert scoped.by_segment["nps_responses"].sum() == wanted[0] < everything.by_segment["nps_responses"].sum()
    assert scoped.correlations[0].n == wanted[1]


# --- 7. Cross-sell and upsell potential ---------------------------------------------------


def test_potential_ranks_growth_actions_and_product_gaps(session, expected):
    """The inputs are model and rule outputs (open Growth next-best actions, gold.account_book's
    product gaps, themselves checked against pandas in test_book): the ranking and sums are checked."""
    result = q.potential(session, StrategyQuery(), EVERYTHING, policy=FULL)
    assert not isinstance(result, GoldStatus)
    actions = frame(session, "SELECT customer_id, estimated_impact_revenue_usd AS usd FROM gold.next_best_action "
                             "WHERE status = 'open' AND action_type = 'Growth'")
    actions["usd"] = actions["usd"].astype(float)
    book = frame(session, "SELECT account_id, gap_count, mrr_usd, active FROM gold.account_book").set_index("account_id")
    book["mrr_usd"] = book["mrr_usd"].astype(float)
    growth = actions.groupby("customer_id")["usd"].agg(["size", "sum"])
    book = book.join(growth, how="left").fillna({"size": 0, "sum": 0.0})
    book = book[book["active"] & ((book["gap_count"] > 0) | (book["size"] > 0))]
    ranked = book.rename_axis("customer").assign(customer_id=book.index) \
        .sort_values(["sum", "gap_count", "mrr_usd", "customer_id"], ascending=[False, False, False, True])
    assert result.candidates == len(book) > 0
    assert result.total_expected_usd == pytest.approx(book["sum"].sum(), abs=0.05)
    rows = result.grid.rows
    assert [row["account_id"] for row in rows] == list(ranked.index[:q.POTENTIAL_LIMIT])
    for row in rows:
        assert row["expected_value_usd"] == pytest.approx(ranked.loc[row["account_id"], "sum"], abs=0.01)
        assert row["growth_actions"] == ranked.loc[row["account_id"], "size"]
        assert row["churn_risk"] == expected.churn["risk_level"].get(row["account_id"])
    masked = q.potential(session, StrategyQuery(), EVERYTHING, policy=NO_FINANCIALS)
    assert masked.total_expected_usd is None
    assert all(isinstance(row["expected_value_usd"], str) for row in masked.grid.rows)


# --- 6. Why customers churn ----------------------------------------------------------------

COMPETITOR_PHRASES = r"competitor|quoted us|offer from|switch(?:ed)? to|went with|switch provider|another provider"


def _messages(landing_dir) -> pd.DataFrame:
    messages = raw_rows(landing_dir, "support/messages").drop_duplicates("message_id", keep="last")
    conversations = raw_rows(landing_dir, "support/conversations").drop_duplicates("conversation_id", keep="last")
    messages = messages.merge(conversations[["conversation_id", "account_id"]], on="conversation_id")
    messages["day"] = pd.to_datetime(messages["sent_at"], format="ISO8601", utc=True, errors="coerce").dt.date
    return messages.dropna(subset=["day", "body"])


def test_churned_and_retained_customers_match_the_landing_files(session, expected, pristine_landing_dir):
    result = q.churn_drivers(session, StrategyQuery(), EVERYTHING, policy=NO_FINANCIALS)
    assert not isinstance(result, GoldStatus)
    start, end = result.window_start, result.window_end
    before, after = expected.by_customer(start), expected.by_customer(end)
    churned = set(before.index) - set(after.index)
    retained = set(before.index) & set(after.index)
    assert (result.churned.customers, result.retained.customers) == (len(churned), len(retained))
    assert result.churned.customers > 0

    def in_window(days: pd.Series) -> pd.Series:
        return (days > start) & (days <= end)

    rises = typed(pristine_landing_dir, "crm/price_changes")
    rises = rises[(rises["new_mrr"] > rises["old_mrr"]) & in_window(rises["effective_date"].dt.date)]
    risen = set(rises["account_id"].map(expected.master_of).dropna())
    tickets = expected.tickets[in_window(expected.tickets["day"])]
    minutes = (tickets["first_response_at"] - tickets["created_at"]).dt.total_seconds() / 60
    deadline = tickets["created_at"] + pd.to_timedelta(tickets["sla_first_response_minutes"], unit="min")
    day_after_as_of = pd.Timestamp(session.scalar(text("SELECT max(day) FROM gold.daily_kpi")), tz="UTC") \
        + pd.Timedelta(days=1)
    breached = ((tickets["first_response_at"].notna() & (minutes > tickets["sla_first_response_minutes"]))
                | (tickets["first_response_at"].isna() & (deadline < day_after_as_of)))
    messages = _messages(pristine_landing_dir)
    messages = messages[(messages["direction"] == "inbound") & in_window(messages["day"])
                        & messages["body"].str.contains(COMPETITOR_PHRASES, case=False, regex=True)]
    mentioned = set(messages["account_id"].map(expected.master_of).dropna())
    for side, members in ((result.churned, churned), (result.retained, retained)):
        mine = tickets["customer"].isin(members)
        assert side.price_rises == len(risen & members)
        assert side.tickets == int(mine.sum())
        assert side.sla_breaches == int((breached & mine).sum())
        assert side.csat_responses == int(tickets.loc[mine, "csat"].notna().sum())
        assert side.csat == pytest.approx(tickets.loc[mine, "csat"].mean())
        assert side.competitor_mentions == len(mentioned & members)

    # The model's common factors: risk-raising explanation factors of today's HIGH-risk customers.
    high = frame(session, "SELECT account_id, contributing_factors FROM gold.churn_prediction WHERE risk_level = 'HIGH'")
    assert result.high_risk_customers == len(high)
    counts: dict[str, set[str]] = {}
    for account_id, factors in zip(high["account_id"], high["contributing_factors"], strict=True):
        for factor in factors:
            if float(factor.get("contribution") or 0) > 0:
                counts.setdefault(factor.get("label") or factor.get("feature"), set()).add(account_id)
    ranked = sorted(((label, len(ids)) for label, ids in counts.items()), key=lambda item: (-item[1], item[0]))
    assert list(result.factors.itertuples(index=False, name=None)) == [
        (label, n, n / len(high)) for label, n in ranked[:q.TOP_FACTORS]]
