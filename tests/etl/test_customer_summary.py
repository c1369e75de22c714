"""gold.customer_summary and gold.churn_factor_territory against pandas sums of the rows they sum up
(gold.customer_360, gold.churn_prediction, gold.account_book), after the ETL and the scoring job,
which rewrites the scores and the summaries; and the same tables worked out again give no change."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.db import Database
from dashboard.tables.gold import ALL_FACTORS, ALL_PRODUCTS
from etl.gold import GOLD_STEPS, SCORE_SUMMARY_STEPS, data_window
from etl.steps import DIFF, qualified_name, run_steps

KEYS = ["region", "territory", "product_line", "risk_level", "health_band"]
FIGURES = ["active_customers", "mrr_usd", "newly_high_customers", "clv_customers", "clv_usd", "gap_customers"]


def _frame(database: Database, sql: str) -> pd.DataFrame:
    with database.engine.connect() as conn:
        result = conn.execute(text(sql))
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _band(score: float) -> str:
    if pd.isna(score):
        return ""
    return "Healthy" if score >= 80 else ("At-Risk" if score >= 50 else "Critical")


@pytest.fixture(scope="module")
def customers(loaded_database: Database, scored) -> pd.DataFrame:
    """Per customer: its keys in the summary, and what it adds to each figure."""
    frame = _frame(loaded_database, """
        SELECT c.account_id, c.region, c.territory, c.risk_level, c.health_score, c.status, c.mrr_usd, c.clv_usd,
               p.risk_level AS predicted_level, p.previous_churn_risk_score, b.active AS in_book, b.gap_count,
               b.product_lines
        FROM gold.customer_360 c
        LEFT JOIN gold.churn_prediction p ON p.account_id = c.account_id
        LEFT JOIN gold.account_book b ON b.account_id = c.account_id""")
    frame["territory"] = frame["territory"].fillna("")
    frame["risk_level"] = frame["risk_level"].fillna("")
    frame["health_band"] = frame["health_score"].map(_band)
    frame["active"] = frame["status"] == "active"
    for column in ("mrr_usd", "clv_usd"):
        frame[column] = frame[column].astype(float)
    return frame


def _summary(database: Database) -> pd.DataFrame:
    summary = _frame(database, "SELECT * FROM gold.customer_summary")
    return summary.astype({"mrr_usd": float, "clv_usd": float}).set_index(KEYS).sort_index()


def test_the_customer_rows_sum_the_customers(loaded_database, customers):
    wanted = customers.assign(
        product_line=ALL_PRODUCTS,
        active_customers=customers["active"].astype(int),
        mrr_usd=customers["mrr_usd"].where(customers["active"], 0.0),
        newly_high_customers=(customers["active"] & (customers["predicted_level"] == "HIGH")
                              & (customers["previous_churn_risk_score"] < 70)).astype(int),
        clv_customers=(customers["active"] & customers["clv_usd"].notna()).astype(int),
        clv_usd=customers["clv_usd"].where(customers["active"], 0.0).fillna(0.0),
        gap_customers=(customers["in_book"].fillna(False).astype(bool)
                       & (customers["gap_count"].fillna(0) > 0)).astype(int),
    ).groupby(KEYS)[FIGURES].sum().sort_index()
    summary = _summary(loaded_database)
    actual = summary[summary.index.get_level_values("product_line") == ALL_PRODUCTS]
    assert list(actual.index) == list(wanted.index)
    for column in FIGURES:
        assert actual[column].to_numpy() == pytest.approx(wanted[column].to_numpy(), abs=0.005), column
    # Something to sum in each figure, or the comparison above proves little.
    assert (wanted[["active_customers", "clv_customers", "gap_customers"]].sum() > 0).all()
    assert set(actual.index.get_level_values("risk_level")) >= {"HIGH", "LOW"}


def test_the_product_line_rows_sum_the_lifetime_value_of_each_line_held(loaded_database, customers):
    valued = customers[customers["active"] & customers["clv_usd"].notna() & customers["product_lines"].notna()]
    held = valued.explode("product_lines").dropna(subset=["product_lines"]).rename(columns={"product_lines": "line"})
    wanted = held.groupby(["region", "territory", "line", "risk_level", "health_band"])["clv_usd"] \
        .agg(["size", "sum"]).sort_index()
    summary = _summary(loaded_database)
    actual = summary[summary.index.get_level_values("product_line") != ALL_PRODUCTS]
    assert len(wanted) > 0
    assert list(actual.index) == list(wanted.index)
    assert actual["clv_customers"].tolist() == wanted["size"].tolist()
    assert actual["clv_usd"].to_numpy() == pytest.approx(wanted["sum"].to_numpy(), abs=0.005)
    assert (actual[["active_customers", "newly_high_customers", "gap_customers"]] == 0).all().all()


def test_the_churn_factors_count_the_high_risk_customers_per_territory(loaded_database, scored):
    high = _frame(loaded_database, """
        SELECT p.account_id, c.territory, p.contributing_factors FROM gold.churn_prediction p
        LEFT JOIN gold.customer_360 c ON c.account_id = p.account_id WHERE p.risk_level = 'HIGH'""")
    assert len(high) > 0
    high["territory"] = high["territory"].fillna("")
    # Every territory has its count, 0 where no customer is at HIGH risk.
    territories = _frame(loaded_database, "SELECT DISTINCT COALESCE(territory, '') AS territory FROM gold.customer_360")
    wanted: dict[tuple[str, str], set[str]] = {(t, ALL_FACTORS): set() for t in territories["territory"]}
    for account_id, territory, factors in high.itertuples(index=False, name=None):
        wanted.setdefault((territory, ALL_FACTORS), set()).add(account_id)
        for factor in factors:
            if float(factor.get("contribution") or 0) > 0:
                label = factor.get("label") or factor.get("feature") or ""
                wanted.setdefault((territory, label), set()).add(account_id)
    actual = _frame(loaded_database, "SELECT territory, factor, customers FROM gold.churn_factor_territory")
    assert {(t, f): n for t, f, n in actual.itertuples(index=False, name=None)} == \
        {key: len(ids) for key, ids in wanted.items()}


def test_working_the_summaries_out_again_changes_no_row(loaded_database, scored):
    """What the scoring job does after writing the scores (DIFF): nothing to write when nothing moved."""
    assert {qualified_name(step.table) for step in SCORE_SUMMARY_STEPS} == {
        "gold.customer_summary", "gold.churn_factor_territory"}
    assert all(step in GOLD_STEPS for step in SCORE_SUMMARY_STEPS)
    tables = [qualified_name(step.table) for step in SCORE_SUMMARY_STEPS]
    with loaded_database.engine.begin() as conn:
        before = {name: sorted(map(tuple, conn.execute(text(f"SELECT *, xmin::text FROM {name}")))) for name in tables}
        run_steps(conn, SCORE_SUMMARY_STEPS, {"as_of": data_window(conn).as_of}, stage="test", truncate=False,
                  plan=dict.fromkeys(tables, DIFF))
        after = {name: sorted(map(tuple, conn.execute(text(f"SELECT *, xmin::text FROM {name}")))) for name in tables}
    assert before == after
