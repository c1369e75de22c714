"""The forecast, anomaly and KPI-driver jobs on the session's loaded database write sane gold rows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from dashboard.queries.insights import account_anomalies, forecast_chart, kpi_drivers
from dashboard.scope import DataScope
from dashboard.tables.app import JobRun
from dashboard.tables.gold import DailyKpi
from dashboard.tables.insights import (
    AccountAnomaly,
    Forecast,
    ForecastActual,
    ForecastSeries,
    KpiDriver,
    LargestAccount,
)
from etl.gold import data_window
from etl.insights.anomalies import run_anomalies
from etl.insights.drivers import month_windows, mrr_windows, run_kpi_drivers
from etl.insights.forecasts import run_forecasts


@pytest.fixture(scope="module")
def forecasts_run(loaded_database):
    # A few families keep the test short; the benchmark times every series.
    return run_forecasts(loaded_database, triggered_by="test", families=["mrr_region", "pipeline", "tickets_daily"])


def test_forecast_job_writes_series_with_ordered_intervals(loaded_database, forecasts_run):
    with loaded_database.session() as session:
        # Other tests of the session may have run every family: look at the ones run here.
        series = {s.series_key: s for s in session.scalars(select(ForecastSeries))
                  if s.series_key in forecasts_run.models}
        rows = [r for r in session.scalars(select(Forecast)) if r.series_key in series]
        regions = session.execute(text("SELECT DISTINCT region FROM gold.regional_monthly")).scalars().all()
        last_mrr = dict(session.execute(text(
            "SELECT region, mrr_usd FROM gold.regional_monthly r WHERE month = (SELECT max(month) FROM gold.regional_monthly)")).all())
        actual = session.scalars(select(ForecastActual.actual).where(
            ForecastActual.series_key == "tickets_opened:total:All")).all()
        tickets = session.scalar(text("SELECT sum(tickets_opened) FROM gold.support_daily"))
        run = session.scalars(select(JobRun).where(JobRun.job_id == "forecasts")).all()[-1]
    assert {f"mrr_usd:region:{r}" for r in regions} | {"pipeline_weighted_usd:total:All",
                                                       "tickets_opened:total:All"} == set(series)
    assert forecasts_run.series == len(series) and run.status == "success"
    assert len(rows) == sum(12 if s.grain == "month" and s.metric == "mrr_usd" else 6 if s.metric.startswith("pipeline")
                            else 28 for s in series.values())
    for row in rows:
        assert row.lower95 <= row.lower80 <= row.mean <= row.upper80 <= row.upper95
        assert row.lower95 >= 0  # money and counts are never forecast below zero
    tickets_series = series["tickets_opened:total:All"]
    assert tickets_series.grain == "day" and tickets_series.season_length == 7
    assert tickets_series.backtest_mase is not None and 0 < tickets_series.backtest_mase < 3
    assert sum(actual) == tickets  # the stored history is gold's, day by day
    first = min(r.period_start for r in rows if r.series_key == "tickets_opened:total:All")
    assert first == tickets_series.last_actual_period + timedelta(days=1)
    # Monthly MRR forecasts stay in the range of the region's latest MRR (no runaway trend in a year).
    assert last_mrr
    for region, mrr in last_mrr.items():
        step_1 = next(r for r in rows if r.series_key == f"mrr_usd:region:{region}" and r.horizon_step == 1)
        assert abs(step_1.mean - float(mrr)) <= 0.5 * float(mrr) + 1

    with loaded_database.session() as session:
        chart = forecast_chart(session, "tickets_opened:total:All", DataScope.everything())
    assert chart is not None and len(chart.forecast) == 28 and len(chart.actuals) == len(actual)
    assert chart.series.model_name == tickets_series.model_name


def test_anomaly_job_finds_an_injected_usage_spike_and_is_idempotent(loaded_database):
    with loaded_database.begin() as session:
        as_of = session.scalar(text("SELECT max(rate_date) FROM silver.fx_rates"))
        account_id, regional_id = session.execute(text("""
            SELECT COALESCE(am.master_account_id, u.account_id), u.account_id
            FROM silver.usage_daily u LEFT JOIN silver.account_master am ON am.account_id = u.account_id
            WHERE u.usage_date = :as_of - 1 AND u.active_users >= 5
            ORDER BY u.account_id LIMIT 1"""), {"as_of": as_of}).one()
        original = session.scalar(text(
            "SELECT active_users FROM silver.usage_daily WHERE account_id = :a AND usage_date = :d"),
            {"a": regional_id, "d": as_of - timedelta(days=1)})
        session.execute(text("UPDATE silver.usage_daily SET active_users = active_users * 20 + 200 "
                             "WHERE account_id = :a AND usage_date = :d"), {"a": regional_id, "d": as_of - timedelta(days=1)})
    try:
        first = run_anomalies(loaded_database, triggered_by="test")
        second = run_anomalies(loaded_database, triggered_by="test")
    finally:
        with loaded_database.begin() as session:
            session.execute(text("UPDATE silver.usage_daily SET active_users = :v WHERE account_id = :a AND usage_date = :d"),
                            {"v": original, "a": regional_id, "d": as_of - timedelta(days=1)})
    assert first.anomalies == second.anomalies  # same days replaced, not duplicated
    with loaded_database.session() as session:
        rows = session.scalars(select(AccountAnomaly)).all()
        spike = session.get(AccountAnomaly, f"active_users:{account_id}:{(as_of - timedelta(days=1)).isoformat()}")
        customers = set(session.scalars(text("SELECT account_id FROM gold.customer_360")))
        listed = account_anomalies(session, DataScope.everything(), account_id=account_id)
    assert spike is not None and spike.kind == "spike" and spike.severity == "high"
    assert spike.observed >= 200 and spike.baseline < spike.observed and spike.change_pct > 100
    assert spike.description.startswith("Daily active users rose to ")
    assert len({(r.account_id, r.metric, r.detected_on) for r in rows}) == len(rows)
    assert {r.account_id for r in rows} <= customers  # customer (master account) ids
    assert all(r.kind in ("drop", "spike") and r.severity in ("low", "medium", "high") for r in rows)
    assert all(r.detected_on > as_of - timedelta(days=7) for r in rows)
    assert spike.anomaly_id in set(listed["anomaly_id"]) and set(listed["account_id"]) == {account_id}


def window_first_day(database) -> date:
    with database.engine.connect() as conn:
        return data_window(conn).first_day


def test_kpi_driver_job_parts_add_up_and_match_gold(loaded_database):
    result = run_kpi_drivers(loaded_database, triggered_by="test")
    assert result.rows > 0
    with loaded_database.session() as session:
        rows = session.scalars(select(KpiDriver)).all()
        mrr_at = dict(session.execute(select(DailyKpi.day, func.sum(DailyKpi.mrr_usd)).where(
            DailyKpi.day.in_([result.as_of, result.as_of - timedelta(days=30)])).group_by(DailyKpi.day)).all())
        drivers = kpi_drivers(session, "mrr_usd", period_days=30, scope=DataScope.everything())
    values = {(r.kpi, r.period_start, r.dimension, r.member, r.component): r.figure for r in rows}
    for days in (30, 90):
        start = result.as_of - timedelta(days=days)
        mrr = {c: values[("mrr_usd", start, "total", "All", c)]
               for c in ("start", "new", "expansion", "contraction", "churn", "fx", "end")}
        assert mrr["start"] + mrr["new"] + mrr["expansion"] + mrr["contraction"] + mrr["churn"] + mrr["fx"] == \
            pytest.approx(mrr["end"], abs=0.01)
        assert mrr["new"] >= 0 and mrr["expansion"] >= 0 and mrr["contraction"] <= 0 and mrr["churn"] <= 0
        active = {c: values[("active_customers", start, "total", "All", c)]
                  for c in ("start", "new", "reactivated", "churned", "end")}
        assert active["start"] + active["new"] + active["reactivated"] + active["churned"] == active["end"]
        for dimension in ("channel", "region", "segment"):
            rate = {c: values[("reply_rate", start, dimension, "All", c)] for c in ("mix", "rate")}
            change = values[("reply_rate", start, "total", "All", "end")] - values[
                ("reply_rate", start, "total", "All", "start")]
            assert rate["mix"] + rate["rate"] == pytest.approx(change, abs=1e-12)
        regions = [r for r in rows if r.kpi == "mrr_usd" and r.period_start == start and r.dimension == "region"
                   and r.component == "end"]
        assert sum(r.figure for r in regions) == pytest.approx(mrr["end"], abs=0.01 * len(regions))
    # Every MRR window kept (the page's default period, the month to date and the last 12 months too) adds up.
    windows = {(r.period_start, r.period_end) for r in rows if r.kpi == "mrr_usd"}
    assert windows == set(mrr_windows(result.as_of, window_first_day(loaded_database)))
    assert len(windows) >= 10
    for start, end in windows:
        parts = {r.component: r.figure for r in rows if r.kpi == "mrr_usd" and (r.period_start, r.period_end) ==
                 (start, end) and r.dimension == "total"}
        assert parts["start"] + sum(parts[c] for c in ("new", "expansion", "contraction", "churn", "fx")) == \
            pytest.approx(parts["end"], abs=0.01), (start, end)
    # MRR totals are gold.daily_kpi's (rounded per group there, per customer here).
    start_30 = result.as_of - timedelta(days=30)
    assert values[("mrr_usd", start_30, "total", "All", "end")] == pytest.approx(float(mrr_at[result.as_of]), abs=1.0)
    assert values[("mrr_usd", start_30, "total", "All", "start")] == pytest.approx(
        float(mrr_at.get(start_30, Decimal(0))), abs=1.0)
    top = [r for r in rows if r.kpi == "mrr_usd" and r.period_start == start_30 and r.dimension == "account"]
    assert [r.rank for r in sorted(top, key=lambda r: r.rank)] == list(range(1, len(top) + 1))
    assert all(r.label for r in top)
    assert drivers is not None and drivers.components["end"] == values[("mrr_usd", start_30, "total", "All", "end")]
    assert len(drivers.top_accounts) == len(top)


def test_complete_months_are_worked_out_once_a_day(loaded_database):
    first = run_kpi_drivers(loaded_database, triggered_by="test")
    with loaded_database.session() as session:
        before = {(r.period_start, r.period_end, r.dimension, r.member, r.component): (r.figure, r.generated_at)
                  for r in session.scalars(select(KpiDriver).where(KpiDriver.kpi == "mrr_usd"))}
        largest_before = {(r.day, r.region, r.territory, r.rank): (r.account_id, r.generated_at)
                          for r in session.scalars(select(LargestAccount))}
    again = run_kpi_drivers(loaded_database, triggered_by="test")
    months = month_windows(again.as_of, window_first_day(loaded_database))
    assert again.kept_months == len(months) > 0 and again.rows < first.rows + 1
    with loaded_database.session() as session:
        after = {(r.period_start, r.period_end, r.dimension, r.member, r.component): (r.figure, r.generated_at)
                 for r in session.scalars(select(KpiDriver).where(KpiDriver.kpi == "mrr_usd"))}
    assert after.keys() == before.keys()
    for key, (figure, generated_at) in after.items():
        assert figure == pytest.approx(before[key][0], abs=1e-6), key
        kept = (key[0], key[1]) in months
        assert (generated_at == before[key][1]) == kept, key
    # The largest customers of the month ends are kept too; the last two days' are written again.
    with loaded_database.session() as session:
        largest_after = {(r.day, r.region, r.territory, r.rank): (r.account_id, r.generated_at)
                         for r in session.scalars(select(LargestAccount))}
    assert largest_after.keys() == largest_before.keys() and largest_after
    month_ends = {day for month in months for day in month} - {again.as_of, again.as_of - timedelta(days=1)}
    assert {key[0] for key in largest_after} == month_ends | {again.as_of, again.as_of - timedelta(days=1)}
    for key, (account_id, generated_at) in largest_after.items():
        assert account_id == largest_before[key][0]
        assert (generated_at == largest_before[key][1]) == (key[0] in month_ends), key


def test_jobs_are_scheduled_and_run_from_the_cli(settings, loaded_database, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from dashboard.cli import main
    from etl.scheduler import build_scheduler

    scheduler = build_scheduler(settings, blocking=False)
    assert "hour='5'" in str(scheduler.get_job("forecasts").trigger)
    assert {"anomalies", "kpi_drivers"} <= {job.id for job in scheduler.get_jobs()}
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("C360_ENV", raising=False)
    result = CliRunner().invoke(main, ["insights", "run", "--job", "kpi_drivers"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("kpi_drivers: Wrote ") and "KPI driver rows" in result.output
    result = CliRunner().invoke(main, ["insights", "run", "--job", "no_such_job"])
    assert result.exit_code != 0 and "unknown job(s) no_such_job" in result.output
