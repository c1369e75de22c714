"""Data-quality page queries on the loaded demo database, each figure recomputed independently
(plain SQL read into pandas, grouped in Python), plus the views on an empty database."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from dashboard.db import Database
from dashboard.masking import MaskPolicy
from dashboard.queries import quality as q
from dashboard.tables.app import JobRun
from dashboard.tables.bronze import QuarantinedRow
from dashboard.tables.intelligence import ChurnModel

FULL = MaskPolicy(view_pii=True, view_financials=True)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _frame(session: Session, sql: str) -> pd.DataFrame:
    result = session.execute(text(sql))
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _text(component) -> str:
    return json.dumps(component.to_plotly_json(), default=lambda o: o.to_plotly_json()
                      if hasattr(o, "to_plotly_json") else str(o), ensure_ascii=False)


@pytest.fixture(scope="module")
def session(loaded_database: Database):
    with loaded_database.session() as session:
        yield session


# --- Quarantine ------------------------------------------------------------------------------


def test_quarantine_counts_match_the_rows(session: Session) -> None:
    rows = _frame(session, "SELECT dataset, stage, reason, waiting_on, quarantined_at FROM bronze.quarantine")
    assert len(rows) > 0, "the demo data has defects, so some rows are quarantined"
    overview = q.quarantine_overview(session)

    assert overview.total == len(rows)
    expected = rows.groupby("dataset").agg(rows=("reason", "size"),
                                           bronze_rows=("stage", lambda s: int((s == "bronze").sum())),
                                           silver_rows=("stage", lambda s: int((s == "silver").sum())),
                                           waiting_rows=("waiting_on", "count"))
    got = overview.by_dataset.set_index("dataset")[["rows", "bronze_rows", "silver_rows", "waiting_rows"]]
    pd.testing.assert_frame_equal(got.sort_index().astype("int64"), expected.sort_index().astype("int64"),
                                  check_names=False)
    assert list(overview.by_dataset["rows"]) == sorted(overview.by_dataset["rows"], reverse=True)


def _pattern(reason: str) -> str:
    return re.sub(r"E?'(?:[^']|'')*'", "'\u2026'", reason)


def test_reasons_are_grouped_with_quoted_values_elided(session: Session) -> None:
    rows = _frame(session, "SELECT dataset, stage, reason FROM bronze.quarantine")
    rows["pattern"] = rows["reason"].map(_pattern)
    expected = rows.groupby(["dataset", "stage", "pattern"]).size().sort_index()
    overview = q.quarantine_overview(session)

    got = overview.by_reason.set_index(["dataset", "stage", "reason"])["rows"].sort_index()
    assert overview.reason_groups == len(expected) <= q.REASON_GROUPS_LIMIT
    assert list(got.items()) == list(expected.items())
    assert any("'\u2026'" in reason for reason in overview.by_reason["reason"])
    assert not any(re.search(r"'[^'\u2026]+'", reason) for reason in overview.by_reason["reason"])


def test_reasons_differing_only_in_quoted_values_are_one_group(rolled_back: Session) -> None:
    rolled_back.execute(text("DELETE FROM bronze.quarantine"))
    reasons = ["invalid date '31/02/2025' in column created_at", "invalid date '2025-13-01' in column created_at",
               "unknown currency 'it''s' in column currency", "unknown currency E'a\\\\b' in column currency",
               "wrong field count: expected 11, got 12"]
    rolled_back.execute(insert(QuarantinedRow), [
        {"dataset": "crm_contacts", "stage": "silver", "raw": "{}", "reason": reason} for reason in reasons])

    overview = q.quarantine_overview(rolled_back)

    groups = dict(zip(overview.by_reason["reason"], overview.by_reason["rows"], strict=True))
    assert groups == {"invalid date '\u2026' in column created_at": 2,
                      "unknown currency '\u2026' in column currency": 2,
                      "wrong field count: expected 11, got 12": 1}
    assert overview.total == 5 and overview.reason_groups == 3
    example = overview.by_reason.set_index("reason").loc["invalid date '\u2026' in column created_at", "example"]
    assert example in reasons[:2]


def test_quarantine_view_links_each_dataset_to_its_rows(session: Session) -> None:
    from callbacks.admin_quality import quarantine_view

    overview = q.quarantine_overview(session)
    shown = _text(quarantine_view(overview, FULL))
    for dataset in overview.by_dataset["dataset"]:
        assert f"/admin/jobs?dataset={dataset}" in shown
    assert f"{overview.total:,} rows quarantined" in shown


# --- Checks ----------------------------------------------------------------------------------


def _latest_results(session: Session) -> pd.DataFrame:
    results = _frame(session, "SELECT id, check_id, stage, severity, status, observed, checked_at FROM app.dq_result")
    return results.sort_values(["checked_at", "id"]).groupby("check_id").tail(1).set_index("check_id").sort_index()


def test_each_check_shows_its_latest_result(session: Session) -> None:
    latest = _latest_results(session)
    assert len(latest) > 100
    overview = q.check_overview(session)

    assert overview.total == overview.matching == len(overview.checks) == len(latest)
    got = pd.DataFrame([(c.check_id, c.stage, c.severity, c.status, c.checked_at) for c in overview.checks],
                       columns=["check_id", "stage", "severity", "status", "checked_at"]).set_index("check_id")
    pd.testing.assert_frame_equal(got.sort_index(), latest[["stage", "severity", "status", "checked_at"]])
    failing = latest[latest["status"] == "fail"]
    assert overview.critical_failures == int((failing["severity"] == "critical").sum())
    assert overview.warnings == int((failing["severity"] == "warning").sum()) > 0
    assert overview.last_checked_at == latest["checked_at"].max()


def test_failures_come_first_and_the_trend_ends_with_the_latest_result(session: Session) -> None:
    runs = _frame(session, "SELECT check_id, count(*) AS results FROM app.dq_result GROUP BY check_id")
    results = dict(zip(runs["check_id"], runs["results"], strict=True))
    checks = q.check_overview(session).checks

    order = [{"critical": 0, "warning": 1, "pass": 2}[c.outcome] for c in checks]
    assert order == sorted(order) and order[0] < 2
    for check in checks:
        assert len(check.history) == min(results[check.check_id], q.TREND_RUNS)
        assert [p.checked_at for p in check.history] == sorted(p.checked_at for p in check.history)
        assert (check.history[-1].status, check.history[-1].checked_at) == (check.status, check.checked_at)


def test_check_filters_and_limit(session: Session) -> None:
    latest = _latest_results(session)
    filters = q.CheckFilters.from_raw(["silver", "nonsense"], "fail", None)
    assert filters == q.CheckFilters(("silver",), ("fail",), ())
    overview = q.check_overview(session, filters)
    expected = latest[(latest["stage"] == "silver") & (latest["status"] == "fail")]
    assert sorted(c.check_id for c in overview.checks) == list(expected.index)
    assert overview.total == len(latest)  # the counts are over every check

    limited = q.check_overview(session, limit=50)
    assert len(limited.checks) == min(50, len(latest)) and limited.matching == len(latest)
    assert [c.check_id for c in limited.checks] == [c.check_id for c in q.check_overview(session).checks][:50]


def test_checks_grid_rows_carry_the_trend_and_mask_personal_data(session: Session) -> None:
    from callbacks.admin_quality import checks_view

    overview = q.check_overview(session)
    grid = next(node for node in _walk(checks_view(overview, MaskPolicy(view_pii=False, view_financials=True)))
                if getattr(node, "id", None) == "aq-checks-table")
    rows = {row["check_id"]: row for row in grid.rowData}
    assert len(grid.rowData) == overview.matching
    assert [row["check_id"] for row in grid.rowData] == [c.check_id for c in overview.checks]
    for check in overview.checks:
        row = rows[check.check_id]
        assert len(row["trend"]) == len(check.history) and set(row["trend"]) <= {"c", "w", "p"}
        assert row["trend"][-1] == {"critical": "c", "warning": "w", "pass": "p"}[check.outcome]
        assert row["outcome"] == check.outcome
    emails = rows["silver.contacts.email.unique"]["detail"]
    assert "***" in emails and not EMAIL.search(emails)
    unmasked = next(node for node in _walk(checks_view(overview, FULL)) if getattr(node, "id", None) == "aq-checks-table")
    assert EMAIL.search(next(r for r in unmasked.rowData if r["check_id"] == "silver.contacts.email.unique")["detail"])


def _walk(component):
    stack = [component]
    while stack:
        node = stack.pop()
        yield node
        children = getattr(node, "children", None)
        stack.extend(children if isinstance(children, list) else [children] if children is not None else [])


# --- Completeness ----------------------------------------------------------------------------


def test_completeness_per_entity_type_and_field(rolled_back: Session) -> None:
    rolled_back.execute(text("DELETE FROM app.profile_completeness"))
    rolled_back.execute(text("DELETE FROM app.dq_result WHERE kind = 'completeness'"))
    rolled_back.execute(text("""
        INSERT INTO app.profile_completeness (entity_type, entity_id, completeness_pct, missing_fields) VALUES
        ('contact', 'C1', 100, '{}'), ('contact', 'C2', 50, '{email,phone}'), ('contact', 'C3', 75, '{phone}'),
        ('account', 'A1', 40, '{industry,region,country}')"""))
    rolled_back.execute(text("""
        INSERT INTO app.dq_result (stage, check_id, kind, table_name, severity, status, observed, threshold, detail)
        VALUES ('gold', 'profile_completeness.contact', 'completeness', 'silver.contacts', 'warning', 'pass',
                75, 70, '{"fields": ["email", "phone", "job_title"]}')"""))

    result = q.completeness(rolled_back)

    by_entity = result.by_entity.set_index("entity_type")
    assert by_entity.loc["contact", "entities"] == 3 and by_entity.loc["contact", "avg_completeness_pct"] == 75
    assert (by_entity.loc["contact", "complete"], by_entity.loc["account", "below_half"]) == (1, 1)
    contact = result.by_field[result.by_field["entity_type"] == "contact"]
    assert list(zip(contact["field"], contact["missing"], strict=True)) == [
        ("phone", 2), ("email", 1), ("job_title", 0)]  # job_title: measured, never missing
    assert contact["missing_share"].tolist() == pytest.approx([2 / 3, 1 / 3, 0])
    assert set(result.by_field[result.by_field["entity_type"] == "account"]["field"]) == {
        "industry", "region", "country"}


def test_completeness_matches_the_stored_profiles(session: Session) -> None:
    profiles = _frame(session, "SELECT entity_type, completeness_pct, missing_fields FROM app.profile_completeness")
    result = q.completeness(session)
    if profiles.empty:  # the data_quality job has not run in this session yet
        assert result.empty
        return
    averages = profiles.groupby("entity_type")["completeness_pct"].mean()
    assert result.by_entity.set_index("entity_type")["avg_completeness_pct"].to_dict() == pytest.approx(
        averages.to_dict())
    exploded = profiles.explode("missing_fields").dropna(subset=["missing_fields"])
    missing = exploded.groupby(["entity_type", "missing_fields"]).size()
    got = result.by_field[result.by_field["missing"] > 0].set_index(["entity_type", "field"])["missing"]
    assert got.sort_index().to_dict() == missing.sort_index().to_dict()


def test_completeness_as_the_checks_counted_it_matches_the_profiles(rolled_back: Session) -> None:
    """The checks count each field once per run; the page reads those counts, not every profile."""
    from etl.quality import QualityReport, checks_for, evaluate, store_results

    conn = rolled_back.connection()
    checks = [c for c in checks_for("gold") if c.kind == "completeness"]
    store_results(conn, QualityReport("gold", None, evaluate(conn, checks)))
    profiles = _frame(rolled_back, "SELECT entity_type, completeness_pct, missing_fields FROM app.profile_completeness")
    assert set(profiles["entity_type"]) == {"contact", "account"}

    result = q.completeness(rolled_back)
    by_entity = result.by_entity.set_index("entity_type")
    grouped = profiles.groupby("entity_type")["completeness_pct"]
    assert by_entity["entities"].to_dict() == grouped.size().to_dict()
    assert by_entity["avg_completeness_pct"].to_dict() == pytest.approx(grouped.mean().astype(float).to_dict())
    assert by_entity["complete"].to_dict() == grouped.apply(lambda p: int((p >= 100).sum())).to_dict()
    assert by_entity["below_half"].to_dict() == grouped.apply(lambda p: int((p < 50).sum())).to_dict()
    exploded = profiles.explode("missing_fields").dropna(subset=["missing_fields"])
    missing = exploded.groupby(["entity_type", "missing_fields"]).size()
    got = result.by_field[result.by_field["missing"] > 0].set_index(["entity_type", "field"])["missing"]
    assert got.sort_index().to_dict() == missing.sort_index().to_dict() and len(got) > 0
    shares = result.by_field["missing_share"].tolist()
    per_entity = result.by_field.groupby("entity_type", sort=False)["missing_share"]
    assert all(list(s) == sorted(s, reverse=True) for _, s in per_entity) and all(0 <= x <= 1 for x in shares)


# --- Identity --------------------------------------------------------------------------------


def test_identity_figures(session: Session) -> None:
    contacts = _frame(session, "SELECT master_contact_id AS master, match_probability, method FROM silver.contact_master")
    accounts = _frame(session, "SELECT master_account_id AS master, confidence, method FROM silver.account_master")
    overview = q.identity_overview(session)

    for figures, frame in ((overview.people, contacts), (overview.accounts, accounts)):
        sizes = frame.groupby("master")["master"].transform("size")
        assert (figures.records, figures.masters, figures.matched_records) == (
            len(frame), frame["master"].nunique(), int((sizes > 1).sum()))
    assert overview.people.matched_records > 0 and overview.accounts.matched_records > 0
    assert 0 < overview.people.matched_share < 1

    confidence = overview.confidence.set_index(["entity", "band"])["records"]
    assert confidence.groupby(level=0).sum().to_dict() == {
        "people": int((contacts["method"] != "single").sum()), "accounts": int((accounts["method"] != "single").sum())}
    linked = accounts[accounts["method"] != "single"]
    assert confidence[("accounts", "95\u201398%")] == int(linked["confidence"].between(95, 98.999).sum())
    methods = overview.methods.set_index(["entity", "method"])["records"]
    assert methods[("accounts", "single")] == int((accounts["method"] == "single").sum())
    assert methods.to_dict() == {
        **{("people", m): n for m, n in contacts["method"].value_counts().items()},
        **{("accounts", m): n for m, n in accounts["method"].value_counts().items()}}

    # Every band of both entities, banded here from the stored links.
    bounds = [bound for bound, _ in q.CONFIDENCE_BANDS]
    for entity, frame, percent in (("people", contacts, contacts["match_probability"].clip(upper=1.0) * 100),
                                   ("accounts", accounts, accounts["confidence"].astype(float))):
        linked_percent = percent[frame["method"] != "single"].fillna(-1)
        for (bound, label), upper in zip(q.CONFIDENCE_BANDS, [*bounds[1:], float("inf")], strict=True):
            lower = float("-inf") if bound == 0 else bound
            expected = int(((linked_percent >= lower) & (linked_percent < upper)).sum())
            assert confidence[(entity, label)] == expected, (entity, label)


# --- Models ----------------------------------------------------------------------------------


def _model(version: int, auc: float | None, trained_at: datetime) -> dict:
    return {"version": version, "trained_at": trained_at, "trained_by": "test", "data_first_day": date(2026, 1, 1),
            "data_last_day": date(2026, 11, 1), "train_cutoffs": [date(2026, 6, 1)], "validation_cutoff": None,
            "features": ["x"], "roc_auc": auc, "metrics": {}, "artefact": b"not a model"}


def test_the_newest_model_reaching_the_minimum_serves(rolled_back: Session) -> None:
    rolled_back.execute(text("DELETE FROM app.churn_model"))
    rolled_back.execute(text("UPDATE app.job_run SET job_id = job_id || '-hidden' WHERE job_id IN ('scoring', 'churn_train')"))
    assert q.model_status(rolled_back, 0.7).empty
    now = datetime.now(UTC)
    rolled_back.execute(insert(ChurnModel), [_model(901, 0.81, now - timedelta(days=3)),
                                             _model(902, 0.74, now - timedelta(days=2)),
                                             _model(903, 0.62, now - timedelta(days=1)),
                                             _model(904, None, now)])
    rolled_back.execute(insert(JobRun), [
        {"job_id": "scoring", "status": "success", "started_at": now - timedelta(hours=2),
         "finished_at": now - timedelta(hours=2), "rows": {}},
        {"job_id": "scoring", "status": "failed", "started_at": now - timedelta(hours=1),
         "finished_at": now - timedelta(hours=1), "rows": {}, "error": "etl.x.Boom: features missing\nmore"},
        {"job_id": "scoring", "status": "running", "started_at": now, "rows": {}}])

    status = q.model_status(rolled_back, 0.7)

    assert (status.models, status.serving.version, status.newest.version) == (4, 902, 904)
    assert [m.version for m in status.below_threshold] == [904, 903]
    assert status.training is None
    assert (status.scoring.status, status.scoring.error) == ("failed", "features missing")
    assert status.scoring.last_success_at == now - timedelta(hours=2)
    assert q.model_status(rolled_back, 0.8).serving.version == 901
    assert q.model_status(rolled_back, 0.9).serving is None

    from callbacks.admin_quality import models_view

    shown = _text(models_view(status))
    assert "Serving " in shown and "v902" in shown and "below the minimum" in shown and "features missing" in shown


def test_job_ids_are_the_jobs_own() -> None:
    from etl.intelligence.scoring import JOB_ID as SCORING
    from etl.intelligence.training import JOB_ID as TRAINING

    assert (q.SCORING_JOB_ID, q.TRAINING_JOB_ID) == (SCORING, TRAINING)


# --- An empty database -----------------------------------------------------------------------


def test_every_panel_has_an_empty_state_on_an_empty_database(scratch_db: Database) -> None:
    from callbacks import admin_quality as views
    from dashboard.queries.freshness import gold_status
    from layouts.components import freshness_badge, gold_status_banner

    with scratch_db.session() as session:
        checks = q.check_overview(session, q.CheckFilters.from_raw("gold", "fail", "critical"), limit=50)
        shown = {
            "checks": _text(views.checks_view(checks, FULL)),
            "completeness": _text(views.completeness_view(q.completeness(session))),
            "quarantine": _text(views.quarantine_view(q.quarantine_overview(session), FULL)),
            "identity": _text(views.identity_view(q.identity_overview(session))),
            "models": _text(views.models_view(q.model_status(session, 0.7))),
        }
        status = gold_status(session)
    assert checks.empty and checks.last_checked_at is None
    assert "No checks have run yet" in shown["checks"] and "c360 etl run" in shown["checks"]
    assert "not been measured yet" in shown["completeness"]
    assert "No row has been quarantined" in shown["quarantine"]
    assert "Identity resolution has not run yet" in shown["identity"]
    assert "No churn model has been trained yet" in shown["models"]
    assert status.state == "never" and status.cause is None
    assert "No data loaded yet" in _text(freshness_badge(status)) and "No data loaded yet" in _text(
        gold_status_banner(status))
