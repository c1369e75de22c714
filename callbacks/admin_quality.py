"""Data quality callbacks: one per panel. Each opens a read-only session, calls one query
function and shapes its result; the `*_view` functions take the typed result, so tests call
them with results read from any database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from dashboard.callback_guard import guarded_callback
from dashboard.extensions import db
from dashboard.masking import MaskPolicy, mask_text
from dashboard.permissions import MANAGE_JOBS
from dashboard.queries.freshness import gold_status
from dashboard.queries.quality import (
    TREND_RUNS,
    CheckFilters,
    CheckOverview,
    CheckRow,
    Completeness,
    IdentityOverview,
    JobOutcome,
    ModelStatus,
    ModelVersion,
    QuarantineOverview,
    check_overview,
    completeness,
    identity_overview,
    model_status,
    quarantine_overview,
)
from dashboard.settings import Settings, SettingsError
from layouts.admin_quality import ID, PANEL_TITLES
from layouts.components import (
    chart_card,
    compact_table,
    empty_state,
    format_count,
    format_day,
    format_percent,
    gold_status_banner,
    no_selection_state,
)

JOB_STATUS_COLORS = {"success": "success", "failed": "danger", "interrupted": "danger"}
DETAIL_CHARS = 2000
CHECKS_PAGE_SIZE = 50
REASONS_SHOWN = 30
JOBS_PAGE = "/admin/jobs"


def _utc(moment: datetime | None) -> str:
    return "\u2014" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _number(value: float | None) -> str:
    """Observed values and thresholds: 3, 0.0314, 291.9, 12,728."""
    if value is None:
        return "\u2014"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


# --- 1. Checks ---------------------------------------------------------------------------------


def _rounded(value: float | None) -> float | None:
    """Four significant digits, still a number so the grid sorts it as one."""
    return None if value is None else float(f"{value:.4g}")


_RUN_LETTERS = {"critical": "c", "warning": "w", "pass": "p"}


def _run_outcome(status: str, severity: str) -> str:
    return severity if status == "fail" and severity in ("critical", "warning") else "pass"


def _check_row(check: CheckRow, policy: MaskPolicy) -> dict[str, Any]:
    """One grid row; the trend is a letter per recent run (oldest first), drawn by the
    C360RunStrip renderer (assets/dashAgGridComponentFunctions.js)."""
    outcomes = [_run_outcome(point.status, point.severity) for point in check.history]
    detail = mask_text(json.dumps(check.detail, sort_keys=True, default=str), policy) if check.detail else ""
    if len(detail) > DETAIL_CHARS:
        detail = detail[:DETAIL_CHARS] + "\u2026"
    return {
        "outcome": check.outcome if check.outcome in _RUN_LETTERS else "pass",
        "check_id": check.check_id, "kind": check.kind, "stage": check.stage,
        "table": f"{check.table_name}.{check.column_name}" if check.column_name else check.table_name,
        "observed": _rounded(check.observed), "threshold": _rounded(check.threshold),
        "trend": "".join(_RUN_LETTERS[outcome] for outcome in outcomes),
        "trend_label": f"{outcomes.count('critical') + outcomes.count('warning')} of the last {len(outcomes)} runs failed",
        "trend_detail": "\n".join(f"{point.checked_at.astimezone(UTC):%Y-%m-%d %H:%M}: {outcome}, observed "
                                  f"{_number(point.observed)}" for point, outcome in zip(check.history, outcomes,
                                                                                         strict=True)),
        "checked": _utc(check.checked_at), "detail": detail,
    }


CHECK_COLUMNS: list[dict[str, Any]] = [
    {"field": "outcome", "headerName": "Result", "cellRenderer": "C360Outcome", "width": 130},
    {"field": "check_id", "headerName": "Check", "cellClass": "font-monospace small", "minWidth": 300, "flex": 2,
     "tooltipField": "check_id"},
    {"field": "kind", "headerName": "Kind", "width": 120},
    {"field": "stage", "headerName": "Stage", "width": 90},
    {"field": "table", "headerName": "Table", "minWidth": 180, "flex": 1, "tooltipField": "table"},
    {"field": "observed", "headerName": "Observed", "type": "rightAligned", "width": 110},
    {"field": "threshold", "headerName": "Threshold", "type": "rightAligned", "width": 110},
    {"field": "trend", "headerName": f"Last {TREND_RUNS} runs", "cellRenderer": "C360RunStrip", "width": 150,
     "sortable": False, "tooltipField": "trend_detail"},
    {"field": "checked", "headerName": "Checked", "width": 190},
    {"field": "detail", "headerName": "Detail", "minWidth": 200, "flex": 1, "tooltipField": "detail"},
]


def checks_view(overview: CheckOverview, policy: MaskPolicy) -> html.Div:
    """Counts over every check, then the selected checks' latest results with their trend, in
    one grid (a plain table of hundreds of Dash components takes the browser seconds to draw)."""
    if overview.empty:
        return empty_state("No checks have run yet",
                           ["No checks have run yet \u2014 run ", html.Code("c360 etl run"),
                            ": the data-quality checks run after every stage, and hourly as the data_quality job."],
                           icon="\u2714", state_id=ID.CHECKS_EMPTY)
    summary = html.Div([
        dbc.Badge(f"{format_count(overview.critical_failures)} critical failing",
                  color="danger" if overview.critical_failures else "success", className="me-2"),
        dbc.Badge(f"{format_count(overview.warnings)} warnings",
                  color="warning" if overview.warnings else "success", className="me-2",
                  text_color="dark" if overview.warnings else None),
        html.Span(f"{format_count(overview.total)} checks \u00b7 last checked {_utc(overview.last_checked_at)}",
                  className="small text-muted"),
        html.Div(f"{format_count(overview.matching)} selected, failures first \u00b7 hover a trend or a "
                 "detail for more", className="small text-muted", id="aq-checks-shown"),
    ], className="mb-2", id="aq-checks-summary")
    if not overview.checks:
        return html.Div([summary, no_selection_state("No check matches these filters")])
    grid = dag.AgGrid(
        id=ID.CHECKS_TABLE, rowData=[_check_row(check, policy) for check in overview.checks],
        columnDefs=CHECK_COLUMNS,
        defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True},
        dashGridOptions={"pagination": True, "paginationPageSize": CHECKS_PAGE_SIZE,
                         "paginationPageSizeSelector": [CHECKS_PAGE_SIZE, 100, 500], "tooltipShowDelay": 300,
                         "enableCellTextSelection": True, "animateRows": False},
        style={"height": "560px", "width": "100%"}, className="c360-grid")
    return html.Div([summary, grid])


@guarded_callback(MANAGE_JOBS, Output(ID.CHECKS, "children"), Input(ID.REFRESH, "n_clicks"),
                  Input(ID.STAGE, "value"), Input(ID.STATUS, "value"), Input(ID.SEVERITY, "value"))
def update_checks(_clicks: Any, stages: Any, statuses: Any, severities: Any) -> html.Div:
    """The checks the filters select."""
    with db.session() as session:
        overview = check_overview(session, CheckFilters.from_raw(stages, statuses, severities))
    return checks_view(overview, MaskPolicy.for_current_user())


# --- 2. Completeness ---------------------------------------------------------------------------


def _share_bar(share: float) -> html.Div:
    """The share as text over a bar drawn by its background: one component per cell, as a page
    of many Dash components is slow to draw."""
    filled = f"{max(0.0, min(share, 1.0)) * 100:.1f}%"
    color = "var(--c360-amber)" if share >= 0.2 else "var(--c360-primary)"
    return html.Div(format_percent(share), className="c360-share-bar",
                    style={"backgroundImage": f"linear-gradient(to right, {color} {filled}, transparent {filled})"})


def completeness_view(result: Completeness) -> dbc.Card:
    """Average completeness per profile type, and the share of profiles missing each field."""
    title = PANEL_TITLES[ID.COMPLETENESS]
    if result.empty:
        return chart_card(title, empty_state(
            "Profile completeness has not been measured yet",
            ["The data_quality job measures it every hour \u2014 run it now from ",
             dcc.Link("Data jobs", href=JOBS_PAGE), " (after ", html.Code("c360 etl run"), " has loaded data)."],
            icon="\u25d4"), card_id="aq-completeness-card")
    entities = compact_table(
        ["Profile", "Records", "Average complete", "Fully complete", "Below 50%"],
        [[row.entity_type, format_count(row.entities), format_percent(row.avg_completeness_pct / 100),
          format_count(row.complete), format_count(row.below_half)] for row in result.by_entity.itertuples()],
        numeric=(1, 2, 3, 4), table_id="aq-completeness-entities")
    fields = compact_table(
        ["Profile", "Field", "Missing", "Share missing"],
        [[row.entity_type, row.field, format_count(row.missing), _share_bar(row.missing_share)]
         for row in result.by_field.itertuples()],
        numeric=(2,), table_id="aq-completeness-fields")
    return chart_card(title, html.Div([entities, html.H6("Missing per field", className="mt-3"), fields]),
                      subtitle="Share of the expected profile fields present", card_id="aq-completeness-card")


@guarded_callback(MANAGE_JOBS, Output(ID.COMPLETENESS, "children"), Input(ID.REFRESH, "n_clicks"))
def update_completeness(_clicks: Any) -> dbc.Card:
    """Profile completeness per type and field."""
    with db.session() as session:
        return completeness_view(completeness(session))


# --- 3. Quarantine -----------------------------------------------------------------------------


def quarantine_link(dataset: str) -> str:
    """The Data jobs page listing this dataset's quarantined rows."""
    return f"{JOBS_PAGE}?{urlencode({'dataset': dataset})}"


def quarantine_view(result: QuarantineOverview, policy: MaskPolicy) -> dbc.Card:
    """Rows per dataset with a link to them, and per reason with quoted values elided."""
    title = PANEL_TITLES[ID.QUARANTINE]
    if result.empty:
        return chart_card(title, empty_state("No row has been quarantined",
                                             "Every landing row received so far was accepted.", icon="\u2714"),
                          card_id="aq-quarantine-card")
    datasets = compact_table(
        ["Dataset", "Rows", "Bronze", "Silver", "Waiting", "Newest", ""],
        [[row.dataset, format_count(row.rows), format_count(row.bronze_rows), format_count(row.silver_rows),
          format_count(row.waiting_rows), _utc(row.newest_at),
          dcc.Link("rows \u2192", href=quarantine_link(row.dataset), className="c360-quarantine-link")]
         for row in result.by_dataset.itertuples()],
        numeric=(1, 2, 3, 4), footer=["All datasets", format_count(result.total), "", "", "", "", ""],
        table_id="aq-quarantine-datasets")
    reasons = compact_table(
        ["Dataset", "Stage", "Reason", "Rows", "Example"],
        [[row.dataset, row.stage, row.reason, format_count(row.rows),
          mask_text(row.example, policy) if row.example != row.reason else ""]
         for row in result.by_reason.head(REASONS_SHOWN).itertuples()],
        numeric=(3,), table_id="aq-quarantine-reasons")
    shown = min(len(result.by_reason), REASONS_SHOWN)
    note = (html.P(f"The {shown} largest of {format_count(result.reason_groups)} reasons.",
                   className="small text-muted mb-0 mt-1") if result.reason_groups > shown else None)
    return chart_card(title, html.Div([
        html.Div(f"{format_count(result.total)} rows quarantined in {len(result.by_dataset)} datasets",
                 className="fw-semibold mb-2", id="aq-quarantine-total"),
        datasets, html.H6("By reason", className="mt-3"), reasons, note,
    ]), subtitle="Landing rows refused by bronze loading or silver checks; waiting rows (a quarantined parent, "
                 "no rate yet) come back by themselves", card_id="aq-quarantine-card")


@guarded_callback(MANAGE_JOBS, Output(ID.QUARANTINE, "children"), Input(ID.REFRESH, "n_clicks"))
def update_quarantine(_clicks: Any) -> dbc.Card:
    """Quarantined rows by dataset and reason."""
    with db.session() as session:
        overview = quarantine_overview(session)
    return quarantine_view(overview, MaskPolicy.for_current_user())


# --- 4. Identity -------------------------------------------------------------------------------


def identity_view(result: IdentityOverview) -> dbc.Card:
    """Matched shares of contacts and accounts, and how confident the links are."""
    title = PANEL_TITLES[ID.IDENTITY]
    if result.empty:
        return chart_card(title, empty_state(
            "Identity resolution has not run yet",
            ["It runs with every data refresh \u2014 run ", html.Code("c360 etl run"), "."], icon="\u2687"),
            card_id="aq-identity-card")

    def figures(label: str, records: str, masters: str, figures_of: Any, figure_id: str) -> html.Div:
        return html.Div([
            html.Div(label, className="c360-kpi-title"),
            html.Div(format_percent(figures_of.matched_share), className="c360-kpi-value"),
            html.Div(f"{format_count(figures_of.matched_records)} of {format_count(figures_of.records)} {records} "
                     f"matched to another record \u00b7 {format_count(figures_of.masters)} {masters}",
                     className="small text-muted"),
        ], className="c360-identity-figure", id=figure_id)

    bands = result.confidence.pivot(index="band", columns="entity", values="records")
    bands = bands.reindex(list(dict.fromkeys(result.confidence["band"])))
    confidence = compact_table(
        ["Confidence", "People", "Accounts"],
        [[band, format_count(row.get("people")), format_count(row.get("accounts"))]
         for band, row in bands.iterrows()], numeric=(1, 2), table_id="aq-identity-confidence")
    methods = compact_table(["Of", "Method", "Records"],
                            [[row.entity, row.method, format_count(row.records)]
                             for row in result.methods.itertuples()], numeric=(2,), table_id="aq-identity-methods")
    return chart_card(title, html.Div([
        dbc.Row([
            dbc.Col(figures("Contacts matched", "contacts", "people", result.people, "aq-identity-people"), sm=6),
            dbc.Col(figures("Accounts linked", "accounts", "master accounts", result.accounts,
                            "aq-identity-accounts"), sm=6),
        ], className="g-3 mb-3"),
        dbc.Row([
            dbc.Col([html.H6("Confidence of matched records"), confidence], md=6),
            dbc.Col([html.H6("How records were matched"), methods], md=6),
        ], className="g-3"),
    ]), subtitle="Contacts de-duplicated into people, regional accounts into master accounts",
        card_id="aq-identity-card")


@guarded_callback(MANAGE_JOBS, Output(ID.IDENTITY, "children"), Input(ID.REFRESH, "n_clicks"))
def update_identity(_clicks: Any) -> dbc.Card:
    """Identity-resolution figures."""
    with db.session() as session:
        return identity_view(identity_overview(session))


# --- 5. Models ---------------------------------------------------------------------------------


def _model_line(model: ModelVersion) -> str:
    auc = "no ROC-AUC" if model.roc_auc is None else f"validation ROC-AUC {model.roc_auc:.3f}"
    return (f"v{model.version}: {auc}, trained {_utc(model.trained_at)}"
            f"{f' by {model.trained_by}' if model.trained_by else ''}, data to {format_day(model.data_last_day)}")


def _job_line(label: str, outcome: JobOutcome | None, command: str, job_id: str) -> html.Div:
    if outcome is None:
        return html.Div([html.Strong(f"{label}: "), "has not run yet \u2014 run ", html.Code(command),
                         f" (or {job_id} from ", dcc.Link("Data jobs", href=JOBS_PAGE), ")."],
                        className="mb-2", id=f"aq-models-{job_id}")
    parts: list[object] = [html.Strong(f"{label}: "), "last run ",
                           dbc.Badge(outcome.status, color=JOB_STATUS_COLORS.get(outcome.status, "secondary")),
                           f" at {_utc(outcome.finished_at or outcome.started_at)}"]
    if outcome.status != "success":
        parts.append(f"; last success {_utc(outcome.last_success_at)}")
    if outcome.error:
        parts.append(html.Div(outcome.error, className="small text-muted"))
    return html.Div(parts, className="mb-2", id=f"aq-models-{job_id}")


def models_view(status: ModelStatus) -> dbc.Card:
    """Which churn model serves and why, and when training and scoring last ran."""
    title = PANEL_TITLES[ID.MODELS]
    if status.empty:
        return chart_card(title, empty_state(
            "No churn model has been trained yet",
            ["Run ", html.Code("c360 models train"), " then ", html.Code("c360 models score"),
             " (the scheduler trains nightly and scores after each refresh)."], icon="\u2699"),
            card_id="aq-models-card")
    minimum = f"minimum {status.min_auc:.2f}"
    if status.serving is not None:
        serving = dbc.Alert([html.Strong("Serving "), _model_line(status.serving), f" ({minimum})."],
                            color="success", className="py-2 mb-2", id="aq-models-serving")
    elif status.models:
        serving = dbc.Alert(f"No model reaches the ROC-AUC {minimum}: churn scores are left as they were.",
                            color="danger", className="py-2 mb-2", id="aq-models-serving")
    else:
        serving = dbc.Alert(["No churn model has been trained yet \u2014 run ", html.Code("c360 models train"), "."],
                            color="secondary", className="py-2 mb-2", id="aq-models-serving")
    skipped = [html.Li(f"{_model_line(model)}: below the minimum, so it does not serve.")
               for model in status.below_threshold]
    return chart_card(title, html.Div([
        serving,
        html.Ul(skipped, className="small mb-2") if skipped else None,
        html.Div(f"{format_count(status.models)} model{'s' if status.models != 1 else ''} in the registry",
                 className="small text-muted mb-2"),
        _job_line("Training", status.training, "c360 models train", "churn_train"),
        _job_line("Scoring", status.scoring, "c360 models score", "scoring"),
    ]), subtitle="The newest model whose validation ROC-AUC reaches the minimum serves", card_id="aq-models-card")


def _min_auc() -> tuple[float | None, str | None]:
    """C360_CHURN_MIN_AUC as the scoring job reads it (from the environment, like the scheduler), or the
    reason it cannot be read."""
    try:
        return Settings.from_env().churn_min_auc, None
    except SettingsError as exc:
        return None, str(exc)


@guarded_callback(MANAGE_JOBS, Output(ID.MODELS, "children"), Input(ID.REFRESH, "n_clicks"))
def update_models(_clicks: Any) -> dbc.Card:
    """The churn model registry and the scoring job."""
    min_auc, problem = _min_auc()
    if min_auc is None:
        return chart_card(PANEL_TITLES[ID.MODELS], dbc.Alert(problem, color="danger"))
    with db.session() as session:
        return models_view(model_status(session, min_auc))


# --- Gold status -------------------------------------------------------------------------------


@guarded_callback(MANAGE_JOBS, Output(ID.GOLD_STATUS, "children"), Input(ID.REFRESH, "n_clicks"))
def update_gold_status(_clicks: Any) -> html.Div:
    """Whether gold is held back or failing, with the failing checks."""
    with db.session() as session:
        return gold_status_banner(gold_status(session), banner_id="aq-gold-banner")
