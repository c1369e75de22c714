"""Alerts: which conditions hold now, and their de-duplicated upkeep in gold.alert.

State alerts (SLA breach, payment overdue, renewal due) resolve by themselves once their
condition clears. Event alerts (engagement drop, churn-risk jump) stay until a person resolves
them, or until `event_alert_days` pass without the event recurring. One unresolved alert per
customer and kind (a unique partial index), so a condition that persists updates its alert.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.tables.intelligence import Alert
from etl.intelligence.actions import AuditHook
from etl.intelligence.config import IntelligenceConfig

STATE_KINDS = ("sla_breach", "payment_overdue", "renewal_due")
EVENT_KINDS = ("engagement_drop", "churn_risk_jump")
ALERT_COLUMNS = ["account_id", "kind", "severity", "title", "description"]


def _frame(account_ids: pd.Index, kind: str, severity: np.ndarray | str, title: str,
           descriptions: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"account_id": account_ids, "kind": kind, "severity": severity, "title": title,
                         "description": descriptions})


def alert_candidates(current: pd.DataFrame, churn: pd.DataFrame, engagement: pd.DataFrame,
                     config: IntelligenceConfig) -> pd.DataFrame:
    """The alert conditions that hold as of the features' cut-off, one row per customer and kind."""
    parts: list[pd.DataFrame] = []
    breaches = current[current["sla_breaches_30d"] > 0]
    parts.append(_frame(breaches.index, "sla_breach", np.where(breaches["sla_breaches_30d"] >= 3, "HIGH", "MEDIUM"),
                        "SLA breached", [f"{n:.0f} ticket(s) missed their first-response SLA in the last 30 days"
                                         for n in breaches["sla_breaches_30d"]]))
    overdue = current[current["days_overdue"] > config.overdue_alert_days]
    parts.append(_frame(overdue.index, "payment_overdue",
                        np.where((overdue["days_overdue"] > 60) | (overdue["overdue_share_of_mrr"] >= 3),
                                 "HIGH", "MEDIUM"),
                        "Payment overdue", [f"${usd:,.0f} unpaid; the oldest invoice is {days:.0f} days overdue"
                                            for usd, days in zip(overdue["overdue_usd"], overdue["days_overdue"],
                                                                 strict=True)]))
    renewing = current[current["days_to_contract_expiry"] <= config.renewal_alert_days]
    risky = churn["risk_level"].reindex(renewing.index).eq("HIGH").to_numpy()
    parts.append(_frame(renewing.index, "renewal_due",
                        np.where(risky, "HIGH", np.where(renewing["days_to_contract_expiry"] <= 30, "MEDIUM", "LOW")),
                        "Renewal due", [f"The contract renews in {d:.0f} days"
                                        for d in renewing["days_to_contract_expiry"]]))
    dropped = engagement[engagement["sharp_drop"]]
    parts.append(_frame(dropped.index, "engagement_drop",
                        np.where(dropped["tier"] == "Alert", "HIGH", "MEDIUM"), "Engagement dropped",
                        [f"Engagement fell from {before:.2f} to {now:.2f} in 30 days"
                         for before, now in zip(dropped["previous_engagement_score"], dropped["engagement_score"],
                                                strict=True)]))
    if not churn.empty:
        jump = churn["churn_risk_score"].astype(float) - churn["previous_churn_risk_score"].astype(float)
        jumped = churn[jump >= config.churn_jump_points]
        parts.append(_frame(jumped.index, "churn_risk_jump", np.where(jumped["risk_level"] == "HIGH", "HIGH", "MEDIUM"),
                            "Churn risk jumped", [f"Churn risk rose from {b:.0f} to {a:.0f} in 30 days"
                                                  for b, a in zip(jumped["previous_churn_risk_score"],
                                                                  jumped["churn_risk_score"], strict=True)]))
    candidates = pd.concat([p for p in parts if not p.empty] or [pd.DataFrame(columns=ALERT_COLUMNS)],
                           ignore_index=True)
    return candidates[ALERT_COLUMNS]


ANOMALY_DROPS_SQL = """
    INSERT INTO alert_candidate (account_id, kind, severity, title, description)
    SELECT DISTINCT ON (a.account_id) a.account_id, 'engagement_drop',
           CASE WHEN upper(a.severity) IN ('HIGH', 'MEDIUM', 'LOW') THEN upper(a.severity) ELSE 'MEDIUM' END,
           'Activity dropped', COALESCE(a.description, a.metric || ' dropped')
    FROM gold.account_anomaly a
    WHERE a.kind = 'drop' AND a.detected_on > CAST(:as_of AS date) - 7
      AND NOT EXISTS (SELECT 1 FROM alert_candidate c WHERE c.account_id = a.account_id AND c.kind = 'engagement_drop')
    ORDER BY a.account_id, a.detected_on DESC
"""


def write_alerts(session: Session, candidates: pd.DataFrame, *, as_of: date, now: datetime,
                 config: IntelligenceConfig) -> int:
    """Open or refresh an alert per candidate, resolve cleared ones; return the unresolved count."""
    session.execute(text("""
        CREATE TEMPORARY TABLE alert_candidate (
            account_id text, kind text, severity text, title text, description text
        ) ON COMMIT DROP
    """))
    if not candidates.empty:
        session.execute(text("""INSERT INTO alert_candidate VALUES (:account_id, :kind, :severity, :title,
                                :description)"""), candidates[ALERT_COLUMNS].to_dict("records"))
    # Activity drops found by the anomaly job count as engagement drops too.
    if session.scalar(text("SELECT to_regclass('gold.account_anomaly') IS NOT NULL")):
        session.execute(text(ANOMALY_DROPS_SQL), {"as_of": as_of})
    session.execute(text("""
        INSERT INTO gold.alert AS a (account_id, kind, severity, status, title, description, opened_at, updated_at)
        SELECT account_id, kind, severity, 'open', title, description, :now, :now FROM alert_candidate
        ON CONFLICT (account_id, kind) WHERE status <> 'resolved'
        DO UPDATE SET severity = EXCLUDED.severity, title = EXCLUDED.title, description = EXCLUDED.description,
                      updated_at = EXCLUDED.updated_at
    """), {"now": now})
    session.execute(text("""
        UPDATE gold.alert a SET status = 'resolved', resolved_at = :now, updated_at = :now
        WHERE a.status <> 'resolved'
          AND NOT EXISTS (SELECT 1 FROM alert_candidate c WHERE c.account_id = a.account_id AND c.kind = a.kind)
          AND (a.kind = ANY(:state_kinds) OR a.updated_at < :event_expiry)
    """), {"now": now, "state_kinds": list(STATE_KINDS),
           "event_expiry": now - timedelta(days=config.event_alert_days)})
    return int(session.scalar(text("SELECT count(*) FROM gold.alert WHERE status <> 'resolved'")))


class AlertError(ValueError):
    """An alert change that cannot be made: unknown alert or status."""


def set_alert_status(session: Session, alert_id: int, status: str, *, actor: str,
                     audit: AuditHook | None) -> Alert:
    """Acknowledge or resolve an alert on someone's behalf, written to the audit trail through `audit`
    (the web side passes dashboard.audit.record; None where no person acts through the app).

    A resolved state alert whose condition still holds is raised afresh by the next scoring run;
    acknowledge it instead to say someone is on it.
    """
    if status not in ("acknowledged", "resolved"):
        raise AlertError(f"an alert can be set to 'acknowledged' or 'resolved', not {status!r}")
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise AlertError(f"no alert {alert_id}")
    now = datetime.now(UTC)
    alert.status = status
    alert.updated_at = now
    alert.acknowledged_by = alert.acknowledged_by or actor
    if status == "resolved":
        alert.resolved_at = now
    session.flush()
    if audit is not None:
        audit("alert_status", target=alert.account_id,
              detail={"alert_id": alert_id, "kind": alert.kind, "status": status, "actor": actor})
    return alert
