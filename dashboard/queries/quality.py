"""Data-quality page: each check's latest result and trend, profile completeness, quarantined
rows by dataset and reason, identity-resolution figures, and the churn model registry.

One function per panel; each takes an open session and returns a small dataclass, and each
answers an empty database with empty results rather than an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dashboard.queries.freshness import short_error
from dashboard.tables.app import JobRun
from dashboard.tables.identity import IdentitySummary
from dashboard.tables.intelligence import ChurnModel
from dashboard.tables.quality import DqResult

STAGES = ("bronze", "silver", "gold")
STATUSES = ("fail", "pass")
SEVERITIES = ("critical", "warning")
TREND_RUNS = 10  # results per check shown as its trend
# Job ids of etl.intelligence.training and etl.intelligence.scoring (not imported: they load the models).
TRAINING_JOB_ID = "churn_train"
SCORING_JOB_ID = "scoring"
# A quoted literal in a quarantine reason, as PostgreSQL's format('%L') writes it ('x', 'it''s', E'a\\b').
QUOTED_LITERAL = r"E?'(?:[^']|'')*'"
ELIDED_LITERAL = "'\u2026'"
REASON_GROUPS_LIMIT = 100
# Confidence bands of matched records, lowest bound first (percent).
CONFIDENCE_BANDS: tuple[tuple[float, str], ...] = (
    (0, "below 80%"), (80, "80\u201389%"), (90, "90\u201394%"), (95, "95\u201398%"), (99, "99\u2013100%"))


# --- 1. Checks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckFilters:
    """Which checks to list; an empty tuple means any value."""

    stages: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()

    @classmethod
    def from_raw(cls, stages: Any = None, statuses: Any = None, severities: Any = None) -> CheckFilters:
        """Filters from callback inputs: a value, a list or None; unknown values are dropped."""
        return cls(_known(stages, STAGES), _known(statuses, STATUSES), _known(severities, SEVERITIES))


def _known(raw: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    values = raw if isinstance(raw, (list, tuple)) else [raw]
    chosen = {v for v in values[:len(allowed) * 4] if isinstance(v, str)}
    return tuple(v for v in allowed if v in chosen)


@dataclass(frozen=True)
class CheckPoint:
    """One past result of a check."""

    checked_at: datetime
    status: str
    severity: str
    observed: float | None


@dataclass(frozen=True)
class CheckRow:
    """A check's latest result, with its recent results (oldest first, the latest last)."""

    check_id: str
    stage: str
    kind: str
    table_name: str
    column_name: str | None
    severity: str
    status: str
    observed: float | None
    threshold: float | None
    checked_at: datetime
    detail: dict[str, Any]
    run_id: int | None
    history: tuple[CheckPoint, ...]

    @property
    def outcome(self) -> str:
        """critical or warning when failed, else pass."""
        return self.severity if self.status == "fail" else "pass"


@dataclass(frozen=True)
class CheckOverview:
    """The checks the filters select, failures first, and counts over every check."""

    checks: list[CheckRow]  # at most the limit asked for
    matching: int  # checks the filters select
    total: int  # checks with at least one result
    critical_failures: int
    warnings: int
    last_checked_at: datetime | None

    @property
    def empty(self) -> bool:
        return self.total == 0


_OUTCOME_ORDER = {"critical": 0, "warning": 1, "pass": 2}


def check_overview(session: Session, filters: CheckFilters = CheckFilters(), *, limit: int = 0,
                   runs: int = TREND_RUNS) -> CheckOverview:
    """Every check's latest result and its last `runs` results; failures first, at most `limit`
    checks (0: all)."""
    runs = max(1, min(int(runs), 50))
    ranked = select(
        DqResult.id, DqResult.run_id, DqResult.check_id, DqResult.stage, DqResult.kind, DqResult.table_name,
        DqResult.column_name, DqResult.severity, DqResult.status, DqResult.observed, DqResult.threshold,
        DqResult.detail, DqResult.checked_at,
        func.row_number().over(partition_by=DqResult.check_id,
                               order_by=(DqResult.checked_at.desc(), DqResult.id.desc())).label("recency"),
    ).subquery()
    rows = session.execute(select(ranked).where(ranked.c.recency <= runs)
                           .order_by(ranked.c.check_id, ranked.c.recency.desc())).all()
    history: dict[str, list[CheckPoint]] = {}
    latest: dict[str, Any] = {}
    for row in rows:
        history.setdefault(row.check_id, []).append(CheckPoint(row.checked_at, row.status, row.severity, row.observed))
        if row.recency == 1:
            latest[row.check_id] = row
    checks = [CheckRow(r.check_id, r.stage, r.kind, r.table_name, r.column_name, r.severity, r.status, r.observed,
                       r.threshold, r.checked_at, r.detail if isinstance(r.detail, dict) else {}, r.run_id,
                       tuple(history[r.check_id])) for r in latest.values()]
    critical = sum(c.outcome == "critical" for c in checks)
    warnings = sum(c.outcome == "warning" for c in checks)
    last = max((c.checked_at for c in checks), default=None)
    chosen = [c for c in checks
              if (not filters.stages or c.stage in filters.stages)
              and (not filters.statuses or c.status in filters.statuses)
              and (not filters.severities or c.severity in filters.severities)]
    stage_order = {stage: i for i, stage in enumerate(STAGES)}
    chosen.sort(key=lambda c: (_OUTCOME_ORDER.get(c.outcome, 3), stage_order.get(c.stage, 9), c.check_id))
    listed = chosen[:limit] if limit > 0 else chosen
    return CheckOverview(listed, len(chosen), len(checks), critical, warnings, last)


# --- 2. Profile completeness ------------------------------------------------------------------


@dataclass(frozen=True)
class Completeness:
    """Profile completeness per entity type, and the share of entities missing each field."""

    by_entity: pd.DataFrame  # entity_type, entities, avg_completeness_pct, complete, below_half
    by_field: pd.DataFrame  # entity_type, field, missing, missing_share (0-1); largest share first

    @property
    def empty(self) -> bool:
        return self.by_entity.empty


_FIELDS_SQL = text("""
WITH totals AS (
    SELECT entity_type, count(*) AS entities FROM app.profile_completeness GROUP BY entity_type
), missing AS (
    SELECT p.entity_type, f.field, count(*) AS missing
    FROM app.profile_completeness p CROSS JOIN LATERAL unnest(p.missing_fields) AS f(field)
    GROUP BY p.entity_type, f.field
), declared AS (  -- the fields the latest completeness check measured, so complete ones show too
    SELECT DISTINCT ON (check_id) substr(check_id, length('profile_completeness.') + 1) AS entity_type,
           detail -> 'fields' AS fields
    FROM app.dq_result WHERE kind = 'completeness' AND check_id LIKE 'profile\\_completeness.%'
    ORDER BY check_id, checked_at DESC, id DESC
), fields AS (
    SELECT entity_type, field FROM missing
    UNION
    SELECT entity_type, jsonb_array_elements_text(fields) FROM declared WHERE jsonb_typeof(fields) = 'array'
)
SELECT t.entity_type, f.field, COALESCE(m.missing, 0) AS missing,
       COALESCE(m.missing, 0)::float8 / t.entities AS missing_share
FROM totals t
JOIN fields f USING (entity_type)
LEFT JOIN missing m USING (entity_type, field)
ORDER BY t.entity_type, missing_share DESC, f.field
""")


_LATEST_COMPLETENESS = text("""
SELECT DISTINCT ON (check_id) substr(check_id, length('profile_completeness.') + 1) AS entity_type, detail
FROM app.dq_result WHERE kind = 'completeness' AND check_id LIKE 'profile\\_completeness.%'
ORDER BY check_id, checked_at DESC, id DESC
""")


def _counted_by_the_checks(session: Session) -> Completeness | None:
    """The figures the latest completeness checks counted (in the transaction that rebuilt the
    profiles), or None when one did not count them: a result stored before the checks did."""
    latest = session.execute(_LATEST_COMPLETENESS).all()
    details = [(r.entity_type, r.detail) for r in latest]
    if not details or not all(isinstance(d, dict) and isinstance(d.get("missing"), dict) for _, d in details):
        return None
    entities = [(entity, int(d["entities"]), float(d["pct_sum"]) / int(d["entities"]) if d["entities"] else None,
                 int(d["complete"]), int(d["below_50_pct"])) for entity, d in details if d.get("entities")]
    by_entity = pd.DataFrame(sorted(entities), columns=["entity_type", "entities", "avg_completeness_pct",
                                                        "complete", "below_half"])
    fields = []
    for entity, d in details:
        if not d.get("entities"):
            continue
        names = {*d["missing"], *(d.get("fields") or [])}
        fields += [(entity, name, int(d["missing"].get(name, 0)), int(d["missing"].get(name, 0)) / int(d["entities"]))
                   for name in names]
    by_field = pd.DataFrame(sorted(fields, key=lambda f: (f[0], -f[3], f[1])),
                            columns=["entity_type", "field", "missing", "missing_share"])
    return Completeness(by_entity, by_field)


def completeness(session: Session) -> Completeness:
    """Average completeness per entity type (contact, account) and the share missing per field,
    as the latest completeness checks counted them; counted from the profiles when they did not."""
    counted = _counted_by_the_checks(session)
    if counted is not None:
        return counted
    by_entity = pd.DataFrame(session.execute(text("""
        SELECT entity_type, count(*) AS entities, avg(completeness_pct)::float8 AS avg_completeness_pct,
               count(*) FILTER (WHERE completeness_pct >= 100) AS complete,
               count(*) FILTER (WHERE completeness_pct < 50) AS below_half
        FROM app.profile_completeness GROUP BY entity_type ORDER BY entity_type""")).all(),
        columns=["entity_type", "entities", "avg_completeness_pct", "complete", "below_half"])
    by_field = pd.DataFrame(session.execute(_FIELDS_SQL).all(),
                            columns=["entity_type", "field", "missing", "missing_share"])
    return Completeness(by_entity, by_field)


# --- 3. Quarantine ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarantineOverview:
    """Quarantined rows per dataset, and per dataset, stage and reason (quoted values elided)."""

    total: int
    # dataset, rows, bronze_rows, silver_rows, waiting_rows (for a parent or a rate: they come back by
    # themselves), newest_at; most rows first
    by_dataset: pd.DataFrame
    by_reason: pd.DataFrame  # dataset, stage, reason, rows, example, newest_at; most rows first
    reason_groups: int  # groups in all, of which by_reason holds at most REASON_GROUPS_LIMIT

    @property
    def empty(self) -> bool:
        return self.total == 0


def quarantine_overview(session: Session, limit: int = REASON_GROUPS_LIMIT) -> QuarantineOverview:
    """Quarantined rows counted by dataset, and by reason with its quoted values replaced by '…'."""
    by_dataset = pd.DataFrame(session.execute(text("""
        SELECT dataset, count(*) AS rows, count(*) FILTER (WHERE stage = 'bronze') AS bronze_rows,
               count(*) FILTER (WHERE stage = 'silver') AS silver_rows,
               count(*) FILTER (WHERE waiting_on IS NOT NULL) AS waiting_rows, max(quarantined_at) AS newest_at
        FROM bronze.quarantine GROUP BY dataset ORDER BY rows DESC, dataset""")).all(),
        columns=["dataset", "rows", "bronze_rows", "silver_rows", "waiting_rows", "newest_at"])
    grouped = session.execute(text("""
        WITH pattern AS (
            SELECT dataset, stage, regexp_replace(reason, :literal, :elided, 'g') AS reason, reason AS original,
                   quarantined_at
            FROM bronze.quarantine
        )
        SELECT dataset, stage, reason, count(*) AS rows, min(original) AS example, max(quarantined_at) AS newest_at,
               count(*) OVER () AS groups
        FROM pattern GROUP BY dataset, stage, reason
        ORDER BY rows DESC, dataset, stage, reason
        LIMIT :limit"""), {"literal": QUOTED_LITERAL, "elided": ELIDED_LITERAL,
                           "limit": max(1, min(int(limit), 1000))}).all()
    by_reason = pd.DataFrame([row[:6] for row in grouped],
                             columns=["dataset", "stage", "reason", "rows", "example", "newest_at"])
    total = int(by_dataset["rows"].sum()) if not by_dataset.empty else 0
    return QuarantineOverview(total, by_dataset, by_reason, int(grouped[0].groups) if grouped else 0)


# --- 4. Identity resolution -------------------------------------------------------------------


@dataclass(frozen=True)
class MatchFigures:
    """Records, the masters they resolve to, and how many share their master with another record."""

    records: int
    masters: int
    matched_records: int

    @property
    def matched_share(self) -> float | None:
        return self.matched_records / self.records if self.records else None

    @property
    def merged_away(self) -> int:
        """Records folded into another record's master."""
        return self.records - self.masters


@dataclass(frozen=True)
class IdentityOverview:
    """Contacts resolved to people, accounts to master accounts, and how sure the links are."""

    people: MatchFigures
    accounts: MatchFigures
    confidence: pd.DataFrame  # entity (people/accounts), band, records: matched records per confidence band
    methods: pd.DataFrame  # entity, method, records; most records first

    @property
    def empty(self) -> bool:
        return self.people.records == 0 and self.accounts.records == 0


def _band(percent: int) -> str:
    """The confidence band of a whole percent (-1, unknown, falls below the lowest bound)."""
    return next(label for bound, label in reversed(CONFIDENCE_BANDS) if percent >= bound or bound == 0)


def identity_overview(session: Session) -> IdentityOverview:
    """Matched shares of contacts and accounts, confidence bands of matched records, and link methods,
    from what the identity build counted (silver.identity_summary)."""
    rows = session.execute(select(IdentitySummary.entity, IdentitySummary.kind, IdentitySummary.label,
                                  IdentitySummary.records)).all()
    figures = {(r.entity, r.label): int(r.records) for r in rows if r.kind == "figure"}

    def matched(entity: str) -> MatchFigures:
        return MatchFigures(*(figures.get((entity, label), 0) for label in ("records", "masters", "matched")))

    found: dict[tuple[str, str], int] = {}
    for r in rows:
        if r.kind == "confidence":
            key = (r.entity, _band(int(r.label)))
            found[key] = found.get(key, 0) + int(r.records)
    confidence = pd.DataFrame([(entity, label, found.get((entity, label), 0))
                               for entity in ("people", "accounts") for _, label in CONFIDENCE_BANDS],
                              columns=["entity", "band", "records"])
    method_rows = sorted(((r.entity, r.label, int(r.records)) for r in rows if r.kind == "method"),
                         key=lambda m: (m[0] != "people", -m[2], m[1]))
    methods = pd.DataFrame(method_rows, columns=["entity", "method", "records"])
    return IdentityOverview(matched("people"), matched("accounts"), confidence, methods)


# --- 5. Churn model registry and scoring ------------------------------------------------------


@dataclass(frozen=True)
class ModelVersion:
    version: int
    trained_at: datetime
    trained_by: str
    roc_auc: float | None
    data_last_day: date | None


@dataclass(frozen=True)
class JobOutcome:
    """A job's newest run that ended, and its newest success."""

    status: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None  # first line only
    last_success_at: datetime | None


@dataclass(frozen=True)
class ModelStatus:
    """Which churn model serves (the newest reaching `min_auc`), the newest trained, and the jobs."""

    min_auc: float
    models: int
    serving: ModelVersion | None
    newest: ModelVersion | None
    training: JobOutcome | None
    scoring: JobOutcome | None
    below_threshold: list[ModelVersion] = field(default_factory=list)  # newer than the serving one

    @property
    def empty(self) -> bool:
        return self.models == 0 and self.training is None and self.scoring is None


def _model_versions(session: Session, *conditions: Any, limit: int = 1) -> list[ModelVersion]:
    rows = session.execute(select(ChurnModel.version, ChurnModel.trained_at, ChurnModel.trained_by,
                                  ChurnModel.roc_auc, ChurnModel.data_last_day)
                           .where(*conditions).order_by(ChurnModel.version.desc()).limit(limit))
    return [ModelVersion(*row) for row in rows]


def job_outcome(session: Session, job_id: str) -> JobOutcome | None:
    """The newest run of `job_id` that ended (not running or skipped), with its newest success."""
    newest = session.execute(
        select(JobRun.status, JobRun.started_at, JobRun.finished_at, JobRun.error)
        .where(JobRun.job_id == job_id, JobRun.status.not_in(("running", "skipped")))
        .order_by(JobRun.id.desc()).limit(1)).first()
    if newest is None:
        return None
    succeeded = session.scalar(select(func.max(JobRun.finished_at))
                               .where(JobRun.job_id == job_id, JobRun.status == "success"))
    return JobOutcome(newest.status, newest.started_at, newest.finished_at,
                      short_error(newest.error) or None, succeeded)


def model_status(session: Session, min_auc: float) -> ModelStatus:
    """The churn registry as the scoring job sees it: the newest model whose validation ROC-AUC
    reaches `min_auc` serves (etl.intelligence.registry.serving_model)."""
    models = int(session.scalar(select(func.count()).select_from(ChurnModel)) or 0)
    serving = next(iter(_model_versions(session, ChurnModel.roc_auc >= min_auc)), None)
    newest = next(iter(_model_versions(session)), None)
    skipped = _model_versions(session, ChurnModel.version > (serving.version if serving else 0), limit=5) \
        if newest is not None and newest != serving else []
    return ModelStatus(min_auc, models, serving, newest, job_outcome(session, TRAINING_JOB_ID),
                       job_outcome(session, SCORING_JOB_ID), skipped)
