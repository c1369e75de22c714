"""Survey responses, onboarding milestones, invoice disputes and adjustments, price changes, the
product on a ticket and competitor mentions: written by the generator with the contract's columns
and planted signals, cleaned by silver exactly as an independent pandas reading of the landing
files says, and bad rows quarantined with their reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.db import Database
from dashboard.tables.landing import dataset
from etl.demo_data.vocab import COMPETITORS
from etl.pipeline import run_pipeline
from etl.quality import run_checks
from tests.etl.dbutil import cloned_database
from tests.etl.reference import Landing, raw_rows, typed
from tests.etl.tiny_landing import write_csv, write_tiny_landing

NEW_FILES = ("support/surveys", "crm/onboarding_milestones", "crm/price_changes", "billing/disputes",
             "billing/adjustments")


def _frame(landing: Path, key: str) -> pd.DataFrame:
    """Every row of a generated file as text ('' for empty)."""
    return pd.read_csv(landing / f"{key}.csv", dtype=str, keep_default_na=False, on_bad_lines="skip")


def _accounts(landing: Path) -> pd.DataFrame:
    accounts = _frame(landing, "crm/accounts")
    accounts = accounts[accounts["account_id"].str.fullmatch(r"ACC-\d{6}")]
    accounts = accounts.sort_values("updated_at", kind="stable").drop_duplicates("account_id", keep="last")
    return accounts.assign(churned=accounts["status"] == "churned").set_index("account_id")


def _query(database: Database, sql: str) -> pd.DataFrame:
    with database.engine.connect() as conn:
        result = conn.execute(text(sql))
        return pd.DataFrame(result.all(), columns=list(result.keys()))


# --- the generator ------------------------------------------------------------------------------


def test_the_generator_writes_the_new_files_with_the_contract_columns(pristine_landing_dir: Path) -> None:
    for key in (*NEW_FILES, "support/tickets"):
        system, name = key.split("/")
        frame = _frame(pristine_landing_dir, key)
        assert tuple(frame.columns) == dataset(system, name).columns, key
        assert len(frame) > 50, key
    surveys = _frame(pristine_landing_dir, "support/surveys")
    nps = surveys[surveys["survey_type"] == "nps"]
    csat = surveys[surveys["survey_type"] == "csat"]
    assert len(nps) and len(csat) and set(surveys["survey_type"]) == {"nps", "csat"}
    answered = nps[nps["responded_at"] != ""]
    assert answered["nps_score"].astype(int).between(0, 10).all() and (nps["csat_score"] == "").all()
    assert (nps.loc[nps["responded_at"] == "", "nps_score"] == "").all()
    assert csat.loc[csat["responded_at"] != "", "csat_score"].astype(int).between(1, 5).all()
    assert 0.2 < (surveys["responded_at"] != "").mean() < 0.6
    tickets = _frame(pristine_landing_dir, "support/tickets")
    assert 0.5 < (tickets["product_id"] != "").mean() < 0.95
    assert set(tickets["product_id"]) - {""} <= set(_frame(pristine_landing_dir, "crm/products")["product_id"])


def test_a_few_surveys_come_twice_unanswered_first(pristine_landing_dir: Path) -> None:
    surveys = _frame(pristine_landing_dir, "support/surveys")
    repeated = surveys[surveys.duplicated("survey_id", keep=False)]
    assert 0 < repeated["survey_id"].nunique() < 0.03 * surveys["survey_id"].nunique()
    assert (repeated.groupby("survey_id").size() == 2).all()
    first = repeated.drop_duplicates("survey_id", keep="first")
    last = repeated.drop_duplicates("survey_id", keep="last")
    assert (first["responded_at"] == "").all() and (first["nps_score"] + first["csat_score"] == "").all()
    assert (last["responded_at"] != "").all() and (last["nps_score"] + last["csat_score"] != "").all()


def test_disputes_and_adjustments_fit_their_invoices(pristine_landing_dir: Path) -> None:
    latest = typed(pristine_landing_dir, "billing/invoices")  # the planted malformed rows left out
    disputes = _frame(pristine_landing_dir, "billing/disputes")
    adjustments = _frame(pristine_landing_dir, "billing/adjustments")
    assert len(disputes) and len(adjustments)
    flagged = set(latest.loc[latest["is_disputed"] == True, "invoice_id"])  # noqa: E712 - a nullable column
    assert set(disputes["invoice_id"]) == flagged
    billed = disputes.merge(latest, on="invoice_id", suffixes=("", "_invoice"))
    assert len(billed) == len(disputes)
    assert (billed["currency"] == billed["currency_invoice"]).all()
    assert (billed["amount"].astype(float) <= billed["amount_invoice"] + 0.01).all()
    assert (pd.to_datetime(billed["opened_at"]).dt.tz_localize(None) > billed["issue_date"]).all()
    assert set(disputes["status"]) <= {"open", "upheld", "rejected"}
    assert ((disputes["status"] == "open") == (disputes["resolved_at"] == "")).all()
    assert set(adjustments["kind"]) == {"credit", "debit"}
    assert (adjustments["amount"].astype(float) > 0).all()
    settled = adjustments[adjustments["dispute_id"] != ""].merge(
        disputes[["dispute_id", "status", "resolved_at"]], on="dispute_id")
    assert len(settled) and (settled["status"] == "upheld").all()
    assert (settled["created_at"] > settled["resolved_at"]).all()
    assert set(adjustments["invoice_id"]) <= set(latest["invoice_id"])


def test_price_changes_compound_and_are_billed(pristine_landing_dir: Path) -> None:
    changes = _frame(pristine_landing_dir, "crm/price_changes")
    subs = _frame(pristine_landing_dir, "crm/subscriptions").set_index("subscription_id")
    assert len(changes) and set(changes["reason"]) == {"annual_uplift", "list_price_increase"}
    old, new = changes["old_mrr"].astype(float), changes["new_mrr"].astype(float)
    assert ((new / old).between(1.029, 1.19)).all()
    first = changes.sort_values("effective_date").drop_duplicates("subscription_id")
    signed = subs.loc[first["subscription_id"], "mrr"].astype(float).to_numpy()
    assert np.allclose(first["old_mrr"].astype(float).to_numpy(), signed, atol=0.02)
    running = subs.loc[changes["subscription_id"]]
    assert (changes["effective_date"].to_numpy() > running["start_date"].to_numpy()).all()
    assert ((running["end_date"] == "") | (running["end_date"].to_numpy() > changes["effective_date"].to_numpy())).all()
    # an account billed for one subscription pays the new price from the month after the change
    invoices = typed(pristine_landing_dir, "billing/invoices")
    invoices["issue_date"] = invoices["issue_date"].dt.strftime("%Y-%m-%d")
    single = subs.groupby("account_id").size()
    single = set(single[single == 1].index)
    change = changes[changes["account_id"].isin(single)].sort_values("effective_date").drop_duplicates(
        "subscription_id", keep="first")
    assert len(change)
    after = change.merge(invoices, on="account_id", suffixes=("", "_invoice"))
    after = after[(after["issue_date"] > after["effective_date"])]
    after = after.sort_values("issue_date").drop_duplicates("price_change_id")
    ratio = after["amount"].astype(float).to_numpy() / after["new_mrr"].astype(float).to_numpy()
    assert len(ratio) and (ratio > 0.999).mean() > 0.95


# --- the planted signals ------------------------------------------------------------------------


def test_signal_churned_accounts_gave_lower_nps(pristine_landing_dir: Path) -> None:
    accounts = _accounts(pristine_landing_dir)
    surveys = _frame(pristine_landing_dir, "support/surveys")
    nps = surveys[surveys["nps_score"] != ""]
    score = nps["nps_score"].astype(int).groupby(nps["account_id"].map(accounts["churned"])).mean()
    assert score[True] < score[False] - 0.3, score


def test_signal_nps_falls_after_a_dispute_and_csat_with_late_onboarding(pristine_landing_dir: Path) -> None:
    surveys = _frame(pristine_landing_dir, "support/surveys")
    disputes = _frame(pristine_landing_dir, "billing/disputes")
    nps = surveys[surveys["nps_score"] != ""].copy()
    nps["sent"] = pd.to_datetime(nps["sent_at"])
    opened = disputes.assign(opened=pd.to_datetime(disputes["opened_at"]))[["account_id", "opened"]]
    pairs = nps.merge(opened, on="account_id")
    recent = pairs[(pairs["opened"] <= pairs["sent"]) & (pairs["opened"] > pairs["sent"] - pd.Timedelta(days=180))]
    nps["after_dispute"] = nps["survey_id"].isin(recent["survey_id"])
    score = nps["nps_score"].astype(int).groupby(nps["after_dispute"]).mean()
    assert score[True] < score[False] - 0.8, score

    onboarding = _frame(pristine_landing_dir, "crm/onboarding_milestones")
    go_live = onboarding[(onboarding["milestone"] == "go_live") & (onboarding["completed_at"] != "")]
    late = (pd.to_datetime(go_live["completed_at"]).dt.tz_localize(None)
            - pd.to_datetime(go_live["planned_date"])).dt.days.set_axis(go_live["account_id"])
    csat = surveys[(surveys["touchpoint"] == "onboarding") & (surveys["csat_score"] != "")]
    scored = pd.DataFrame({"csat": csat["csat_score"].astype(int).to_numpy(),
                           "late": csat["account_id"].map(late).to_numpy()}).dropna()
    assert len(scored) > 30
    assert scored["csat"].corr(scored["late"]) < -0.3


def test_signal_accounts_mentioning_competitors_churn_more(pristine_landing_dir: Path) -> None:
    accounts = _accounts(pristine_landing_dir)
    messages = _frame(pristine_landing_dir, "support/messages")
    conversations = _frame(pristine_landing_dir, "support/conversations").set_index("conversation_id")
    mentions = messages[messages["body"].str.contains("|".join(COMPETITORS), regex=True)]
    assert len(mentions) > 20
    assert (mentions["direction"] == "inbound").all()
    mentioned = set(conversations.loc[mentions["conversation_id"], "account_id"])
    churn = accounts["churned"].groupby(accounts.index.isin(mentioned)).mean()
    assert churn[True] > 1.5 * churn[False], churn


def test_signal_price_increases_and_disputes_precede_churn(pristine_landing_dir: Path) -> None:
    accounts = _accounts(pristine_landing_dir)
    changes = _frame(pristine_landing_dir, "crm/price_changes")
    raised = set(changes.loc[changes["reason"] == "list_price_increase", "account_id"])
    churn = accounts["churned"].groupby(accounts.index.isin(raised)).mean()
    assert churn[True] > 2 * churn[False], churn

    invoices = _frame(pristine_landing_dir, "billing/invoices")
    invoices = invoices[invoices["invoice_id"].str.fullmatch(r"INV-\d{8}")].drop_duplicates("invoice_id")
    disputes = _frame(pristine_landing_dir, "billing/disputes")
    per_account = pd.DataFrame({"invoices": invoices.groupby("account_id").size(),
                                "disputes": disputes.groupby("account_id").size()}).fillna(0)
    per_account["churned"] = per_account.index.map(accounts["churned"])
    rate = per_account.groupby("churned")[["disputes", "invoices"]].sum()
    dispute_rate = rate["disputes"] / rate["invoices"]
    assert dispute_rate[True] > 1.5 * dispute_rate[False], dispute_rate


def test_signal_late_onboarding_brings_tickets_and_field_work_runs_latest(pristine_landing_dir: Path) -> None:
    onboarding = _frame(pristine_landing_dir, "crm/onboarding_milestones")
    done = onboarding[onboarding["completed_at"] != ""].copy()
    done["completed"] = pd.to_datetime(done["completed_at"]).dt.tz_localize(None)
    done = done.sort_values(["account_id", "sequence"])
    # each step's own delay: its time after the previous step beyond what the plan allowed
    done["planned"] = pd.to_datetime(done["planned_date"])
    done["own_days"] = ((done["completed"] - done.groupby("account_id")["completed"].shift())
                        - (done["planned"] - done.groupby("account_id")["planned"].shift())).dt.days
    own = done.dropna(subset=["own_days"]).groupby("milestone")["own_days"].mean()
    assert own.idxmax() == "installation", own

    go_live = done[done["milestone"] == "go_live"].set_index("account_id")
    delay = (go_live["completed"] - go_live["planned"]).dt.days
    tickets = _frame(pristine_landing_dir, "support/tickets").drop_duplicates("ticket_id")
    tickets = tickets[tickets["account_id"].isin(delay.index)]
    created = pd.to_datetime(tickets["created_at"], errors="coerce").dt.tz_localize(None)
    start = tickets["account_id"].map(go_live["completed"] - pd.Timedelta(days=60))
    early = tickets[(created >= start) & (created < start + pd.Timedelta(days=120))]
    per_account = early.groupby("account_id").size().reindex(delay.index, fill_value=0)
    slow = delay > delay.median()
    assert per_account[slow].mean() > 1.3 * per_account[~slow].mean()


def test_signal_some_products_raise_more_tickets_per_customer(pristine_landing_dir: Path) -> None:
    tickets = _frame(pristine_landing_dir, "support/tickets").drop_duplicates("ticket_id")
    subs = _frame(pristine_landing_dir, "crm/subscriptions")
    customers = subs.groupby("product_id")["account_id"].nunique()
    per_customer = tickets[tickets["product_id"] != ""].groupby("product_id").size() / customers
    assert per_customer.dropna().size >= 8
    assert per_customer["PRD-003"] > 3 * per_customer["PRD-009"]  # managed SD-WAN against a support plan
    assert per_customer["PRD-011"] > 1.5 * per_customer["PRD-006"]  # voice against backup


# --- silver against an independent reading --------------------------------------------------------


def _moments(values: pd.Series) -> list[str]:
    """Dates and timestamps as UTC ISO text ('' for none), whatever their type or precision."""
    parsed = pd.to_datetime(values, utc=True)
    return parsed.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("").tolist()


def _usd(reference: Landing, frame: pd.DataFrame, amount: str, day: pd.Series) -> pd.Series:
    """`amount` in USD at the rate of `day` (the latest rate on or before it, up to 7 days older)."""
    fx = reference.fx.sort_values("rate_date")[["rate_date", "currency", "usd_per_unit"]]
    keyed = frame.assign(_day=pd.to_datetime(day).dt.tz_localize(None).dt.normalize().astype("datetime64[ns]"),
                         _order=np.arange(len(frame))).sort_values("_day")
    fx = fx.assign(rate_date=fx["rate_date"].astype("datetime64[ns]"))
    rated = pd.merge_asof(keyed, fx, left_on="_day", right_on="rate_date", by="currency",
                          tolerance=pd.Timedelta(days=7))
    return rated.sort_values("_order")["usd_per_unit"].to_numpy() * frame[amount].to_numpy()


@pytest.fixture(scope="module")
def loaded(pg_admin_url: str, loaded_template_url: str):
    with cloned_database(pg_admin_url, loaded_template_url) as database:
        yield database


def test_silver_equals_an_independent_reading_of_the_landing_files(loaded: Database,
                                                                   pristine_landing_dir: Path) -> None:
    reference = Landing.read(pristine_landing_dir)
    surveys = typed(pristine_landing_dir, "support/surveys")
    stored = _query(loaded, "SELECT survey_id, survey_type, sent_at, responded_at, nps_score, csat_score "
                            "FROM silver.surveys ORDER BY survey_id")
    assert len(stored) == len(surveys) > 0
    expected = surveys.sort_values("survey_id").reset_index(drop=True)
    assert stored["survey_id"].tolist() == expected["survey_id"].tolist()
    assert stored["nps_score"].astype("Float64").equals(expected["nps_score"].astype("Float64"))
    assert stored["csat_score"].astype("Float64").equals(expected["csat_score"].astype("Float64"))
    assert _moments(stored["responded_at"]) == _moments(expected["responded_at"])
    # ... with repeated surveys among them, kept once as their answered version
    assert _frame(pristine_landing_dir, "support/surveys")["survey_id"].duplicated().any()

    milestones = typed(pristine_landing_dir, "crm/onboarding_milestones")
    stored = _query(loaded, "SELECT milestone_id, planned_date, completed_at FROM silver.onboarding_milestones "
                            "ORDER BY milestone_id")
    expected = milestones.sort_values("milestone_id").reset_index(drop=True)
    assert len(stored) == len(expected) > 0
    assert _moments(stored["planned_date"]) == _moments(expected["planned_date"])
    assert _moments(stored["completed_at"]) == _moments(expected["completed_at"])

    for key, table, day, amounts in (
            ("crm/price_changes", "price_changes", "effective_date", {"old_mrr_usd": "old_mrr",
                                                                     "new_mrr_usd": "new_mrr"}),
            ("billing/disputes", "disputes", "opened_at", {"amount_usd": "amount"}),
            ("billing/adjustments", "adjustments", "created_at", {"amount_usd": "amount"})):
        frame = typed(pristine_landing_dir, key)
        keycol = frame.columns[0]
        frame = frame.sort_values(keycol).reset_index(drop=True)
        stored = _query(loaded, f"SELECT {keycol}, {', '.join(amounts)} FROM silver.{table} ORDER BY {keycol}")
        assert stored[keycol].tolist() == frame[keycol].tolist(), table
        for usd, amount in amounts.items():
            expected_usd = _usd(reference, frame, amount, frame[day])
            assert np.allclose(stored[usd].astype(float), expected_usd, rtol=1e-9), (table, usd)

    tickets = reference.tickets.sort_values("ticket_id").reset_index(drop=True)
    stored = _query(loaded, "SELECT ticket_id, product_id FROM silver.tickets ORDER BY ticket_id")
    assert stored["ticket_id"].tolist() == tickets["ticket_id"].tolist()
    assert stored["product_id"].fillna("").tolist() == tickets["product_id"].fillna("").tolist()


# --- bad rows --------------------------------------------------------------------------------------


SURVEY = dataset("support", "surveys").columns
DISPUTE = dataset("billing", "disputes").columns
INVOICE = dataset("billing", "invoices").columns


def test_bad_rows_are_quarantined_with_their_reason_and_repeats_kept_once(pg_admin_url: str, template_url: str,
                                                                          tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")
    write_csv(landing / "support" / "surveys.csv", SURVEY, [
        ["SRV-1", "ACC-1", "CON-1", "nps", "relationship", "2025-03-03T09:00:00Z", "2025-03-04T10:00:00Z",
         "9", "", "Great"],
        ["SRV-11", "ACC-1", "CON-1", "nps", "relationship", "2025-03-03T09:00:00Z", "2025-03-04T10:00:00Z",
         "11", "", ""],
        ["SRV-6", "ACC-1", "CON-2", "csat", "onboarding", "2025-03-03T09:00:00Z", "2025-03-04T10:00:00Z",
         "", "6", ""],
        ["SRV-4", "ACC-4", "", "nps", "relationship", "2025-03-03T09:00:00Z", "", "", "", ""],
    ])
    # the survey answered again: the later load wins, and within a file the later row
    write_csv(landing / "support" / "surveys_later.csv", SURVEY, [
        ["SRV-1", "ACC-1", "CON-1", "nps", "relationship", "2025-03-03T09:00:00Z", "2025-03-05T10:00:00Z",
         "7", "", "Fine"],
        ["SRV-1", "ACC-1", "CON-1", "nps", "relationship", "2025-03-03T09:00:00Z", "2025-03-05T11:00:00Z",
         "10", "", "Great, really"],
    ])
    write_csv(landing / "billing" / "invoices_more.csv", INVOICE, [
        ["INV-BAD", "ACC-1", "N9", "31/02/2025", "2025-03-30", "10.00", "EUR", "open", "", "true",
         "2025-03-02T00:00:00Z"]])
    write_csv(landing / "billing" / "disputes.csv", DISPUTE, [
        ["DSP-1", "INV-1", "ACC-1", "2025-03-06T10:00:00Z", "", "incorrect_amount", "20.00", "EUR", "open"],
        ["DSP-2", "INV-BAD", "ACC-1", "2025-03-06T10:00:00Z", "", "tax_error", "5.00", "EUR", "open"],
        ["DSP-3", "INV-NEVER", "ACC-1", "2025-03-06T10:00:00Z", "", "tax_error", "5.00", "EUR", "open"],
        ["DSP-4", "INV-1", "ACC-1", "2025-03-06T10:00:00Z", "", "tax_error", "5.00", "EURO", "open"],
    ])
    with cloned_database(pg_admin_url, template_url) as database:
        result = run_pipeline(database, landing, triggered_by="test")
        assert result.status == "success", result.error
        reasons = dict(_query(database, "SELECT record_key, reason FROM bronze.quarantine "
                                        "WHERE dataset IN ('support_surveys', 'billing_disputes')").values)
        assert reasons["SRV-11"] == "out-of-range value '11' in column nps_score (expected between 0 and 10)"
        assert reasons["SRV-6"] == "out-of-range value '6' in column csat_score (expected between 1 and 5)"
        assert reasons["SRV-4"] == "parent account_id 'ACC-4' quarantined"  # its account has a broken date
        assert reasons["DSP-2"] == "parent invoice_id 'INV-BAD' quarantined"
        assert reasons["DSP-4"].startswith("unknown currency 'EURO' in column currency")
        assert set(reasons) == {"SRV-11", "SRV-6", "SRV-4", "DSP-2", "DSP-4"}
        kept = _query(database, "SELECT dispute_id, amount_usd FROM silver.disputes ORDER BY 1")
        assert kept["dispute_id"].tolist() == ["DSP-1", "DSP-3"]
        assert float(kept["amount_usd"].iloc[0]) == pytest.approx(20 * 1.10)  # EUR on 2025-03-06
        surveys = _query(database, "SELECT survey_id, nps_score, responded_at, comment FROM silver.surveys")
        assert surveys["survey_id"].tolist() == ["SRV-1"]
        assert surveys["nps_score"].tolist() == [10] and surveys["comment"].tolist() == ["Great, really"]
        assert _moments(surveys["responded_at"]) == ["2025-03-05T11:00:00"]
        # a dispute of an invoice never sent is kept, and reported by the orphan check
        with database.engine.connect() as conn:
            report = run_checks(conn, "silver", None, store=False)
        orphans = next(r for r in report.results if r.check.id == "silver.disputes.invoice_id.orphans")
        assert orphans.status == "fail" and orphans.observed == pytest.approx(50.0)


def test_raw_rows_of_the_new_files_have_no_malformed_lines(pristine_landing_dir: Path) -> None:
    for key in NEW_FILES:
        frame = raw_rows(pristine_landing_dir, key)
        assert len(frame) == len(_frame(pristine_landing_dir, key)) > 0, key
