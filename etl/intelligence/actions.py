"""Next-best actions in gold: keep recommendations current, and record people acting on them.

A recommendation stays tied to its condition (customer x rule) while the condition holds
(`condition_open`). While it holds, a recommendation someone scheduled or executed is not raised
again; once the condition clears, an untouched recommendation expires and the next time the
condition holds a fresh recommendation is raised.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dashboard.tables.intelligence import ActionExecution, NextBestAction
from models.actions import RECOMMENDATION_COLUMNS

OUTCOME_STATUSES = ("pending", "successful", "unsuccessful", "no_response")
ACTIONS = ("scheduled", "executed", "dismissed")

# Writes one audit event: called as hook(action, target=..., detail=...), like dashboard.audit.record.
# The web side passes one when a person acts through the app; jobs and the CLI pass None. Taking it
# as an argument keeps etl free of Flask and of the web modules.
AuditHook = Callable[..., Any]


class ActionError(ValueError):
    """An action that cannot be recorded: unknown recommendation, outcome or step."""


def write_recommendations(session: Session, recommendations: pd.DataFrame, *, now: datetime) -> int:
    """Refresh open recommendations, raise new ones, expire cleared ones; return the open count."""
    session.execute(text("""
        CREATE TEMPORARY TABLE nba_candidate (
            customer_id text, rule_id text, priority text, action_type text, action_title text,
            action_description text, expected_outcome text, estimated_impact_revenue numeric
        ) ON COMMIT DROP
    """))
    if not recommendations.empty:
        session.execute(text(f"""INSERT INTO nba_candidate VALUES
                                 ({', '.join(':' + c for c in RECOMMENDATION_COLUMNS)})"""),
                        recommendations[list(RECOMMENDATION_COLUMNS)].to_dict("records"))
    session.execute(text("""
        UPDATE gold.next_best_action n
        SET priority = c.priority, action_type = c.action_type, action_title = c.action_title,
            action_description = c.action_description, expected_outcome = c.expected_outcome,
            estimated_impact_revenue_usd = round(c.estimated_impact_revenue, 2), updated_at = :now
        FROM nba_candidate c
        WHERE n.condition_open AND n.status = 'open' AND n.customer_id = c.customer_id AND n.rule_id = c.rule_id
    """), {"now": now})
    session.execute(text("""
        INSERT INTO gold.next_best_action (recommendation_id, customer_id, rule_id, priority, action_type,
            action_title, action_description, expected_outcome, estimated_impact_revenue_usd, status,
            condition_open, created_at, updated_at)
        SELECT CAST(gen_random_uuid() AS text), c.customer_id, c.rule_id, c.priority, c.action_type,
               c.action_title, c.action_description, c.expected_outcome, round(c.estimated_impact_revenue, 2),
               'open', true, :now, :now
        FROM nba_candidate c
        WHERE NOT EXISTS (SELECT 1 FROM gold.next_best_action n
                          WHERE n.condition_open AND n.customer_id = c.customer_id AND n.rule_id = c.rule_id)
    """), {"now": now})
    session.execute(text("""
        UPDATE gold.next_best_action n
        SET condition_open = false, updated_at = :now,
            status = CASE WHEN n.status = 'open' THEN 'expired' ELSE n.status END
        WHERE n.condition_open
          AND NOT EXISTS (SELECT 1 FROM nba_candidate c WHERE c.customer_id = n.customer_id AND c.rule_id = n.rule_id)
    """), {"now": now})
    return int(session.scalar(text("SELECT count(*) FROM gold.next_best_action WHERE status = 'open'")))


def execute_action(session: Session, recommendation_id: str, *, actor: str, outcome_status: str,
                   audit: AuditHook | None, action: str = "executed", note: str = "",
                   scheduled_for: date | None = None, owner: str | None = None) -> ActionExecution:
    """Record that `actor` scheduled, executed or dismissed a recommendation, with its outcome.

    Scheduling may say the day it is due and its owner, kept on the recommendation for everyone.

    The recommendation takes the new status, so the scoring job does not raise it again while its
    condition holds. With `audit`, the step is also written to the audit trail; every caller says
    which (None for jobs and the CLI), so a web caller cannot leave it out by accident.
    """
    if outcome_status not in OUTCOME_STATUSES:
        raise ActionError(f"outcome_status must be one of {OUTCOME_STATUSES}, not {outcome_status!r}")
    if action not in ACTIONS:
        raise ActionError(f"action must be one of {ACTIONS}, not {action!r}")
    if not actor:
        raise ActionError("an action needs the person who took it")
    recommendation = session.scalar(select(NextBestAction).where(NextBestAction.recommendation_id == recommendation_id)
                                    .with_for_update())
    if recommendation is None:
        raise ActionError(f"no recommendation {recommendation_id!r}")
    now = datetime.now(UTC)
    recommendation.status = action
    recommendation.acted_by = actor
    recommendation.acted_at = now
    recommendation.outcome_status = outcome_status
    recommendation.updated_at = now
    if action == "scheduled":
        recommendation.scheduled_for, recommendation.owner = scheduled_for, owner
    execution = ActionExecution(recommendation_id=recommendation_id, customer_id=recommendation.customer_id,
                                action=action, actor=actor, acted_at=now, outcome_status=outcome_status, note=note,
                                scheduled_for=scheduled_for if action == "scheduled" else None,
                                owner=owner if action == "scheduled" else None)
    session.add(execution)
    session.flush()
    if audit is not None:
        audit("action_execution", target=recommendation.customer_id, detail={
            "recommendation_id": recommendation.recommendation_id, "rule_id": recommendation.rule_id,
            "action": execution.action, "outcome_status": execution.outcome_status,
            "action_title": recommendation.action_title,
            **({"scheduled_for": scheduled_for and scheduled_for.isoformat(), "owner": owner}
               if action == "scheduled" else {})})
    return execution
