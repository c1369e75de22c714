"""Gold: small per-day and per-customer tables that the pages read."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, Double, Index, Integer, Numeric, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base

Money = Numeric(18, 2)


class DailyKpi(Base):
    """Customers, contacts, MRR and revenue per day, region and segment (account type)."""

    __tablename__ = "daily_kpi"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    segment: Mapped[str] = mapped_column(Text, primary_key=True)
    active_customers: Mapped[int] = mapped_column(Integer, default=0)
    new_customers: Mapped[int] = mapped_column(Integer, default=0)
    churned_customers: Mapped[int] = mapped_column(Integer, default=0)
    active_contacts: Mapped[int] = mapped_column(Integer, default=0)
    mrr_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    invoiced_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    collected_usd: Mapped[Decimal] = mapped_column(Money, default=0)


class LeadsDaily(Base):
    """New leads per day, region and lead source."""

    __tablename__ = "leads_daily"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    lead_source: Mapped[str] = mapped_column(Text, primary_key=True)
    new_leads: Mapped[int] = mapped_column(Integer, default=0)
    converted_leads: Mapped[int] = mapped_column(Integer, default=0)


class Campaign(Base):
    """Campaign dimension, with its cost in USD."""

    __tablename__ = "campaign"
    __table_args__ = {"schema": "gold"}

    campaign_id: Mapped[str] = mapped_column(Text, primary_key=True)
    campaign_name: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    objective: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    cost_usd: Mapped[Decimal | None] = mapped_column(Money)


class CampaignDaily(Base):
    """Send funnel per day, campaign, variant and recipient region (by send date)."""

    __tablename__ = "campaign_daily"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(Text, primary_key=True)
    variant: Mapped[str] = mapped_column(Text, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    read: Mapped[int] = mapped_column(Integer, default=0)
    replied: Mapped[int] = mapped_column(Integer, default=0)


class SupportDaily(Base):
    """Tickets opened per day and region, with every first-response time for exact medians."""

    __tablename__ = "support_daily"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    tickets_opened: Mapped[int] = mapped_column(Integer, default=0)
    tickets_responded: Mapped[int] = mapped_column(Integer, default=0)
    sla_met: Mapped[int] = mapped_column(Integer, default=0)
    sla_breached: Mapped[int] = mapped_column(Integer, default=0)
    # One element per responded ticket: a day x region row stays small, and medians stay exact.
    first_response_minutes: Mapped[list[float]] = mapped_column(ARRAY(Double), default=list)


class Customer360(Base):
    """One row per account: the figures its 360 view and the top-account lists read."""

    __tablename__ = "customer_360"
    __table_args__ = (
        Index("ix_customer_360_region_mrr", "region", "mrr_usd"),
        {"schema": "gold"},
    )

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_name: Mapped[str] = mapped_column(Text)
    parent_account_id: Mapped[str | None] = mapped_column(Text)
    segment: Mapped[str] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(Text)
    owner_user_id: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    churned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mrr_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    arr_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    active_services: Mapped[int] = mapped_column(Integer, default=0)
    active_contacts: Mapped[int] = mapped_column(Integer, default=0)
    open_tickets: Mapped[int] = mapped_column(Integer, default=0)
    avg_first_response_minutes: Mapped[float | None] = mapped_column(Double)
    overdue_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    last_interaction_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
