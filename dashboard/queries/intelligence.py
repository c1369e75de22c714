"""Churn, health, engagement, lifetime value, next-best actions and alerts, as pages read them.

Every function takes an open session; lists take the caller's data scope (dashboard.scope's
DataScope, or anything with `customer_filter()`) and only return customers inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from dashboard.tables.gold import Customer360
from dashboard.tables.intelligence import (
    AccountEngagement,
    AccountHealth,
    Alert,
    ChurnModel,
    ChurnPrediction,
    ContactEngagement,
    CustomerLifetimeValue,
    NextBestAction,
)


class Scope(Protocol):
    def customer_filter(self) -> ColumnElement[bool]: ...


@dataclass(frozen=True)
class Factor:
    feature: str
    direction: str  # "raises risk" or "lowers risk"
    contribution: float  # log-odds; positive raises risk
    sentence: str


@dataclass(frozen=True)
class AccountIntelligence:
    """Everything the scoring job knows about one customer; a part is None until scored."""

    account_id: str
    churn_probability: float | None
    churn_risk_score: float | None
    previous_churn_risk_score: float | None
    risk_level: str | None
    factors: list[Factor]
    recommended_action: str | None
    model_version: int | None
    health_score: float | None
    health_band: str | None
    health_components: dict[str, float]  # payment, support, usage, engagement (0-100 each)
    engagement_score: float | None
    engagement_tier: str | None
    engagement_peer_percentile: float | None
    engagement_peer_group: str | None
    historical_revenue_usd: Decimal | None
    projected_12m_usd: Decimal | None
    projected_36m_usd: Decimal | None
    clv_usd: Decimal | None
    p_alive: float | None
    scored_at: datetime | None


@dataclass(frozen=True)
class Recommendation:
    recommendation_id: str
    customer_id: str
    rule_id: str
    priority: str
    action_type: str
    action_title: str
    action_description: str
    expected_outcome: str
    estimated_impact_revenue_usd: Decimal
    status: str
    created_at: datetime
    acted_by: str | None
    acted_at: datetime | None
    outcome_status: str | None


@dataclass(frozen=True)
class AlertItem:
    alert_id: int
    account_id: str
    account_name: str | None
    kind: str
    severity: str
    status: str
    title: str
    description: str
    opened_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AtRiskAccount:
    account_id: str
    account_name: str
    region: str
    segment: str
    mrr_usd: Decimal
    churn_risk_score: float
    risk_level: str
    health_score: float | None
    top_factor: str | None
    recommended_action: str | None


@dataclass(frozen=True)
class ContactEngagementItem:
    contact_id: str
    engagement_score: float
    tier: str
    peer_percentile: float


@dataclass(frozen=True)
class ChurnModelSummary:
    version: int
    trained_at: datetime
    roc_auc: float | None
    metrics: dict[str, Any]
    features: list[str]


SEVERITY_ORDER = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}


def _scoped(stmt: Select, scope: Scope) -> Select:
    return stmt.where(scope.customer_filter())


def account_intelligence(session: Session, account_id: str, scope: Scope) -> AccountIntelligence | None:
    """One customer's scores, factors and lifetime value; None if the customer was never scored or
    is outside the scope."""
    row = session.execute(
        select(ChurnPrediction, AccountHealth, AccountEngagement, CustomerLifetimeValue)
        .select_from(Customer360)
        .outerjoin(ChurnPrediction, ChurnPrediction.account_id == Customer360.account_id)
        .outerjoin(AccountHealth, AccountHealth.account_id == Customer360.account_id)
        .outerjoin(AccountEngagement, AccountEngagement.account_id == Customer360.account_id)
        .outerjoin(CustomerLifetimeValue, CustomerLifetimeValue.account_id == Customer360.account_id)
        .where(Customer360.account_id == account_id, scope.customer_filter())
    ).one_or_none()
    if row is None or all(part is None for part in row):
        return None
    churn, health, engagement, value = row
    factors = [Factor(f.get("feature", ""), f.get("direction", ""), float(f.get("contribution") or 0.0),
                      f.get("sentence", "")) for f in (churn.contributing_factors if churn else [])]
    components = ({"payment": health.payment_score, "support": health.support_score, "usage": health.usage_score,
                   "engagement": health.engagement_component} if health else {})
    scored = [p.scored_at for p in (churn, health, engagement, value) if p is not None]
    return AccountIntelligence(
        account_id=account_id,
        churn_probability=churn.churn_probability if churn else None,
        churn_risk_score=churn.churn_risk_score if churn else None,
        previous_churn_risk_score=churn.previous_churn_risk_score if churn else None,
        risk_level=churn.risk_level if churn else None,
        factors=factors,
        recommended_action=churn.recommended_action if churn else None,
        model_version=churn.model_version if churn else None,
        health_score=health.health_score if health else None,
        health_band=health.health_band if health else None,
        health_components=components,
        engagement_score=engagement.engagement_score if engagement else None,
        engagement_tier=engagement.tier if engagement else None,
        engagement_peer_percentile=engagement.peer_percentile if engagement else None,
        engagement_peer_group=engagement.peer_group if engagement else None,
        historical_revenue_usd=value.historical_revenue_usd if value else None,
        projected_12m_usd=value.projected_12m_usd if value else None,
        projected_36m_usd=value.projected_36m_usd if value else None,
        clv_usd=value.clv_usd if value else None,
        p_alive=value.p_alive if value else None,
        scored_at=max(scored) if scored else None,
    )


def _recommendation(row: NextBestAction) -> Recommendation:
    return Recommendation(row.recommendation_id, row.customer_id, row.rule_id, row.priority, row.action_type,
                          row.action_title, row.action_description, row.expected_outcome,
                          row.estimated_impact_revenue_usd, row.status, row.created_at, row.acted_by, row.acted_at,
                          row.outcome_status)


def account_actions(session: Session, account_id: str, scope: Scope, *,
                    include_closed: bool = False) -> list[Recommendation]:
    """A customer's recommendations, highest priority and impact first (open and scheduled ones by
    default); nothing for a customer outside the scope."""
    stmt = _scoped(select(NextBestAction).join(Customer360, Customer360.account_id == NextBestAction.customer_id)
                   .where(NextBestAction.customer_id == account_id), scope)
    if not include_closed:
        stmt = stmt.where(NextBestAction.status.in_(("open", "scheduled")))
    rows = session.scalars(stmt.order_by(NextBestAction.created_at.desc())).all()
    return sorted((_recommendation(r) for r in rows),
                  key=lambda r: (SEVERITY_ORDER.get(r.priority, 9), -float(r.estimated_impact_revenue_usd)))


def open_actions(session: Session, scope: Scope, *, limit: int = 50) -> list[Recommendation]:
    """Open recommendations across customers in scope, highest priority and impact first."""
    stmt = (select(NextBestAction).join(Customer360, Customer360.account_id == NextBestAction.customer_id)
            .where(NextBestAction.status == "open"))
    rows = session.scalars(_scoped(stmt, scope)).all()
    ordered = sorted((_recommendation(r) for r in rows),
                     key=lambda r: (SEVERITY_ORDER.get(r.priority, 9), -float(r.estimated_impact_revenue_usd)))
    return ordered[:limit]


def _alerts(session: Session, stmt: Select, limit: int) -> list[AlertItem]:
    rows = session.execute(stmt.order_by(Alert.opened_at.desc()).limit(limit * 4)).all()
    items = [AlertItem(a.alert_id, a.account_id, name, a.kind, a.severity, a.status, a.title, a.description,
                       a.opened_at, a.updated_at) for a, name in rows]
    return sorted(items, key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), -a.opened_at.timestamp()))[:limit]


def account_alerts(session: Session, account_id: str, scope: Scope, *, include_resolved: bool = False,
                   limit: int = 50) -> list[AlertItem]:
    """A customer's alerts, most severe and newest first (unresolved ones by default); nothing for
    a customer outside the scope."""
    stmt = _scoped(select(Alert, Customer360.account_name).join(Customer360, Customer360.account_id == Alert.account_id)
                   .where(Alert.account_id == account_id), scope)
    if not include_resolved:
        stmt = stmt.where(Alert.status != "resolved")
    return _alerts(session, stmt, limit)


def open_alerts(session: Session, scope: Scope, *, kinds: tuple[str, ...] | None = None,
                limit: int = 50) -> list[AlertItem]:
    """Unresolved alerts across customers in scope, most severe and newest first."""
    stmt = (select(Alert, Customer360.account_name).join(Customer360, Customer360.account_id == Alert.account_id)
            .where(Alert.status != "resolved"))
    if kinds:
        stmt = stmt.where(Alert.kind.in_(kinds))
    return _alerts(session, _scoped(stmt, scope), limit)


def top_at_risk(session: Session, scope: Scope, *, limit: int = 10,
                region: str | None = None) -> list[AtRiskAccount]:
    """Customers with the highest churn risk score, with their strongest factor and next action."""
    stmt = (select(Customer360.account_id, Customer360.account_name, Customer360.region, Customer360.segment,
                   Customer360.mrr_usd, ChurnPrediction.churn_risk_score, ChurnPrediction.risk_level,
                   AccountHealth.health_score, ChurnPrediction.contributing_factors,
                   ChurnPrediction.recommended_action)
            .join(ChurnPrediction, ChurnPrediction.account_id == Customer360.account_id)
            .outerjoin(AccountHealth, AccountHealth.account_id == Customer360.account_id))
    if region:
        stmt = stmt.where(Customer360.region == region)
    stmt = _scoped(stmt, scope).order_by(ChurnPrediction.churn_risk_score.desc(), Customer360.mrr_usd.desc())
    out = []
    for row in session.execute(stmt.limit(limit)):
        raising = [f for f in row.contributing_factors or [] if float(f.get("contribution") or 0) > 0]
        out.append(AtRiskAccount(row.account_id, row.account_name, row.region, row.segment, row.mrr_usd,
                                 row.churn_risk_score, row.risk_level, row.health_score,
                                 raising[0]["sentence"] if raising else None, row.recommended_action))
    return out


def account_contacts_engagement(session: Session, account_id: str, scope: Scope, *,
                                limit: int = 20) -> list[ContactEngagementItem]:
    """A customer's contacts by engagement, most engaged first; nothing outside the scope."""
    rows = session.execute(
        _scoped(select(ContactEngagement.contact_id, ContactEngagement.engagement_score, ContactEngagement.tier,
                       ContactEngagement.peer_percentile)
                .join(Customer360, Customer360.account_id == ContactEngagement.account_id)
                .where(ContactEngagement.account_id == account_id), scope)
        .order_by(ContactEngagement.engagement_score.desc()).limit(limit))
    return [ContactEngagementItem(*row) for row in rows]


def serving_churn_model(session: Session, min_auc: float) -> ChurnModelSummary | None:
    """The churn model that serves (newest with ROC-AUC >= min_auc), without its artefact."""
    row = session.execute(
        select(ChurnModel.version, ChurnModel.trained_at, ChurnModel.roc_auc, ChurnModel.metrics, ChurnModel.features)
        .where(ChurnModel.roc_auc >= min_auc).order_by(ChurnModel.version.desc()).limit(1)).one_or_none()
    return ChurnModelSummary(*row) if row else None
