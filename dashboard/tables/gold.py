"""Gold: small per-day and per-customer tables that the pages read."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, Double, Index, Integer, Numeric, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base

Money = Numeric(18, 2)


class KpiFigures:
    """The daily customer, contact, MRR and revenue figures shared by the daily KPI tables."""

    active_customers: Mapped[int] = mapped_column(Integer, default=0)
    new_customers: Mapped[int] = mapped_column(Integer, default=0)
    churned_customers: Mapped[int] = mapped_column(Integer, default=0)
    active_contacts: Mapped[int] = mapped_column(Integer, default=0)
    mrr_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    invoiced_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    collected_usd: Mapped[Decimal] = mapped_column(Money, default=0)


class DailyKpi(KpiFigures, Base):
    """Customers, contacts, MRR and revenue per day, region and segment (account type)."""

    __tablename__ = "daily_kpi"
    # The regions on offer are read by skipping through this index (dashboard.queries.executive.regions).
    __table_args__ = (Index("ix_daily_kpi_region", "region"), {"schema": "gold"})

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    segment: Mapped[str] = mapped_column(Text, primary_key=True)


class LeadsDaily(Base):
    """New leads per day, region and lead source."""

    __tablename__ = "leads_daily"
    __table_args__ = (Index("ix_leads_daily_region", "region"), {"schema": "gold"})

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
    """One row per customer (master account): the figures its 360 view and the top-account lists read."""

    __tablename__ = "customer_360"
    __table_args__ = (
        Index("ix_customer_360_region_mrr", "region", "mrr_usd"),
        # Each request of an account or sales manager reads their CRM book: owned accounts, region's territories.
        Index("ix_customer_360_owner", "owner_user_id", "account_id"),
        Index("ix_customer_360_region_territory", "region", "territory"),
        # Account lists and exports by name: read in order instead of sorting every customer.
        Index("ix_customer_360_name", "account_name", "account_id"),
        # The largest paying customers (Strategy's concentration): read in order, not sorted.
        Index("ix_customer_360_paying_mrr", text("mrr_usd DESC"), "account_id", postgresql_where=text("mrr_usd > 0")),
        {"schema": "gold"},
    )

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)  # silver.account_master.master_account_id
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
    mrr_usd_year_ago: Mapped[Decimal] = mapped_column(Money, default=0)  # 365 days before as-of, at that day's rate
    mrr_yoy_growth_pct: Mapped[float | None] = mapped_column(Double)  # empty when there was no MRR a year ago
    # The regional accounts identity resolution linked into this customer, their regions, and
    # the weakest link's confidence (100 for a lone account).
    regional_account_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    regions: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    identity_confidence: Mapped[int] = mapped_column(Integer, default=100)
    # Filled by the intelligence jobs (churn, health, engagement, lifetime value); empty until then.
    churn_risk_score: Mapped[float | None] = mapped_column(Double)
    risk_level: Mapped[str | None] = mapped_column(Text)
    health_score: Mapped[float | None] = mapped_column(Double)
    engagement_score: Mapped[float | None] = mapped_column(Double)
    clv_usd: Mapped[Decimal | None] = mapped_column(Money)


class DailyKpiTerritory(KpiFigures, Base):
    """gold.daily_kpi split by the account's territory too ('Unknown' when empty)."""

    __tablename__ = "daily_kpi_territory"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    segment: Mapped[str] = mapped_column(Text, primary_key=True)


class PipelineMonthly(Base):
    """Deals per month (of the close date), stage, account territory and owning rep."""

    __tablename__ = "pipeline_monthly"
    __table_args__ = {"schema": "gold"}

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month
    stage: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    owner_user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    opportunities: Mapped[int] = mapped_column(Integer, default=0)
    amount_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    weighted_amount_usd: Mapped[Decimal] = mapped_column(Money, default=0)  # amount x probability
    won: Mapped[int] = mapped_column(Integer, default=0)
    lost: Mapped[int] = mapped_column(Integer, default=0)
    avg_cycle_days: Mapped[float | None] = mapped_column(Double)  # closed deals: creation to close


class SupportHourly(Base):
    """Tickets and conversations per hour opened, agent and channel (`kind` says which)."""

    __tablename__ = "support_hourly"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0-23, UTC
    agent_id: Mapped[str] = mapped_column(Text, primary_key=True)  # 'Unassigned' when empty
    channel: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)  # ticket or conversation
    opened: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    first_response_minutes_sum: Mapped[float] = mapped_column(Double, default=0)
    first_response_count: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    sla_met: Mapped[int] = mapped_column(Integer, default=0)
    sla_breached: Mapped[int] = mapped_column(Integer, default=0)
    csat_sum: Mapped[int] = mapped_column(Integer, default=0)
    csat_count: Mapped[int] = mapped_column(Integer, default=0)


class CampaignHourly(Base):
    """Send funnel per campaign, variant, hour sent and channel."""

    __tablename__ = "campaign_hourly"
    __table_args__ = {"schema": "gold"}

    campaign_id: Mapped[str] = mapped_column(Text, primary_key=True)
    variant: Mapped[str] = mapped_column(Text, primary_key=True)
    sent_hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    channel: Mapped[str] = mapped_column(Text, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    read: Mapped[int] = mapped_column(Integer, default=0)
    replied: Mapped[int] = mapped_column(Integer, default=0)


class BillingAgeing(Base):
    """Overdue and not-yet-due unpaid invoices per account and age bucket, in USD at the as-of rate."""

    __tablename__ = "billing_ageing"
    __table_args__ = {"schema": "gold"}

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    bucket: Mapped[str] = mapped_column(Text, primary_key=True)  # current, 1-30, 31-60, 61-90, 90+
    invoices: Mapped[int] = mapped_column(Integer, default=0)
    amount_usd: Mapped[Decimal] = mapped_column(Money, default=0)


class RegionalMonthly(Base):
    """Accounts, MRR and revenue per region and month (month-end stock figures)."""

    __tablename__ = "regional_monthly"
    __table_args__ = {"schema": "gold"}

    region: Mapped[str] = mapped_column(Text, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month
    active_customers: Mapped[int] = mapped_column(Integer, default=0)  # on the month's last day (or as-of)
    new_customers: Mapped[int] = mapped_column(Integer, default=0)
    churned_customers: Mapped[int] = mapped_column(Integer, default=0)
    mrr_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    invoiced_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    collected_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    mrr_growth_pct: Mapped[float | None] = mapped_column(Double)  # vs the previous month


class TimelineEvent(Base):
    """Customer journey events (requirements 003, prompt 7), newest first per customer."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        Index("ix_timeline_events_customer_date", "customer_id", text("event_date DESC")),
        {"schema": "gold"},
    )

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    customer_id: Mapped[str] = mapped_column(Text)  # the account id
    event_type: Mapped[str] = mapped_column(Text)  # RENEWAL, SUPPORT, BILLING, MEETING, CHURN
    event_title: Mapped[str] = mapped_column(Text)
    event_description: Mapped[str | None] = mapped_column(Text)
    event_date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    severity: Mapped[str] = mapped_column(Text)  # HIGH, MEDIUM, LOW, INFO
    related_amount: Mapped[Decimal | None] = mapped_column(Money)  # USD
    status: Mapped[str] = mapped_column(Text)  # OPEN, RESOLVED, SCHEDULED


class SubscriptionMrr(Base):
    """MRR defined once: each subscription that counts on at least one day, its MRR in its own
    currency and the days it counts (active_from <= day < active_until; no end = still running).

    The view gold.subscription_mrr_daily (migration 0016: day, subscription_id, account_id,
    currency, usd_per_unit, mrr_usd) turns it into a subscription's MRR in USD on each day of the
    data window at that day's rate (silver.fx_rates_daily); every MRR figure in gold, the insight
    jobs and the churn features reads one of the two.
    """

    __tablename__ = "subscription_mrr"
    __table_args__ = (Index("ix_subscription_mrr_account", "account_id"), {"schema": "gold"})

    subscription_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text)  # the regional account
    currency: Mapped[str] = mapped_column(Text)
    mrr: Mapped[Decimal] = mapped_column(Numeric)  # in `currency`, as silver has it (gold rounds USD)
    active_from: Mapped[date] = mapped_column(Date)
    active_until: Mapped[date | None] = mapped_column(Date)  # first day no longer counted


class AccountScores(Base):
    """Per-customer scores written by the intelligence jobs; gold.customer_360 copies them in.

    Kept apart from customer_360 so a data refresh, which rebuilds customer_360, never loses them.
    """

    __tablename__ = "account_scores"
    __table_args__ = {"schema": "gold"}

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)  # gold.customer_360.account_id
    churn_risk_score: Mapped[float | None] = mapped_column(Double)  # 0-100
    risk_level: Mapped[str | None] = mapped_column(Text)  # HIGH, MEDIUM, LOW
    health_score: Mapped[float | None] = mapped_column(Double)  # 0-100
    engagement_score: Mapped[float | None] = mapped_column(Double)  # 0-1
    clv_usd: Mapped[Decimal | None] = mapped_column(Money)
    scored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# What a search term is: a customer's name, master id or regional account id, or (searched only
# by roles holding view_pii) a contact's email or phone digits.
SEARCH_KINDS: tuple[str, ...] = ("id", "regional_id", "name", "email", "phone")
PII_SEARCH_KINDS: frozenset[str] = frozenset({"email", "phone"})


class AccountSearch(Base):
    """Every term a customer (master account) can be found by, lower case (phones as digits), with
    its trigrams: the GIN index on `grams` finds the terms containing a fragment the way pg_trgm
    does, with PostgreSQL's built-in array operators (the embedded server ships no pg_trgm), and the
    pattern index on `term` answers exact and prefix matches. Migration 0018 defines
    gold.search_grams(text), which the ETL and the queries use to cut a text into trigrams.
    Rows are written in (kind, term) order, so a fragment's matches lie on few pages."""

    __tablename__ = "account_search"
    __table_args__ = (
        Index("ix_account_search_grams", "grams", postgresql_using="gin"),
        Index("ix_account_search_term", "term", postgresql_ops={"term": "text_pattern_ops"}),
        {"schema": "gold"},
    )

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)  # gold.customer_360.account_id
    kind: Mapped[str] = mapped_column(Text, primary_key=True)  # one of SEARCH_KINDS
    term: Mapped[str] = mapped_column(Text, primary_key=True)
    grams: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # The customer's own, as gold.customer_360 has them: matches are scoped, narrowed and ranked
    # here, and only the page shown is joined to customer_360.
    account_name: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(Text)


class AccountBook(Base):
    """Per customer, what an account manager's book needs beyond gold.customer_360: the next
    renewal and the product lines it lacks that its peers hold (etl/gold/account_book.sql).

    Product gaps against peers: the product lines (silver.products.product_family) held, on the
    as-of day, by at least half of the other active customers of the same segment and company
    size band (at least 5 of them) that this customer does not hold. Upsell potential combines
    them with the customer's open Growth next-best actions (dashboard.queries.book).
    """

    __tablename__ = "account_book"
    __table_args__ = (
        # The book's grid: largest MRR first, read in order instead of sorting a large book.
        Index("ix_account_book_active_mrr", text("mrr_usd DESC"), "account_name", "account_id",
              postgresql_where=text("active")),
        # Strategy's cross-sell potential: the customers with product gaps in its order, read from the top,
        # and the columns it ranks the customers with Growth actions by, read without the wide rows.
        Index("ix_account_book_active_gaps", text("gap_count DESC"), text("mrr_usd DESC"), "account_id",
              postgresql_where=text("active AND gap_count > 0")),
        Index("ix_account_book_active_ranking", "account_id", postgresql_include=["territory", "gap_count", "mrr_usd"],
              postgresql_where=text("active")),
        # Renewals due: the active customers renewing within a few months.
        Index("ix_account_book_active_renewal", "next_renewal_date",
              postgresql_include=["account_id", "mrr_usd", "risk_level", "territory"], postgresql_where=text("active")),
        # ... and those of a few territories, without reading every territory's renewals of the window.
        Index("ix_account_book_territory_renewal", "territory", "next_renewal_date", postgresql_where=text("active")),
        {"schema": "gold"},
    )

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)  # gold.customer_360.account_id
    # The nearest of each counting subscription's next start-date anniversary and its end date.
    next_renewal_date: Mapped[date | None] = mapped_column(Date)
    product_lines: Mapped[list[str]] = mapped_column(ARRAY(Text))  # held on the as-of day, sorted
    peer_group: Mapped[str] = mapped_column(Text)  # "<segment> / <size band>"
    peer_customers: Mapped[int] = mapped_column(Integer)  # the other active customers of the group
    gap_lines: Mapped[list[str]] = mapped_column(ARRAY(Text))  # product gaps against peers, sorted
    gap_count: Mapped[int] = mapped_column(Integer)
    # Copied from gold.customer_360 (risk_level kept in step by the scoring job), so the book's summary,
    # filters and order read one narrow table: customer_360's rows are wide, and a large book's scan of
    # them alone took longer than a page's callback may.
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    account_name: Mapped[str] = mapped_column(Text, server_default="")
    territory: Mapped[str | None] = mapped_column(Text)
    mrr_usd: Mapped[Decimal] = mapped_column(Money, server_default="0")
    risk_level: Mapped[str | None] = mapped_column(Text)
    last_interaction_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RetentionMonthly(Base):
    """Per month, the trailing 12 months ending on the month's last day (the as-of day for the
    current month), per region x territory x segment of the customer (master account, as
    gold.customer_360 has it) and per product line (etl/gold/retention_monthly.sql).

    Rows with product_line ALL_PRODUCTS count customers; the other rows count a customer once per
    product line (silver.products.product_family) it holds, so they must not be added up across
    lines. "Active on a day" means holding a subscription that counts that day
    (gold.subscription_mrr); MRR is gold.subscription_mrr_daily's on that day.
      start_customers / end_customers: active on window_start / on window_end;
      retained_customers: active on both days (logo retention = retained / start);
      start_mrr_usd / end_mrr_usd: MRR on window_start / window_end of every customer counted then;
      retained_mrr_usd: MRR on window_end of the customers active on window_start, expansion and
        contraction included, customers new in the window excluded (NRR = retained / start MRR);
      invoiced_usd, tickets (customer rows only): non-void invoices issued and tickets opened in the
        window (window_start < day <= window_end) by the group's customers, whatever their status.
    Why customers churn (customer rows only): the customers active at window_start, split into churned
    (not active at window_end) and retained, each side with, over the window:
      *_price_rises: customers with a price increase (silver.price_changes, new MRR above old) effective;
      *_tickets, *_sla_breaches: tickets opened, and of them answered after their SLA target or still
        unanswered once it passed (gold.support_daily's rule);
      *_csat_sum / *_csat_responses: the tickets' CSAT scores (1-5);
      *_competitor_mentions: customers who wrote at least one inbound message naming competitor activity
        (the phrases in etl/gold/retention_monthly.sql).
    """

    __tablename__ = "retention_monthly"
    __table_args__ = {"schema": "gold"}

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the window's last month
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)  # 'Unknown' when the CRM has none
    segment: Mapped[str] = mapped_column(Text, primary_key=True)
    product_line: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    start_customers: Mapped[int] = mapped_column(Integer, default=0)
    end_customers: Mapped[int] = mapped_column(Integer, default=0)
    retained_customers: Mapped[int] = mapped_column(Integer, default=0)
    start_mrr_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    end_mrr_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    retained_mrr_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    invoiced_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    churned_price_rises: Mapped[int] = mapped_column(Integer, default=0)
    retained_price_rises: Mapped[int] = mapped_column(Integer, default=0)
    churned_tickets: Mapped[int] = mapped_column(Integer, default=0)
    retained_tickets: Mapped[int] = mapped_column(Integer, default=0)
    churned_sla_breaches: Mapped[int] = mapped_column(Integer, default=0)
    retained_sla_breaches: Mapped[int] = mapped_column(Integer, default=0)
    churned_csat_sum: Mapped[float] = mapped_column(Double, default=0)
    churned_csat_responses: Mapped[int] = mapped_column(Integer, default=0)
    retained_csat_sum: Mapped[float] = mapped_column(Double, default=0)
    retained_csat_responses: Mapped[int] = mapped_column(Integer, default=0)
    churned_competitor_mentions: Mapped[int] = mapped_column(Integer, default=0)
    retained_competitor_mentions: Mapped[int] = mapped_column(Integer, default=0)
    # Satisfaction (customer rows only): survey responses answered in the window by the group's customers.
    nps_sum: Mapped[float] = mapped_column(Double, default=0)
    nps_responses: Mapped[int] = mapped_column(Integer, default=0)
    csat_sum: Mapped[float] = mapped_column(Double, default=0)
    csat_responses: Mapped[int] = mapped_column(Integer, default=0)
    # Sums for Pearson's r between a customer's average NPS (CSAT) over the window, x, and its value, y,
    # over the customers active at window_start with MRR then and with that score: n, sum of x, of x²,
    # of y, of x·y and (growth) of y², for y = retained (1 or 0; y² = y) and y = MRR growth (end MRR
    # over start MRR less 1, both in cents). Sums add up across groups, so any scope's r is exact.
    nps_cohort_n: Mapped[int] = mapped_column(Integer, default=0)
    nps_cohort_x: Mapped[float] = mapped_column(Double, default=0)
    nps_cohort_xx: Mapped[float] = mapped_column(Double, default=0)
    nps_cohort_retained: Mapped[float] = mapped_column(Double, default=0)
    nps_cohort_x_retained: Mapped[float] = mapped_column(Double, default=0)
    nps_cohort_growth: Mapped[float] = mapped_column(Double, default=0)
    nps_cohort_growth_sq: Mapped[float] = mapped_column(Double, default=0)
    nps_cohort_x_growth: Mapped[float] = mapped_column(Double, default=0)
    csat_cohort_n: Mapped[int] = mapped_column(Integer, default=0)
    csat_cohort_x: Mapped[float] = mapped_column(Double, default=0)
    csat_cohort_xx: Mapped[float] = mapped_column(Double, default=0)
    csat_cohort_retained: Mapped[float] = mapped_column(Double, default=0)
    csat_cohort_x_retained: Mapped[float] = mapped_column(Double, default=0)
    csat_cohort_growth: Mapped[float] = mapped_column(Double, default=0)
    csat_cohort_growth_sq: Mapped[float] = mapped_column(Double, default=0)
    csat_cohort_x_growth: Mapped[float] = mapped_column(Double, default=0)


# gold.retention_monthly's product_line of the rows that count customers, all their lines together.
ALL_PRODUCTS = "All products"


class DailyKpiMasterTerritory(Base):
    """Customers, MRR and revenue per day and region x territory of the customer's MASTER account
    (etl/gold/daily_kpi_master_territory.sql): gold.daily_kpi_territory with the regional accounts
    that identity resolution linked across regions rolled up to their master, so a customer counts
    once, in its master account's region and territory ('Unknown' when empty).

    A customer is a master account (silver.account_master; an account without one is its own), as
    gold.customer_360 has it; a subscription of an account missing from silver counts as its own
    customer in 'Unknown'. Every region x territory of an account has a row on every day.
      active_customers: customers with at least one subscription of any of their regional accounts
        counting on the day (gold.subscription_mrr: active_from <= day < active_until);
      mrr_usd: the MRR in USD on the day of all their regional accounts' subscriptions
        (gold.subscription_mrr_daily, at the day's rate), as daily_kpi_territory adds it up;
      invoiced_usd: non-void invoices issued on the day by any of their regional accounts, in USD
        at the issue day's rate (silver.invoices.amount_usd).
    Summed over territories and days, MRR and revenue equal gold.daily_kpi_territory's; only where
    they count moves.
    """

    __tablename__ = "daily_kpi_master_territory"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    active_customers: Mapped[int] = mapped_column(Integer, default=0)
    mrr_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    invoiced_usd: Mapped[Decimal] = mapped_column(Money, default=0)


class ProductMixTerritory(Base):
    """Product lines held on the as-of day per region x territory of the customer's MASTER account
    ('Unknown' when empty), customers as in gold.customer_360 (etl/gold/product_mix_territory.sql).

    A customer holds a product line (silver.products.product_family) when one of its regional
    accounts' subscriptions of that line counts on the as-of day (gold.subscription_mrr), as
    gold.account_book's product_lines.
      customers: the customers holding the line; on the ALL_PRODUCTS row, those holding at least one
        line (the base of the shares; a customer holding several lines counts once there, so the
        other rows must not be added up across lines);
      mrr_usd: their MRR in USD on the as-of day (gold.subscription_mrr_daily) from the subscriptions
        of that line; on the ALL_PRODUCTS row, from every subscription counting that day.
    """

    __tablename__ = "product_mix_territory"
    __table_args__ = {"schema": "gold"}

    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    product_line: Mapped[str] = mapped_column(Text, primary_key=True)
    customers: Mapped[int] = mapped_column(Integer, default=0)
    mrr_usd: Mapped[Decimal] = mapped_column(Money, default=0)


class CustomerSummary(Base):
    """gold.customer_360 summed per region x territory x churn level x health band (x product line
    for CLV), for the pages that show totals of many customers (etl/gold/customer_summary.sql).

    Kept by the gold stage and again by the scoring job, which rewrites the scores it reads. Keys
    never empty: territory is '' for a customer without one (no data scope names '', as none
    matches a missing territory), risk_level and health_band '' for a customer not scored yet.
    health_band: Healthy at 80+, At-Risk 50-79, Critical below 50 (models.health).
    On ALL_PRODUCTS rows:
      active_customers, mrr_usd: the active customers (status 'active') and their current MRR;
      newly_high_customers: those of them whose last scoring moved them up into HIGH churn risk
        (gold.churn_prediction: HIGH now, score before below 70, models.churn.HIGH_RISK_MIN_SCORE);
      clv_customers, clv_usd: the active customers with a lifetime value, and its sum;
      gap_customers: the customers active in gold.account_book with a product gap against peers.
    On the rows of a product line: clv_customers and clv_usd of the active customers holding that
    line (gold.account_book.product_lines), so a customer counts in every line it holds; the other
    figures are 0.
    """

    __tablename__ = "customer_summary"
    __table_args__ = {"schema": "gold"}

    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    product_line: Mapped[str] = mapped_column(Text, primary_key=True)
    risk_level: Mapped[str] = mapped_column(Text, primary_key=True)
    health_band: Mapped[str] = mapped_column(Text, primary_key=True)
    active_customers: Mapped[int] = mapped_column(Integer, default=0)
    mrr_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    newly_high_customers: Mapped[int] = mapped_column(Integer, default=0)
    clv_customers: Mapped[int] = mapped_column(Integer, default=0)
    clv_usd: Mapped[Decimal] = mapped_column(Money, default=0)
    gap_customers: Mapped[int] = mapped_column(Integer, default=0)


# gold.churn_factor_territory's factor of the rows that count every HIGH-risk customer.
ALL_FACTORS = "All factors"


class ChurnFactorTerritory(Base):
    """The churn model's risk factors over today's HIGH-risk customers, per territory
    (etl/gold/churn_factor_territory.sql; kept by the gold stage and the scoring job).

    territory: the customer's in gold.customer_360, '' without one (or without a row there, as no
    data scope names ''); factor: a factor's label (its feature without one, '' with neither);
    customers: the HIGH-risk customers (gold.churn_prediction) with that factor raising their risk
    (contribution above zero); on the ALL_FACTORS row, every HIGH-risk customer of the territory
    (a row for every territory of gold.customer_360, 0 where none is).
    """

    __tablename__ = "churn_factor_territory"
    __table_args__ = {"schema": "gold"}

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    factor: Mapped[str] = mapped_column(Text, primary_key=True)
    customers: Mapped[int] = mapped_column(Integer, default=0)


class SalesOpportunity(Base):
    """One row per deal for the Sales page (etl/gold/sales_opportunity.sql), placed in the region and
    territory of its (regional) account ('Unknown' when empty), as gold.pipeline_monthly.
      amount_usd: silver.opportunities.amount_usd (at the close date's rate, the creation day's
        while it has none); weighted_amount_usd: amount_usd x probability / 100;
      product_line: the product family of the deal's largest line item ('Unknown' without one);
      cycle_days: closed deals, close date minus creation day;
      days_in_stage: open deals, the as-of day minus the day they entered their current stage;
      last_activity_day: the account's latest completed meeting or logged email up to the as-of day.
    """

    __tablename__ = "sales_opportunity"
    __table_args__ = (Index("ix_gold_sales_opportunity_territory_close", "territory", "close_date"),
                      Index("ix_gold_sales_opportunity_account", "account_id"),
                      # The open deals alone: the panels that read only them skip the closed history,
                      # and find what they sum and filter on in the index.
                      Index("ix_gold_sales_opportunity_open", "territory", "close_date",
                            postgresql_include=["amount_usd", "weighted_amount_usd", "created_day", "stage",
                                                "days_in_stage", "last_activity_day", "opportunity_id"],
                            postgresql_where=text("NOT is_closed")),
                      # A period's deals across every territory (a whole company's KPIs, quota attainment,
                      # the reps' leaderboard).
                      Index("ix_gold_sales_opportunity_close", "close_date",
                            postgresql_include=["is_won", "is_closed", "amount_usd", "cycle_days", "owner_user_id",
                                                "owner_name", "territory", "created_day"]),
                      # A territory's region in two probes (dashboard.queries.sales._scope_regions).
                      Index("ix_gold_sales_opportunity_territory_region", "territory", "region"),
                      # The funnel's cohort (deals created in the last year) read from the index alone.
                      Index("ix_gold_sales_opportunity_cohort", "territory", "created_day",
                            postgresql_include=["region", "is_won", "is_closed", "stage", "owner_user_id",
                                                "account_id"]),
                      {"schema": "gold"})

    opportunity_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(Text)
    owner_user_id: Mapped[str] = mapped_column(Text)
    owner_name: Mapped[str | None] = mapped_column(Text)
    opportunity_name: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(Text)
    product_line: Mapped[str] = mapped_column(Text)
    amount_usd: Mapped[Decimal | None] = mapped_column(Money)
    probability: Mapped[float | None] = mapped_column(Double)
    weighted_amount_usd: Mapped[Decimal | None] = mapped_column(Money)
    is_closed: Mapped[bool] = mapped_column(Boolean)
    is_won: Mapped[bool] = mapped_column(Boolean)
    created_day: Mapped[date | None] = mapped_column(Date)
    close_date: Mapped[date | None] = mapped_column(Date)
    cycle_days: Mapped[int | None] = mapped_column(Integer)
    stage_entered_day: Mapped[date | None] = mapped_column(Date)
    days_in_stage: Mapped[int | None] = mapped_column(Integer)
    last_activity_day: Mapped[date | None] = mapped_column(Date)
    loss_reason: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)


class SalesQuota(Base):
    """Each rep's quota per calendar quarter (silver.quotas) with the rep's name, region and territory
    (silver.users; 'Unknown' when empty), for quota attainment (etl/gold/sales_quota.sql)."""

    __tablename__ = "sales_quota"
    __table_args__ = {"schema": "gold"}

    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    quarter_start: Mapped[date] = mapped_column(Date, primary_key=True)
    rep_name: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(Text)
    quota_usd: Mapped[Decimal] = mapped_column(Money)


class RepActivityMonthly(Base):
    """Sales activity per rep and month (etl/gold/rep_activity_monthly.sql), counted in the territory and
    region of the account it was with ('Unknown' when empty): completed meetings (silver.meetings,
    outcome 'completed') and emails logged in the CRM (silver.emails), up to the as-of day."""

    __tablename__ = "rep_activity_monthly"
    # The leaderboard reads one quarter of the slice's territories.
    __table_args__ = (Index("ix_gold_rep_activity_monthly_month", "month", "territory"), {"schema": "gold"})

    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    meetings: Mapped[int] = mapped_column(Integer, default=0)
    emails: Mapped[int] = mapped_column(Integer, default=0)


class SupportCase(Base):
    """One row per ticket and per chat conversation (`kind`) for the Support pages
    (etl/gold/support_case.sql), in the region and territory of its account ('Unknown' when empty),
    with the agent's name and team ('Unassigned' without an agent):
      first_response_minutes: tickets, the source's; conversations, to the first agent message;
      resolution_minutes: opened to resolved (tickets) or closed (conversations);
      sla_met / sla_breached: tickets with an SLA target, as in gold.support_daily (a breach is a late
        first response, or none once the target passed by the end of the as-of day); empty otherwise;
      waiting_since: an open case waiting for an agent: a ticket with no first response since it
        was opened, a conversation since the first customer message after the last agent message;
      subject: a ticket's subject, a conversation's first customer message (its first 200 characters).
    """

    __tablename__ = "support_case"
    __table_args__ = (Index("ix_gold_support_case_opened_day", "opened_day"),
                      Index("ix_gold_support_case_account", "account_id", "opened_day"),
                      # The live queue reads the open cases alone.
                      Index("ix_gold_support_case_open", "territory", "opened_at", postgresql_where=text("is_open")),
                      # The Operations page's newest subjects per topic walk the cases newest first.
                      Index("ix_gold_support_case_newest", text("opened_day DESC"), text("opened_at DESC"), "case_id"),
                      {"schema": "gold"})

    kind: Mapped[str] = mapped_column(Text, primary_key=True)  # ticket or conversation
    case_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)  # 'Unknown' when empty
    severity: Mapped[str | None] = mapped_column(Text)  # tickets: P1..P4
    category: Mapped[str | None] = mapped_column(Text)  # tickets
    subject: Mapped[str | None] = mapped_column(Text)
    product_id: Mapped[str | None] = mapped_column(Text)
    product_name: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[str | None] = mapped_column(Text)
    agent_name: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_day: Mapped[date] = mapped_column(Date)
    opened_weekday: Mapped[int] = mapped_column(Integer)  # ISO: 1 Monday .. 7 Sunday, UTC
    opened_hour: Mapped[int] = mapped_column(Integer)  # 0-23, UTC
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_response_minutes: Mapped[float | None] = mapped_column(Double)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_minutes: Mapped[float | None] = mapped_column(Double)
    sla_minutes: Mapped[int | None] = mapped_column(Integer)
    sla_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_met: Mapped[bool | None] = mapped_column(Boolean)
    sla_breached: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str | None] = mapped_column(Text)
    is_open: Mapped[bool] = mapped_column(Boolean)
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    messages: Mapped[int] = mapped_column(Integer, default=0)  # conversations
    csat: Mapped[int | None] = mapped_column(Integer)
    is_escalated: Mapped[bool | None] = mapped_column(Boolean)
    reopen_count: Mapped[int | None] = mapped_column(Integer)  # tickets
    # A ticket whose subject the text job scored negative (gold.text_score): kept here by the gold build and
    # by the text job as it scores, so the complaints panel reads the cases alone.
    subject_negative: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class SupportAgent(Base):
    """Support agents with their team ('No team' when empty), for the agent filters and leaderboard."""

    __tablename__ = "support_agent"
    __table_args__ = {"schema": "gold"}

    agent_id: Mapped[str] = mapped_column(Text, primary_key=True)
    full_name: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean)


class SupportStaffingHourly(Base):
    """Agents at work per UTC day, hour and team (etl/gold/support_staffing_hourly.sql): an agent is
    at work in an hour when they sent a chat message, answered or resolved a ticket in it."""

    __tablename__ = "support_staffing_hourly"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    team: Mapped[str] = mapped_column(Text, primary_key=True)
    agents: Mapped[int] = mapped_column(Integer)


class SupportSlaDaily(Base):
    """First-response SLA met and breached per opening day, severity ('None' when empty), channel and team,
    company-wide (etl/gold/support_sla_daily.sql, from gold.support_case's tickets with an SLA target): the
    Queues page's SLA panel for a caller who sees every territory sums these instead of its tickets."""

    __tablename__ = "support_sla_daily"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    severity: Mapped[str] = mapped_column(Text, primary_key=True)
    channel: Mapped[str] = mapped_column(Text, primary_key=True)
    team: Mapped[str] = mapped_column(Text, primary_key=True)
    met: Mapped[int] = mapped_column(Integer)
    breached: Mapped[int] = mapped_column(Integer)


class SupportSpeed(Base):
    """Median and p90 first response and resolution minutes of every case, company-wide, for the Queues
    page's speed panel in its unfiltered views (etl/gold/support_speed.sql): per period of period_days
    (7 or 30 days to `as_of`, gold.daily_kpi's last day) and the same number of days before it
    (is_current false), overall (dimension 'all', member '') and per channel, team or agent (member the
    id, 'Unassigned' without an agent). Percentiles do not add up across territories or channels, so any
    other slice is worked out from gold.support_case on request."""

    __tablename__ = "support_speed"
    __table_args__ = {"schema": "gold"}

    period_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    is_current: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    dimension: Mapped[str] = mapped_column(Text, primary_key=True)
    member: Mapped[str] = mapped_column(Text, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(Text)
    cases: Mapped[int] = mapped_column(Integer)
    frt_median: Mapped[float | None] = mapped_column(Double)
    frt_p90: Mapped[float | None] = mapped_column(Double)
    resolution_median: Mapped[float | None] = mapped_column(Double)
    resolution_p90: Mapped[float | None] = mapped_column(Double)


class ProductCustomer(Base):
    """Each customer (regional account) running a product, for tickets per customer by product on
    the Operations page (etl/gold/product_customer.sql): from its first subscription's start to its
    last one's end (empty while one still runs), in the account's region and territory ('Unknown'
    when empty)."""

    __tablename__ = "product_customer"
    __table_args__ = {"schema": "gold"}

    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    product_name: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(Text)
    running_from: Mapped[date] = mapped_column(Date)
    running_until: Mapped[date | None] = mapped_column(Date)  # the last subscription's end date


class SupportProductRunning(Base):
    """Customers running each product per territory and region over the Operations page's periods (7, 30
    or 90 days to `as_of`, the support cases' last day): gold.product_customer counted once per refresh
    (etl/gold/support_product_running.sql) for tickets per customer by product, so a scope of territories
    sums a few rows. A customer sits in one territory, so the counts add up."""

    __tablename__ = "support_product_running"
    __table_args__ = {"schema": "gold"}

    period_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    product_name: Mapped[str | None] = mapped_column(Text)
    customers: Mapped[int] = mapped_column(Integer)


class OnboardingStage(Base):
    """One row per onboarding milestone (etl/gold/onboarding_stage.sql), for the Operations page's
    onboarding panel: the stage starts when the one before it completed (the first, kickoff, at the
    contract start: the account's first subscription start), so `days_taken` adds up to the days from
    contract start to go-live; `days_late` is the completion day less the planned day (negative when
    early); an open milestone has neither. Region and territory of the account ('Unknown' when empty)."""

    __tablename__ = "onboarding_stage"
    __table_args__ = {"schema": "gold"}

    milestone_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(Text)
    milestone: Mapped[str] = mapped_column(Text)
    sequence: Mapped[int | None] = mapped_column(Integer)
    owner_team: Mapped[str] = mapped_column(Text)  # 'Unknown' when empty
    started_on: Mapped[date | None] = mapped_column(Date)
    planned_date: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)  # UTC day of completed_at
    days_taken: Mapped[int | None] = mapped_column(Integer)
    days_late: Mapped[int | None] = mapped_column(Integer)
    is_open: Mapped[bool] = mapped_column(Boolean)
    account_churned: Mapped[bool] = mapped_column(Boolean)  # silver.accounts.churned_at set


class ContactDaily(Base):
    """New contacts per creation day (UTC) and their account's region and territory ('Unknown' when
    empty), for the Growth page (etl/gold/contact_daily.sql); contacts without a creation time are left out."""

    __tablename__ = "contact_daily"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    new_contacts: Mapped[int] = mapped_column(Integer, default=0)


class ContactCountry(Base):
    """Each contact's country, read from the country calling code of its phone number with the
    phonenumbers library by the gold stage (etl/gold/contact_country.py), never while a page waits.
    Unknown ('---') when the contact has no phone or one that is not a valid number. Holds no number."""

    __tablename__ = "contact_country"
    __table_args__ = {"schema": "gold"}

    contact_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(Text)
    country_iso2: Mapped[str | None] = mapped_column(Text)
    country_iso3: Mapped[str] = mapped_column(Text)  # '---' when unknown
    country_name: Mapped[str] = mapped_column(Text)


class ContactCountryTerritory(Base):
    """Contacts per country (gold.contact_country) and territory, for the Growth page's map and table."""

    __tablename__ = "contact_country_territory"
    __table_args__ = {"schema": "gold"}

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    country_iso3: Mapped[str] = mapped_column(Text, primary_key=True)
    region: Mapped[str] = mapped_column(Text)
    country_name: Mapped[str] = mapped_column(Text)
    contacts: Mapped[int] = mapped_column(Integer, default=0)


class CampaignReply(Base):
    """One row per replied campaign send (etl/gold/campaign_reply.sql), for the Campaigns page's
    conversions (an opportunity of the contact's account won within N days of the reply) and its
    high-intent contacts: the contact and its (regional) account, region and territory of the account
    ('Unknown' when empty). The reply is the send's replied_at, as the funnel counts it."""

    __tablename__ = "campaign_reply"
    __table_args__ = (Index("ix_gold_campaign_reply_contact", "contact_id"), {"schema": "gold"})

    send_id: Mapped[str] = mapped_column(Text, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(Text)
    variant: Mapped[str] = mapped_column(Text)  # 'Unknown' when empty
    channel: Mapped[str] = mapped_column(Text)  # the send's, else the campaign's
    contact_id: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(Text)
    replied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replied_day: Mapped[date] = mapped_column(Date)  # UTC


class ReceivableInvoice(Base):
    """One row per unpaid invoice on the as-of day (the invoices behind gold.billing_ageing), in USD at
    the as-of rate with its own currency kept, its days overdue and bucket, its account's segment and
    account manager, and its customer with the customer's region and territory (so every invoice of a
    customer sits in one territory): the Receivables page's grids read this, never silver."""

    __tablename__ = "receivable_invoice"
    __table_args__ = (
        # The overdue invoices grid, most overdue first: read in order, every overdue bucket or one.
        Index("ix_receivable_invoice_overdue", text("days_overdue DESC"), text("amount_usd DESC"), "invoice_id",
              postgresql_where=text("bucket IN ('1-30', '31-60', '61-90', '90+')")),
        Index("ix_receivable_invoice_bucket_overdue", "bucket", text("days_overdue DESC"), text("amount_usd DESC"),
              "invoice_id", postgresql_where=text("bucket IN ('1-30', '31-60', '61-90', '90+')")),
        # A caller whose scope names customers reads theirs only.
        Index("ix_receivable_invoice_customer", "customer_id"),
        {"schema": "gold"},
    )

    invoice_id: Mapped[str] = mapped_column(Text, primary_key=True)
    invoice_number: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str] = mapped_column(Text)  # the regional account invoiced
    account_name: Mapped[str] = mapped_column(Text)
    customer_id: Mapped[str] = mapped_column(Text)  # its master account (gold.customer_360.account_id)
    region: Mapped[str] = mapped_column(Text)  # the customer's (gold.customer_360), 'Unknown' without one
    territory: Mapped[str] = mapped_column(Text)  # the customer's (gold.customer_360), 'Unknown' without one
    segment: Mapped[str] = mapped_column(Text)  # the account type, 'Unknown' when empty
    account_manager: Mapped[str] = mapped_column(Text)  # the account owner's name, 'Unassigned' without one
    currency: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money)  # in `currency`
    amount_usd: Mapped[Decimal | None] = mapped_column(Money)  # at the as-of rate
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    days_overdue: Mapped[int] = mapped_column(Integer)  # 0 when not yet due
    bucket: Mapped[str] = mapped_column(Text)  # current, 1-30, 31-60, 61-90, 90+
    disputed: Mapped[bool] = mapped_column(Boolean)
    # Collections forecast: the customer's median days paid after due (the company's without history).
    payment_delay_days: Mapped[float] = mapped_column(Double)
    delay_from_history: Mapped[bool] = mapped_column(Boolean)  # False: the company median stood in
    expected_paid_on: Mapped[date] = mapped_column(Date)  # due day (issue day without one) + the delay, rounded up


class BillingAccount(Base):
    """Per account with billing activity: invoices issued, disputes, credit and debit notes (counts and
    USD), a standing credit hold, and the MRR and open pipeline it puts at stake, on the as-of day."""

    __tablename__ = "billing_account"
    __table_args__ = {"schema": "gold"}

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)  # the regional account
    account_name: Mapped[str] = mapped_column(Text)
    customer_id: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)  # the customer's (gold.customer_360), 'Unknown' without one
    territory: Mapped[str] = mapped_column(Text)  # the customer's (gold.customer_360), 'Unknown' without one
    segment: Mapped[str] = mapped_column(Text)
    account_manager: Mapped[str] = mapped_column(Text)
    invoices_issued: Mapped[int] = mapped_column(Integer)
    disputes: Mapped[int] = mapped_column(Integer)
    open_disputes: Mapped[int] = mapped_column(Integer)
    disputed_usd: Mapped[Decimal] = mapped_column(Money)
    credit_notes: Mapped[int] = mapped_column(Integer)
    credit_usd: Mapped[Decimal] = mapped_column(Money)
    debit_notes: Mapped[int] = mapped_column(Integer)
    debit_usd: Mapped[Decimal] = mapped_column(Money)
    last_dispute_on: Mapped[date | None] = mapped_column(Date)
    on_hold: Mapped[bool] = mapped_column(Boolean)
    hold_placed_on: Mapped[date | None] = mapped_column(Date)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    mrr_usd: Mapped[Decimal] = mapped_column(Money)
    open_pipeline_usd: Mapped[Decimal] = mapped_column(Money)
    invoices_12m: Mapped[int] = mapped_column(Integer)  # issued in the 365 days to the as-of day, not void
    adjusted_invoices_12m: Mapped[int] = mapped_column(Integer)  # of those, with a credit or debit note
    csat_sum: Mapped[int] = mapped_column(Integer)  # CSAT scores of its cases opened in those 365 days
    csat_responses: Mapped[int] = mapped_column(Integer)


class ReceivablesMonthly(Base):
    """Per month and territory: receivables at the month's end and the month's invoicing, both in USD
    at the month-end rate, and the month's days to its end, for DSO = receivables / invoiced x days."""

    __tablename__ = "receivables_monthly"
    __table_args__ = {"schema": "gold"}

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    month_end: Mapped[date] = mapped_column(Date)  # its last day, or the as-of day for the running month
    days: Mapped[int] = mapped_column(Integer)
    receivables_usd: Mapped[Decimal] = mapped_column(Money)
    invoiced_usd: Mapped[Decimal] = mapped_column(Money)
    issued_invoices: Mapped[int] = mapped_column(Integer)  # issued in the month, not void
    adjusted_invoices: Mapped[int] = mapped_column(Integer)  # of those, with a credit or debit note by the as-of day


class ContactSegmentMonthly(Base):
    """Contacts per month of creation, territory and segment, for the Growth page's segments
    (etl/gold/contact_segment_monthly.sql): every contact ('all'), the built-in segments VIP, Lead and
    Churned ('segment', value ''), and each custom attribute key = value ('attribute'; the top values of
    each key, the rest as '(other values)'). Contacts without a creation time are left out."""

    __tablename__ = "contact_segment_monthly"
    __table_args__ = {"schema": "gold"}

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month the contact was created
    territory: Mapped[str] = mapped_column(Text, primary_key=True)  # its account's ('Unknown' when empty)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)  # all, segment or attribute
    segment_key: Mapped[str] = mapped_column(Text, primary_key=True)  # VIP, Lead, Churned, or the attribute key
    segment_value: Mapped[str] = mapped_column(Text, primary_key=True)  # the attribute value; '' otherwise
    region: Mapped[str] = mapped_column(Text)
    contacts: Mapped[int] = mapped_column(Integer, default=0)


# The Receivables page's sums and rankings, kept by the gold stage so a request reads a few rows. Every
# customer (master account) sits in one territory, its own (gold.customer_360's; 'Unknown' without one), with
# all its invoices and accounts: per-territory counts of distinct customers add up across territories.


class ReceivablesAsOf(Base):
    """The day the Receivables tables were built for (one row), and the company's median payment delay
    that the collections forecast gives customers without a paid invoice."""

    __tablename__ = "receivables_as_of"
    __table_args__ = {"schema": "gold"}

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    company_delay_days: Mapped[float | None] = mapped_column(Double)  # None without any paid invoice


class ReceivablesSummary(Base):
    """gold.receivable_invoice summed per customer territory and group: dimension 'all' (group ''), 'bucket'
    (current, 1-30, ..., 90+), 'segment' or 'account_manager'. customers / overdue_customers count distinct
    customers (with an overdue invoice), so they add up across territories but not across groups."""

    __tablename__ = "receivables_summary"
    __table_args__ = {"schema": "gold"}

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    dimension: Mapped[str] = mapped_column(Text, primary_key=True)
    group_name: Mapped[str] = mapped_column(Text, primary_key=True)
    outstanding_usd: Mapped[Decimal] = mapped_column(Money)  # every unpaid invoice, due or not
    overdue_usd: Mapped[Decimal] = mapped_column(Money)
    invoices: Mapped[int] = mapped_column(Integer)
    overdue_invoices: Mapped[int] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer)
    overdue_customers: Mapped[int] = mapped_column(Integer)


class ReceivablesCurrency(Base):
    """gold.receivable_invoice summed per customer territory, bucket and currency: the currency mix of a bucket."""

    __tablename__ = "receivables_currency"
    __table_args__ = {"schema": "gold"}

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    bucket: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # in `currency`
    amount_usd: Mapped[Decimal] = mapped_column(Money)  # at the as-of rate


class ReceivableCustomer(Base):
    """One row per customer with billing activity (an unpaid invoice, or an account in gold.billing_account),
    in its territory, with its name and account manager (the master account's and its owner's), for the
    Receivables page's rankings: its overdue invoices, its disputes and notes, its credit hold, and its
    invoices of the last 365 days with CSAT and churn for billing accuracy."""

    __tablename__ = "receivable_customer"
    __table_args__ = (
        # Each ranking's first rows, read in order, for everything and for a territory.
        Index("ix_receivable_customer_overdue", text("overdue_days DESC"), text("overdue_usd DESC"), "customer_id",
              postgresql_where=text("overdue_invoices > 0")),
        Index("ix_receivable_customer_territory_overdue", "territory", text("overdue_days DESC"),
              text("overdue_usd DESC"), "customer_id", postgresql_where=text("overdue_invoices > 0")),
        Index("ix_receivable_customer_events", text("events DESC"), text("disputed_usd DESC"), "customer_id",
              postgresql_where=text("events > 0")),
        Index("ix_receivable_customer_territory_events", "territory", text("events DESC"), text("disputed_usd DESC"),
              "customer_id", postgresql_where=text("events > 0")),
        Index("ix_receivable_customer_hold", text("hold_mrr_usd DESC"), "customer_id", postgresql_where=text("on_hold")),
        Index("ix_receivable_customer_territory_hold", "territory", text("hold_mrr_usd DESC"), "customer_id",
              postgresql_where=text("on_hold")),
        {"schema": "gold"},
    )

    customer_id: Mapped[str] = mapped_column(Text, primary_key=True)  # gold.customer_360.account_id
    territory: Mapped[str] = mapped_column(Text)
    account_name: Mapped[str] = mapped_column(Text)
    account_manager: Mapped[str] = mapped_column(Text)
    # Its overdue invoices: the most days overdue, their USD and count, the oldest due day.
    overdue_days: Mapped[int] = mapped_column(Integer)
    overdue_usd: Mapped[Decimal] = mapped_column(Money)
    overdue_invoices: Mapped[int] = mapped_column(Integer)
    oldest_due: Mapped[date | None] = mapped_column(Date)
    # gold.billing_account summed over its accounts; events = disputes + credit notes + debit notes.
    invoices_issued: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    disputes: Mapped[int] = mapped_column(Integer)
    open_disputes: Mapped[int] = mapped_column(Integer)
    disputed_usd: Mapped[Decimal] = mapped_column(Money)
    credit_notes: Mapped[int] = mapped_column(Integer)
    credit_usd: Mapped[Decimal] = mapped_column(Money)
    debit_notes: Mapped[int] = mapped_column(Integer)
    last_dispute_on: Mapped[date | None] = mapped_column(Date)
    # Its accounts on credit hold: their MRR and open pipeline, the earliest hold's day, a reason.
    on_hold: Mapped[bool] = mapped_column(Boolean)
    hold_mrr_usd: Mapped[Decimal] = mapped_column(Money)
    hold_pipeline_usd: Mapped[Decimal] = mapped_column(Money)
    hold_placed_on: Mapped[date | None] = mapped_column(Date)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    # Billing accuracy: invoices issued in the 365 days to the as-of day, those adjusted, CSAT of the cases
    # opened then, and churned in the 180 days to the as-of day (dashboard.queries.receivables.CHURN_DAYS).
    invoices_12m: Mapped[int] = mapped_column(Integer)
    adjusted_invoices_12m: Mapped[int] = mapped_column(Integer)
    csat_sum: Mapped[int] = mapped_column(Integer)
    csat_responses: Mapped[int] = mapped_column(Integer)
    churned: Mapped[bool] = mapped_column(Boolean)


class ReceivablesTerritory(Base):
    """Per customer territory, the Receivables panels' totals: the collections forecast's windows (USD and
    invoices expected within 30, 60 and 90 days of the as-of day, and past their customer's usual day),
    gold.receivable_customer's disputes, notes and credit holds summed, and the billing-accuracy cohorts
    (customers invoiced in the last 365 days with a note on one of those invoices, 'affected', or without)."""

    __tablename__ = "receivables_territory"
    __table_args__ = {"schema": "gold"}

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    expected_30_usd: Mapped[Decimal] = mapped_column(Money)
    expected_30_invoices: Mapped[int] = mapped_column(Integer)
    expected_60_usd: Mapped[Decimal] = mapped_column(Money)
    expected_60_invoices: Mapped[int] = mapped_column(Integer)
    expected_90_usd: Mapped[Decimal] = mapped_column(Money)
    expected_90_invoices: Mapped[int] = mapped_column(Integer)
    past_usual_usd: Mapped[Decimal] = mapped_column(Money)
    past_usual_invoices: Mapped[int] = mapped_column(Integer)
    invoices_without_history: Mapped[int] = mapped_column(Integer)
    disputes: Mapped[int] = mapped_column(Integer)
    open_disputes: Mapped[int] = mapped_column(Integer)
    disputed_usd: Mapped[Decimal] = mapped_column(Money)
    credit_notes: Mapped[int] = mapped_column(Integer)
    credit_usd: Mapped[Decimal] = mapped_column(Money)
    debit_notes: Mapped[int] = mapped_column(Integer)
    customers_disputing: Mapped[int] = mapped_column(Integer)  # with a dispute
    frequent_customers: Mapped[int] = mapped_column(Integer)  # with 3+ events (receivables.FREQUENT_EVENTS)
    customers_on_hold: Mapped[int] = mapped_column(Integer)
    hold_mrr_usd: Mapped[Decimal] = mapped_column(Money)
    hold_pipeline_usd: Mapped[Decimal] = mapped_column(Money)
    affected_customers: Mapped[int] = mapped_column(Integer)
    affected_churned: Mapped[int] = mapped_column(Integer)
    affected_csat_sum: Mapped[int] = mapped_column(Integer)
    affected_csat_responses: Mapped[int] = mapped_column(Integer)
    other_customers: Mapped[int] = mapped_column(Integer)
    other_churned: Mapped[int] = mapped_column(Integer)
    other_csat_sum: Mapped[int] = mapped_column(Integer)
    other_csat_responses: Mapped[int] = mapped_column(Integer)


# --- The Operations page's figures worked out in the gold stage, so a request sums a few rows. The
# period ends on the last day of gold.support_case (as the page's does); a unit is a region and
# territory of the case's or milestone's account, which holds each account whole.


class SupportRegion(Base):
    """Customers (gold.customer_360) per region and territory ('' without one): the page's region choices."""

    __tablename__ = "support_region"
    __table_args__ = {"schema": "gold"}

    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)


class SupportCategoryWeekly(Base):
    """Distinct accounts with a ticket per category, region, territory and week of the 13 weeks to the last
    day (week 0 the last 7 days): the systemic-issues panel."""

    __tablename__ = "support_category_weekly"
    __table_args__ = {"schema": "gold"}

    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    category: Mapped[str] = mapped_column(Text, primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    accounts: Mapped[int] = mapped_column(Integer)


class SupportRepeatCustomer(Base):
    """Per period (7, 30, 90 days) and customer whose tickets of the last 120 days sit in one region and
    territory: its tickets of the period, those repeating a category within 30 days, the categories and
    the last such day (the repeat-issue panel; customers over several territories are in
    gold.support_repeat_ticket)."""

    __tablename__ = "support_repeat_customer"
    __table_args__ = (Index("ix_support_repeat_customer_rank", "period_days", text("repeat_tickets DESC"),
                            text("last_opened DESC"), "customer_account_id"), {"schema": "gold"})

    period_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_name: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(Text)
    tickets: Mapped[int] = mapped_column(Integer)
    repeat_tickets: Mapped[int] = mapped_column(Integer)
    categories: Mapped[str | None] = mapped_column(Text)
    last_opened: Mapped[date | None] = mapped_column(Date)


class SupportRepeatTicket(Base):
    """The tickets of the last 120 days of customers whose accounts sit in several territories, with the
    customer: a scope sees some of them, so their repeats are worked out per request."""

    __tablename__ = "support_repeat_ticket"
    __table_args__ = {"schema": "gold"}

    customer_account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    case_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_name: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    opened_day: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupportVip(Base):
    """The VIP customers (the top 10% of paying customers by MRR) with their open P1 and P2 tickets, the
    oldest one's day, and their SLA breaches of the last 7, 30 and 90 days, over all their accounts."""

    __tablename__ = "support_vip"
    __table_args__ = (Index("ix_support_vip_territory", "territory"), {"schema": "gold"})

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_name: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(Text)
    mrr_usd: Mapped[Decimal] = mapped_column(Money)
    threshold_usd: Mapped[Decimal] = mapped_column(Money)  # the same on every row: the VIP line, to the cent
    open_p1: Mapped[int] = mapped_column(Integer)
    open_p2: Mapped[int] = mapped_column(Integer)
    oldest_open: Mapped[date | None] = mapped_column(Date)
    sla_breaches_7: Mapped[int] = mapped_column(Integer)
    sla_breaches_30: Mapped[int] = mapped_column(Integer)
    sla_breaches_90: Mapped[int] = mapped_column(Integer)


class OnboardingSummary(Base):
    """Milestones completed in the year to the last day per region, territory, milestone and owner team."""

    __tablename__ = "onboarding_summary"
    __table_args__ = {"schema": "gold"}

    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    milestone: Mapped[str] = mapped_column(Text, primary_key=True)
    owner_team: Mapped[str] = mapped_column(Text, primary_key=True)
    sequence: Mapped[int | None] = mapped_column(Integer)  # the lowest
    completed: Mapped[int] = mapped_column(Integer)
    late: Mapped[int] = mapped_column(Integer)  # completed after the planned day


class OnboardingDays(Base):
    """How many milestones completed in the year to the last day took (measure 'taken'), were late by
    ('late') or, for go-live, came after the account's kickoff start ('to_live') each number of days, per
    region and territory: their medians are exact from these counts."""

    __tablename__ = "onboarding_days"
    __table_args__ = {"schema": "gold"}

    region: Mapped[str] = mapped_column(Text, primary_key=True)
    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    milestone: Mapped[str] = mapped_column(Text, primary_key=True)
    measure: Mapped[str] = mapped_column(Text, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    stages: Mapped[int] = mapped_column(Integer)


class OnboardingStuck(Base):
    """Open milestones planned before the last day of accounts not churned, with their customer (master
    account) and its name: the accounts stuck now."""

    __tablename__ = "onboarding_stuck"
    __table_args__ = {"schema": "gold"}

    customer_account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    milestone_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text)
    account_name: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(Text)
    milestone: Mapped[str] = mapped_column(Text)
    sequence: Mapped[int | None] = mapped_column(Integer)
    owner_team: Mapped[str] = mapped_column(Text)
    planned_date: Mapped[date] = mapped_column(Date)
