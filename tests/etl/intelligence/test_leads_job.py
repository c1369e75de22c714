"""The lead and repeat-purchase job: what it writes to gold, checked against the landing files and the models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from models import clv
from models.leads import OPEN_STATUSES
from tests.conftest import AS_OF
from tests.etl.reference import Landing, typed


@pytest.fixture(scope="module")
def landing(pristine_landing_dir) -> Landing:
    return Landing.read(pristine_landing_dir)


def _gold(database, sql: str) -> pd.DataFrame:
    with database.session() as session:
        result = session.execute(text(sql))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def test_the_job_writes_every_table_and_records_its_run(loaded_database, leads_scored):
    assert leads_scored.open_leads > 0 and leads_scored.customers > 0
    assert leads_scored.validation_auc is not None and leads_scored.validation_auc > 0.6
    runs = _gold(loaded_database, "SELECT * FROM gold.sales_model_run ORDER BY run_id DESC LIMIT 1")
    assert runs.loc[0, "lead_validation_auc"] == pytest.approx(leads_scored.validation_auc)
    assert runs.loc[0, "lead_train_rows"] > runs.loc[0, "lead_validation_rows"] > 0
    assert set(runs.loc[0, "bgnbd"]) >= {"r", "alpha", "a", "b"}
    jobs = _gold(loaded_database, "SELECT status FROM app.job_run WHERE job_id = 'lead_scoring'")
    assert (jobs["status"] == "success").any()


def test_open_leads_are_exactly_the_open_leads_of_the_landing_files(loaded_database, leads_scored,
                                                                   pristine_landing_dir):
    leads = typed(pristine_landing_dir, "crm/leads")
    expected = set(leads.loc[leads["status"].isin(OPEN_STATUSES) & leads["converted_account_id"].isna(),
                             "lead_id"])
    scored = _gold(loaded_database, "SELECT lead_id, lead_score, conversion_probability, reason FROM gold.lead_score")
    assert set(scored["lead_id"]) == expected
    assert ((scored["lead_score"] >= 0) & (scored["lead_score"] <= 100)).all()
    assert np.allclose(scored["lead_score"], (scored["conversion_probability"] * 100).round(1), atol=0.051)
    assert scored["reason"].str.len().gt(5).all()


def test_repeat_purchase_p_alive_follows_the_stored_bgnbd_fit(loaded_database, leads_scored):
    rows = _gold(loaded_database, "SELECT * FROM gold.repeat_purchase")
    params = _gold(loaded_database, "SELECT bgnbd FROM gold.sales_model_run ORDER BY run_id DESC LIMIT 1").loc[0, "bgnbd"]
    model = clv.BetaGeoModel(params["r"], params["alpha"], params["a"], params["b"], params["log_likelihood"],
                             params["customers"], params["converged"])
    alive = model.probability_alive(rows["frequency"], rows["recency_weeks"], rows["age_weeks"])
    assert np.allclose(alive, rows["p_alive"], atol=1e-9)
    expected = model.expected_purchases(13.0, rows["frequency"], rows["recency_weeks"], rows["age_weeks"])
    assert np.allclose(expected, rows["expected_purchases"], atol=1e-9)
    ranked = rows.sort_values("purchase_rank")
    assert ranked["expected_purchases"].is_monotonic_decreasing
    assert (rows["purchases"] == rows["frequency"] + 1).all()
    assert ((rows["p_alive"] >= 0) & (rows["p_alive"] <= 1)).all()


def test_buying_decline_mrr_matches_the_landing_subscriptions(loaded_database, leads_scored, landing):
    declines = _gold(loaded_database, "SELECT * FROM gold.buying_decline")
    assert set(declines["decline_kind"]) <= {"churned", "contracted", "stopped buying"}
    assert (declines["reasons"].str.len() > 3).all()
    moved = declines[declines["decline_kind"] != "stopped buying"].set_index("account_id")
    assert (moved["mrr_now_usd"] < moved["mrr_before_usd"]).all()
    assert ((moved["decline_kind"] == "churned") == (moved["mrr_now_usd"] == 0)).all()
    # Independently: each subscription's MRR at the as-of rate on the two days, per customer.
    masters = _gold(loaded_database, "SELECT account_id, master_account_id FROM silver.account_master")
    customers = set(_gold(loaded_database, "SELECT account_id FROM gold.customer_360")["account_id"])
    master = masters.set_index("account_id")["master_account_id"]
    subs = landing.subscriptions.copy()
    subs["customer"] = subs["account_id"].map(master).fillna(subs["account_id"])
    rates = {c: landing.rate(c, AS_OF) for c in subs["currency"].unique()}
    subs["usd"] = subs["mrr"].astype(float) * subs["currency"].map(rates)
    before = pd.Timestamp(AS_OF - pd.Timedelta(days=90))
    now = pd.Timestamp(AS_OF)

    def on(day):
        live = subs[(subs["start_date"] <= day) & (subs["end_date"].isna() | (subs["end_date"] > day))]
        return live.groupby("customer")["usd"].sum()

    frame = pd.DataFrame({"before": on(before), "now": on(now)}).fillna(0.0)
    frame = frame[frame.index.isin(customers)]
    fell = frame[(frame["before"] > 0) & (frame["now"] < frame["before"] - 0.01)]
    assert set(fell.index) == set(moved.index)
    assert np.allclose(moved.loc[fell.index, "mrr_before_usd"].astype(float), fell["before"], atol=0.02 * 3)
    assert np.allclose(moved.loc[fell.index, "mrr_now_usd"].astype(float), fell["now"], atol=0.02 * 3)
