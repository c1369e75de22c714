"""Gold tables of the lead and repeat-purchase job (etl.intelligence.leads) for the Leads and buyers page.

- gold.lead_score: every open lead with its propensity to convert and the reason in words;
- gold.repeat_purchase: every customer that ever bought, with BG/NBD P(alive), expected purchases
  in the next 13 weeks and the recency of its last expansion;
- gold.buying_decline: customers whose MRR fell or who stopped buying, with the reasons in words;
- gold.sales_model_run: one row per run, with the lead model's validation AUC and the BG/NBD fit.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Double, Index, Integer, Numeric, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base

Money = Numeric(18, 2)
Timestamp = DateTime(timezone=True)


class LeadScore(Base):
    """An open lead (new, working or qualified) ranked by its propensity to convert."""

    __tablename__ = "lead_score"
    __table_args__ = (Index("ix_lead_score_rank", "territory", "lead_score"), {"schema": "gold"})

    lead_id: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    lead_name: Mapped[str | None] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(Text)  # the owning rep's
    owner_user_id: Mapped[str | None] = mapped_column(Text)
    owner_name: Mapped[str | None] = mapped_column(Text)
    lead_source: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    engagement_tier: Mapped[str] = mapped_column(Text)
    # The existing customer the lead's work email belongs to, if any (its tier is a feature).
    matched_account_id: Mapped[str | None] = mapped_column(Text)
    conversion_probability: Mapped[float] = mapped_column(Double)
    lead_score: Mapped[float] = mapped_column(Double)  # 0-100
    reason: Mapped[str] = mapped_column(Text)
    scored_at: Mapped[datetime] = mapped_column(Timestamp)


class RepeatPurchase(Base):
    """A customer's repeat-purchase propensity from its buying history (won deals, new subscriptions)."""

    __tablename__ = "repeat_purchase"
    # The leading customers by expected purchases, and the scope's counts, read from the index alone.
    __table_args__ = (Index("ix_gold_repeat_purchase_rank", text("expected_purchases DESC"), "account_id",
                            postgresql_include=["territory", "p_alive"]),
                      {"schema": "gold"})

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_name: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(Text)
    purchases: Mapped[int] = mapped_column(Integer)  # weeks with a purchase
    first_purchase: Mapped[date | None] = mapped_column(Date)
    last_purchase: Mapped[date | None] = mapped_column(Date)
    frequency: Mapped[float] = mapped_column(Double)  # BTYD: repeat purchase weeks
    recency_weeks: Mapped[float] = mapped_column(Double)
    age_weeks: Mapped[float] = mapped_column(Double)
    p_alive: Mapped[float] = mapped_column(Double)
    expected_purchases: Mapped[float] = mapped_column(Double)  # in the next 13 weeks
    purchase_rank: Mapped[int] = mapped_column(Integer)
    last_expansion: Mapped[date | None] = mapped_column(Date)
    last_expansion_kind: Mapped[str | None] = mapped_column(Text)
    days_since_expansion: Mapped[int | None] = mapped_column(Integer)
    mrr_usd: Mapped[Decimal | None] = mapped_column(Money)
    scored_at: Mapped[datetime] = mapped_column(Timestamp)


class BuyingDecline(Base):
    """A customer whose MRR fell, who churned, or whose purchases stopped, with the reasons in words."""

    __tablename__ = "buying_decline"
    __table_args__ = {"schema": "gold"}

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_name: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(Text)
    decline_kind: Mapped[str] = mapped_column(Text)  # churned, contracted, stopped buying
    mrr_before_usd: Mapped[Decimal] = mapped_column(Money)  # MRR `window_days` before the as-of day
    mrr_now_usd: Mapped[Decimal] = mapped_column(Money)
    mrr_change_usd: Mapped[Decimal] = mapped_column(Money)
    last_purchase: Mapped[date | None] = mapped_column(Date)
    price_rises: Mapped[int] = mapped_column(Integer)  # in the window
    tickets: Mapped[int] = mapped_column(Integer)  # opened in the window
    churn_risk_score: Mapped[float | None] = mapped_column(Double)
    reasons: Mapped[str] = mapped_column(Text)
    scored_at: Mapped[datetime] = mapped_column(Timestamp)


class SalesModelRun(Base):
    """One run of the lead and repeat-purchase job: the lead model's validation and the BG/NBD fit."""

    __tablename__ = "sales_model_run"
    __table_args__ = {"schema": "gold"}

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[date] = mapped_column(Date)
    scored_at: Mapped[datetime] = mapped_column(Timestamp)
    lead_validation_auc: Mapped[float | None] = mapped_column(Double)
    lead_train_rows: Mapped[int] = mapped_column(Integer)
    lead_validation_rows: Mapped[int] = mapped_column(Integer)
    lead_split_at: Mapped[datetime | None] = mapped_column(Timestamp)
    lead_metrics: Mapped[dict[str, Any]] = mapped_column(JSONB)
    bgnbd: Mapped[dict[str, Any]] = mapped_column(JSONB)  # r, alpha, a, b, customers
    decline_window_days: Mapped[int] = mapped_column(Integer)
