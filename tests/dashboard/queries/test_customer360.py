"""Customer 360 overview queries on the loaded and scored demo data.

Figures that derive from source data (MRR, services, growth, tickets, first response, SLA) are
recomputed with pandas from the pristine landing files; model outputs (churn, health, lifetime
value) are compared with gold. Scope, masking and the audited schedule/execute services too.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, amount_band
from dashboard.queries import customer360 as q
from dashboard.scope import DataScope
from dashboard.tables.app import AuditEvent
from dashboard.tables.gold import Customer360
from dashboard.tables.intelligence import (
    ActionExecution,
    ChurnPrediction,
    CustomerLifetimeValue,
    NextBestAction,
)
from tests.etl.reference import Landing

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
NO_MONEY = MaskPolicy(view_pii=True, view_financials=False)
PICK_ACCOUNT = """
    SELECT c.account_id FROM gold.customer_360 c
    WHERE c.mrr_usd > 0 AND c.open_tickets > 0 AND c.avg_first_response_minutes IS NOT NULL
      AND EXISTS (SELECT 1 FROM gold.next_best_action n WHERE n.customer_id = c.account_id AND n.status = 'open')
      AND EXISTS (SELECT 1 FROM gold.alert a WHERE a.account_id = c.account_id AND a.status <> 'resolved')
    ORDER BY cardinality(c.regional_account_ids) DESC, c.mrr_usd DESC LIMIT 1
"""


@pytest.fixture(scope="module")
def landing(pristine_landing_dir: Path) -> Landing:
    return Landing.read(pristine_landing_dir)


@pytest.fixture()
def scored_session(app, insights_ran, rolled_back: Session) -> Session:  # noqa: F811
    return rolled_back


@pytest.fixture()
def risky_account(scored_session: Session) -> str:
    account_id = scored_session.scalar(text(PICK_ACCOUNT))
    assert account_id, "no customer with MRR, tickets, an open action and an alert"
    return account_id


def _regional(session: Session, account_id: str) -> list[str]:
    ids = session.scalar(select(Customer360.regional_account_ids).where(Customer360.account_id == account_id))
    assert ids
    return list(ids)


def _month_ends(as_of: date) -> list[date]:
    firsts = pd.date_range(end=pd.Timestamp(as_of).to_period("M").to_timestamp(), periods=12, freq="MS")
    return [min((f + pd.offsets.MonthEnd(0)).date(), as_of) for f in firsts]


def _tickets(landing: Landing, regional: list[str]) -> pd.DataFrame:
    tickets = landing.tickets[landing.tickets["account_id"].isin(regional)].copy()
    tickets["minutes"] = (tickets["first_response_at"] - tickets["created_at"]).dt.total_seconds() / 60
    return tickets


def test_kpis_match_the_landing_files(scored_session: Session, risky_account: str, landing: Landing) -> None:
    result = q.account_kpis(scored_session, risky_account, EVERYTHING, FULL)
    assert result is not None and result.as_of == landing.as_of
    regional = _regional(scored_session, risky_account)
    months = _month_ends(landing.as_of)
    assert list(result.months) == months

    def mrr_on(day: date) -> pd.DataFrame:
        frame = landing.mrr_usd_on(day)
        return frame[frame["account_id"].isin(regional)]

    expected_mrr = [round(float(mrr_on(d)["mrr_usd"].sum()), 2) for d in months]
    assert [round(v or 0.0, 2) for v in result.kpis["mrr_usd"].series] == pytest.approx(expected_mrr, abs=0.01)
    assert result.kpis["mrr_usd"].value == pytest.approx(expected_mrr[-1], abs=0.01)
    assert list(result.kpis["active_services"].series) == [float(len(mrr_on(d))) for d in months]
    assert result.kpis["active_services"].value == float(len(mrr_on(landing.as_of)))
    year_ago = float(mrr_on(landing.as_of - timedelta(days=365))["mrr_usd"].sum())
    growth = result.kpis["yoy_growth_pct"].value
    assert (growth is None) == (year_ago == 0)
    if growth is not None:
        assert growth == pytest.approx((expected_mrr[-1] - year_ago) / year_ago, abs=1e-4)

    tickets = _tickets(landing, regional)
    assert len(tickets) > 0
    assert result.kpis["open_tickets"].value == float(tickets["status"].isin(["open", "pending"]).sum())
    ends = [pd.Timestamp(d + timedelta(days=1), tz="UTC") for d in months]
    assert list(result.kpis["open_tickets"].series) == [
        float(((tickets["created_at"] < e) & (tickets["resolved_at"].isna() | (tickets["resolved_at"] >= e))).sum())
        for e in ends]
    created_day = tickets["created_at"].dt.date
    recent = tickets[(created_day > landing.as_of - timedelta(days=90)) & (created_day <= landing.as_of)
                     & tickets["first_response_at"].notna()]
    assert result.kpis["avg_first_response_minutes"].value == pytest.approx(recent["minutes"].mean(), rel=1e-6)
    with_target = recent[recent["sla_first_response_minutes"].notna()]
    assert result.kpis["sla_compliance"].value == pytest.approx(
        (with_target["minutes"] <= with_target["sla_first_response_minutes"]).mean(), abs=1e-9)
    last_month = tickets[(tickets["created_at"] >= pd.Timestamp(months[-1].replace(day=1), tz="UTC"))
                         & tickets["first_response_at"].notna()]
    expected_last = last_month["minutes"].mean() if len(last_month) else None
    got_last = result.kpis["avg_first_response_minutes"].series[-1]
    assert (got_last is None) == (expected_last is None)
    if expected_last is not None:
        assert got_last == pytest.approx(expected_last, rel=1e-6)


def test_lifetime_value_card_reads_the_model_and_its_inputs(scored_session: Session, risky_account: str) -> None:
    result = q.account_kpis(scored_session, risky_account, EVERYTHING, FULL)
    value = scored_session.get(CustomerLifetimeValue, risky_account)
    assert result is not None and value is not None and result.clv is not None
    assert result.kpis["clv_usd"].value == pytest.approx(float(value.clv_usd))
    # The amount paid up to the as-of day is what the scoring job summed as historical revenue.
    assert result.kpis["clv_usd"].series[-1] == pytest.approx(float(value.historical_revenue_usd), abs=0.05)
    assert result.clv.frequency >= 0 and result.clv.age_weeks >= result.clv.recency_weeks >= 0


def test_header_names_the_customer_and_its_badges(scored_session: Session, risky_account: str) -> None:
    header = q.account_header(scored_session, risky_account, EVERYTHING, FULL)
    customer = scored_session.get(Customer360, risky_account)
    assert header is not None and header.account_name == customer.account_name
    assert header.annual_revenue_usd == customer.arr_usd and header.annual_revenue_band is None
    assert header.risk_level == customer.risk_level and header.health_band is not None
    assert header.customer_since == customer.created_at.date()


def test_risk_panel_shows_the_models_scores_and_the_usage_trend(scored_session: Session, risky_account: str,
                                                                landing: Landing) -> None:
    panel = q.risk_panel(scored_session, risky_account, EVERYTHING)
    churn = scored_session.get(ChurnPrediction, risky_account)
    assert panel is not None and churn is not None
    assert panel.churn_score == churn.churn_risk_score and panel.risk_level == churn.risk_level
    assert [f.sentence for f in panel.factors] == [f["sentence"] for f in churn.contributing_factors]
    assert set(panel.health_parts) == {"payment", "support", "usage", "engagement"}
    weighted = sum(panel.health_weights[p] * v / 100 for p, v in panel.health_parts.items())
    assert weighted == pytest.approx(panel.health_score, abs=0.1)  # the score is stored to one decimal
    assert panel.usage_trend in (*q.USAGE_TRENDS, None)


@pytest.mark.parametrize(("change", "trend"), [(0.2, "increasing"), (0.1, "stable"), (0.0, "stable"),
                                               (-0.1, "stable"), (-0.11, "declining"), (None, None)])
def test_usage_trend_thresholds(change: float | None, trend: str | None) -> None:
    assert q.usage_trend(change) == trend


def test_an_out_of_scope_or_unknown_customer_reads_as_nothing(scored_session: Session, risky_account: str) -> None:
    elsewhere = DataScope.restricted_to(account_ids=["no-such-account"])
    for scope, account_id in ((elsewhere, risky_account), (EVERYTHING, "no-such-account"), (DataScope.nothing(), risky_account)):
        assert q.account_header(scored_session, account_id, scope, FULL) is None
        assert q.account_kpis(scored_session, account_id, scope, FULL) is None
        assert q.risk_panel(scored_session, account_id, scope) is None
        assert q.risk_alerts(scored_session, account_id, scope) is None
        assert q.next_best_actions(scored_session, account_id, scope, FULL) is None
    own = DataScope.restricted_to(account_ids=[risky_account])
    assert q.account_header(scored_session, risky_account, own, FULL) is not None


def test_money_is_a_band_without_financials(scored_session: Session, risky_account: str) -> None:
    header = q.account_header(scored_session, risky_account, EVERYTHING, NO_MONEY)
    customer = scored_session.get(Customer360, risky_account)
    assert header is not None and header.annual_revenue_usd is None and header.yoy_growth_pct is None
    assert header.annual_revenue_band == amount_band(customer.arr_usd)
    kpis = q.account_kpis(scored_session, risky_account, EVERYTHING, NO_MONEY)
    assert kpis is not None
    for key in ("clv_usd", "mrr_usd"):
        assert kpis.kpis[key].value is None and kpis.kpis[key].series == () and kpis.kpis[key].band
    assert kpis.kpis["mrr_usd"].band == amount_band(customer.mrr_usd)
    assert kpis.kpis["yoy_growth_pct"].value is None
    assert kpis.clv is not None and kpis.clv.monetary_value_usd is None and kpis.clv.historical_revenue_usd is None
    actions = q.next_best_actions(scored_session, risky_account, EVERYTHING, NO_MONEY)
    assert actions and all(a.impact_usd is None and a.impact_band for a in actions)


def _open_action(session: Session, account_id: str) -> str:
    actions = q.next_best_actions(session, account_id, EVERYTHING, FULL)
    assert actions and actions[0].status == "open"
    assert actions[0].category in q.ACTION_CATEGORIES and actions[0].source
    return actions[0].action_id


def _newest_ids(session: Session) -> tuple[int, int]:
    """The newest audit row and action step so far: other tests of the session may have acted on the
    same recommendation (its id is stable across scoring runs), so a test looks only at what follows."""
    return (session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))),
            session.scalar(select(func.coalesce(func.max(ActionExecution.id), 0))))


def _audit_rows(session: Session, action_id: str, after: tuple[int, int]) -> list[AuditEvent]:
    return [e for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "action_execution",
                                                                AuditEvent.id > after[0])
                                            .order_by(AuditEvent.id))
            if e.detail.get("recommendation_id") == action_id]


def test_scheduling_changes_the_status_for_everyone_and_is_audited(scored_session: Session, risky_account: str) -> None:
    action_id = _open_action(scored_session, risky_account)
    before = _newest_ids(scored_session)
    owner = q.action_owners(scored_session, risky_account)
    assert owner, "no user may act on actions"
    due = date.today() + timedelta(days=3)
    state = q.schedule_action(scored_session, EVERYTHING, action_id, actor="am@test", due_on=due.isoformat(),
                              owner=owner[0].email)
    assert state.status == "scheduled" and state.scheduled_for == due and state.owner == owner[0].email
    stored = scored_session.get(NextBestAction, action_id)
    assert (stored.status, stored.scheduled_for, stored.owner) == ("scheduled", due, owner[0].email)
    step = scored_session.scalar(select(ActionExecution).where(ActionExecution.recommendation_id == action_id,
                                                                ActionExecution.id > before[1]))
    assert (step.action, step.actor, step.scheduled_for, step.owner) == ("scheduled", "am@test", due, owner[0].email)
    audits = _audit_rows(scored_session, action_id, before)
    assert len(audits) == 1 and audits[0].actor == "am@test" and audits[0].detail["owner"] == owner[0].email
    # Still actionable: executing it afterwards closes it.
    assert q.execute_action(scored_session, EVERYTHING, action_id, actor="am@test").status == "executed"
    with pytest.raises(ValueError, match="already executed"):
        q.execute_action(scored_session, EVERYTHING, action_id, actor="am@test")


def test_executing_an_action_is_audited(scored_session: Session, risky_account: str) -> None:
    action_id = _open_action(scored_session, risky_account)
    before = _newest_ids(scored_session)
    state = q.execute_action(scored_session, EVERYTHING, action_id, actor="am@test")
    assert state.status == "executed" and scored_session.get(NextBestAction, action_id).acted_by == "am@test"
    assert [e.detail["action"] for e in _audit_rows(scored_session, action_id, before)] == ["executed"]
    listed = q.next_best_actions(scored_session, risky_account, EVERYTHING, FULL)
    assert any(a.action_id == action_id and a.status == "executed" for a in listed)


def test_bad_input_and_out_of_scope_are_refused(scored_session: Session, risky_account: str) -> None:
    action_id = _open_action(scored_session, risky_account)
    before = _newest_ids(scored_session)
    owner = q.action_owners(scored_session, risky_account)[0].email
    elsewhere = DataScope.restricted_to(account_ids=["no-such-account"])
    with pytest.raises(q.NotFound):
        q.execute_action(scored_session, elsewhere, action_id, actor="am@test")
    with pytest.raises(q.NotFound):
        q.execute_action(scored_session, EVERYTHING, "no-such-action", actor="am@test")
    with pytest.raises(q.NotFound):
        q.schedule_action(scored_session, elsewhere, action_id, actor="am@test", due_on=date.today(), owner=owner)
    with pytest.raises(ValueError, match="past"):
        q.schedule_action(scored_session, EVERYTHING, action_id, actor="am@test",
                          due_on=date.today() - timedelta(days=1),
                          owner=owner)
    with pytest.raises(ValueError, match="date"):
        q.schedule_action(scored_session, EVERYTHING, action_id, actor="am@test", due_on="tomorrow", owner=owner)
    with pytest.raises(ValueError, match="owner"):
        q.schedule_action(scored_session, EVERYTHING, action_id, actor="am@test", due_on=date.today(),
                          owner="stranger@example.com")
    assert scored_session.get(NextBestAction, action_id).status == "open"
    assert _audit_rows(scored_session, action_id, before) == []


def test_an_action_is_owned_only_by_someone_who_can_see_its_account(scored_session: Session, risky_account: str,
                                                                    scoped_users, scope_facts) -> None:
    """The account manager limited to two assigned accounts may own actions on those, not on others."""
    limited = scoped_users["accounts"]
    everyone = {o.email for o in q.action_owners(scored_session)}
    assert limited in everyone
    inside = sorted(scope_facts.assigned_accounts)[0]
    outside = next(a for a in (risky_account, scope_facts.other_account) if a not in scope_facts.assigned_accounts)
    assert limited in {o.email for o in q.action_owners(scored_session, inside)}
    offered = {o.email for o in q.action_owners(scored_session, outside)}
    assert limited not in offered and offered and offered < everyone | {limited}

    action_id = _open_action(scored_session, risky_account)
    if risky_account not in scope_facts.assigned_accounts:
        with pytest.raises(ValueError, match="see this account"):
            q.schedule_action(scored_session, EVERYTHING, action_id, actor="am@test",
                              due_on=date.today().isoformat(), owner=limited)
