"""The complete silver and gold layers: new silver tables, the FX rules, and the new gold tables.

The stages are run directly (bronze load, then silver, then gold, as etl.pipeline does), so
these checks concern only what silver and gold compute. Hand-made landings check the rules
row by row; the generated landing is checked against an independent pandas reading
(`tests.etl.reference`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.db import Database
from dashboard.tables import Base
from dashboard.tables.landing import DATASETS, dataset
from etl.bronze import load_landing
from etl.gold import build_gold
from etl.silver import build_silver
from tests.etl.dbutil import cloned_database, table_checksum
from tests.etl.reference import Landing
from tests.etl.tiny_landing import write_csv, write_tiny_landing

NEW_SILVER = ("users", "products", "opportunities", "opportunity_line_items", "agents", "credit_holds",
              "campaign_variants", "touchpoints", "usage_daily", "web_sessions", "quotas", "emails")
NEW_GOLD = ("daily_kpi_territory", "pipeline_monthly", "support_hourly", "campaign_hourly", "billing_ageing",
            "regional_monthly", "timeline_events", "sales_opportunity")


def build(database: Database, landing: Path) -> None:
    """Load the landing folder into bronze, then rebuild silver and gold."""
    load_landing(database, landing)
    with database.engine.begin() as conn:
        build_silver(conn)
    with database.engine.begin() as conn:
        build_gold(conn, full=True)


def rows(database: Database, sql: str, **params) -> pd.DataFrame:
    with database.engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def scalar(database: Database, sql: str, **params):
    with database.engine.connect() as conn:
        return conn.scalar(text(sql), params)


# --- Hand-made landings ------------------------------------------------------------------

# opportunity_id account_id owner_user_id opportunity_name stage amount currency probability created_at
# close_date is_closed is_won updated_at (then loss_reason next_step stage_entered_at, empty here)
OPPORTUNITIES = [row + ["", "", ""] for row in [
    ["OPP-1", "ACC-1", "USR-1", "Old", "Proposal", "999.00", "EUR", "50", "2025-02-01T00:00:00Z",
     "2025-03-04", "false", "false", "2025-02-01T00:00:00Z"],  # stale version
    ["OPP-1", "ACC-1", "USR-1", "Rate of the day", "Closed Won", "100.00", "EUR", "100", "2025-02-01T00:00:00Z",
     "2025-03-04", "true", "true", "2025-03-04T00:00:00Z"],
    ["OPP-2", "ACC-1", "USR-1", "No rate that day", "Negotiation", "100.00", "EUR", "75", "2025-02-01T00:00:00Z",
     "2025-03-05", "false", "false", "2025-02-01T00:00:00Z"],
    ["OPP-3", "ACC-1", "USR-1", "Before the first rate", "Closed Lost", "100.00", "EUR", "0",
     "2025-01-01T00:00:00Z", "2025-02-10", "true", "false", "2025-02-10T00:00:00Z"],
    ["OPP-4", "ACC-2", "USR-2", "Unknown currency", "Proposal", "100.00", "XYZ", "50", "2025-03-01T00:00:00Z",
     "2025-03-06", "false", "false", "2025-03-01T00:00:00Z"],
    ["OPP-5", "ACC-3", "USR-2", "Dollars", "Proposal", "100.00", "USD", "50", "2025-03-01T00:00:00Z",
     "2025-03-05", "false", "false", "2025-03-01T00:00:00Z"],
    ["OPP-6", "ACC-1", "USR-1", "No close date", "Prospecting", "100.00", "EUR", "10", "2025-03-06T10:00:00Z",
     "", "false", "false", "2025-03-06T10:00:00Z"],
    ["OPP-7", "ACC-1", "USR-1", "After the last rate", "Proposal", "100.00", "EUR", "50", "2025-03-01T00:00:00Z",
     "2025-04-01", "false", "false", "2025-03-01T00:00:00Z"],
]]
LINE_ITEMS = [  # line_item_id opportunity_id product_id quantity unit_price currency
    ["OLI-1", "OPP-2", "PRD-1", "3", "10.00", "EUR"],
    ["OLI-2", "OPP-1", "PRD-1", "1", "100.00", "EUR"],
]
UNKNOWN_CURRENCY_INVOICE = ["INV-9", "ACC-1", "N9", "2025-03-05", "2025-03-07", "5.00", "ABC", "open", "", "false",
                            "2025-03-05T00:00:00Z"]


@pytest.fixture()
def fx_landing(tmp_path: Path) -> Path:
    landing = write_tiny_landing(tmp_path / "landing")
    write_csv(landing / "crm" / "opportunities.csv", dataset("crm", "opportunities").columns, OPPORTUNITIES)
    write_csv(landing / "crm" / "opportunity_line_items.csv", dataset("crm", "opportunity_line_items").columns,
              LINE_ITEMS)
    write_csv(landing / "billing" / "invoices_late.csv", dataset("billing", "invoices").columns,
              [UNKNOWN_CURRENCY_INVOICE])
    return landing


def test_fx_rate_of_the_day_earlier_fallback_and_unknown_currency(scratch_db: Database, fx_landing: Path) -> None:
    build(scratch_db, fx_landing)
    opps = rows(scratch_db, "SELECT opportunity_id, opportunity_name, amount, currency, amount_usd, fx_rate, "
                            "fx_rate_date, fx_rate_is_fallback FROM silver.opportunities").set_index("opportunity_id")
    d = date.fromisoformat
    expected = {  # id: (rate, rate published on, fallback)
        "OPP-1": ("1.08", d("2025-03-04"), False),  # the rate of the close date
        "OPP-2": ("1.08", d("2025-03-04"), True),  # no EUR rate on 03-05: the nearest earlier one, flagged
        "OPP-5": ("1.0", d("2025-03-05"), False),  # USD
        "OPP-6": ("1.10", d("2025-03-06"), False),  # no close date: the creation day
        "OPP-7": ("1.20", d("2025-03-10"), True),  # expected after the last rate day: the as-of rate, flagged
    }
    assert sorted(opps.index) == sorted(expected)
    for opp_id, (rate, published, fallback) in expected.items():
        row = opps.loc[opp_id]
        assert (row["amount"], row["currency"]) == (Decimal("100.00"), "EUR" if opp_id != "OPP-5" else "USD")
        assert row["fx_rate"] == Decimal(rate), opp_id
        assert row["amount_usd"] == Decimal("100.00") * Decimal(rate), opp_id
        assert (row["fx_rate_date"], row["fx_rate_is_fallback"]) == (published, fallback), opp_id
    assert opps.loc["OPP-1", "opportunity_name"] == "Rate of the day"  # the newest version won

    # Line items take the rate of their deal's day; amount_usd is quantity x unit price.
    items = rows(scratch_db, "SELECT * FROM silver.opportunity_line_items").set_index("line_item_id")
    assert items.loc["OLI-1", "unit_price_usd"] == Decimal("10.80")
    assert items.loc["OLI-1", "amount_usd"] == Decimal("32.40")
    assert items.loc["OLI-1", "fx_rate_is_fallback"] and not items.loc["OLI-2", "fx_rate_is_fallback"]

    # Invoices: the existing tiny rows, one on a day without a rate and one before the first rate.
    invoices = rows(scratch_db, "SELECT invoice_id, fx_rate, fx_rate_date, fx_rate_is_fallback "
                                "FROM silver.invoices").set_index("invoice_id")
    assert tuple(invoices.loc["INV-1"]) == (Decimal("1.08"), d("2025-03-04"), True)
    assert tuple(invoices.loc["INV-2"]) == (Decimal("0.0502"), d("2025-03-02"), False)
    # Before the currency's first rate there is no earlier rate of its own: never a later one,
    # never another currency's. The deal and the invoice wait in quarantine for a rate.
    assert "OPP-3" not in opps.index and "INV-4" not in invoices.index
    waiting = rows(scratch_db, "SELECT record_key, reason, waiting_on, waiting_key, row_number FROM bronze.quarantine "
                               "WHERE waiting_on = 'billing_fx_rates'").set_index("record_key")
    assert sorted(waiting.index) == ["INV-4", "OPP-3"]
    assert waiting.loc["OPP-3", "reason"] == ("no USD rate for currency 'EUR' in column currency on 2025-02-10: "
                                              "none published that day or up to 7 days before")
    assert tuple(waiting.loc["OPP-3", ["waiting_key", "row_number"]]) == ("EUR 2025-02-10", 4)
    assert waiting.loc["INV-4", "waiting_key"] == "EUR 2025-02-15"
    assert not rows(scratch_db, "SELECT 1 FROM silver.invoices WHERE amount_usd IS NULL OR fx_rate = 1 "
                                "AND currency <> 'USD'").shape[0]  # never silently 1.0

    # Unknown currencies are quarantined with the reason, and kept out of silver.
    reasons = rows(scratch_db, "SELECT dataset, raw, reason FROM bronze.quarantine WHERE stage = 'silver' "
                               "AND reason LIKE '%unknown currency%'")
    assert sorted(reasons["dataset"]) == ["billing_invoices", "crm_opportunities"]
    assert set(reasons["reason"]) == {"unknown currency 'XYZ' in column currency (not an ISO 4217 code)",
                                      "unknown currency 'ABC' in column currency (not an ISO 4217 code)"}
    assert scalar(scratch_db, "SELECT count(*) FROM silver.invoices WHERE invoice_id = 'INV-9'") == 0


def test_new_silver_tables_are_typed_and_deduplicated(scratch_db: Database, tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")
    users = dataset("crm", "users").columns
    write_csv(landing / "crm" / "users.csv", users, [
        ["USR-1", "Ann Old", "ANN@X.COM", "sales_rep", "Europe", "EU-DACH", "", "true", "2025-03-02T00:00:00Z"],
        ["USR-1", "Ann New", "Ann@X.com", "sales_rep", "Europe", "EU-DACH", "", "false", "2025-03-05T00:00:00Z"],
        ["USR-1", "Ann Older", "ann@x.com", "sales_rep", "Europe", "EU-DACH", "", "true", "2025-03-01T00:00:00Z"]])
    usage = dataset("product", "usage_daily").columns
    write_csv(landing / "product" / "usage_daily.csv", usage, [
        ["ACC-1", "2025-03-01", "5", "10", "100", "1.5"],
        ["ACC-1", "2025-03-02", "N/A", "10", "100", "1.5"]])  # quarantined
    write_csv(landing / "product" / "usage_daily_2.csv", usage, [
        ["ACC-1", "2025-03-01", "7", "12", "3000000000", "2.25"]])  # a later file: wins
    sessions = dataset("web", "sessions").columns
    write_csv(landing / "web" / "sessions.csv", sessions, [
        ["WS-1", "2025-03-01T10:00:00Z", "", "", "google", "organic", "", "3", "60", "false"],
        ["WS-1", "2025-03-01T10:00:00Z", "CON-1", "ACC-1", "google", "organic", "CMP-1", "4", "90", "true"]])
    write_csv(landing / "marketing" / "campaign_variants.csv", dataset("marketing", "campaign_variants").columns, [
        ["CMP-1", "A", "t_a_old", "Hi"], ["CMP-1", "B", "t_b", "Hey"], ["CMP-1", "A", "t_a", "Hello"]])
    write_csv(landing / "billing" / "credit_holds.csv", dataset("billing", "credit_holds").columns, [
        ["HOLD-1", "ACC-1", "2025-03-02T09:00:00Z", "", "invoice_overdue_45_days"],
        ["HOLD-2", "ACC-1", "", "", "no date"]])  # placed_at is required
    write_csv(landing / "marketing" / "touchpoints.csv", dataset("marketing", "touchpoints").columns, [
        ["TP-1", "JRN-1", "CON-1", "ACC-1", "2025-03-02T09:00:00Z", "email", "CMP-1", "true", "120.50"]])
    write_csv(landing / "crm" / "products.csv", dataset("crm", "products").columns, [
        ["PRD-1", "Fibre", "Connectivity", "450.0", "true"]])
    write_csv(landing / "support" / "agents.csv", dataset("support", "agents").columns, [
        ["AGT-1", "Zed", "Zed@Support.example", "Billing", "true"]])
    build(scratch_db, landing)

    user = rows(scratch_db, "SELECT * FROM silver.users").iloc[0]
    assert (user["full_name"], user["email"], user["is_active"]) == ("Ann New", "ann@x.com", False)
    assert isinstance(user["updated_at"], datetime)
    usage_rows = rows(scratch_db, "SELECT * FROM silver.usage_daily")
    assert usage_rows.values.tolist() == [["ACC-1", date(2025, 3, 1), 7, 12, 3000000000, Decimal("2.25")]]
    session = rows(scratch_db, "SELECT * FROM silver.web_sessions").iloc[0]
    assert (session["pageviews"], session["duration_seconds"], session["converted"]) == (4, 90, True)
    assert session["started_at"] == datetime(2025, 3, 1, 10, tzinfo=UTC)
    variants = rows(scratch_db, "SELECT variant, template_name FROM silver.campaign_variants ORDER BY 1")
    assert variants.values.tolist() == [["A", "t_a"], ["B", "t_b"]]
    assert rows(scratch_db, "SELECT hold_id FROM silver.credit_holds")["hold_id"].tolist() == ["HOLD-1"]
    touch = rows(scratch_db, "SELECT * FROM silver.touchpoints").iloc[0]
    assert (touch["converted"], touch["conversion_value_usd"]) == (True, Decimal("120.50"))
    assert rows(scratch_db, "SELECT list_price_usd, is_recurring FROM silver.products").values.tolist() == [
        [Decimal("450.0"), True]]
    assert scalar(scratch_db, "SELECT email FROM silver.agents") == "zed@support.example"
    reasons = set(rows(scratch_db, "SELECT reason FROM bronze.quarantine WHERE stage = 'silver'")["reason"])
    assert "invalid integer 'N/A' in column active_users" in reasons
    assert "missing value in column placed_at" in reasons


def test_sales_columns_quotas_and_emails_are_typed_and_bad_values_quarantined(scratch_db: Database,
                                                                            tmp_path: Path) -> None:
    landing = write_tiny_landing(tmp_path / "landing")
    deal = ["ACC-1", "USR-1", "Deal", "Closed Lost", "100.00", "USD", "0", "2025-02-01T00:00:00Z", "2025-03-04",
            "true", "false", "2025-03-04T00:00:00Z"]
    write_csv(landing / "crm" / "opportunities.csv", dataset("crm", "opportunities").columns, [
        ["OPP-1", *deal, "Competitor", "", "2025-03-04T09:00:00Z"],
        ["OPP-2", *deal, "Price", "", "04/03/2025 09:00"],  # an unreadable stage date: quarantined
        ["OPP-3", *deal[:3], "Proposal", "100.00", "USD", "50", "2025-02-01T00:00:00Z", "2025-04-04", "false",
         "false", "2025-02-10T00:00:00Z", "", "Send proposal", "2025-02-10T08:00:00Z"]])
    write_csv(landing / "crm" / "quotas.csv", dataset("crm", "quotas").columns, [
        ["USR-1", "2025-01-01", "1000", "2025-01-01T00:00:00Z"],
        ["USR-1", "2025-01-01", "50000", "2025-02-01T00:00:00Z"],  # the newer version wins
        ["USR-1", "2025-04-01", "-5", "2025-01-01T00:00:00Z"],  # negative: quarantined
        ["USR-1", "Q3 2025", "5", "2025-01-01T00:00:00Z"],  # not a date: quarantined
        ["USR-2", "2025-01-01", "", "2025-01-01T00:00:00Z"]])  # missing: quarantined
    write_csv(landing / "crm" / "emails.csv", dataset("crm", "emails").columns, [
        ["EML-1", "ACC-1", "USR-1", "2025-03-01T10:00:00Z", "outbound"],
        ["EML-2", "ACC-1", "USR-1", "yesterday", "inbound"]])  # quarantined
    build(scratch_db, landing)

    deals = rows(scratch_db, "SELECT opportunity_id, loss_reason, next_step, stage_entered_at "
                             "FROM silver.opportunities ORDER BY 1")
    assert deals["opportunity_id"].tolist() == ["OPP-1", "OPP-3"]
    assert deals["loss_reason"].fillna("").tolist() == ["Competitor", ""]
    assert deals["next_step"].fillna("").tolist() == ["", "Send proposal"]
    assert deals["stage_entered_at"].tolist() == [datetime(2025, 3, 4, 9, tzinfo=UTC), datetime(2025, 2, 10, 8,
                                                                                                tzinfo=UTC)]
    assert rows(scratch_db, "SELECT user_id, quarter_start, quota_usd FROM silver.quotas").values.tolist() == [
        ["USR-1", date(2025, 1, 1), Decimal("50000")]]
    assert rows(scratch_db, "SELECT email_id FROM silver.emails")["email_id"].tolist() == ["EML-1"]
    reasons = rows(scratch_db, "SELECT dataset, reason FROM bronze.quarantine WHERE stage = 'silver' "
                               "AND dataset IN ('crm_opportunities', 'crm_quotas', 'crm_emails') ORDER BY 1, 2")
    assert reasons.values.tolist() == [
        ["crm_emails", "invalid timestamp 'yesterday' in column sent_at"],
        ["crm_opportunities", "invalid timestamp '04/03/2025 09:00' in column stage_entered_at"],
        ["crm_quotas", "invalid date 'Q3 2025' in column quarter_start"],
        ["crm_quotas", "missing value in column quota_usd"],
        ["crm_quotas", "out-of-range value '-5' in column quota_usd (expected 0 or more)"]]
    # The gold deal row: days in stage for the open deal, cycle length for the closed one.
    gold_deals = rows(scratch_db, "SELECT opportunity_id, is_won, cycle_days, days_in_stage, stage_entered_day, "
                                  "weighted_amount_usd FROM gold.sales_opportunity ORDER BY 1").set_index(
        "opportunity_id")
    as_of = scalar(scratch_db, "SELECT max(rate_date) FROM silver.fx_rates")
    assert gold_deals.loc["OPP-1", "cycle_days"] == 31 and pd.isna(gold_deals.loc["OPP-1", "days_in_stage"])
    assert gold_deals.loc["OPP-3", "days_in_stage"] == (as_of - date(2025, 2, 10)).days
    assert gold_deals.loc["OPP-3", "weighted_amount_usd"] == Decimal("50.00")
    assert scalar(scratch_db, "SELECT quota_usd FROM gold.sales_quota") == Decimal("50000.00")


def test_rebuilding_silver_and_gold_gives_the_same_tables(scratch_db: Database, fx_landing: Path) -> None:
    build(scratch_db, fx_landing)
    names = [f"{t.schema}.{t.name}" for t in Base.metadata.sorted_tables if t.schema in ("silver", "gold")]
    with scratch_db.engine.connect() as conn:
        before = {name: table_checksum(conn, name) for name in names}
    build(scratch_db, fx_landing)
    with scratch_db.engine.connect() as conn:
        assert {name: table_checksum(conn, name) for name in names} == before
    for name in NEW_GOLD:
        assert before[f"gold.{name}"][0] > 0, name


# --- The generated landing ---------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(pg_admin_url: str, template_url: str, pristine_landing_dir: Path) -> Iterator[Database]:
    """A private database with the generated landing built through bronze, silver and gold."""
    with cloned_database(pg_admin_url, template_url) as database:
        build(database, pristine_landing_dir)
        yield database


@pytest.fixture(scope="module")
def reference(pristine_landing_dir: Path) -> Landing:
    return Landing.read(pristine_landing_dir)


@pytest.mark.parametrize("table", NEW_SILVER)
def test_new_silver_tables_hold_one_row_per_key(generated: Database, pristine_landing_dir: Path,
                                                 table: str) -> None:
    ds = dataset(*_system_and_name(table))
    raw = pd.concat(pd.read_csv(path, dtype=str, keep_default_na=False, on_bad_lines="skip", usecols=list(ds.key))
                    for path in sorted((pristine_landing_dir / ds.system).glob(ds.file_glob)))
    keys = raw.apply(lambda column: column.str.strip()).drop_duplicates()
    quarantined = scalar(generated, "SELECT count(*) FROM bronze.quarantine WHERE stage = 'silver' AND dataset = :d",
                         d=ds.bronze_table)
    stored = scalar(generated, f"SELECT count(*) FROM silver.{table}")
    assert stored > 0
    assert len(keys) - quarantined <= stored <= len(keys)
    # Every key is there once (the primary key guarantees "once").
    stored_keys = rows(generated, f"SELECT {', '.join(k + '::text AS ' + k for k in ds.key)} FROM silver.{table}")
    merged = keys.merge(stored_keys, how="inner", on=list(ds.key))
    assert len(merged) == stored


def _system_and_name(table: str) -> tuple[str, str]:
    """The landing dataset of a silver table (silver.web_sessions comes from web/sessions)."""
    return next((ds.system, ds.name) for ds in DATASETS if table in (ds.name, ds.bronze_table))


def test_opportunities_newest_version_and_usd(generated: Database, reference: Landing) -> None:
    opps = reference.opportunities.dropna(subset=["amount", "currency"])
    stored = rows(generated, "SELECT opportunity_id, stage, updated_at, amount_usd, fx_rate, fx_rate_date, "
                             "fx_rate_is_fallback FROM silver.opportunities").set_index("opportunity_id")
    assert len(stored) == len(reference.opportunities)
    sample = pd.concat([opps[opps["currency"] != "USD"].sample(15, random_state=2),
                        opps[opps["close_date"] < reference.fx["rate_date"].min()].head(3)])
    for row in sample.itertuples():
        day = (row.close_date if pd.notna(row.close_date) else row.created_at).date()
        rate, published, fallback = reference.rate_used(row.currency, day)
        got = stored.loc[row.opportunity_id]
        assert got["stage"] == row.stage and got["updated_at"] == row.updated_at
        assert float(got["fx_rate"]) == pytest.approx(rate, rel=1e-12)
        assert float(got["amount_usd"]) == pytest.approx(row.amount * rate, rel=1e-9)
        assert (got["fx_rate_date"], bool(got["fx_rate_is_fallback"])) == (published, fallback), row.opportunity_id


def test_pipeline_monthly_matches_an_independent_computation(generated: Database, reference: Landing) -> None:
    opps = reference.opportunities.merge(reference.accounts[["account_id", "territory"]], on="account_id", how="left")
    day = opps["close_date"].fillna(opps["created_at"].dt.tz_localize(None).dt.normalize())
    rates = {(c, d): reference.rate_used(c, d.date())[0] for c, d in set(zip(opps["currency"], day, strict=True))}
    opps = opps.assign(month=day.dt.to_period("M").dt.start_time.dt.date,
                       territory=opps["territory"].fillna("Unknown"),
                       owner_user_id=opps["owner_user_id"].fillna("Unknown"),
                       amount_usd=[a * rates[c, d] if pd.notna(a) else 0.0
                                   for a, c, d in zip(opps["amount"], opps["currency"], day, strict=True)])
    keys = ["month", "stage", "territory", "owner_user_id"]
    expected = opps.groupby(keys).agg(opportunities=("opportunity_id", "count"), amount_usd=("amount_usd", "sum"),
                                      won=("is_won", lambda s: int((s == True).sum())))  # noqa: E712
    stored = rows(generated, "SELECT * FROM gold.pipeline_monthly").set_index(keys)
    assert len(stored) == len(expected)
    assert stored["opportunities"].sum() == len(opps)
    for key in expected.sort_values("opportunities").tail(4).index.tolist() + expected.sample(4, random_state=5).index.tolist():
        assert stored.loc[key, "opportunities"] == expected.loc[key, "opportunities"], key
        assert stored.loc[key, "won"] == expected.loc[key, "won"], key
        assert float(stored.loc[key, "amount_usd"]) == pytest.approx(expected.loc[key, "amount_usd"], abs=0.006), key


def test_support_hourly_matches_an_independent_computation(generated: Database, reference: Landing) -> None:
    as_of, first_day = reference.as_of, reference.fx["rate_date"].min().date()
    tickets = reference.tickets.dropna(subset=["created_at"])
    tickets = tickets[(tickets["created_at"].dt.date >= first_day) & (tickets["created_at"].dt.date <= as_of)]
    end = pd.Timestamp(as_of + timedelta(days=1), tz="UTC")
    tickets = tickets.assign(day=tickets["created_at"].dt.date, hour=tickets["created_at"].dt.hour,
                             agent_id=tickets["agent_id"].fillna("Unassigned"),
                             channel=tickets["channel"].fillna("Unknown"),
                             responded=tickets["first_response_at"].notna(),
                             resolved=tickets["resolved_at"] < end)
    keys = ["day", "hour", "agent_id", "channel"]
    expected = tickets.groupby(keys).agg(opened=("ticket_id", "count"), responded=("responded", "sum"),
                                         resolved=("resolved", "sum"), csat_sum=("csat", "sum"),
                                         csat_count=("csat", "count"))
    stored = rows(generated, "SELECT * FROM gold.support_hourly WHERE kind = 'ticket'").set_index(keys)
    assert len(stored) == len(expected) and stored["opened"].sum() == len(tickets)
    for key in expected.sample(10, random_state=7).index:
        for column in ("opened", "responded", "resolved", "csat_sum", "csat_count"):
            assert stored.loc[key, column] == expected.loc[key, column], (key, column)
    conversations = scalar(generated, "SELECT sum(opened) FROM gold.support_hourly WHERE kind = 'conversation'")
    assert conversations == scalar(generated, "SELECT count(*) FROM silver.conversations WHERE started_at::date "
                                              "BETWEEN :f AND :a", f=first_day, a=as_of)


def test_campaign_hourly_matches_an_independent_computation(generated: Database, reference: Landing) -> None:
    as_of, first_day = reference.as_of, reference.fx["rate_date"].min().date()
    sends = reference.sends.dropna(subset=["sent_at", "channel"])
    sends = sends[(sends["sent_at"].dt.date >= first_day) & (sends["sent_at"].dt.date <= as_of)]
    sends = sends.assign(sent_hour=sends["sent_at"].dt.floor("h"), variant=sends["variant"].fillna("Unknown"))
    keys = ["campaign_id", "variant", "sent_hour", "channel"]
    expected = sends.groupby(keys).agg(sent=("send_id", "count"), delivered=("delivered_at", "count"),
                                       read=("read_at", "count"), replied=("replied_at", "count"))
    stored = rows(generated, "SELECT * FROM gold.campaign_hourly").set_index(keys)
    for key in expected.sample(10, random_state=11).index:
        assert stored.loc[key].tolist() == expected.loc[key].tolist(), key
    assert stored["sent"].sum() == scalar(generated, "SELECT sum(sent) FROM gold.campaign_daily")


def test_billing_ageing_matches_an_independent_computation(generated: Database, reference: Landing) -> None:
    as_of = pd.Timestamp(reference.as_of)
    inv = reference.invoices
    unpaid = inv[~inv["status"].isin(["paid", "void"]) & inv["paid_at"].isna() & (inv["issue_date"] <= as_of)
                 & inv["account_id"].notna()].copy()
    late = (as_of - unpaid["due_date"]).dt.days
    unpaid["bucket"] = pd.cut(late.fillna(0), [-10**6, 0, 30, 60, 90, 10**6],
                              labels=["current", "1-30", "31-60", "61-90", "90+"]).astype(str)
    unpaid["usd"] = unpaid["amount"] * unpaid["currency"].map(reference.rates_on(unpaid["currency"], reference.as_of))
    expected = unpaid.groupby(["account_id", "bucket"]).agg(invoices=("invoice_id", "count"), usd=("usd", "sum"))
    stored = rows(generated, "SELECT * FROM gold.billing_ageing").set_index(["account_id", "bucket"])
    assert sorted(stored.index) == sorted(expected.index)
    assert set(stored.index.get_level_values("bucket")) <= {"current", "1-30", "31-60", "61-90", "90+"}
    assert stored["invoices"].sort_index().tolist() == expected["invoices"].sort_index().tolist()
    for key in expected.index:
        assert float(stored.loc[key, "amount_usd"]) == pytest.approx(expected.loc[key, "usd"], abs=0.006), key
    # The overdue buckets add up to the 360 view's overdue amount.
    assert scalar(generated, "SELECT sum(amount_usd) FROM gold.billing_ageing WHERE bucket <> 'current'") == \
        pytest.approx(scalar(generated, "SELECT sum(overdue_usd) FROM gold.customer_360"), abs=1)


def test_regional_monthly_and_territories_match_the_daily_figures(generated: Database, reference: Landing) -> None:
    as_of = reference.as_of
    month_end = as_of.replace(day=1) - timedelta(days=1)
    expected = reference.kpis_on(month_end).groupby("region")[["active_customers", "mrr_usd"]].sum()
    stored = rows(generated, "SELECT region, active_customers, mrr_usd, mrr_growth_pct FROM gold.regional_monthly "
                             "WHERE month = :m", m=month_end.replace(day=1)).set_index("region")
    stored = stored[stored["active_customers"] > 0]
    assert sorted(stored.index) == sorted(expected.index)
    assert not expected.empty
    for region, row in expected.iterrows():
        assert stored.loc[region, "active_customers"] == row["active_customers"], region
        assert float(stored.loc[region, "mrr_usd"]) == pytest.approx(row["mrr_usd"], abs=0.05), region
    # Territories add up to gold.daily_kpi on every day and group.
    assert scalar(generated, """
        SELECT count(*) FROM gold.daily_kpi k FULL JOIN (
            SELECT day, region, segment, sum(active_customers) AS c, sum(active_contacts) AS n,
                   sum(new_customers) AS nc, sum(churned_customers) AS ch, sum(invoiced_usd) AS inv
            FROM gold.daily_kpi_territory GROUP BY 1, 2, 3) t USING (day, region, segment)
        WHERE t.c IS DISTINCT FROM k.active_customers OR t.n IS DISTINCT FROM k.active_contacts
           OR t.nc IS DISTINCT FROM k.new_customers OR t.ch IS DISTINCT FROM k.churned_customers
           OR abs(t.inv - k.invoiced_usd) > 0.05""") == 0
    active = reference.active_subscriptions(as_of).merge(reference.accounts[["account_id", "territory"]],
                                                          on="account_id", how="left")
    by_territory = active.assign(territory=active["territory"].fillna("Unknown")).groupby(
        ["region", "territory", "segment"])["account_id"].nunique()
    stored = rows(generated, "SELECT region, territory, segment, active_customers FROM gold.daily_kpi_territory "
                             "WHERE day = :d AND active_customers > 0", d=as_of).set_index(
        ["region", "territory", "segment"])["active_customers"]
    assert stored.sort_index().to_dict() == by_territory.sort_index().to_dict()


def test_customer_360_year_on_year_growth(generated: Database, reference: Landing) -> None:
    year_ago = reference.as_of - timedelta(days=365)
    then = reference.mrr_usd_on(year_ago)  # at that day's rate; none before the first rate day
    assert len(then)
    expected = then.groupby("account_id")["mrr_usd"].sum()
    stored = rows(generated, "SELECT account_id, mrr_usd, mrr_usd_year_ago, mrr_yoy_growth_pct, churn_risk_score, "
                             "health_score, clv_usd FROM gold.customer_360").set_index("account_id")
    assert stored[["churn_risk_score", "health_score", "clv_usd"]].isna().all().all()  # for the intelligence jobs
    for account_id in expected.sample(8, random_state=17).index:
        row = stored.loc[account_id]
        assert float(row["mrr_usd_year_ago"]) == pytest.approx(expected[account_id], abs=0.006), account_id
        if row["mrr_usd_year_ago"] > 0:
            growth = 100 * (float(row["mrr_usd"]) - float(row["mrr_usd_year_ago"])) / float(row["mrr_usd_year_ago"])
            assert row["mrr_yoy_growth_pct"] == pytest.approx(growth, rel=1e-9), account_id
    assert stored.loc[~stored.index.isin(expected.index), "mrr_yoy_growth_pct"].isna().all()


def test_timeline_events(generated: Database, reference: Landing) -> None:
    events = rows(generated, "SELECT * FROM gold.timeline_events")
    assert events["event_id"].is_unique
    assert set(events["severity"]) <= {"HIGH", "MEDIUM", "LOW", "INFO"}
    assert set(events["status"]) <= {"OPEN", "RESOLVED", "SCHEDULED"}
    accounts = reference.accounts
    churned = accounts[(accounts["status"] == "churned") & accounts["churned_at"].notna()]
    assert sorted(events.loc[events["event_type"] == "CHURN", "customer_id"]) == sorted(churned["account_id"])
    tickets = reference.tickets
    flagged = tickets[((tickets["severity"] == "P1") | (tickets["is_escalated"] == True))  # noqa: E712
                      & tickets["account_id"].notna() & tickets["created_at"].notna()]
    assert (events["event_type"] == "SUPPORT").sum() == len(flagged)
    subs = reference.subscriptions
    assert (events["event_title"] == "New subscription").sum() == len(subs)
    assert (events["event_title"] == "Subscription cancelled").sum() == subs["end_date"].notna().sum()
    overdue = events[events["event_title"] == "Invoice overdue"]
    assert (overdue["status"] == "OPEN").all() and overdue["related_amount"].notna().all()
    assert (events.loc[events["status"] == "SCHEDULED", "event_date"]
            >= pd.Timestamp(reference.as_of + timedelta(days=1), tz="UTC")).all()
    assert scalar(generated, "SELECT indexdef FROM pg_indexes WHERE schemaname = 'gold' "
                             "AND tablename = 'timeline_events' AND indexname LIKE 'ix_%'").endswith(
        "(customer_id, event_date DESC)")
