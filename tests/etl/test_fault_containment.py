"""A bad row harms only itself: families, rows waiting for a rate, implausible rates and
non-ISO currencies are quarantined with their reason, good rows go on to gold, and what waits
comes back by itself when its parent or its rate arrives, exactly as a full build would have it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.db import Database
from dashboard.tables.landing import dataset
from etl.pipeline import run_pipeline
from etl.silver import ISO_CURRENCIES
from tests.etl.dbutil import cloned_database, gold_checksums, table_checksum
from tests.etl.tiny_landing import write_csv, write_tiny_landing

OPPORTUNITY = dataset("crm", "opportunities").columns
LINE_ITEM = dataset("crm", "opportunity_line_items").columns


def _deal(opportunity_id: str, close_date: str, updated_at: str = "2025-03-02T00:00:00Z") -> list[str]:
    return [opportunity_id, "ACC-1", "USR-1", f"Deal {opportunity_id}", "Closed Won", "100.00", "EUR", "100",
            "2025-03-01T00:00:00Z", close_date, "true", "true", updated_at, "", "", ""]


def _rows(database: Database, sql: str) -> pd.DataFrame:
    with database.engine.connect() as conn:
        result = conn.execute(text(sql))
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _records(database: Database, sql: str) -> list[dict]:
    with database.engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(sql)).mappings()]


def _scalar(database: Database, sql: str):
    with database.engine.connect() as conn:
        return conn.scalar(text(sql))


@pytest.fixture()
def family_landing(tmp_path: Path) -> Path:
    """The tiny landing plus two deals with line items: OPP-BAD has an unreadable close date."""
    landing = write_tiny_landing(tmp_path / "landing")
    write_csv(landing / "crm" / "opportunities.csv", OPPORTUNITY,
              [_deal("OPP-GOOD", "2025-03-04"), _deal("OPP-BAD", "04/03/2025")])
    write_csv(landing / "crm" / "opportunity_line_items.csv", LINE_ITEM, [
        ["OLI-1", "OPP-GOOD", "PRD-1", "1", "100.00", "EUR"],
        ["OLI-2", "OPP-BAD", "PRD-1", "2", "10.00", "EUR"],
        ["OLI-3", "OPP-BAD", "PRD-1", "3", "10.00", "EUR"]])
    return landing


def test_one_bad_parent_quarantines_only_its_family_and_it_comes_back(
        pg_admin_url: str, template_url: str, family_landing: Path, tmp_path: Path) -> None:
    with cloned_database(pg_admin_url, template_url) as database:
        result = run_pipeline(database, family_landing, triggered_by="test")
        assert result.status == "success", result.error  # gold promoted: one bad deal blocks nothing
        assert _scalar(database, "SELECT count(*) FROM gold.customer_360") > 0
        quarantined = _records(database, "SELECT dataset, record_key, reason, waiting_on, waiting_key "
                                         "FROM bronze.quarantine WHERE dataset LIKE 'crm_opp%' ORDER BY dataset, record_key")
        assert quarantined == [
            {"dataset": "crm_opportunities", "record_key": "OPP-BAD",
             "reason": "invalid date '04/03/2025' in column close_date", "waiting_on": None, "waiting_key": None},
            {"dataset": "crm_opportunity_line_items", "record_key": "OLI-2",
             "reason": "parent opportunity_id 'OPP-BAD' quarantined",
             "waiting_on": "crm_opportunities", "waiting_key": "OPP-BAD"},
            {"dataset": "crm_opportunity_line_items", "record_key": "OLI-3",
             "reason": "parent opportunity_id 'OPP-BAD' quarantined",
             "waiting_on": "crm_opportunities", "waiting_key": "OPP-BAD"}]
        assert list(_rows(database, "SELECT line_item_id FROM silver.opportunity_line_items")["line_item_id"]) == [
            "OLI-1"]
        assert _scalar(database, "SELECT count(*) FROM silver.opportunity_line_items WHERE amount_usd IS NULL") == 0

        # The source sends the deal again, corrected: the deal and its line items come back.
        write_csv(family_landing / "crm" / "opportunities_fix.csv", OPPORTUNITY,
                  [_deal("OPP-BAD", "2025-03-04", updated_at="2025-03-05T00:00:00Z")])
        assert run_pipeline(database, family_landing, triggered_by="test").status == "success"
        items = _rows(database, "SELECT line_item_id, amount_usd FROM silver.opportunity_line_items "
                                "ORDER BY line_item_id").set_index("line_item_id")["amount_usd"]
        assert {k: float(v) for k, v in items.items()} == pytest.approx({"OLI-1": 108.0, "OLI-2": 21.6,
                                                                          "OLI-3": 32.4})
        assert _scalar(database, "SELECT count(*) FROM bronze.quarantine WHERE dataset = "
                                 "'crm_opportunity_line_items'") == 0
        refreshed = gold_checksums(database)
        with database.engine.connect() as conn:
            silver_items = table_checksum(conn, "silver.opportunity_line_items")

    # The refresh that brought them back equals a full build of the same files.
    with cloned_database(pg_admin_url, template_url) as database:
        assert run_pipeline(database, family_landing, triggered_by="test", full=True).status == "success"
        assert gold_checksums(database) == refreshed
        with database.engine.connect() as conn:
            assert table_checksum(conn, "silver.opportunity_line_items") == silver_items


def test_rows_wait_for_a_rate_and_come_back_when_it_arrives(
        pg_admin_url: str, template_url: str, tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")  # INV-4 is issued on 2025-02-15, before the first EUR rate
    with cloned_database(pg_admin_url, template_url) as database:
        assert run_pipeline(database, landing, triggered_by="test").status == "success"
        waiting = _records(database, "SELECT record_key, waiting_on, waiting_key FROM bronze.quarantine "
                                     "WHERE dataset = 'billing_invoices'")
        assert waiting == [{"record_key": "INV-4", "waiting_on": "billing_fx_rates",
                                               "waiting_key": "EUR 2025-02-15"}]
        # A rate published ten days before is too old (the limit is 7 days): still waiting.
        write_csv(landing / "billing" / "fx_rates_old.csv", dataset("billing", "fx_rates").columns,
                  [["2025-02-05", "EUR", "1.04"]])
        assert run_pipeline(database, landing, triggered_by="test").status == "success"
        assert _scalar(database, "SELECT count(*) FROM silver.invoices WHERE invoice_id = 'INV-4'") == 0
        # The rate of the 12th arrives: the invoice is converted at it, flagged as a fallback.
        write_csv(landing / "billing" / "fx_rates_feb.csv", dataset("billing", "fx_rates").columns,
                  [["2025-02-12", "EUR", "1.02"]])
        assert run_pipeline(database, landing, triggered_by="test").status == "success"
        invoice = _rows(database, "SELECT amount_usd, fx_rate, fx_rate_date::text, fx_rate_is_fallback "
                                  "FROM silver.invoices WHERE invoice_id = 'INV-4'").iloc[0]
        assert (float(invoice.amount_usd), float(invoice.fx_rate), invoice.fx_rate_date,
                invoice.fx_rate_is_fallback) == (10.2, 1.02, "2025-02-12", True)
        assert _scalar(database, "SELECT count(*) FROM bronze.quarantine WHERE waiting_on IS NOT NULL") == 0
        refreshed = gold_checksums(database)
    with cloned_database(pg_admin_url, template_url) as database:
        assert run_pipeline(database, landing, triggered_by="test", full=True).status == "success"
        assert gold_checksums(database) == refreshed


def test_fx_feed_refuses_non_iso_codes_and_implausible_rates(
        pg_admin_url: str, template_url: str, tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")
    hostile = ["XQZ", "Robert'); DROP TABLE accounts;--", "<script>alert(1)</script>", "E" * 5000]
    write_csv(landing / "billing" / "fx_rates_hostile.csv", dataset("billing", "fx_rates").columns,
              [["2025-03-05", code, "1.5"] for code in hostile]
              + [["2025-03-05", "EUR", "108.0"],  # a one-day spike (x100) between 1.08 and 1.10
                 ["2025-03-09", "ZAR", "0"], ["2025-03-10", "ZAR", "-0.05"]])
    invoices = dataset("billing", "invoices").columns
    write_csv(landing / "billing" / "invoices_hostile.csv", invoices, [
        ["INV-X1", "ACC-1", "X1", "2025-03-05", "2025-03-20", "100.00", "XQZ", "open", "", "false",
         "2025-03-05T00:00:00Z"],
        ["INV-X2", "ACC-1", "X2", "2025-03-05", "2025-03-20", "100.00", "EUR", "open", "", "false",
         "2025-03-05T00:00:00Z"]])
    with cloned_database(pg_admin_url, template_url) as database:
        assert run_pipeline(database, landing, triggered_by="test").status == "success"
        currencies = set(_rows(database, "SELECT DISTINCT currency FROM silver.fx_rates")["currency"])
        assert currencies == {"EUR", "ZAR", "USD"} and currencies <= ISO_CURRENCIES
        assert _scalar(database, "SELECT count(*) FROM silver.fx_rates_daily") == 30  # 3 currencies x 10 days
        reasons = _rows(database, "SELECT reason FROM bronze.quarantine WHERE dataset = 'billing_fx_rates'")["reason"]
        assert sum("not an ISO 4217 code" in r and "in column currency" in r for r in reasons) == len(hostile)
        assert all(len(r) < 400 for r in reasons)  # a 5,000-character code is cut in the reason, not stored whole
        assert any(r.startswith("implausible rate 108") and "in column usd_per_unit" in r for r in reasons)
        assert sum(r.startswith("out-of-range value") and "in column usd_per_unit" in r for r in reasons) == 2
        # The invoice in a made-up currency is refused; the EUR one takes the 4th's rate, not the spike.
        assert _scalar(database, "SELECT reason FROM bronze.quarantine WHERE record_key = 'INV-X1'") == (
            "unknown currency 'XQZ' in column currency (not an ISO 4217 code)")
        invoice = _rows(database, "SELECT amount_usd, fx_rate_date::text FROM silver.invoices "
                                  "WHERE invoice_id = 'INV-X2'").iloc[0]
        assert (float(invoice.amount_usd), invoice.fx_rate_date) == (108.0, "2025-03-04")
        # Every USD amount is its own currency's amount at its own currency's rate of a near day.
        wrong = _scalar(database, """
            SELECT count(*) FROM silver.invoices i
            LEFT JOIN silver.fx_rates r ON r.currency = i.currency AND r.rate_date = i.fx_rate_date
            WHERE i.amount_usd IS DISTINCT FROM i.amount * r.usd_per_unit
               OR i.fx_rate_date < LEAST(i.issue_date, DATE '2025-03-10') - 7""")
        assert wrong == 0


def test_a_bad_type_in_a_critical_range_is_a_bad_row_not_a_blocked_run(
        pg_admin_url: str, template_url: str, tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")
    tickets = dataset("support", "tickets").columns
    source = landing / "support" / "tickets.csv"
    good = pd.read_csv(source, dtype=str, keep_default_na=False)
    bad = good.iloc[[0]].copy()
    bad["ticket_id"], bad["csat"] = "TCK-CSAT", "9"
    write_csv(landing / "support" / "tickets_more.csv", tickets, bad.values.tolist())
    with cloned_database(pg_admin_url, template_url) as database:
        result = run_pipeline(database, landing, triggered_by="test")
        assert result.status == "success", result.error
        assert _scalar(database, "SELECT reason FROM bronze.quarantine WHERE record_key = 'TCK-CSAT'") == (
            "out-of-range value '9' in column csat (expected between 1 and 5)")
        assert _scalar(database, "SELECT count(*) FROM silver.tickets") == len(good)
