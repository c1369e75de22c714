"""The live demo feed drops consistent new records that the next refresh picks up."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import text

from etl.demo_data.live import drop_batch
from etl.pipeline import run_pipeline
from tests.etl.tiny_landing import AS_OF


def _scalar(database, sql: str):
    with database.engine.connect() as conn:
        return conn.scalar(text(sql))


def test_live_batch_lands_and_refreshes_gold(tiny_loaded) -> None:
    scratch_db, landing = tiny_loaded  # the tiny landing folder, loaded
    leads_before = _scalar(scratch_db, "SELECT coalesce(sum(new_leads), 0) FROM gold.leads_daily")
    tickets_before = _scalar(scratch_db, "SELECT count(*) FROM silver.tickets")

    noon = datetime.combine(AS_OF, time(12, 0), tzinfo=UTC)
    batch = drop_batch(scratch_db, landing, now=noon, seed=1)
    assert batch.files and all(p.exists() and p.suffix == ".csv" for p in batch.files)
    assert not list(landing.rglob("*.part")), "partial files must be renamed into place"
    assert batch.rows["crm/leads"] >= 1 and batch.rows["support/tickets"] >= 1

    result = run_pipeline(scratch_db, landing, triggered_by="test")
    assert result.status == "success", result.error
    leads_after = _scalar(scratch_db, "SELECT coalesce(sum(new_leads), 0) FROM gold.leads_daily")
    assert leads_after == leads_before + batch.rows["crm/leads"]
    assert _scalar(scratch_db, "SELECT count(*) FROM silver.tickets") == tickets_before + batch.rows["support/tickets"]
    # Every new ticket belongs to a known account: the feed only references loaded records.
    orphans = _scalar(scratch_db, "SELECT count(*) FROM silver.tickets t LEFT JOIN silver.accounts a "
                                  "USING (account_id) WHERE t.ticket_id LIKE 'TCK-L%' AND a.account_id IS NULL")
    assert orphans == 0
    # A live ticket is about one of its account's running products, or none.
    foreign = _scalar(scratch_db, "SELECT count(*) FROM silver.tickets t WHERE t.ticket_id LIKE 'TCK-L%' "
                                  "AND t.product_id IS NOT NULL AND NOT EXISTS (SELECT FROM silver.subscriptions s "
                                  "WHERE s.account_id = t.account_id AND s.product_id = t.product_id)")
    assert foreign == 0 and _scalar(scratch_db, "SELECT count(product_id) FROM silver.tickets "
                                    "WHERE ticket_id LIKE 'TCK-L%'") >= 1
    # NPS answers land typed, from contacts of their account.
    assert batch.rows["support/surveys"] >= 1
    assert _scalar(scratch_db, "SELECT count(*) FROM silver.surveys v JOIN silver.contacts c USING (contact_id) "
                               "WHERE v.survey_id LIKE 'SRV-L%' AND c.account_id = v.account_id "
                               "AND v.nps_score BETWEEN 0 AND 10") == batch.rows["support/surveys"]
    # A second batch a minute later uses fresh keys, so nothing is de-duplicated away.
    later = drop_batch(scratch_db, landing, now=noon.replace(minute=1), seed=2)
    assert {p.name for p in later.files}.isdisjoint({p.name for p in batch.files})


def _silver_and_gold_checksums(database) -> dict[str, tuple[int, str]]:
    from dashboard.tables import Base
    from tests.etl.dbutil import table_checksum

    with database.engine.connect() as conn:
        return {f"{t.schema}.{t.name}": table_checksum(conn, f"{t.schema}.{t.name}")
                for t in Base.metadata.sorted_tables if t.schema in ("silver", "gold")}


def test_incremental_refresh_equals_a_full_rebuild(tiny_loaded) -> None:
    scratch_db, landing = tiny_loaded  # the tiny landing folder, loaded
    accounts_version = _scalar(scratch_db, "SELECT string_agg(xmin::text, ',' ORDER BY account_id) FROM silver.accounts")
    drop_batch(scratch_db, landing, now=datetime.combine(AS_OF, time(12, 0), tzinfo=UTC), seed=3)

    incremental = run_pipeline(scratch_db, landing, triggered_by="test")
    assert incremental.status == "success", incremental.error
    # The batch brought no accounts, so silver.accounts was left as it was, not rebuilt.
    assert _scalar(scratch_db, "SELECT string_agg(xmin::text, ',' ORDER BY account_id) "
                               "FROM silver.accounts") == accounts_version
    after_incremental = _silver_and_gold_checksums(scratch_db)

    full = run_pipeline(scratch_db, landing, triggered_by="test", full=True)
    assert full.status == "success", full.error
    assert _silver_and_gold_checksums(scratch_db) == after_incremental
    assert _scalar(scratch_db, "SELECT string_agg(xmin::text, ',' ORDER BY account_id) "
                               "FROM silver.accounts") != accounts_version


def test_merging_changed_records_and_rates_equals_a_full_rebuild(tiny_loaded) -> None:
    """Newer and older versions of existing keys, a corrected FX rate, a new rate day and a bad row
    arrive after the first build: the merge by key gives exactly what a rebuild gives."""
    from dashboard.tables.landing import dataset
    from tests.etl.tiny_landing import ACCOUNTS, INVOICES, SUBSCRIPTIONS, TICKETS, write_csv

    scratch_db, landing = tiny_loaded  # the tiny landing folder, loaded

    def drop(system: str, name: str, rows: list[list[str]]) -> None:
        write_csv(landing / system / f"{name}_later.csv", dataset(system, name).columns, rows)

    # EUR gets the missing 5th (it took the 4th's 1.08) and everyone gets the 11th.
    drop("billing", "fx_rates", [["2025-03-05", "EUR", "1.09"], ["2025-03-11", "EUR", "1.21"],
                                 ["2025-03-11", "ZAR", "0.0511"], ["2025-03-11", "USD", "1.0"]])
    acc3 = [*ACCOUNTS[3][:5], "Europe", *ACCOUNTS[3][6:14], "2025-03-09T00:00:00Z"]
    stale_acc1 = [*ACCOUNTS[1][:5], "Asia", *ACCOUNTS[1][6:14], "2025-02-15T00:00:00Z"]  # older: loses
    drop("crm", "accounts", [acc3, stale_acc1])
    inv1_paid = [*INVOICES[0][:7], "paid", "2025-03-09T08:00:00Z", "false", "2025-03-09T08:00:00Z"]
    drop("billing", "invoices", [inv1_paid])
    sub1_ended = [*SUBSCRIPTIONS[0][:4], "2025-03-09", *SUBSCRIPTIONS[0][5:7], "cancelled", "2025-03-09T00:00:00Z"]
    drop("crm", "subscriptions", [sub1_ended])
    bad_ticket = ["TCK-9", *TICKETS[0][1:3], "31/02/2025", *TICKETS[0][4:]]
    drop("support", "tickets", [bad_ticket, ["TCK-10", *TICKETS[0][1:]]])

    incremental = run_pipeline(scratch_db, landing, triggered_by="test")
    assert incremental.status == "success", incremental.error
    assert _scalar(scratch_db, "SELECT region FROM silver.accounts WHERE account_id = 'ACC-3'") == "Europe"
    assert _scalar(scratch_db, "SELECT region FROM silver.accounts WHERE account_id = 'ACC-1'") == "Europe"
    assert _scalar(scratch_db, "SELECT amount_usd FROM silver.invoices WHERE invoice_id = 'INV-1'") == 218
    assert _scalar(scratch_db, "SELECT count(*) FROM bronze.quarantine WHERE dataset = 'support_tickets' "
                               "AND reason LIKE '%31/02/2025%'") == 1
    assert str(_scalar(scratch_db, "SELECT max(day) FROM gold.daily_kpi")) == "2025-03-11"
    after_incremental = _silver_and_gold_checksums(scratch_db)
    quarantine = _scalar(scratch_db, "SELECT string_agg(dataset || row_number || reason, ',' ORDER BY 1) "
                                     "FROM bronze.quarantine")

    full = run_pipeline(scratch_db, landing, triggered_by="test", full=True)
    assert full.status == "success", full.error
    assert _silver_and_gold_checksums(scratch_db) == after_incremental
    assert _scalar(scratch_db, "SELECT string_agg(dataset || row_number || reason, ',' ORDER BY 1) "
                               "FROM bronze.quarantine") == quarantine

    # Then facts only (no dimension changes): gold's day tables are refreshed from the 8th on.
    drop("billing", "payments", [["PAY-2", "INV-1", "ACC-1", "2025-03-10T09:00:00Z", "200.00", "EUR", "card"]])
    drop("billing", "invoices", [["INV-7", "ACC-1", "N7", "2025-03-08", "2025-03-20", "75.00", "EUR", "open", "",
                                  "false", "2025-03-08T00:00:00Z"]])
    drop("crm", "subscriptions", [["SUB-6", "ACC-3", "PRD-1", "2025-03-09", "", "30.00", "EUR", "active",
                                   "2025-03-09T00:00:00Z"]])
    drop("crm", "contacts", [["CON-9", "ACC-3", "Nia", "N", "nia@example.com", "", "US", "CFO", "false",
                              "2025-03-10T08:00:00Z", "2025-03-10T08:00:00Z"]])
    versions = ("SELECT string_agg(day || region || territory || segment || ':' || xmin::text, ',' "
                "ORDER BY day, region, territory, segment) FROM gold.daily_kpi_territory WHERE day {} '2025-03-08'")
    kept, replaced = _scalar(scratch_db, versions.format("<")), _scalar(scratch_db, versions.format(">="))
    refreshed = run_pipeline(scratch_db, landing, triggered_by="test")
    assert refreshed.status == "success", refreshed.error
    # Rows before the 8th were kept as they were (same row versions); the later ones were replaced.
    assert _scalar(scratch_db, versions.format("<")) == kept
    assert _scalar(scratch_db, versions.format(">=")) != replaced
    after_refresh = _silver_and_gold_checksums(scratch_db)
    assert run_pipeline(scratch_db, landing, triggered_by="test", full=True).status == "success"
    assert _silver_and_gold_checksums(scratch_db) == after_refresh


def test_a_refresh_redoes_only_the_customers_and_tables_whose_records_changed(tiny_loaded) -> None:
    """New facts for one customer, on the same as-of day: the per-customer gold tables replace
    only that customer's rows, the tables that do not read those facts are left alone, and the
    result is still what a full rebuild gives."""
    from dashboard.tables.landing import dataset
    from tests.etl.tiny_landing import TICKETS, write_csv

    scratch_db, landing = tiny_loaded  # the tiny landing folder, loaded
    versions = {
        "customer_360": "SELECT string_agg(account_id || ':' || xmin::text, ',' ORDER BY account_id) "
                        "FROM gold.customer_360 WHERE account_id {} 'ACC-3'",
        "timeline_events": "SELECT string_agg(event_id || ':' || xmin::text, ',' ORDER BY event_id) "
                           "FROM gold.timeline_events WHERE customer_id {} 'ACC-3'",
    }
    others_before = {name: _scalar(scratch_db, sql.format("<>")) for name, sql in versions.items()}
    assert all(others_before.values())
    untouched = "SELECT string_agg(xmin::text, ',' ORDER BY 1) FROM gold.{}"
    pipeline_before = _scalar(scratch_db, untouched.format("pipeline_monthly"))
    open_tickets_before = _scalar(scratch_db, "SELECT open_tickets FROM gold.customer_360 WHERE account_id = 'ACC-3'")

    p1 = ["TCK-11", "ACC-3", "", "2025-03-10T08:00:00Z", "chat", "P1", "Technical", "Down", "15",
          "", "", "open", "", "", "false", "2025-03-10T08:00:00Z", "", ""]
    write_csv(landing / "support" / "tickets_later.csv", dataset("support", "tickets").columns, [p1])
    assert len(p1) == len(TICKETS[0])
    refreshed = run_pipeline(scratch_db, landing, triggered_by="test")
    assert refreshed.status == "success", refreshed.error

    assert _scalar(scratch_db, "SELECT open_tickets FROM gold.customer_360 WHERE account_id = 'ACC-3'") \
        == open_tickets_before + 1
    assert _scalar(scratch_db, "SELECT count(*) FROM gold.timeline_events WHERE event_id = 'ticket:TCK-11' "
                               "AND customer_id = 'ACC-3' AND severity = 'HIGH'") == 1
    for name, sql in versions.items():  # the other customers' rows are the same row versions
        assert _scalar(scratch_db, sql.format("<>")) == others_before[name], name
    assert _scalar(scratch_db, untouched.format("pipeline_monthly")) == pipeline_before
    assert "gold.pipeline_monthly" not in refreshed.rows
    assert _scalar(scratch_db, "SELECT count(*) FROM app.gold_pending_account") == 0

    after_refresh = _silver_and_gold_checksums(scratch_db)
    assert run_pipeline(scratch_db, landing, triggered_by="test", full=True).status == "success"
    assert _silver_and_gold_checksums(scratch_db) == after_refresh


def test_a_new_as_of_day_rewrites_only_the_rows_whose_figures_changed(tiny_loaded) -> None:
    """The next day's FX rates move the as-of day: customer_360 and the ageing are worked out again
    whole, but a row whose figures came out the same is left as it was (same row version); the
    timeline redoes only the customers with events the new day can change (none here)."""
    from dashboard.tables.landing import dataset
    from tests.etl.tiny_landing import write_csv

    scratch_db, landing = tiny_loaded  # the tiny landing folder, loaded
    snapshot = ("SELECT {key}, xmin::text, CAST(to_jsonb(t) AS text) FROM gold.{table} t")
    tables = {"customer_360": "account_id", "timeline_events": "event_id", "billing_ageing": "account_id || bucket"}

    def rows(table: str) -> dict[str, tuple[str, str]]:
        with scratch_db.engine.connect() as conn:
            found = conn.execute(text(snapshot.format(key=tables[table], table=table))).all()
        return {key: (version, content) for key, version, content in found}

    before = {table: rows(table) for table in tables}
    write_csv(landing / "billing" / "fx_rates_next_day.csv", dataset("billing", "fx_rates").columns,
              [["2025-03-11", "EUR", "1.25"], ["2025-03-11", "ZAR", "0.0511"], ["2025-03-11", "USD", "1.0"]])
    refreshed = run_pipeline(scratch_db, landing, triggered_by="test")
    assert refreshed.status == "success", refreshed.error
    assert refreshed.as_of.isoformat() == "2025-03-11"

    kept = rewritten = 0
    for table in ("customer_360", "billing_ageing"):
        after = rows(table)
        for key in after.keys() & before[table].keys():
            (old_version, old_content), (new_version, new_content) = before[table][key], after[key]
            assert (old_version == new_version) == (old_content == new_content), (table, key)
            kept += old_content == new_content
            rewritten += old_content != new_content
    assert kept and rewritten  # some figures moved with the day and the EUR rate, some did not
    timeline = rows("timeline_events")
    redone = {key for key in timeline.keys() & before["timeline_events"].keys()
              if timeline[key][0] != before["timeline_events"][key][0]}
    # Amounts are at each event's own day's rate (gold.subscription_mrr_daily), so a new as-of day
    # redoes only the customers with events in the window it opens, never the whole timeline.
    assert timeline and redone != timeline.keys()
    assert timeline.keys() == before["timeline_events"].keys()

    after_refresh = _silver_and_gold_checksums(scratch_db)
    assert run_pipeline(scratch_db, landing, triggered_by="test", full=True).status == "success"
    assert _silver_and_gold_checksums(scratch_db) == after_refresh


def test_a_manual_link_moves_a_customer_on_every_day_as_a_full_rebuild_does(tiny_loaded) -> None:
    """Master ids change on no particular day: linking two accounts by hand moves the customer's
    figures on every day of the per-master day table, not just the days a refresh would redo."""
    scratch_db, landing = tiny_loaded  # the tiny landing folder, loaded
    rows = ("SELECT string_agg(concat_ws(':', day, region, territory, active_customers, mrr_usd, invoiced_usd), ',' "
            "ORDER BY day, region, territory) FROM gold.daily_kpi_master_territory")
    before = _scalar(scratch_db, rows)
    south_africa = ("SELECT sum(active_customers) FROM gold.daily_kpi_master_territory "
                    "WHERE region = 'South Africa' AND day = '2025-03-03'")
    assert _scalar(scratch_db, south_africa) == 1
    with scratch_db.engine.begin() as conn:
        conn.execute(text("INSERT INTO app.account_link_override (account_id_a, account_id_b, action, created_by, "
                          "reason) VALUES ('ACC-1', 'ACC-2', 'link', 'test', 'the same company')"))

    refreshed = run_pipeline(scratch_db, landing, triggered_by="test")
    assert refreshed.status == "success", refreshed.error
    assert _scalar(scratch_db, "SELECT master_account_id FROM silver.account_master WHERE account_id = 'ACC-2'") \
        == "ACC-1"
    assert _scalar(scratch_db, rows) != before
    assert _scalar(scratch_db, south_africa) == 0  # counted in its master's region, days before the as-of day

    after_refresh = _silver_and_gold_checksums(scratch_db)
    assert run_pipeline(scratch_db, landing, triggered_by="test", full=True).status == "success"
    assert _silver_and_gold_checksums(scratch_db) == after_refresh
