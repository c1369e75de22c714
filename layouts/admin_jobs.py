"""Admin: data jobs. Each job's last runs, "run now" with progress, and quarantined rows."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.queries.admin import scheduled_jobs
from layouts.components import page_header

TITLE = "Data jobs"


class AdminJobsIds:
    PAGE = "jb-page"
    GOLD_STATUS = "jb-gold-status"
    JOB = "jb-job"
    RUN = "jb-run"
    PROGRESS = "jb-progress"
    RUN_RESULT = "jb-run-result"
    RUNS = "jb-runs"
    QUARANTINE_DATASET = "jb-quarantine-dataset"
    QUARANTINE = "jb-quarantine"


ID = AdminJobsIds


def job_choices() -> list[dict[str, str]]:
    """The scheduler's jobs, by their stable ids."""
    return [{"label": f"{job.id} \u2014 {job.description}", "value": job.id} for job in scheduled_jobs()]


def dataset_argument(dataset: object) -> str:
    """The `?dataset=` deep link (from the Data quality page) as the quarantine filter's value."""
    return dataset.strip()[:100] if isinstance(dataset, str) else ""


def layout(dataset: object = None, **_: object) -> html.Div:
    """The gold status banner, runs and the runner, then quarantined rows (of `?dataset=` when given)."""
    choices = job_choices()
    runner = dbc.Card(dbc.CardBody([
        html.H5("Run a job now", className="card-title"),
        dcc.Dropdown(id=ID.JOB, options=choices, value=choices[0]["value"] if choices else None,
                     clearable=False, className="mb-2"),
        dbc.Button("Run now", id=ID.RUN, color="primary", className="mb-2"),
        dbc.Progress(id=ID.PROGRESS, value=0, label="", striped=True, animated=True, className="mb-2"),
        html.Div(id=ID.RUN_RESULT, role="status"),
        html.P("The job takes the same lock as the scheduler, so it never runs twice at once.",
               className="small text-muted mb-0 mt-2"),
    ]), className="mb-3")
    return html.Div([
        page_header(TITLE, "Recent runs, manual runs, and rows the data-quality gate refused"),
        html.Div(id=ID.GOLD_STATUS),
        dbc.Row([
            dbc.Col(runner, lg=4),
            dbc.Col(html.Div(id=ID.RUNS), lg=8),
        ], className="g-3 mb-3"),
        html.H5("Quarantined rows"),
        dbc.Input(id=ID.QUARANTINE_DATASET, type="search", placeholder="Dataset, e.g. crm_contacts", debounce=True,
                  value=dataset_argument(dataset), className="mb-2", style={"maxWidth": "20rem"}),
        html.Div(id=ID.QUARANTINE),
    ], id=ID.PAGE)
