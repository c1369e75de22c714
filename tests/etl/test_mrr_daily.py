"""MRR in USD is defined once: gold.subscription_mrr (the subscriptions that count and when) and
the view gold.subscription_mrr_daily (each one's MRR on each day at that day's rate).

The view is checked against an independent pandas reading of the landing files, every reader
of MRR against the view, and the sources against any other place working MRR out again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.db import Database
from etl.gold import data_window
from etl.insights.drivers import driver_rows
from etl.insights.summaries import account_facts
from etl.intelligence.features import build_features
from tests.etl.dbutil import cloned_database
from tests.etl.reference import Landing

ETL_DIR = Path(__file__).resolve().parents[2] / "etl"
# The one step that reads a subscription's MRR from silver.
MRR_STEP = ETL_DIR / "gold" / "subscription_mrr.sql"
# gold.daily_kpi_territory, and gold.daily_kpi_master_territory for the linked accounts' MRR that moves
# to their master's territory, convert the view's MRR summed per currency (every day of every group
# without a row per subscription-day); test_daily_kpi_is_the_view_summed and
# test_daily_kpi_per_master_is_the_view_summed hold them to the view.
CONVERTS_SUMS = (ETL_DIR / "gold" / "daily_kpi_territory.sql", ETL_DIR / "gold" / "daily_kpi_master_territory.sql")


@pytest.fixture(scope="module")
def loaded(pg_admin_url: str, loaded_template_url: str) -> Iterator[Database]:
    """A private copy of the database the pipeline loaded with the small generated landing."""
    with cloned_database(pg_admin_url, loaded_template_url) as database:
        yield database


@pytest.fixture(scope="module")
def reference(pristine_landing_dir: Path) -> Landing:
    return Landing.read(pristine_landing_dir)


@pytest.fixture(scope="module")
def window(loaded: Database) -> tuple[date, date]:
    with loaded.engine.connect() as conn:
        found = data_window(conn)
    return found.first_day, found.as_of


def frame(database: Database, sql: str, **params) -> pd.DataFrame:
    with database.engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def sample_days(first_day: date, as_of: date) -> list[date]:
    """The window's ends, the readers' usual days back from as-of, and a few days between."""
    span = (as_of - first_day).days
    days = {first_day, as_of, as_of - timedelta(days=30), as_of - timedelta(days=90),
            as_of - timedelta(days=365), *(first_day + timedelta(days=span * k // 7) for k in range(1, 7))}
    return sorted(d for d in days if first_day <= d <= as_of)


def view_on(database: Database, day: date) -> pd.DataFrame:
    return frame(database, "SELECT subscription_id, account_id, mrr_usd FROM gold.subscription_mrr_daily "
                           "WHERE day = :day", day=day)


def per_master(database: Database, day: date, *, cents: bool = True) -> pd.Series:
    """The view on `day` summed per customer (master account), rounded to cents as the pages'
    readers do (`cents`) or not, as the churn features keep it."""
    found = frame(database, """
        SELECT COALESCE(am.master_account_id, v.account_id) AS account_id,
               CASE WHEN :cents THEN round(sum(v.mrr_usd), 2) ELSE sum(v.mrr_usd) END AS mrr_usd
        FROM gold.subscription_mrr_daily v LEFT JOIN silver.account_master am ON am.account_id = v.account_id
        WHERE v.day = :day GROUP BY 1""", day=day, cents=cents)
    return found.set_index("account_id")["mrr_usd"].astype(float)


# --- The table against the landing files ----------------------------------------------------


def test_subscription_mrr_holds_every_subscription_that_counts(loaded: Database, reference: Landing) -> None:
    subs = reference.subscriptions
    counting = subs[subs["end_date"].isna() | (subs["end_date"] > subs["start_date"])].set_index("subscription_id")
    stored = frame(loaded, "SELECT * FROM gold.subscription_mrr").set_index("subscription_id")
    assert len(counting) > 0
    assert sorted(stored.index) == sorted(counting.index)
    assert (stored["account_id"] == counting["account_id"].reindex(stored.index)).all()
    assert (stored["currency"] == counting["currency"].reindex(stored.index)).all()
    assert (stored["mrr"].astype(float) == counting["mrr"].reindex(stored.index)).all()
    assert (pd.to_datetime(stored["active_from"]) == counting["start_date"].reindex(stored.index)).all()
    ends = counting["end_date"].reindex(stored.index)
    assert (pd.to_datetime(stored["active_until"]).isna() == ends.isna()).all()
    assert (pd.to_datetime(stored["active_until"]).dropna() == ends.dropna()).all()


def test_mrr_daily_is_each_subscription_at_the_day_rate(loaded: Database, reference: Landing,
                                                        window: tuple[date, date]) -> None:
    days = sample_days(*window)
    with_mrr = 0
    for day in days:
        expected = reference.mrr_usd_on(day).set_index("subscription_id")["mrr_usd"]
        stored = view_on(loaded, day).set_index("subscription_id")["mrr_usd"]
        assert sorted(stored.index) == sorted(expected.index), day
        if stored.empty:  # before the first subscription
            continue
        with_mrr += 1
        stored = stored.astype(float)
        assert (stored.isna() == expected.reindex(stored.index).isna()).all(), day
        difference = (stored - expected.reindex(stored.index)).abs()
        assert difference.max() < 1e-6, (day, difference.idxmax())
    assert with_mrr >= 5
    # Outside the data window there is no rate to convert at.
    first_day, as_of = window
    for day in (first_day - timedelta(days=1), as_of + timedelta(days=1)):
        assert view_on(loaded, day).empty
        assert reference.mrr_usd_on(day).empty


def test_the_silver_view_is_the_gold_view_on_silver(loaded: Database) -> None:
    """silver.subscription_mrr_daily (for jobs that read silver alone) gives gold's rows, every day."""
    columns = "day, subscription_id, account_id, currency, usd_per_unit, mrr_usd"
    with loaded.engine.connect() as conn:
        gold_rows = conn.scalar(text("SELECT count(*) FROM gold.subscription_mrr_daily"))
        differing = conn.scalar(text(f"""
            SELECT count(*) FROM ((SELECT {columns} FROM gold.subscription_mrr_daily
                                   EXCEPT ALL SELECT {columns} FROM silver.subscription_mrr_daily)
                                  UNION ALL
                                  (SELECT {columns} FROM silver.subscription_mrr_daily
                                   EXCEPT ALL SELECT {columns} FROM gold.subscription_mrr_daily)) d"""))
    assert gold_rows > 1000
    assert differing == 0


# --- Every reader against the view -----------------------------------------------------------


def test_daily_kpi_is_the_view_summed(loaded: Database, window: tuple[date, date]) -> None:
    days = sample_days(*window)
    differing = frame(loaded, """
        WITH view_sums AS (
            SELECT v.day, COALESCE(a.region, 'Unknown') AS region, COALESCE(a.territory, 'Unknown') AS territory,
                   COALESCE(a.account_type, 'Unknown') AS segment, round(sum(v.mrr_usd), 2) AS mrr_usd
            FROM unnest(CAST(:days AS date[])) AS d(day)
            CROSS JOIN LATERAL (SELECT * FROM gold.subscription_mrr_daily v WHERE v.day = d.day) v
            LEFT JOIN silver.accounts a ON a.account_id = v.account_id
            GROUP BY 1, 2, 3, 4
        )
        SELECT * FROM view_sums s
        FULL JOIN (SELECT day, region, territory, segment, mrr_usd AS stored FROM gold.daily_kpi_territory
                   WHERE day = ANY(CAST(:days AS date[])) AND mrr_usd <> 0) k USING (day, region, territory, segment)
        WHERE s.mrr_usd IS DISTINCT FROM k.stored""", days=days)
    assert differing.empty, differing.head()
    totals = frame(loaded, """
        SELECT k.day, sum(k.mrr_usd) AS kpi, (SELECT sum(v.mrr_usd) FROM gold.subscription_mrr_daily v
                                             WHERE v.day = k.day) AS view
        FROM gold.daily_kpi k WHERE k.day = ANY(CAST(:days AS date[])) GROUP BY k.day""", days=days)
    assert len(totals) == len(days) and (totals["kpi"] > 0).sum() >= 5
    for row in totals.itertuples():
        assert float(row.kpi) == pytest.approx(float(row.view or 0), abs=0.01 * 50), row.day  # cents per group


def test_daily_kpi_per_master_is_the_view_summed(loaded: Database, window: tuple[date, date]) -> None:
    """Per master account's region and territory, within the cents each segment's row was rounded to."""
    days = sample_days(*window)
    differing = frame(loaded, """
        WITH view_sums AS (
            SELECT v.day, COALESCE(m.region, 'Unknown') AS region, COALESCE(m.territory, 'Unknown') AS territory,
                   sum(v.mrr_usd) AS mrr_usd
            FROM unnest(CAST(:days AS date[])) AS d(day)
            CROSS JOIN LATERAL (SELECT * FROM gold.subscription_mrr_daily v WHERE v.day = d.day) v
            LEFT JOIN silver.account_master am ON am.account_id = v.account_id
            LEFT JOIN silver.accounts m ON m.account_id = COALESCE(am.master_account_id, v.account_id)
            GROUP BY 1, 2, 3
        )
        SELECT * FROM view_sums s
        FULL JOIN (SELECT day, region, territory, mrr_usd AS stored FROM gold.daily_kpi_master_territory
                   WHERE day = ANY(CAST(:days AS date[])) AND mrr_usd <> 0) k USING (day, region, territory)
        WHERE abs(COALESCE(s.mrr_usd, 0) - COALESCE(k.stored, 0)) > 0.05""", days=days)
    assert differing.empty, differing.head()
    moved = frame(loaded, "SELECT count(*) AS n FROM silver.account_master am JOIN silver.accounts a USING (account_id) "
                          "JOIN silver.accounts m ON m.account_id = am.master_account_id WHERE a.region <> m.region")
    assert moved["n"].iloc[0] > 0  # some MRR does move


def test_customer_360_is_the_view_on_the_as_of_day(loaded: Database, window: tuple[date, date]) -> None:
    as_of = window[1]
    stored = frame(loaded, "SELECT account_id, mrr_usd, arr_usd, active_services, mrr_usd_year_ago "
                           "FROM gold.customer_360").set_index("account_id")
    expected = per_master(loaded, as_of).reindex(stored.index).fillna(0)
    assert (expected > 0).sum() > 10
    assert (stored["mrr_usd"].astype(float) == expected).all()
    assert (stored["arr_usd"] == 12 * stored["mrr_usd"]).all()
    services = frame(loaded, """
        SELECT COALESCE(am.master_account_id, v.account_id) AS account_id, count(*) AS n
        FROM gold.subscription_mrr_daily v LEFT JOIN silver.account_master am ON am.account_id = v.account_id
        WHERE v.day = :day GROUP BY 1""", day=as_of).set_index("account_id")["n"]
    assert (stored["active_services"] == services.reindex(stored.index).fillna(0)).all()
    # A year earlier: rounded per regional account, then added up per customer.
    year_ago = frame(loaded, """
        SELECT COALESCE(am.master_account_id, r.account_id) AS account_id, sum(r.mrr_usd) AS mrr_usd
        FROM (SELECT account_id, round(sum(mrr_usd), 2) AS mrr_usd FROM gold.subscription_mrr_daily
              WHERE day = :day GROUP BY account_id) r
        LEFT JOIN silver.account_master am ON am.account_id = r.account_id GROUP BY 1""",
                     day=as_of - timedelta(days=365)).set_index("account_id")["mrr_usd"]
    assert len(year_ago) > 0
    assert (stored["mrr_usd_year_ago"] == year_ago.reindex(stored.index).fillna(Decimal(0))).all()


def test_timeline_amounts_are_the_view_on_the_event_day(loaded: Database) -> None:
    events = frame(loaded, """
        SELECT e.event_id, e.related_amount, v.mrr_usd
        FROM gold.timeline_events e
        JOIN silver.subscriptions s ON e.event_id IN ('subscription-start:' || s.subscription_id,
                                                      'subscription-end:' || s.subscription_id)
        LEFT JOIN gold.subscription_mrr_daily v
               ON v.subscription_id = s.subscription_id
              AND v.day = CASE WHEN e.event_id LIKE 'subscription-start:%' THEN s.start_date ELSE s.end_date - 1 END""")
    assert len(events) > 0 and events["related_amount"].notna().sum() > 0
    expected = events["mrr_usd"].map(lambda v: None if v is None else round(v, 2))
    assert (events["related_amount"].isna() == expected.isna()).all()
    assert (events["related_amount"].dropna() == expected.dropna()).all()


def test_kpi_drivers_start_and_end_mrr_are_the_view(loaded: Database) -> None:
    as_of, rows = driver_rows(loaded)
    mrr = rows[rows["kpi"] == "mrr_usd"]
    for days in (30, 90):
        start = as_of - timedelta(days=days)
        totals = mrr[(mrr["period_start"] == start) & (mrr["dimension"] == "total")].set_index("component")["value"]
        for component, day in (("start", start), ("end", as_of)):
            expected = per_master(loaded, day).clip(lower=0).sum()
            assert expected > 0
            assert totals[component] == pytest.approx(expected, abs=1e-6), (days, component)


def test_account_summaries_mrr_is_the_view(loaded: Database, window: tuple[date, date]) -> None:
    as_of = window[1]
    with loaded.engine.connect() as conn:
        facts = {f.account_id: f for f in account_facts(conn)}
    assert facts
    for field, days in (("mrr_usd", 0), ("mrr_usd_30d_ago", 30), ("mrr_usd_90d_ago", 90)):
        expected = per_master(loaded, as_of - timedelta(days=days))
        assert (expected > 0).any()
        for account_id, fact in facts.items():
            assert getattr(fact, field) == pytest.approx(expected.get(account_id, 0.0), abs=1e-9), (field, account_id)


def test_churn_features_mrr_is_the_view(loaded: Database, window: tuple[date, date]) -> None:
    as_of = window[1]
    cutoffs = [as_of, as_of - timedelta(days=200)]
    with loaded.engine.connect() as conn:
        features = build_features(conn, cutoffs)
    assert len(features) > 0
    for cutoff in cutoffs:
        rows = features[features["cutoff"] == cutoff].set_index("account_id")
        assert len(rows) > 0
        for column, days in (("mrr_usd", 0), ("mrr_90d_ago_usd", 90), ("mrr_year_ago_usd", 365)):
            unrounded = per_master(loaded, cutoff - timedelta(days=days), cents=False)
            expected = unrounded.reindex(rows.index).fillna(0.0)
            assert (expected > 0).any(), (cutoff, column)
            assert (rows[column] - expected).abs().max() < 1e-6, (cutoff, column)


# --- Nowhere else -----------------------------------------------------------------------------


def _code(path: Path) -> str:
    """A source's text without SQL or Python comments."""
    return re.sub(r"(--|#)[^\n]*", "", path.read_text(encoding="utf-8"))


def _sources() -> list[Path]:
    return sorted(p for p in ETL_DIR.rglob("*") if p.suffix in (".sql", ".py") and "demo_data" not in p.parts)


def mrr_worked_out_again(code: str, *, converts_sums: bool = False) -> list[str]:
    """What in `code` works a subscription's MRR in USD out other than from the gold definition:
    a silver subscription's MRR multiplied or summed, its as-of-rate USD columns read, or (unless
    `converts_sums`) a subscription table and the FX rates read together."""
    found = []
    for alias in re.findall(r"silver\.subscriptions\s+(?:AS\s+)?(\w+)", code, flags=re.IGNORECASE):
        if re.search(rf"\b{alias}\.mrr\s*\*|\*\s*{alias}\.mrr\b|sum\(\s*{alias}\.mrr\b", code):
            found.append(f"{alias}.mrr converted or summed")
        if re.search(rf"\b{alias}\.(mrr_usd|fx_rate)\b", code):
            found.append(f"{alias}.mrr_usd or {alias}.fx_rate read")
    if converts_sums:
        return found
    # Read, not merely named (a quarantine rule names silver.subscriptions as a parent table).
    reads_subscriptions = re.search(r"\b(?:FROM|JOIN)\s+silver\.subscriptions\b", code, flags=re.IGNORECASE)
    if reads_subscriptions and re.search(r"fx_rates|usd_per_unit", code):
        found.append("silver.subscriptions read with the FX rates")
    if "gold.subscription_mrr " in code + " " and re.search(r"fx_rates|usd_per_unit", code):
        found.append("gold.subscription_mrr converted outside the view")
    return found


def test_the_guard_recognises_mrr_worked_out_again() -> None:
    assert mrr_worked_out_again("SELECT sum(s.mrr * fx.usd_per_unit) FROM silver.subscriptions s "
                                "JOIN silver.fx_rates_daily fx ON fx.day = :d")
    assert mrr_worked_out_again("SELECT sum(s.mrr_usd) FROM silver.subscriptions AS s")
    assert mrr_worked_out_again("SELECT m.mrr * r.usd_per_unit FROM gold.subscription_mrr m, silver.fx_rates_daily r")
    assert not mrr_worked_out_again("SELECT concat_ws(' ', 'MRR', s.mrr, s.currency) FROM silver.subscriptions s")
    assert not mrr_worked_out_again("SELECT sum(v.mrr_usd) FROM gold.subscription_mrr_daily v")
    assert mrr_worked_out_again("SELECT s.mrr, r.usd_per_unit FROM silver.subscriptions s JOIN silver.fx_rates r ON true")
    assert not mrr_worked_out_again('Parent("subscription_id", "crm_subscriptions", "silver.subscriptions"); fx_rates')


def test_no_other_source_works_mrr_out_from_silver_subscriptions() -> None:
    sources = _sources()
    assert MRR_STEP in sources and set(CONVERTS_SUMS) <= set(sources) and len(sources) > 20
    offenders = {str(path.relative_to(ETL_DIR)): found for path in sources
                 if path not in (MRR_STEP, *CONVERTS_SUMS) and (found := mrr_worked_out_again(_code(path)))}
    assert offenders == {}
    # They convert the MRR of gold.subscription_mrr, never silver's.
    for path in CONVERTS_SUMS:
        assert "gold.subscription_mrr " in _code(path), path.name
        assert mrr_worked_out_again(_code(path), converts_sums=True) == [], path.name
