"""The alert centre: the user's alerts from gold.alert, within their data scope.

An alert belongs to a customer; a user sees it when that customer (gold.customer_360) is inside
their `DataScope`. "Open" means nobody has acknowledged or resolved it yet: the bell counts those.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import audit
from dashboard.queries.intelligence import SEVERITY_ORDER, AlertItem
from dashboard.scope import DataScope
from dashboard.tables.gold import Customer360
from dashboard.tables.intelligence import Alert
from etl.intelligence.alerts import AlertError, set_alert_status

PANEL_LIMIT = 50
# What a person may set an alert to from the alert centre.
ALERT_CHANGES: tuple[str, ...] = ("acknowledged", "resolved")
KIND_LABELS = {"sla_breach": "SLA breach", "payment_overdue": "Payment overdue", "renewal_due": "Renewal due",
               "engagement_drop": "Engagement drop", "churn_risk_jump": "Churn risk jump"}


@dataclass(frozen=True)
class AlertCentre:
    """The bell's count and the panel's alerts (open ones first, then acknowledged ones)."""

    open_count: int
    alerts: list[AlertItem]


def open_alert_count(session: Session, scope: DataScope) -> int:
    """Alerts in scope that nobody has acknowledged or resolved yet."""
    stmt = select(func.count()).select_from(Alert).where(Alert.status == "open")
    if not scope.unrestricted:  # every alert's customer is in gold.customer_360: only a scope needs the join
        stmt = stmt.join(Customer360, Customer360.account_id == Alert.account_id).where(scope.customer_filter())
    return int(session.scalar(stmt) or 0)


def alert_centre(session: Session, scope: DataScope, *, limit: int = PANEL_LIMIT) -> AlertCentre:
    """The bell count and up to `limit` unresolved alerts in scope: open before acknowledged, then
    most severe, newest, and by id (one scoring run opens many alerts at the same moment).

    Read a status and severity at a time, newest first, each an index range (ix_alert_status_severity):
    sorting every unresolved alert of a large scope by a computed rank took a quarter of a second.
    """
    alerts: list[AlertItem] = []
    for status in ("open", "acknowledged"):
        for severity in sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__):
            if len(alerts) >= limit:
                break
            stmt = (select(Alert, Customer360.account_name)
                    .join(Customer360, Customer360.account_id == Alert.account_id)
                    .where(Alert.status == status, Alert.severity == severity, scope.customer_filter())
                    .order_by(Alert.opened_at.desc(), Alert.alert_id).limit(limit - len(alerts)))
            alerts.extend(AlertItem(a.alert_id, a.account_id, name, a.kind, a.severity, a.status, a.title,
                                    a.description, a.opened_at, a.updated_at) for a, name in session.execute(stmt))
    return AlertCentre(open_alert_count(session, scope), alerts)


def change_alert_status(session: Session, scope: DataScope, alert_id: int, status: str, *, actor: str) -> Alert:
    """Acknowledge or resolve an alert in scope; the change goes to the audit trail.

    An alert outside the scope is refused exactly like an unknown one, so ids reveal nothing."""
    if status not in ALERT_CHANGES:
        raise AlertError(f"an alert can be set to 'acknowledged' or 'resolved', not {status!r}")
    in_scope = session.scalar(select(Alert.alert_id).join(Customer360, Customer360.account_id == Alert.account_id)
                              .where(Alert.alert_id == alert_id, scope.customer_filter()))
    if in_scope is None:
        raise AlertError(f"no alert {alert_id}")
    return set_alert_status(session, alert_id, status, actor=actor, audit=audit.record)


__all__ = ["ALERT_CHANGES", "AlertCentre", "AlertError", "AlertItem", "KIND_LABELS", "alert_centre",
           "change_alert_status", "open_alert_count"]
