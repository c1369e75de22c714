"""The one scheduler process: a declarative list of jobs with stable ids.

Run it with `c360 scheduler`, once per deployment, never inside web workers. Each job
takes a PostgreSQL advisory lock (see `etl.runs`), so even a second scheduler started by
mistake cannot run the same job twice at once; every attempt is recorded in app.job_run.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from dashboard.db import Database, resolve_database_url
from dashboard.job_catalogue import JOB_CATALOGUE
from dashboard.settings import Settings
from etl.insights.text import is_due
from etl.intelligence.scoring import run_scoring, scoring_is_due
from etl.intelligence.training import train_churn
from etl.pipeline import run_pipeline
from etl.quality import run_all_checks
from etl.runs import JobAlreadyRunning

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledJob:
    """A job: stable id, the function to run, and an APScheduler trigger."""

    id: str
    func: Callable[[Settings], Any]
    trigger: str
    trigger_args: dict[str, Any] = field(default_factory=dict)
    description: str = ""


def refresh_data(settings: Settings, *, full: bool = False) -> None:
    """Pull and load whatever landed since the last run, then rebuild what it changed."""
    database = Database().bind(resolve_database_url(settings))
    try:
        result = run_pipeline(database, settings.resolved_landing_dir, archive=True, pull=True, full=full,
                              triggered_by="scheduler-full" if full else "scheduler")
        log.info("etl finished: %s in %.1fs", result.status, result.seconds)
    finally:
        database.dispose()


def rebuild_everything(settings: Settings) -> None:
    """Rebuild all of silver and gold from bronze, whatever changed."""
    refresh_data(settings, full=True)


def check_data_quality(settings: Settings) -> None:
    """Run every data-quality check against the current tables, recorded as job "data_quality"."""
    database = Database().bind(resolve_database_url(settings))
    try:
        reports = run_all_checks(database, triggered_by="scheduler")
        log.info("data quality: %d critical failures, %d warnings",
                 sum(len(r.critical_failures) for r in reports), sum(len(r.warnings) for r in reports))
    except JobAlreadyRunning as exc:
        log.warning("data quality: skipped: %s", exc)
    finally:
        database.dispose()


def train_churn_model(settings: Settings) -> None:
    """Retrain the churn model on the latest data and register it (job "churn_train")."""
    database = Database().bind(resolve_database_url(settings))
    try:
        result = train_churn(database, triggered_by="scheduler")
        log.info("churn model v%d trained: ROC-AUC %s", result.version, result.metrics.get("roc_auc"))
    except JobAlreadyRunning as exc:
        log.warning("churn training: skipped: %s", exc)
    finally:
        database.dispose()


def score_accounts(settings: Settings) -> None:
    """Score churn, health, engagement and lifetime value, raise actions and alerts (job "scoring").

    Runs on a short interval but only works when a data refresh or a new model landed since the
    last successful scoring, so alerts follow their cause within one refresh cycle.
    """
    database = Database().bind(resolve_database_url(settings))
    try:
        if scoring_is_due(database):
            run_scoring(database, triggered_by="scheduler")
    except JobAlreadyRunning as exc:
        log.warning("scoring: skipped: %s", exc)
    finally:
        database.dispose()


# The insight jobs (etl.insights): job id -> module, runner. Client summaries come last: they
# quote the others' results (`c360 insights run` runs them in this order).
INSIGHT_JOBS = {
    "attribution": ("etl.insights.attribution", "run_attribution"),
    "text_insights": ("etl.insights.text", "run_text_insights"),
    "forecasts": ("etl.insights.forecasts", "run_forecasts"),
    "anomalies": ("etl.insights.anomalies", "run_anomalies"),
    "kpi_drivers": ("etl.insights.drivers", "run_kpi_drivers"),
    "lead_scoring": ("etl.intelligence.leads", "run_lead_scoring"),
    "account_summaries": ("etl.insights.summaries", "run_account_summaries"),
}


def run_insights(settings: Settings, job_id: str) -> None:
    """Run one of INSIGHT_JOBS; a job with INPUT_JOBS only when one of them succeeded since its last run."""
    module_name, runner = INSIGHT_JOBS[job_id]
    module = importlib.import_module(module_name)
    database = Database().bind(resolve_database_url(settings))
    try:
        inputs = getattr(module, "INPUT_JOBS", None)
        if inputs is None or is_due(database, job_id, inputs):
            log.info("%s: %s", job_id, getattr(module, runner)(database, triggered_by="scheduler"))
    except JobAlreadyRunning as exc:
        log.warning("%s: skipped: %s", job_id, exc)
    finally:
        database.dispose()


def jobs(settings: Settings) -> list[ScheduledJob]:
    """The schedule: every job of the catalogue, at the intervals and hours of `settings.schedule`."""
    schedule = settings.schedule
    runs: dict[str, tuple[Callable[[Settings], Any], str, dict[str, Any]]] = {
        "etl": (refresh_data, "interval", {"minutes": schedule.etl_interval_minutes}),
        # Shares the "etl" advisory lock with the refresh, so the two never overlap.
        "etl_full_rebuild": (rebuild_everything, "cron", {"hour": schedule.full_rebuild_hour, "minute": 0}),
        "data_quality": (check_data_quality, "interval", {"minutes": schedule.dq_interval_minutes}),
        "churn_train": (train_churn_model, "cron", {"hour": schedule.churn_train_hour, "minute": 0}),
        "scoring": (score_accounts, "interval", {"minutes": schedule.scoring_interval_minutes}),
        "attribution": (partial(run_insights, job_id="attribution"), "cron",
                        {"hour": schedule.attribution_hour, "minute": 0}),
        "text_insights": (partial(run_insights, job_id="text_insights"), "interval",
                          {"minutes": schedule.text_insights_interval_minutes}),
        "account_summaries": (partial(run_insights, job_id="account_summaries"), "interval",
                              {"minutes": schedule.summaries_interval_minutes}),
        "forecasts": (partial(run_insights, job_id="forecasts"), "cron", {"hour": schedule.forecasts_hour, "minute": 0}),
        "anomalies": (partial(run_insights, job_id="anomalies"), "interval",
                      {"minutes": schedule.anomalies_interval_minutes}),
        "kpi_drivers": (partial(run_insights, job_id="kpi_drivers"), "interval",
                        {"minutes": schedule.kpi_drivers_interval_minutes}),
        "lead_scoring": (partial(run_insights, job_id="lead_scoring"), "interval",
                         {"minutes": schedule.lead_scoring_interval_minutes}),
    }
    return [ScheduledJob(job.id, *runs[job.id], job.description) for job in JOB_CATALOGUE]


def build_scheduler(settings: Settings, *, blocking: bool = True) -> BlockingScheduler:
    """An APScheduler with every job added; not started."""
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    for job in jobs(settings):
        # max_instances=1 and coalesce stop a slow run from piling up missed runs in this process;
        # the advisory lock covers other processes.
        scheduler.add_job(job.func, job.trigger, args=[settings], id=job.id, name=job.description,
                          max_instances=1, coalesce=True, replace_existing=True,
                          misfire_grace_time=300, **job.trigger_args)
    return scheduler


def run_scheduler(settings: Settings) -> None:
    """Run the scheduler in the foreground until interrupted."""
    scheduler = build_scheduler(settings)
    for job in scheduler.get_jobs():
        log.info("scheduled %s: %s", job.id, job.trigger)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
