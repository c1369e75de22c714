"""Where from? The lineage query follows the pipeline's own step registries to the source loads."""

from __future__ import annotations

from dashboard.extensions import db
from dashboard.queries.executive import KPI_GOLD_TABLES
from dashboard.queries.lineage import known_gold_tables, lineage


def test_daily_kpi_lineage_reaches_the_landing_files(app):
    with db.session() as session:
        found = lineage(session, "gold.daily_kpi")
    assert found is not None
    assert found.sql_file == "daily_kpi.sql"
    # It rolls up the territory table and reads MRR from the one place that defines it.
    assert set(found.gold_inputs) == {"gold.daily_kpi_territory", "gold.subscription_mrr"}
    assert {"silver.subscriptions", "silver.invoices", "silver.accounts"} <= set(found.silver_tables)
    datasets = {s.dataset: s for s in found.sources}
    assert {"crm_subscriptions", "billing_invoices", "crm_accounts"} <= set(datasets)
    assert all(s.file_name and s.loaded_at is not None and s.rows_loaded for s in found.sources)
    assert found.refreshed_at is not None


def test_every_gold_table_the_pages_read_has_a_lineage(app):
    tables = known_gold_tables()
    assert set(KPI_GOLD_TABLES.values()) <= set(tables)
    with db.session() as session:
        for table in tables:
            found = lineage(session, table)
            # A SQL step's file, or the module of a step written in Python (gold.contact_country).
            assert found is not None and found.sql_file in {table.split(".")[1] + ".sql",
                                                            table.split(".")[1] + ".py"}, table
            assert found.silver_tables, table
            assert found.sources, table


def test_unknown_tables_have_no_lineage(app):
    with db.session() as session:
        assert lineage(session, "gold.no_such_table") is None
        assert lineage(session, "silver.accounts") is None
