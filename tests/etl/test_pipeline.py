"""The whole pipeline: job runs, idempotence, failures, silver rules and gold figures.

Gold figures are checked against hand-worked values on a tiny landing folder, and against an
independent pandas reading of the generated landing files (`tests.etl.reference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Table, select, text

import etl.gold
import etl.silver
from dashboard.db import Database
from dashboard.tables import Base
from dashboard.tables import gold as gold_tables
from dashboard.tables import silver as silver_tables
from dashboard.tables.app import JobRun
from dashboard.tables.bronze import BRONZE_TABLES
from dashboard.tables.landing import dataset
from etl.identity.store import IDENTITY_TABLES
from etl.pipeline import run_pipeline
from etl.runs import job_lock
from etl.steps import qualified_name
from tests.etl.dbutil import (
    gold_checksums,
    table_checksum,
)
from tests.etl.reference import Landing
from tests.etl.tiny_landing import write_csv, write_tiny_landing

# --- Fixtures ------------------------------------------------------------------------


@pytest.fixture()
def tiny_landing(tmp_path: Path) -> Path:
    return write_tiny_landing(tmp_path / "landing")


@pytest.fixture(scope="module")
def reference(pristine_landing_dir: Path) -> Landing:
    return Landing.read(pristine_landing_dir)


def _scalar(database: Database, sql: str, **params):
    with database.engine.connect() as conn:
        return conn.scalar(text(sql), params)


def _frame(database: Database, sql: str, **params) -> pd.DataFrame:
    with database.engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _runs(database: Database, **where) -> list[JobRun]:
    with database.session() as session:
        stmt = select(JobRun).filter_by(job_id="etl", **where).order_by(JobRun.id)
        return list(session.scalars(stmt))


def _tables(schema: str) -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.schema == schema]


# --- Registries ----------------------------------------------------------------------


def test_every_silver_and_gold_table_has_a_build_step() -> None:
    silver_built = {f"{s.table.schema}.{s.table.name}" for s in etl.silver.SILVER_STEPS}
    silver_built |= set(IDENTITY_TABLES)
    gold_built = {f"{s.table.schema}.{s.table.name}" for s in etl.gold.GOLD_STEPS}
    assert silver_built == {f"silver.{t.name}" for t in _tables("silver")}
    # Tables of dashboard/tables/gold.py come from the ETL; the other modules' gold tables, and
    # account_scores, are written by the intelligence jobs.
    etl_gold = {qualified_name(model.__table__) for model in vars(gold_tables).values()
                if isinstance(model, type) and issubclass(model, Base) and model is not Base}
    assert gold_built == etl_gold - set(etl.gold.WRITTEN_BY_JOBS)


# --- Runs on the generated data --------------------------------------------------------


def test_run_is_recorded_with_rows_per_table(loaded_database: Database) -> None:
    run = _runs(loaded_database, triggered_by="test")[0]
    assert run.status == "success" and run.error is None
    assert run.finished_at is not None and run.finished_at >= run.started_at
    # The scoring job, which other tests may have run since, works its sums of the scores out again.
    rewritten_by_scoring = {qualified_name(step.table) for step in etl.gold.SCORE_SUMMARY_STEPS}
    with loaded_database.engine.connect() as conn:
        for table in _tables("silver") + [step.table for step in etl.gold.GOLD_STEPS]:
            name = f"{table.schema}.{table.name}"
            if name not in rewritten_by_scoring:
                assert run.rows[name] == conn.scalar(text(f"SELECT count(*) FROM {name}")), name
            assert run.rows[name] > 0, f"{name} is empty"
        for name in BRONZE_TABLES:
            assert run.rows.get(f"bronze.{name}", 0) == conn.scalar(text(f"SELECT count(*) FROM bronze.{name}"))
    assert run.rows["bronze.quarantine"] > 0  # the generator plants malformed rows


def test_second_run_is_idempotent(loaded_database: Database, landing_dir: Path) -> None:
    before = gold_checksums(loaded_database)
    with loaded_database.engine.connect() as conn:
        silver_before = {t.name: table_checksum(conn, f"silver.{t.name}") for t in _tables("silver")}
        bronze_rows = {n: conn.scalar(text(f"SELECT count(*) FROM bronze.{n}")) for n in BRONZE_TABLES}
        quarantined = conn.scalar(text("SELECT count(*) FROM bronze.quarantine"))

    result = run_pipeline(loaded_database, landing_dir, triggered_by="test-rerun")

    assert result.status == "success", result.error
    assert not any(f"bronze.{name}" in result.rows for name in BRONZE_TABLES)  # every file was skipped
    assert gold_checksums(loaded_database) == before
    with loaded_database.engine.connect() as conn:
        assert {t.name: table_checksum(conn, f"silver.{t.name}") for t in _tables("silver")} == silver_before
        assert {n: conn.scalar(text(f"SELECT count(*) FROM bronze.{n}")) for n in BRONZE_TABLES} == bronze_rows
        assert conn.scalar(text("SELECT count(*) FROM bronze.quarantine")) == quarantined


def test_silver_keeps_the_newest_version_of_each_key(loaded_database: Database, reference: Landing,
                                                     pristine_landing_dir: Path) -> None:
    for key, table, id_column in (("crm/accounts", "accounts", "account_id"),
                                  ("billing/invoices", "invoices", "invoice_id"),
                                  ("support/tickets", "tickets", "ticket_id")):
        raw = pd.read_csv(pristine_landing_dir / f"{key}.csv", dtype=str, on_bad_lines="skip",
                          keep_default_na=False)
        repeated = raw[raw.duplicated(id_column, keep=False)][id_column].unique()
        assert len(repeated) > 0, f"the generated {key} has no stale versions to check"
        expected = getattr(reference, table).set_index(id_column).loc[list(repeated), "updated_at"]
        stored = _frame(loaded_database, f"SELECT {id_column}, updated_at FROM silver.{table} "
                                         f"WHERE {id_column} = ANY(:ids)", ids=list(repeated))
        stored = stored.set_index(id_column)["updated_at"]
        assert len(stored) == len(repeated)
        pd.testing.assert_series_equal(stored.sort_index(), expected.sort_index(), check_names=False,
                                       check_dtype=False, check_index_type=False)
        # ... and the newest is the latest of the versions in the file.
        newest = pd.to_datetime(raw[raw[id_column].isin(repeated)].groupby(id_column)["updated_at"].max(),
                                format="ISO8601", utc=True)
        assert (stored.sort_index() == newest.sort_index()).all()
    emails = _scalar(loaded_database, "SELECT count(*) FROM silver.contacts WHERE email <> lower(email)")
    assert emails == 0


def test_quarantine_holds_malformed_rows_with_reasons(loaded_database: Database) -> None:
    reasons = _frame(loaded_database, "SELECT dataset, stage, reason, row_number FROM bronze.quarantine")
    assert (reasons["reason"].str.len() > 0).all() and reasons["row_number"].notna().all()
    assert reasons["reason"].str.contains("wrong field count").any()
    assert reasons["reason"].str.contains(r"invalid (?:date|timestamp) '31/02/\d{4}' in column ", regex=True).any()
    assert reasons["reason"].str.contains("invalid number 'N/A' in column ").any()
    # None of the quarantined keys reached silver.
    bad = _scalar(loaded_database, """
        SELECT count(*) FROM bronze.quarantine q JOIN bronze.crm_accounts b
          ON b._load_id = q.load_file_id AND b._row_number = q.row_number
        JOIN silver.accounts s ON s.account_id = b.account_id AND s.updated_at::text = b.updated_at
        WHERE q.stage = 'silver' AND q.dataset = 'crm_accounts'""")
    assert bad == 0


def test_usd_amounts_use_the_rate_of_the_day(loaded_database: Database, reference: Landing) -> None:
    invoices = reference.invoices.dropna(subset=["amount", "issue_date"])
    sample = invoices[invoices["currency"] != "USD"].sample(20, random_state=1)
    stored = _frame(loaded_database, "SELECT invoice_id, amount_usd FROM silver.invoices WHERE invoice_id = ANY(:ids)",
                    ids=list(sample["invoice_id"])).set_index("invoice_id")["amount_usd"].astype(float)
    for row in sample.itertuples():
        expected = row.amount * reference.rate(row.currency, row.issue_date.date())
        assert stored[row.invoice_id] == pytest.approx(expected, rel=1e-9), row.invoice_id


def test_daily_kpi_matches_an_independent_computation(loaded_database: Database, reference: Landing) -> None:
    as_of = reference.as_of
    first_day = reference.fx["rate_date"].min().date()
    assert _scalar(loaded_database, "SELECT max(day) FROM gold.daily_kpi") == as_of
    assert _scalar(loaded_database, "SELECT min(day) FROM gold.daily_kpi") == first_day
    compared = 0
    for day in (first_day, first_day + timedelta(days=200), as_of - timedelta(days=400),
                as_of - timedelta(days=31), as_of):
        expected = reference.kpis_on(day).set_index(["region", "segment"])
        stored = _frame(loaded_database, "SELECT region, segment, active_customers, mrr_usd FROM gold.daily_kpi "
                                         "WHERE day = :day", day=day).set_index(["region", "segment"])
        stored = stored[(stored["active_customers"] > 0) | (stored["mrr_usd"] != 0)]
        assert sorted(stored.index) == sorted(expected.index), day
        compared += len(expected)
        for group, row in expected.iterrows():
            assert stored.loc[group, "active_customers"] == row["active_customers"], (day, group)
            # daily_kpi sums territory rows that are each rounded to the cent: up to half a cent per territory.
            assert float(stored.loc[group, "mrr_usd"]) == pytest.approx(row["mrr_usd"], abs=0.03), (day, group)
    assert compared > 0
    # Every day is there for every region and segment, with no gaps.
    days = (as_of - first_day).days + 1
    assert _scalar(loaded_database, "SELECT count(DISTINCT day) FROM gold.daily_kpi") == days
    assert _scalar(loaded_database, "SELECT count(*) FROM (SELECT region, segment FROM gold.daily_kpi "
                                    "GROUP BY 1, 2 HAVING count(*) <> :days) x", days=days) == 0


def test_customer_360_matches_an_independent_computation(loaded_database: Database, reference: Landing) -> None:
    """Per regional account from the landing files, added up per master account (as linked by
    identity resolution, which has tests of its own)."""
    as_of = reference.as_of
    master_of = dict(_frame(loaded_database, "SELECT account_id, master_account_id FROM silver.account_master").values)
    masters = reference.accounts["account_id"].map(master_of)
    assert masters.notna().all()
    active = reference.active_subscriptions(as_of)
    rates = {c: reference.rate(c, as_of) for c in reference.fx["currency"].unique()}
    active = active.assign(mrr_usd=active["mrr"] * active["currency"].map(rates))
    per_account = active.groupby("account_id").agg(mrr_usd=("mrr_usd", "sum"), services=("subscription_id", "count"))

    tickets = reference.tickets
    open_tickets = tickets[tickets["status"].isin(["open", "pending"])].groupby("account_id").size()
    invoices = reference.invoices
    unpaid = invoices[~invoices["status"].isin(["paid", "void"]) & invoices["paid_at"].isna()
                      & (invoices["due_date"] < pd.Timestamp(as_of))]
    overdue = (unpaid["amount"] * unpaid["currency"].map(rates)).groupby(unpaid["account_id"]).sum()
    contacts = reference.contacts
    contacts_by_account = contacts[contacts["created_at"].dt.date <= as_of].groupby("account_id").size()
    regional = pd.DataFrame({"master": masters.values}, index=reference.accounts["account_id"].values)
    regional["mrr_usd"] = per_account["mrr_usd"].reindex(regional.index).fillna(0)
    regional["services"] = per_account["services"].reindex(regional.index).fillna(0)
    regional["open_tickets"] = open_tickets.reindex(regional.index).fillna(0)
    regional["overdue_usd"] = overdue.reindex(regional.index).fillna(0)
    regional["contacts"] = contacts_by_account.reindex(regional.index).fillna(0).where(
        regional.index.isin(per_account.index), 0)
    expected = regional.groupby("master").sum()

    linked = regional.groupby("master").size()
    sample = list(expected["mrr_usd"].nlargest(3).index) + list(expected.sample(5, random_state=3).index)
    sample += list(linked[linked > 1].index[:3])  # customers with accounts in several regions
    stored = _frame(loaded_database, "SELECT * FROM gold.customer_360 WHERE account_id = ANY(:ids)",
                    ids=sample).set_index("account_id")
    assert sorted(stored.index) == sorted(set(sample))
    for master in sample:
        row, want = stored.loc[master], expected.loc[master]
        assert float(row["mrr_usd"]) == pytest.approx(want["mrr_usd"], abs=0.006 * linked[master])
        assert float(row["arr_usd"]) == pytest.approx(12 * float(row["mrr_usd"]), abs=1e-9)
        assert row["active_services"] == want["services"]
        assert row["open_tickets"] == want["open_tickets"]
        assert float(row["overdue_usd"]) == pytest.approx(want["overdue_usd"], abs=0.006 * linked[master])
        assert row["active_contacts"] == want["contacts"]
        assert sorted(row["regional_account_ids"]) == sorted(regional.index[regional["master"] == master])
    assert _scalar(loaded_database, "SELECT count(*) FROM gold.customer_360") == len(expected)
    # The customers' MRR adds up to the as-of day of gold.daily_kpi.
    assert _scalar(loaded_database, "SELECT sum(mrr_usd) FROM gold.customer_360") == pytest.approx(
        _scalar(loaded_database, "SELECT sum(mrr_usd) FROM gold.daily_kpi WHERE day = :d", d=as_of), abs=1)


# --- Runs on the tiny, hand-checked data -----------------------------------------------


@dataclass(frozen=True)
class Expected:
    day: date
    region: str
    segment: str
    active_customers: int
    new_customers: int
    churned_customers: int
    active_contacts: int
    mrr_usd: str
    invoiced_usd: str
    collected_usd: str


# Worked out by hand from tiny_landing.py (EUR 1.05 on the 1st, +0.01 a day, none on the 5th,
# 1.20 on the 10th; ZAR 0.05dd on day dd).
HAND_CHECKED = [
    # SUB-1 (100 EUR) only; CON-1 created in January; ACC-2's SUB-3 starts on the 2nd.
    Expected(date(2025, 3, 1), "Europe", "Enterprise", 1, 0, 0, 1, "105.00", "0.00", "0.00"),
    Expected(date(2025, 3, 2), "South Africa", "SMB", 1, 1, 0, 1, "50.20", "50.20", "0.00"),
    # SUB-1 + SUB-2 at the rate carried from the 4th; INV-1 200 EUR; CON-2 created 23:59 UTC.
    Expected(date(2025, 3, 5), "Europe", "Enterprise", 1, 0, 0, 2, "162.00", "216.00", "0.00"),
    Expected(date(2025, 3, 4), "South Africa", "SMB", 1, 0, 0, 1, "50.40", "0.00", "50.40"),
    # SUB-3 ended on the 6th (end date exclusive) and the account churned that day.
    Expected(date(2025, 3, 6), "South Africa", "SMB", 0, 0, 1, 0, "0.00", "0.00", "0.00"),
    # SUB-2 ended on the 8th.
    Expected(date(2025, 3, 8), "Europe", "Enterprise", 1, 0, 0, 2, "112.00", "0.00", "0.00"),
    # ACC-3 has no region or type.
    Expected(date(2025, 3, 9), "Unknown", "Unknown", 1, 1, 0, 0, "10.00", "0.00", "0.00"),
]


def test_tiny_daily_kpi_matches_hand_worked_figures(scratch_db: Database, tiny_landing: Path) -> None:
    assert run_pipeline(scratch_db, tiny_landing).status == "success"
    for e in HAND_CHECKED:
        row = _frame(scratch_db, "SELECT * FROM gold.daily_kpi WHERE day = :d AND region = :r AND segment = :s",
                     d=e.day, r=e.region, s=e.segment)
        assert len(row) == 1, e
        got = row.iloc[0]
        assert (got.active_customers, got.new_customers, got.churned_customers, got.active_contacts) == (
            e.active_customers, e.new_customers, e.churned_customers, e.active_contacts), e
        assert (got.mrr_usd, got.invoiced_usd, got.collected_usd) == (
            Decimal(e.mrr_usd), Decimal(e.invoiced_usd), Decimal(e.collected_usd)), e
    # ACC-4 (bad created_at) was quarantined, so only three accounts and their groups remain.
    groups = _frame(scratch_db, "SELECT DISTINCT region, segment FROM gold.daily_kpi")
    assert sorted(map(tuple, groups.values)) == [("Europe", "Enterprise"), ("South Africa", "SMB"),
                                                 ("Unknown", "Unknown")]


def test_tiny_silver_dedup_emails_and_usd(scratch_db: Database, tiny_landing: Path) -> None:
    assert run_pipeline(scratch_db, tiny_landing).status == "success"
    assert _scalar(scratch_db, "SELECT region FROM silver.accounts WHERE account_id = 'ACC-1'") == "Europe"
    assert _scalar(scratch_db, "SELECT email FROM silver.contacts WHERE contact_id = 'CON-1'") == "alice.a@example.com"
    usd = dict(_frame(scratch_db, """
        SELECT 'INV-' || invoice_id, amount_usd FROM silver.invoices
        UNION ALL SELECT 'PAY-' || payment_id, amount_usd FROM silver.payments
        UNION ALL SELECT 'CMP-' || campaign_id, cost_usd FROM silver.campaigns
        UNION ALL SELECT 'SUB-' || subscription_id, mrr_usd FROM silver.subscriptions""").values)
    assert usd["INV-INV-1"] == Decimal("216.00")  # 200 EUR on the 5th: no rate, the 4th's 1.08
    assert usd["INV-INV-2"] == Decimal("50.20")  # 1000 ZAR at 0.0502
    assert "INV-INV-4" not in usd  # issued before the first EUR rate: waits in quarantine for one
    assert usd["PAY-PAY-1"] == Decimal("50.40")  # paid on the 4th
    assert usd["CMP-CMP-1"] == Decimal("540.00")  # 500 EUR at the start date's carried 1.08
    assert usd["SUB-SUB-1"] == Decimal("120.00")  # MRR at the as-of rate, 1.20
    c360 = _frame(scratch_db, "SELECT * FROM gold.customer_360 WHERE account_id = 'ACC-1'").iloc[0]
    assert (c360.mrr_usd, c360.arr_usd, c360.active_services, c360.active_contacts, c360.open_tickets) == (
        Decimal("120.00"), Decimal("1440.00"), 1, 2, 1)
    assert c360.overdue_usd == Decimal("240.00")  # INV-1, due on the 7th, at the as-of rate
    assert c360.avg_first_response_minutes == pytest.approx(75.0)  # 30 and 120 minutes
    assert c360.last_interaction_at == pd.Timestamp("2025-03-06T08:00:00Z")  # the campaign reply
    support = _frame(scratch_db, "SELECT * FROM gold.support_daily ORDER BY region")
    assert support[["region", "tickets_opened", "tickets_responded", "sla_met", "sla_breached"]].values.tolist() == [
        ["Europe", 2, 2, 1, 1], ["Unknown", 1, 0, 0, 1]]
    assert list(support.iloc[0].first_response_minutes) == [30.0, 120.0]


@pytest.mark.parametrize("stage", ["silver", "gold"])
def test_failing_stage_is_recorded_and_leaves_tables_intact(tiny_loaded: tuple[Database, Path],
                                                           monkeypatch, stage: str) -> None:
    scratch_db, tiny_landing = tiny_loaded  # the tiny landing folder, loaded
    before = gold_checksums(scratch_db)
    with scratch_db.engine.connect() as conn:
        silver_before = table_checksum(conn, "silver.accounts")
    last_success = _runs(scratch_db, status="success")[-1].finished_at

    module = etl.silver if stage == "silver" else etl.gold
    steps_name = "SILVER_STEPS" if stage == "silver" else "GOLD_STEPS"
    steps = getattr(module, steps_name)

    class Broken:
        """Empties a table it does not own, then fails: the whole stage must roll back."""

        table = steps[-1].table

        def run(self, conn, params) -> None:
            conn.execute(text("DELETE FROM gold.daily_kpi"))
            conn.execute(text("DELETE FROM silver.accounts"))
            conn.execute(text("SELECT 1 / 0"))

    monkeypatch.setattr(module, steps_name, steps + (Broken(),))
    # A full run, so gold is rebuilt even though no new data landed.
    result = run_pipeline(scratch_db, tiny_landing, triggered_by="test-failure", full=True)

    assert result.status == "failed"
    assert f"{stage} stage failed" in result.error and "division by zero" in result.error
    run = _runs(scratch_db)[-1]
    assert (run.id, run.status, run.triggered_by) == (result.run_id, "failed", "test-failure")
    assert "division by zero" in run.error and run.finished_at is not None
    assert gold_checksums(scratch_db) == before
    with scratch_db.engine.connect() as conn:
        assert table_checksum(conn, "silver.accounts") == silver_before
    assert _runs(scratch_db, status="success")[-1].finished_at == last_success


def test_run_is_skipped_while_another_holds_the_lock(scratch_db: Database, tiny_landing: Path) -> None:
    other = Database().bind(scratch_db.url)
    try:
        with job_lock(other, "etl"):
            result = run_pipeline(scratch_db, tiny_landing)
    finally:
        other.dispose()
    assert result.status == "skipped" and "already running" in result.error
    assert [r.status for r in _runs(scratch_db)] == ["skipped"]
    assert _scalar(scratch_db, "SELECT count(*) FROM bronze.load_file") == 0


def test_rejected_file_is_reported_in_the_run(scratch_db: Database, tiny_landing: Path) -> None:
    columns = [c for c in dataset("crm", "leads").columns if c != "lead_source"]
    write_csv(tiny_landing / "crm" / "leads_extra.csv", columns, [])
    result = run_pipeline(scratch_db, tiny_landing)
    assert result.status == "success"
    assert result.rejected_files == ["crm/leads_extra.csv"]
    run = _runs(scratch_db)[-1]
    assert run.status == "success"
    assert "crm/leads_extra.csv" in run.error and "missing columns ['lead_source']" in run.error
    assert _scalar(scratch_db, "SELECT count(*) FROM bronze.quarantine WHERE source_file = 'crm/leads_extra.csv'") == 1


def test_missing_fx_rates_fail_the_gold_stage_clearly(scratch_db: Database, tiny_landing: Path) -> None:
    (tiny_landing / "billing" / "fx_rates.csv").unlink()
    result = run_pipeline(scratch_db, tiny_landing)
    assert result.status == "failed" and "silver.fx_rates is empty" in result.error


@pytest.mark.parametrize("value, valid", [("12.50", True), ("-3", True), ("1e3", True), ("NaN", False),
                                          ("nan", False), ("Infinity", False), ("-inf", False),
                                          ("INF", False), ("N/A", False), ("12,5", False)])
def test_a_number_column_accepts_finite_numbers_only(database: Database, value: str, valid: bool) -> None:
    amount = silver_tables.UsageDaily.__table__.c.data_gb
    condition, label = etl.silver._validity_check(amount)
    assert label == "number"
    sql = condition.replace('"data_gb"', "CAST(:v AS text)")
    with database.engine.connect() as conn:
        assert conn.scalar(text(f"SELECT {sql}"), {"v": value}) is valid
