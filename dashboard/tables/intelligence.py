"""Tables of the churn, health, engagement, lifetime-value, next-best-action and alert jobs.

The jobs in etl.intelligence write them; pages read them through dashboard.queries.intelligence.
Every gold table here is keyed by the customer id of gold.customer_360 (the master account id).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base

Money = Numeric(18, 2)
Timestamp = DateTime(timezone=True)

ALERT_KINDS = ("sla_breach", "payment_overdue", "renewal_due", "engagement_drop", "churn_risk_jump")
ALERT_STATUSES = ("open", "acknowledged", "resolved")
PRIORITIES = ("HIGH", "MEDIUM", "LOW")
# open: waiting for someone; scheduled/executed: acted on; dismissed: declined by a person;
# expired: its condition cleared before anyone acted.
ACTION_STATUSES = ("open", "scheduled", "executed", "dismissed", "expired")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ChurnModel(Base):
    """Model registry: every trained churn model with its data window, features and metrics.

    The newest model whose validation ROC-AUC reaches C360_CHURN_MIN_AUC serves.
    """

    __tablename__ = "churn_model"
    __table_args__ = {"schema": "app"}

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    trained_by: Mapped[str] = mapped_column(Text, default="")
    data_first_day: Mapped[date] = mapped_column(Date)  # earliest training cut-off
    data_last_day: Mapped[date] = mapped_column(Date)  # last day whose data the labels used
    train_cutoffs: Mapped[list[date]] = mapped_column(ARRAY(Date))
    validation_cutoff: Mapped[date | None] = mapped_column(Date)
    features: Mapped[list[str]] = mapped_column(ARRAY(Text))
    roc_auc: Mapped[float | None] = mapped_column(Double)  # validation, copied from metrics for the serving rule
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    artefact: Mapped[bytes] = mapped_column(LargeBinary)


class ChurnPrediction(Base):
    """The serving model's churn prediction per customer, with its top factors."""

    __tablename__ = "churn_prediction"
    __table_args__ = (
        CheckConstraint(_in("risk_level", PRIORITIES), name="risk_level"),
        Index("ix_churn_prediction_score", text("churn_risk_score DESC")),
        Index("ix_churn_prediction_scored_at", "scored_at"),  # the newest scoring, read by the pages
        {"schema": "gold"},
    )

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    churn_probability: Mapped[float] = mapped_column(Double)  # 0-1, within 90 days
    churn_risk_score: Mapped[float] = mapped_column(Double)  # 0-100
    previous_churn_risk_score: Mapped[float | None] = mapped_column(Double)  # the score the run before
    risk_level: Mapped[str] = mapped_column(Text)  # HIGH, MEDIUM, LOW
    # [{feature, label, direction, contribution, sentence}], strongest first
    contributing_factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    recommended_action: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[int] = mapped_column(Integer)
    scored_at: Mapped[datetime] = mapped_column(Timestamp)


class AccountHealth(Base):
    """Health score (0-100) per customer with its four weighted component scores."""

    __tablename__ = "account_health"
    # The accounts of one band (the Critical ones among a scope's renewals) without reading every score.
    __table_args__ = (Index("ix_account_health_band", "health_band", "account_id"), {"schema": "gold"})

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    health_score: Mapped[float] = mapped_column(Double)
    health_band: Mapped[str] = mapped_column(Text)  # Healthy, At-Risk, Critical
    payment_score: Mapped[float] = mapped_column(Double)  # weight 30 %
    support_score: Mapped[float] = mapped_column(Double)  # weight 25 %
    usage_score: Mapped[float] = mapped_column(Double)  # weight 25 %
    engagement_component: Mapped[float] = mapped_column(Double)  # weight 20 %
    scored_at: Mapped[datetime] = mapped_column(Timestamp)


class EngagementParts:
    """The 0-1 engagement score, its tier and its three parts (see models.engagement)."""

    engagement_score: Mapped[float] = mapped_column(Double)
    tier: Mapped[str] = mapped_column(Text)  # Potential, Watch List, Alert
    recency: Mapped[float] = mapped_column(Double)
    frequency: Mapped[float] = mapped_column(Double)
    depth: Mapped[float] = mapped_column(Double)


class AccountEngagement(EngagementParts, Base):
    """Engagement radar per customer: 0-1 score, tier, drop flag and peer-group standing."""

    __tablename__ = "account_engagement"
    __table_args__ = (
        # The Engagement radar's grid of a tier, most engaged first, read in order (no sort of a large book).
        Index("ix_account_engagement_tier_score", "tier", text("engagement_score DESC"), "account_id"),
        {"schema": "gold"},
    )

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    previous_engagement_score: Mapped[float | None] = mapped_column(Double)  # 30 days earlier
    sharp_drop: Mapped[bool] = mapped_column(Boolean, default=False)
    peer_group: Mapped[str] = mapped_column(Text)  # segment / region / size band (or segment alone)
    peer_percentile: Mapped[float] = mapped_column(Double)  # 0-100 within the peer group
    peer_median: Mapped[float] = mapped_column(Double)
    scored_at: Mapped[datetime] = mapped_column(Timestamp)


class ContactEngagement(EngagementParts, Base):
    """Engagement radar per contact (master person), with the customer it belongs to."""

    __tablename__ = "contact_engagement"
    __table_args__ = (
        Index("ix_contact_engagement_account", "account_id", text("engagement_score DESC")),
        Index("ix_contact_engagement_tier_score", "tier", text("engagement_score DESC"), "contact_id"),
        {"schema": "gold"},
    )

    contact_id: Mapped[str] = mapped_column(Text, primary_key=True)  # silver.contact_master.master_contact_id
    account_id: Mapped[str] = mapped_column(Text)
    peer_percentile: Mapped[float] = mapped_column(Double)  # among contacts of like customers
    scored_at: Mapped[datetime] = mapped_column(Timestamp)
    previous_engagement_score: Mapped[float | None] = mapped_column(Double)  # 30 days earlier
    # The master contact's own CRM row, so pages read gold only (masked by MaskPolicy when shown).
    contact_name: Mapped[str | None] = mapped_column(Text)
    job_title: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)


class EngagementBand(Base):
    """How many customers and contacts of each territory have a score in each band of 0.01 (band 1:
    0-0.01, ..., band 100: 0.99-1, a score of 1 included), per tier: the Engagement radar's tiers and
    distribution, read per territory as the daily KPIs are (accounts assigned by name are not counted
    in a territory's totals). Written by the scoring job from gold.account_engagement and
    gold.contact_engagement, with the customer's territory from gold.account_book ('Unknown' if none)."""

    __tablename__ = "engagement_band"
    __table_args__ = {"schema": "gold"}

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)  # account or contact
    band: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-100
    tier: Mapped[str] = mapped_column(Text, primary_key=True)
    members: Mapped[int] = mapped_column(Integer)  # customers or contacts


class EngagementHistory(Base):
    """Each customer's engagement score and its parts per data day, written by every scoring run
    (the as-of day, and the day DROP_LOOKBACK_DAYS before it when not already kept) and kept
    HISTORY_DAYS: what fell in a sharp drop, and since when."""

    __tablename__ = "engagement_history"
    # The newest day kept (the page's as-of day) and the days pruned, without reading the whole table.
    __table_args__ = (Index("ix_engagement_history_as_of", "as_of"), {"schema": "gold"})

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    engagement_score: Mapped[float] = mapped_column(Double)
    tier: Mapped[str] = mapped_column(Text)
    recency: Mapped[float] = mapped_column(Double)
    frequency: Mapped[float] = mapped_column(Double)
    depth: Mapped[float] = mapped_column(Double)


class CustomerLifetimeValue(Base):
    """Lifetime value per customer: revenue so far plus projected 12- and 36-month value (USD)."""

    __tablename__ = "clv"
    __table_args__ = {"schema": "gold"}

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    historical_revenue_usd: Mapped[Decimal] = mapped_column(Money)
    projected_12m_usd: Mapped[Decimal | None] = mapped_column(Money)
    projected_36m_usd: Mapped[Decimal | None] = mapped_column(Money)
    clv_usd: Mapped[Decimal] = mapped_column(Money)  # historical + projected 36 months
    p_alive: Mapped[float | None] = mapped_column(Double)
    scored_at: Mapped[datetime] = mapped_column(Timestamp)


class NextBestAction(Base):
    """Recommended actions per customer, from the rules file and from its churn factors.

    `condition_open` stays true while the rule keeps firing; one such row per customer and rule,
    so an action already scheduled or executed is not raised again until its condition clears.
    """

    __tablename__ = "next_best_action"
    __table_args__ = (
        CheckConstraint(_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(_in("status", ACTION_STATUSES), name="status"),
        CheckConstraint(_in("action_type", ("Retention", "Growth", "Support", "Billing")), name="action_type"),
        Index("uq_next_best_action_open_condition", "customer_id", "rule_id", unique=True,
              postgresql_where=text("condition_open")),
        Index("ix_next_best_action_customer", "customer_id", "status"),
        # The open Growth actions, summed per customer for Strategy's cross-sell potential.
        Index("ix_next_best_action_open_growth", "customer_id", "estimated_impact_revenue_usd",
              postgresql_where=text("status = 'open' AND action_type = 'Growth'")),
        {"schema": "gold"},
    )

    recommendation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    customer_id: Mapped[str] = mapped_column(Text)
    rule_id: Mapped[str] = mapped_column(Text)  # a rule of the rules file, or factor:<feature>
    priority: Mapped[str] = mapped_column(Text)
    action_type: Mapped[str] = mapped_column(Text)
    action_title: Mapped[str] = mapped_column(Text)
    action_description: Mapped[str] = mapped_column(Text)
    expected_outcome: Mapped[str] = mapped_column(Text)
    estimated_impact_revenue_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    status: Mapped[str] = mapped_column(Text, default="open")
    condition_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    acted_by: Mapped[str | None] = mapped_column(Text)
    acted_at: Mapped[datetime | None] = mapped_column(Timestamp)
    outcome_status: Mapped[str | None] = mapped_column(Text)
    # When scheduled: the day it is due and who owns it (an app user's email).
    scheduled_for: Mapped[date | None] = mapped_column(Date)
    owner: Mapped[str | None] = mapped_column(Text)


class ActionExecution(Base):
    """Who scheduled or executed a recommended action, when, and with what outcome."""

    __tablename__ = "action_execution"
    __table_args__ = (
        CheckConstraint(_in("action", ("scheduled", "executed", "dismissed")), name="action"),
        Index("ix_action_execution_recommendation", "recommendation_id"),
        Index("ix_action_execution_customer", "customer_id"),  # a customer's journey lists its actions
        {"schema": "app"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    recommendation_id: Mapped[str] = mapped_column(Text)
    customer_id: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)  # scheduled, executed, dismissed
    actor: Mapped[str] = mapped_column(Text)
    acted_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    outcome_status: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    scheduled_for: Mapped[date | None] = mapped_column(Date)
    owner: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    """Alerts per customer; one not-yet-resolved alert per customer and kind."""

    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint(_in("kind", ALERT_KINDS), name="kind"),
        CheckConstraint(_in("status", ALERT_STATUSES), name="status"),
        CheckConstraint(_in("severity", PRIORITIES), name="severity"),
        Index("uq_alert_unresolved_kind", "account_id", "kind", unique=True,
              postgresql_where=text("status <> 'resolved'")),
        Index("ix_alert_status_opened", "status", text("opened_at DESC")),
        Index("ix_alert_status_severity", "status", "severity", text("opened_at DESC"), "alert_id"),
        {"schema": "gold"},
    )

    alert_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(Text)  # HIGH, MEDIUM, LOW
    status: Mapped[str] = mapped_column(Text, default="open")
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp)
    acknowledged_by: Mapped[str | None] = mapped_column(Text)
