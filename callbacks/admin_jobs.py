"""Admin jobs callbacks: recent runs, a manual run as a background callback, quarantined rows."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html
from flask import has_request_context
from flask_login import current_user

from dashboard import current_settings
from dashboard.callback_guard import guarded_callback
from dashboard.extensions import db
from dashboard.job_runner import job_ids, run_in_new_process
from dashboard.masking import MaskPolicy, mask_text
from dashboard.permissions import MANAGE_JOBS
from dashboard.queries.admin import JobRunRow, recent_runs
from dashboard.queries.freshness import gold_status
from dashboard.queries.quarantine import quarantine_summary, quarantined_rows
from dashboard.settings import Settings
from layouts.admin_jobs import ID, dataset_argument
from layouts.components import compact_table, format_count, gold_status_banner

QUARANTINE_ROWS = 50
STATUS_COLORS = {"success": "success", "failed": "danger", "running": "info", "skipped": "secondary"}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "running"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def runs_table(runs: dict[str, list[JobRunRow]]) -> html.Div:
    rows = [[html.Code(job_id), run.started_at.strftime("%Y-%m-%d %H:%M:%S"), run.triggered_by,
             dbc.Badge(run.status, color=STATUS_COLORS.get(run.status, "secondary")),
             _duration(run.duration_seconds), format_count(run.rows),
             html.Span((run.error or "")[:200], className="small text-danger")]
            for job_id, job_runs in runs.items() for run in job_runs]
    if not rows:
        return html.P("No job has run yet.", className="text-muted")
    return compact_table(["Job", "Started (UTC)", "By", "Status", "Duration", "Rows", "Error"], rows,
                         numeric=(4, 5), table_id="jb-runs-table")


@guarded_callback(MANAGE_JOBS, Output(ID.RUNS, "children"), Input(ID.RUN_RESULT, "children"))
def update_runs(_result: Any) -> html.Div:
    """Each job's last runs, redrawn after a manual run."""
    with db.session() as session:
        return runs_table(recent_runs(session, job_ids()))


def run_job(job_id: Any, *, actor: str, settings: Settings, database_url: str,
            progress: Callable[[int, str], None] = lambda value, label: None) -> dbc.Alert:
    """Run one scheduler job now in a new process, audited as job_run_manual; the job takes its
    advisory lock, so it never overlaps a scheduled run."""
    if not isinstance(job_id, str) or job_id not in job_ids():
        return dbc.Alert("Choose one of the listed jobs.", color="danger", className="py-2 mb-0")
    progress(10, f"{job_id}: running")
    outcome = run_in_new_process(job_id, actor=actor, settings=settings, database_url=database_url)
    progress(100, f"{job_id}: {outcome.status}")
    text = f"{job_id} finished: {outcome.status} in {outcome.seconds:.1f} s"
    return dbc.Alert([text, html.Div(outcome.error, className="small")] if outcome.error else text,
                     color=STATUS_COLORS.get(outcome.status, "secondary"), className="py-2 mb-0")


@guarded_callback(
    MANAGE_JOBS, Output(ID.RUN_RESULT, "children"), Input(ID.RUN, "n_clicks"), State(ID.JOB, "value"),
    background=True, prevent_initial_call=True,
    progress=[Output(ID.PROGRESS, "value"), Output(ID.PROGRESS, "label")],
    running=[(Output(ID.RUN, "disabled"), True, False)],
)
def run_job_now(set_progress: Callable[[tuple[int, str]], None], _clicks: Any, job_id: Any) -> dbc.Alert:
    """Run the chosen job, reporting progress to the page. This runs in a fork of the web
    process: it touches no database connection itself (see dashboard.job_runner)."""
    gc.freeze()  # never collect objects inherited from the web process
    actor = current_user.email if has_request_context() and current_user.is_authenticated else "unknown"
    set_progress((0, "starting"))
    return run_job(job_id, actor=actor, settings=current_settings(),
                   database_url=db.engine.url.render_as_string(hide_password=False),
                   progress=lambda value, label: set_progress((value, label)))


@guarded_callback(MANAGE_JOBS, Output(ID.GOLD_STATUS, "children"), Input(ID.RUN_RESULT, "children"))
def update_gold_status(_result: Any) -> html.Div:
    """Whether gold is held back by data quality or failing, with the failing checks; redrawn after a manual run."""
    with db.session() as session:
        return gold_status_banner(gold_status(session), banner_id="jb-gold-banner")


def quarantine_view(dataset: Any, policy: MaskPolicy) -> html.Div:
    """Counts per dataset and stage, then the newest rows with their reasons (PII masked as needed)."""
    chosen = dataset_argument(dataset)
    with db.session() as session:
        summary = quarantine_summary(session)
        rows = quarantined_rows(session, dataset=chosen or None, limit=QUARANTINE_ROWS)
        listed = [[r.dataset, r.stage, r.source_file or "", str(r.row_number or ""), r.reason,
                   html.Code((mask_text(r.raw, policy) or "")[:300], className="small")] for r in rows]
    if not summary:
        return html.P("No row has been quarantined.", className="text-muted")
    counts = compact_table(["Dataset", "Stage", "Rows"],
                           [[s.dataset, s.stage, format_count(s.rows)] for s in summary], numeric=(2,))
    newest = (compact_table(["Dataset", "Stage", "File", "Row", "Reason", "Raw"], listed, table_id="jb-quarantine-rows")
              if listed else html.P("No quarantined row in this dataset.", className="text-muted"))
    return html.Div([counts, html.H6(f"Newest {QUARANTINE_ROWS}", className="mt-3"), newest])


@guarded_callback(MANAGE_JOBS, Output(ID.QUARANTINE, "children"), Input(ID.QUARANTINE_DATASET, "value"))
def update_quarantine(dataset: Any) -> html.Div:
    """Quarantined rows, optionally of one dataset."""
    return quarantine_view(dataset, MaskPolicy.for_current_user())
