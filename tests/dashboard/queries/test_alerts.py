"""Alert centre queries on the scored demo data: counts and lists follow the caller's data scope,
and a change outside the scope is refused like an unknown alert."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.queries.alerts import AlertError, alert_centre, change_alert_status, open_alert_count
from dashboard.scope import DataScope
from dashboard.tables.intelligence import Alert

ALL_ROWS = 1_000_000
COUNT_SQL = """
    SELECT count(*) FROM gold.alert a JOIN gold.customer_360 c ON c.account_id = a.account_id
    WHERE a.status = 'open' {where}
"""


def _count(session: Session, where: str = "", **params) -> int:
    return int(session.scalar(text(COUNT_SQL.format(where=where)), params))


@pytest.fixture()
def alerts_session(scored, rolled_back: Session) -> Session:  # noqa: F811
    """The rolled-back session, on data the scoring job has raised alerts in."""
    assert _count(rolled_back) > 0, "the scoring job raised no open alert"
    return rolled_back


@pytest.fixture()
def busiest_territory(alerts_session: Session) -> str:
    territory = alerts_session.scalar(text("""
        SELECT c.territory FROM gold.alert a JOIN gold.customer_360 c ON c.account_id = a.account_id
        WHERE a.status = 'open' AND c.territory IS NOT NULL
        GROUP BY c.territory ORDER BY count(*) DESC, c.territory LIMIT 1"""))
    assert territory
    return territory


def test_an_unrestricted_user_counts_every_open_alert(alerts_session: Session):
    centre = alert_centre(alerts_session, DataScope.everything())
    assert centre.open_count == _count(alerts_session) == open_alert_count(alerts_session, DataScope.everything())
    assert centre.alerts and all(a.status in ("open", "acknowledged") for a in centre.alerts)


def test_a_territory_user_sees_only_their_territorys_alerts(alerts_session: Session, busiest_territory: str):
    scope = DataScope.restricted_to(territories=[busiest_territory])
    expected = _count(alerts_session, "AND c.territory = :t", t=busiest_territory)
    centre = alert_centre(alerts_session, scope)
    assert 0 < centre.open_count == expected < _count(alerts_session)
    territories = set(alerts_session.scalars(text("SELECT territory FROM gold.customer_360 WHERE account_id = ANY(:ids)"),
                                             {"ids": [a.account_id for a in centre.alerts]}))
    assert centre.alerts and territories == {busiest_territory}


def test_an_account_manager_sees_only_their_accounts_alerts(alerts_session: Session):
    account_id = alerts_session.scalar(text("SELECT account_id FROM gold.alert WHERE status = 'open' "
                                            "ORDER BY account_id LIMIT 1"))
    scope = DataScope.restricted_to(account_ids=[account_id])
    centre = alert_centre(alerts_session, scope)
    assert centre.open_count == _count(alerts_session, "AND a.account_id = :a", a=account_id) > 0
    assert {a.account_id for a in centre.alerts} == {account_id}
    nothing = alert_centre(alerts_session, DataScope.nothing())
    assert nothing.open_count == 0 and nothing.alerts == []


def test_acknowledging_lowers_the_count_and_keeps_the_alert_listed(alerts_session: Session):
    scope = DataScope.everything()
    before = alert_centre(alerts_session, scope)
    target = next(a for a in before.alerts if a.status == "open")
    change_alert_status(alerts_session, scope, target.alert_id, "acknowledged", actor="tests")
    after = alert_centre(alerts_session, scope, limit=ALL_ROWS)
    assert after.open_count == before.open_count - 1
    listed = [a for a in after.alerts if a.alert_id == target.alert_id]
    assert listed and listed[0].status == "acknowledged"
    # Open alerts come before acknowledged ones, so a short panel shows what waits for someone.
    statuses = [a.status for a in after.alerts]
    assert statuses == sorted(statuses, key=lambda s: s != "open")
    if before.open_count > len(before.alerts):
        assert target.alert_id not in {a.alert_id for a in alert_centre(alerts_session, scope).alerts}
    change_alert_status(alerts_session, scope, target.alert_id, "resolved", actor="tests")
    assert target.alert_id not in {a.alert_id for a in alert_centre(alerts_session, scope, limit=ALL_ROWS).alerts}


def test_a_change_outside_the_scope_is_refused_like_an_unknown_alert(alerts_session: Session,
                                                                    busiest_territory: str):
    outside = alerts_session.scalar(text("""
        SELECT a.alert_id FROM gold.alert a JOIN gold.customer_360 c ON c.account_id = a.account_id
        WHERE a.status = 'open' AND c.territory IS DISTINCT FROM :t ORDER BY a.alert_id LIMIT 1"""),
        {"t": busiest_territory})
    assert outside is not None
    scope = DataScope.restricted_to(territories=[busiest_territory])
    with pytest.raises(AlertError, match=f"no alert {outside}"):
        change_alert_status(alerts_session, scope, outside, "acknowledged", actor="tests")
    with pytest.raises(AlertError, match="no alert -1"):
        change_alert_status(alerts_session, scope, -1, "acknowledged", actor="tests")
    with pytest.raises(AlertError, match="not 'open'"):
        change_alert_status(alerts_session, DataScope.everything(), outside, "open", actor="tests")
    assert alerts_session.get(Alert, outside).status == "open"
