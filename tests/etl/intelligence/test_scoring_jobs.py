"""The scoring job on the demo data: gold tables pages can read, de-duplicated alerts, actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from dashboard import audit
from dashboard.cli import main
from dashboard.db import Database
from dashboard.queries import intelligence as queries
from dashboard.scope import DataScope
from dashboard.tables.app import AuditEvent
from dashboard.tables.gold import AccountScores, Customer360
from dashboard.tables.intelligence import (
    AccountEngagement,
    AccountHealth,
    ActionExecution,
    Alert,
    ChurnPrediction,
    ContactEngagement,
    CustomerLifetimeValue,
    NextBestAction,
)
from etl.intelligence.actions import ActionError, execute_action
from etl.intelligence.alerts import AlertError, set_alert_status
from etl.intelligence.scoring import run_scoring, scoring_is_due
from etl.scheduler import build_scheduler, score_accounts

SCORED_TABLES = (ChurnPrediction, AccountHealth, AccountEngagement, CustomerLifetimeValue, AccountScores)


EVERYTHING = DataScope.everything()


def _unresolved(session) -> dict[tuple[str, str], int]:
    rows = session.execute(select(Alert.account_id, Alert.kind, Alert.alert_id).where(Alert.status != "resolved"))
    return {(r.account_id, r.kind): r.alert_id for r in rows}


def test_jobs_write_gold_tables_that_pages_can_read(loaded_database: Database, scored) -> None:
    print(f"\nscoring job on small demo data: {scored.accounts} customers in {scored.seconds:.1f}s: {scored.rows}")
    assert scored.model_version is not None and scored.accounts > 100
    with loaded_database.session() as session:
        customers = set(session.scalars(select(Customer360.account_id)))
        active_masters = set(session.scalars(text("""
            SELECT DISTINCT COALESCE(am.master_account_id, a.account_id) FROM silver.accounts a
            LEFT JOIN silver.account_master am ON am.account_id = a.account_id WHERE a.status <> 'churned'""")))
        for table in SCORED_TABLES:
            keys = set(session.scalars(select(table.account_id)))
            assert keys, table.__tablename__
            assert keys <= customers, f"{table.__tablename__} has ids missing from gold.customer_360"
            assert keys == active_masters, table.__tablename__
        contacts = set(session.scalars(select(ContactEngagement.account_id)))
        assert contacts and contacts <= customers
        # customer_360 carries the same scores as account_scores, in every column.
        mismatched = session.scalar(text("""
            SELECT count(*) FROM gold.customer_360 c JOIN gold.account_scores s USING (account_id)
            WHERE c.churn_risk_score IS DISTINCT FROM s.churn_risk_score OR c.risk_level IS DISTINCT FROM s.risk_level
               OR c.health_score IS DISTINCT FROM s.health_score
               OR c.engagement_score IS DISTINCT FROM s.engagement_score OR c.clv_usd IS DISTINCT FROM s.clv_usd"""))
        assert mismatched == 0
        filled = session.execute(select(func.count(Customer360.churn_risk_score), func.count(Customer360.health_score),
                                        func.count(Customer360.engagement_score), func.count(Customer360.clv_usd))).one()
        assert set(filled) == {len(active_masters)}
        ranges = session.execute(text("""
            SELECT min(churn_risk_score), max(churn_risk_score), min(health_score), max(health_score),
                   min(engagement_score), max(engagement_score), min(clv_usd) FROM gold.account_scores""")).one()
        assert 0 <= ranges[0] <= ranges[1] <= 100 and 0 <= ranges[2] <= ranges[3] <= 100
        assert 0 <= ranges[4] <= ranges[5] <= 1 and ranges[6] >= 0

        # The query functions pages use return typed results.
        at_risk = queries.top_at_risk(session, EVERYTHING, limit=5)
        assert len(at_risk) == 5 and at_risk[0].churn_risk_score >= at_risk[-1].churn_risk_score
        account = queries.account_intelligence(session, at_risk[0].account_id, EVERYTHING)
        assert account is not None and account.risk_level in {"HIGH", "MEDIUM", "LOW"}
        assert len(account.factors) == 3 and all(f.sentence for f in account.factors)
        assert set(account.health_components) == {"payment", "support", "usage", "engagement"}
        assert account.engagement_tier in {"Potential", "Watch List", "Alert"} and account.clv_usd is not None
        assert account.projected_36m_usd >= account.projected_12m_usd >= 0
        assert queries.account_intelligence(session, "no-such-account", EVERYTHING) is None
        assert queries.serving_churn_model(session, 0.7).version == scored.model_version
        alerts = queries.open_alerts(session, EVERYTHING, limit=10)
        assert alerts and alerts[0].account_name
        assert queries.account_alerts(session, alerts[0].account_id, EVERYTHING)
        actions = queries.open_actions(session, EVERYTHING, limit=10)
        assert actions and queries.account_actions(session, actions[0].customer_id, EVERYTHING)
        contact_account = session.scalar(select(ContactEngagement.account_id).limit(1))
        assert queries.account_contacts_engagement(session, contact_account, EVERYTHING)
        # Outside the caller's scope the same calls return nothing.
        nothing = DataScope.nothing()
        assert queries.top_at_risk(session, nothing, limit=5) == []
        assert queries.account_intelligence(session, at_risk[0].account_id, nothing) is None
        assert queries.open_alerts(session, nothing, limit=10) == []
        assert queries.account_alerts(session, alerts[0].account_id, nothing) == []
        assert queries.open_actions(session, nothing, limit=10) == []
        assert queries.account_actions(session, actions[0].customer_id, nothing) == []
        assert queries.account_contacts_engagement(session, contact_account, nothing) == []


def test_scoring_runs_only_when_data_or_a_model_landed(loaded_database: Database, scored, settings) -> None:
    # Tests sharing the session's database may have refreshed it since `scored`: settle first.
    if scoring_is_due(loaded_database):
        score_accounts(settings)
    assert not scoring_is_due(loaded_database)
    with loaded_database.begin() as session:
        session.execute(text("""INSERT INTO app.job_run (job_id, triggered_by, started_at, finished_at, status, rows)
                                VALUES ('etl', 'test', now(), now(), 'success', '{}')"""))
    assert scoring_is_due(loaded_database)
    score_accounts(settings)  # the scheduled job: scores because a refresh landed
    assert not scoring_is_due(loaded_database)
    with loaded_database.session() as session:
        last = session.execute(text("""SELECT triggered_by, status FROM app.job_run WHERE job_id = 'scoring'
                                       ORDER BY id DESC LIMIT 1""")).one()
    assert tuple(last) == ("scheduler", "success")


def test_rescoring_keeps_one_alert_per_condition_and_resolves_cleared_ones(loaded_database: Database,
                                                                           scored, monkeypatch) -> None:
    with loaded_database.begin() as session:
        before = _unresolved(session)
        assert before, "the demo data should raise some alerts"
        kinds = {kind for _, kind in before}
        assert {"sla_breach", "payment_overdue", "renewal_due"} <= kinds
        # A stale payment alert on an account that owes nothing: the next run must resolve it.
        paying = session.scalar(text("""SELECT s.account_id FROM gold.account_scores s WHERE NOT EXISTS (
            SELECT 1 FROM gold.alert a WHERE a.account_id = s.account_id AND a.kind = 'payment_overdue') LIMIT 1"""))
        stale = Alert(account_id=paying, kind="payment_overdue", severity="MEDIUM", status="open", title="old",
                      description="old")
        session.add(stale)
        session.flush()
        stale_id = stale.alert_id
    monkeypatch.setenv("DATABASE_URL", loaded_database.url.render_as_string(hide_password=False)
                       if hasattr(loaded_database.url, "render_as_string") else str(loaded_database.url))
    result = CliRunner().invoke(main, ["models", "score"])  # the second run, from the command line
    assert result.exit_code == 0, result.output
    assert "Scored" in result.output
    with loaded_database.session() as session:
        after = _unresolved(session)
        assert after == before  # same alerts, same ids: refreshed, not duplicated
        duplicates = session.scalar(text("""SELECT count(*) FROM (SELECT account_id, kind FROM gold.alert
            WHERE status <> 'resolved' GROUP BY 1, 2 HAVING count(*) > 1) d"""))
        assert duplicates == 0
        resolved = session.get(Alert, stale_id)
        assert resolved.status == "resolved" and resolved.resolved_at is not None


def test_anomaly_drops_raise_engagement_drop_alerts(loaded_database: Database, scored) -> None:
    with loaded_database.begin() as session:
        created = not session.scalar(text("SELECT to_regclass('gold.account_anomaly') IS NOT NULL"))
        if created:  # the anomaly job's table (dashboard.tables.insights), when that job is not installed
            session.execute(text("""CREATE TABLE gold.account_anomaly (anomaly_id text PRIMARY KEY,
                account_id text, metric text, kind text, detected_on date, observed double precision,
                baseline double precision, change_pct double precision, severity text, description text)"""))
        quiet = session.scalar(text("""SELECT s.account_id FROM gold.account_scores s WHERE NOT EXISTS (
            SELECT 1 FROM gold.alert a WHERE a.account_id = s.account_id AND a.kind = 'engagement_drop'
              AND a.status <> 'resolved') LIMIT 1"""))
        as_of = session.scalar(text("SELECT max(rate_date) FROM silver.fx_rates"))
        anomaly_id = f"sessions:{quiet}:{as_of}"
        session.execute(text("""INSERT INTO gold.account_anomaly (anomaly_id, account_id, metric, kind, detected_on,
            observed, baseline, change_pct, severity, description) VALUES (:id, :a, 'sessions', 'drop', :d, 10, 100,
            -90, 'high', 'Sessions fell 90% against their usual level')"""), {"id": anomaly_id, "a": quiet, "d": as_of})
    try:
        run_scoring(loaded_database, triggered_by="test", train_if_missing=False)
        with loaded_database.session() as session:
            alert = session.scalar(select(Alert).where(Alert.account_id == quiet, Alert.kind == "engagement_drop",
                                                       Alert.status != "resolved"))
            assert alert is not None and alert.severity == "HIGH" and "90%" in alert.description
    finally:
        with loaded_database.begin() as session:
            if created:
                session.execute(text("DROP TABLE gold.account_anomaly"))
            else:
                session.execute(text("DELETE FROM gold.account_anomaly WHERE anomaly_id = :id"), {"id": anomaly_id})


def test_executing_an_action_records_it_and_stops_it_being_raised_again(loaded_database: Database,
                                                                        scored) -> None:
    with loaded_database.begin() as session:
        recommendation = session.scalar(select(NextBestAction).where(NextBestAction.status == "open").limit(1))
        assert recommendation is not None
        key = (recommendation.customer_id, recommendation.rule_id)
        with pytest.raises(ActionError, match="outcome_status"):
            execute_action(session, recommendation.recommendation_id, actor="am@example.com", outcome_status="great",
                           audit=None)
        with pytest.raises(ActionError, match="no recommendation"):
            execute_action(session, "missing", actor="am@example.com", outcome_status="pending", audit=None)
        execution = execute_action(session, recommendation.recommendation_id, actor="am@example.com",
                                   outcome_status="pending", action="scheduled", audit=None)
        recommendation_id = recommendation.recommendation_id
        assert execution.id is not None
    run_scoring(loaded_database, triggered_by="test", train_if_missing=False)
    with loaded_database.begin() as session:
        rows = session.scalars(select(NextBestAction).where(NextBestAction.customer_id == key[0],
                                                            NextBestAction.rule_id == key[1])).all()
        assert [r.recommendation_id for r in rows] == [recommendation_id]  # not raised again
        assert rows[0].status == "scheduled" and rows[0].acted_by == "am@example.com" and rows[0].condition_open
        assert rows[0].acted_at > datetime.now(UTC) - timedelta(minutes=5)
        execute_action(session, recommendation_id, actor="am@example.com", outcome_status="successful", audit=None)
    with loaded_database.session() as session:
        steps = session.scalars(select(ActionExecution).where(ActionExecution.recommendation_id == recommendation_id)
                                .order_by(ActionExecution.id)).all()
        assert [(s.action, s.outcome_status, s.actor) for s in steps] == [
            ("scheduled", "pending", "am@example.com"), ("executed", "successful", "am@example.com")]
        assert session.get(NextBestAction, recommendation_id).status == "executed"


def test_scheduler_declares_the_training_and_scoring_jobs(settings) -> None:
    scheduler = build_scheduler(settings, blocking=False)
    assert "hour='3'" in str(scheduler.get_job("churn_train").trigger)
    assert scheduler.get_job("scoring").trigger.interval.total_seconds() == 2 * 60


def test_acting_through_the_web_app_is_audited_by_the_hook_it_passes(app, loaded_database: Database,
                                                                      scored) -> None:
    with loaded_database.begin() as session:
        recommendation = session.scalar(select(NextBestAction).where(NextBestAction.status == "open").limit(1))
        assert recommendation is not None
        with app.test_request_context("/"):
            execute_action(session, recommendation.recommendation_id, actor="support_lead@test.client360.dev",
                           outcome_status="no_response", audit=audit.record)
    with loaded_database.session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "action_execution")
                               .order_by(AuditEvent.id.desc()).limit(1))
    assert event is not None and event.target == recommendation.customer_id
    assert event.detail["recommendation_id"] == recommendation.recommendation_id
    assert event.detail["outcome_status"] == "no_response"


def test_an_acknowledged_alert_stays_one_alert_and_a_resolved_one_is_raised_again_while_its_cause_holds(
        loaded_database: Database, scored) -> None:
    with loaded_database.begin() as session:
        state_alerts = session.scalars(select(Alert).where(Alert.status == "open", Alert.kind == "renewal_due")
                                       .order_by(Alert.alert_id).limit(2)).all()
        acknowledged, resolved = state_alerts[0].alert_id, state_alerts[1].alert_id
        resolved_key = (state_alerts[1].account_id, state_alerts[1].kind)
        audited: list[tuple[str, str, dict]] = []
        set_alert_status(session, acknowledged, "acknowledged", actor="lead@example.com",
                         audit=lambda action, *, target, detail: audited.append((action, target, detail)))
        set_alert_status(session, resolved, "resolved", actor="lead@example.com", audit=None)
        assert audited == [("alert_status", state_alerts[0].account_id, {
            "alert_id": acknowledged, "kind": "renewal_due", "status": "acknowledged", "actor": "lead@example.com"})]
        with pytest.raises(AlertError):
            set_alert_status(session, acknowledged, "open", actor="lead@example.com", audit=None)
    run_scoring(loaded_database, triggered_by="test", train_if_missing=False)
    with loaded_database.session() as session:
        kept = session.get(Alert, acknowledged)
        assert kept.status == "acknowledged" and kept.acknowledged_by == "lead@example.com"
        assert session.get(Alert, resolved).status == "resolved"
        unresolved = _unresolved(session)
        assert unresolved[resolved_key] != resolved  # the renewal is still due: a new alert


def test_demo_data_has_customers_at_risk_today(loaded_database: Database, scored) -> None:
    """The generator starts the decline of customers due to churn soon after as-of, so the model
    finds some of them at risk now: the demo's at-risk lists are not empty."""
    with loaded_database.engine.connect() as conn:
        levels = dict(conn.execute(text("SELECT risk_level, count(*) FROM gold.account_scores GROUP BY 1")).all())
        top = conn.execute(text("SELECT max(churn_risk_score) FROM gold.account_scores")).scalar()
    print(f"\nrisk levels at as-of: {levels}, highest score {top}")
    assert levels.get("HIGH", 0) + levels.get("MEDIUM", 0) >= 3
