"""Silver: typed, validated, de-duplicated tables with amounts in USD.

Each table mirrors one bronze dataset: same column names, real types, one row per key (the
newest `updated_at`, then the newest load, wins), emails in lower case, and next to every
amount in its original currency a `*_usd` column with the rate used (`fx_rate`, the day it
was published, `fx_rate_date`, and `fx_rate_is_fallback` when that is not the transaction
day: see etl.silver for the rules). They are rebuilt from bronze on every
pipeline run by `etl.silver`, which derives the casts and checks from these classes; rows
that fail a check are quarantined in bronze.quarantine instead.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Double, Index, Integer, Numeric, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base

Timestamp = DateTime(timezone=True)
Amount = Numeric  # unconstrained: keep what the source sent; gold rounds to cents
Rate = Numeric


class UsdRate:
    """The rate behind a table's `*_usd` columns; sort_order puts them after the table's own columns."""

    fx_rate: Mapped[Decimal | None] = mapped_column(Rate, sort_order=1)  # USD per unit used for the *_usd columns
    fx_rate_date: Mapped[date | None] = mapped_column(Date, sort_order=1)  # the day that rate was published
    fx_rate_is_fallback: Mapped[bool | None] = mapped_column(Boolean, sort_order=1)  # published on another day


class FxRate(Base):
    """Daily exchange rates as delivered: one unit of `currency` in USD."""

    __tablename__ = "fx_rates"
    __table_args__ = {"schema": "silver"}

    rate_date: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    usd_per_unit: Mapped[Decimal] = mapped_column(Rate)


class FxRateDaily(Base):
    """One rate per currency for every day from the first to the last rate date (gaps carried
    forward from the latest earlier rate; USD is always 1), for plain equality joins."""

    __tablename__ = "fx_rates_daily"
    __table_args__ = {"schema": "silver"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    usd_per_unit: Mapped[Decimal] = mapped_column(Rate)
    rate_date: Mapped[date] = mapped_column(Date)  # the day the rate was published


class Account(Base):
    """Customer companies."""

    __tablename__ = "accounts"
    __table_args__ = {"schema": "silver"}

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    parent_account_id: Mapped[str | None] = mapped_column(Text)
    account_name: Mapped[str] = mapped_column(Text)
    account_type: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(Text)
    owner_user_id: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str | None] = mapped_column(Text)
    employee_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(Text)
    churned_at: Mapped[datetime | None] = mapped_column(Timestamp)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Contact(Base):
    """People at accounts; email in lower case; attributes: the CRM's custom fields, a JSON object of
    scalar values (a value that is not one quarantines the row, as any value that does not parse)."""

    __tablename__ = "contacts"
    # The Customer 360 pages read one customer's rows by this column.
    __table_args__ = (Index("ix_silver_contacts_account_id", "account_id"), {"schema": "silver"})

    contact_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    job_title: Mapped[str | None] = mapped_column(Text)
    is_primary: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Lead(Base):
    """Prospects; email in lower case."""

    __tablename__ = "leads"
    # Incremental gold refreshes read the newest rows (or a conversation's messages) by this column.
    __table_args__ = (Index("ix_silver_leads_created_at", "created_at"), {"schema": "silver"})

    lead_id: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    lead_source: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    owner_user_id: Mapped[str | None] = mapped_column(Text)
    converted_account_id: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Subscription(UsdRate, Base):
    """Recurring services; `mrr_usd` is the MRR at the as-of (latest) rate: MRR is a stock figure."""

    __tablename__ = "subscriptions"
    # Every row is re-converted each new as-of day: half-empty pages let that UPDATE write each
    # new row version beside the old one (a HOT update, no index write), about 3x faster.
    __table_args__ = {"schema": "silver", "postgresql_with": {"fillfactor": 50}}

    subscription_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text)
    product_id: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    mrr: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    mrr_usd: Mapped[Decimal | None] = mapped_column(Amount)


class Invoice(UsdRate, Base):
    """Invoices; `amount_usd` at the rate of the issue date."""

    __tablename__ = "invoices"
    __table_args__ = (
        # Incremental gold refreshes read the newest rows by this column.
        Index("ix_silver_invoices_issue_date", "issue_date"),
        # The unpaid invoices (a few percent of them): gold's receivables, ageing and overdue figures repeat
        # this predicate word for word and read just these, per account or all of them.
        Index("ix_silver_invoices_unpaid", "account_id", "issue_date", postgresql_include=["due_date"],
              postgresql_where=text("paid_at IS NULL AND status IS DISTINCT FROM 'paid' "
                                    "AND status IS DISTINCT FROM 'void'")),
        {"schema": "silver"},
    )

    invoice_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    invoice_number: Mapped[str | None] = mapped_column(Text)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None] = mapped_column(Timestamp)
    is_disputed: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    amount_usd: Mapped[Decimal | None] = mapped_column(Amount)


class Payment(UsdRate, Base):
    """Payments; `amount_usd` at the rate of the payment date."""

    __tablename__ = "payments"
    # Incremental gold refreshes read the newest rows by paid_at; the Customer 360 pages read one
    # customer's (or one invoice's) payments.
    __table_args__ = (Index("ix_silver_payments_paid_at", "paid_at"),
                      Index("ix_silver_payments_account_id", "account_id"),
                      Index("ix_silver_payments_invoice_id", "invoice_id"), {"schema": "silver"})

    payment_id: Mapped[str] = mapped_column(Text, primary_key=True)
    invoice_id: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime] = mapped_column(Timestamp)
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(Text)
    amount_usd: Mapped[Decimal | None] = mapped_column(Amount)


class Ticket(Base):
    """Support cases, with the first-response time in minutes when there was one."""

    __tablename__ = "tickets"
    # Incremental gold refreshes read the newest rows by created_at; the Customer 360 pages read
    # one customer's tickets up to a day.
    __table_args__ = (Index("ix_silver_tickets_created_at", "created_at"),
                      Index("ix_silver_tickets_account_id_created_at", "account_id", "created_at"),
                      {"schema": "silver"})

    ticket_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    channel: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    sla_first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    first_response_at: Mapped[datetime | None] = mapped_column(Timestamp)
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp)
    status: Mapped[str | None] = mapped_column(Text)
    csat: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[str | None] = mapped_column(Text)
    is_escalated: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    first_response_minutes: Mapped[float | None] = mapped_column(Double)
    product_id: Mapped[str | None] = mapped_column(Text)  # the product the case is about, if any
    reopen_count: Mapped[int | None] = mapped_column(Integer)  # times reopened after being resolved


class Campaign(UsdRate, Base):
    """Marketing campaigns; `cost_usd` at the rate of the start date."""

    __tablename__ = "campaigns"
    __table_args__ = {"schema": "silver"}

    campaign_id: Mapped[str] = mapped_column(Text, primary_key=True)
    campaign_name: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    objective: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    cost: Mapped[Decimal | None] = mapped_column(Amount)
    currency: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    cost_usd: Mapped[Decimal | None] = mapped_column(Amount)


class Send(Base):
    """One campaign message to one contact; a step's timestamp is empty if it never happened."""

    __tablename__ = "sends"
    # Incremental gold refreshes read the newest rows (or a conversation's messages) by this column.
    __table_args__ = (Index("ix_silver_sends_sent_at", "sent_at"), {"schema": "silver"})

    send_id: Mapped[str] = mapped_column(Text, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(Text)
    variant: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    delivered_at: Mapped[datetime | None] = mapped_column(Timestamp)
    read_at: Mapped[datetime | None] = mapped_column(Timestamp)
    replied_at: Mapped[datetime | None] = mapped_column(Timestamp)
    status: Mapped[str | None] = mapped_column(Text)


class Reply(Base):
    """Inbound replies to campaign sends."""

    __tablename__ = "replies"
    # The Customer 360 pages read one customer's rows by this column.
    __table_args__ = (Index("ix_silver_replies_contact_id", "contact_id"), {"schema": "silver"})

    reply_id: Mapped[str] = mapped_column(Text, primary_key=True)
    send_id: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime | None] = mapped_column(Timestamp)
    body: Mapped[str | None] = mapped_column(Text)


class Meeting(Base):
    """Calls, meetings and QBRs with accounts."""

    __tablename__ = "meetings"
    __table_args__ = {"schema": "silver"}

    meeting_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(Text)
    meeting_type: Mapped[str | None] = mapped_column(Text)
    scheduled_at: Mapped[datetime | None] = mapped_column(Timestamp)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(Text)


class Conversation(Base):
    """Chat and WhatsApp threads."""

    __tablename__ = "conversations"
    # Incremental gold refreshes read the newest rows by started_at; the Customer 360 pages read
    # one customer's or one person's conversations.
    __table_args__ = (Index("ix_silver_conversations_started_at", "started_at"),
                      Index("ix_silver_conversations_account_id", "account_id"),
                      Index("ix_silver_conversations_contact_id", "contact_id"), {"schema": "silver"})

    conversation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    assigned_agent_id: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Message(Base):
    """Messages in a conversation."""

    __tablename__ = "messages"
    __table_args__ = (
        # Incremental gold refreshes read the newest rows (or a conversation's messages) by this column.
        Index("ix_silver_messages_conversation_id", "conversation_id"),
        # The inbound messages naming a competitor (gold.retention_monthly's drivers, whose SQL repeats this
        # predicate word for word): a few rows, so a refresh reads them without matching every message.
        Index("ix_silver_messages_competitor_mention", "sent_at",
              postgresql_where=text("direction = 'inbound' AND body ~* "
                                    "'(competitor|quoted us|offer from|switch(ed)? to|went with|switch provider|another provider)'")),
        {"schema": "silver"},
    )

    message_id: Mapped[str] = mapped_column(Text, primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    direction: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)


class User(Base):
    """Sales reps, account managers and their managers; email in lower case."""

    __tablename__ = "users"
    __table_args__ = {"schema": "silver"}

    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    full_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(Text)
    manager_id: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Product(Base):
    """The product catalogue; list prices are in USD at source."""

    __tablename__ = "products"
    __table_args__ = {"schema": "silver"}

    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    product_name: Mapped[str | None] = mapped_column(Text)
    product_family: Mapped[str | None] = mapped_column(Text)
    list_price_usd: Mapped[Decimal | None] = mapped_column(Amount)
    is_recurring: Mapped[bool | None] = mapped_column(Boolean)


class Opportunity(UsdRate, Base):
    """Deals; `amount_usd` at the rate of the close date (the creation date while it has none)."""

    __tablename__ = "opportunities"
    # The open and future-dated deals are re-converted each new as-of day (see subscriptions); the
    # Customer 360 journey reads one customer's deals.
    __table_args__ = (Index("ix_silver_opportunities_account_id", "account_id"),
                      {"schema": "silver", "postgresql_with": {"fillfactor": 80}})

    opportunity_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    owner_user_id: Mapped[str | None] = mapped_column(Text)
    opportunity_name: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Amount)
    currency: Mapped[str | None] = mapped_column(Text)
    probability: Mapped[Decimal | None] = mapped_column(Numeric)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    close_date: Mapped[date | None] = mapped_column(Date)
    is_closed: Mapped[bool | None] = mapped_column(Boolean)
    is_won: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    amount_usd: Mapped[Decimal | None] = mapped_column(Amount)
    # Added later (migration 0031): after the rate columns, where the table has them (held rows are copied whole).
    loss_reason: Mapped[str | None] = mapped_column(Text, sort_order=2)  # lost deals: why, as the rep recorded it
    next_step: Mapped[str | None] = mapped_column(Text, sort_order=2)  # open deals: the next agreed action
    stage_entered_at: Mapped[datetime | None] = mapped_column(Timestamp, sort_order=2)  # entered its current stage


class Quota(Base):
    """A rep's sales quota for one calendar quarter, in USD at source."""

    __tablename__ = "quotas"
    __table_args__ = {"schema": "silver"}

    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    quarter_start: Mapped[date] = mapped_column(Date, primary_key=True)  # the quarter's first day
    quota_usd: Mapped[Decimal] = mapped_column(Amount)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Email(Base):
    """Emails between reps and accounts logged in the CRM."""

    __tablename__ = "emails"
    __table_args__ = (Index("ix_silver_emails_account_id", "account_id"), {"schema": "silver"})

    email_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(Timestamp)
    direction: Mapped[str | None] = mapped_column(Text)  # outbound or inbound


class OpportunityLineItem(UsdRate, Base):
    """Products on a deal; USD at the rate of the deal's day (as in silver.opportunities)."""

    __tablename__ = "opportunity_line_items"
    # The open and future-dated deals are re-converted each new as-of day (see subscriptions).
    __table_args__ = {"schema": "silver", "postgresql_with": {"fillfactor": 80}}

    line_item_id: Mapped[str] = mapped_column(Text, primary_key=True)
    opportunity_id: Mapped[str | None] = mapped_column(Text)
    product_id: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric)
    unit_price: Mapped[Decimal | None] = mapped_column(Amount)
    currency: Mapped[str | None] = mapped_column(Text)
    unit_price_usd: Mapped[Decimal | None] = mapped_column(Amount)
    amount_usd: Mapped[Decimal | None] = mapped_column(Amount)  # quantity x unit price


class Agent(Base):
    """Support agents; email in lower case."""

    __tablename__ = "agents"
    __table_args__ = {"schema": "silver"}

    agent_id: Mapped[str] = mapped_column(Text, primary_key=True)
    full_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool | None] = mapped_column(Boolean)


class CreditHold(Base):
    """Credit holds placed on accounts; `released_at` empty while the hold stands."""

    __tablename__ = "credit_holds"
    __table_args__ = {"schema": "silver"}

    hold_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    placed_at: Mapped[datetime] = mapped_column(Timestamp)
    released_at: Mapped[datetime | None] = mapped_column(Timestamp)
    reason: Mapped[str | None] = mapped_column(Text)


class CampaignVariant(Base):
    """A/B variants of a campaign."""

    __tablename__ = "campaign_variants"
    __table_args__ = {"schema": "silver"}

    campaign_id: Mapped[str] = mapped_column(Text, primary_key=True)
    variant: Mapped[str] = mapped_column(Text, primary_key=True)
    template_name: Mapped[str | None] = mapped_column(Text)
    message_text: Mapped[str | None] = mapped_column(Text)


class Touchpoint(Base):
    """Ordered marketing touches per journey, for attribution (values in USD at source)."""

    __tablename__ = "touchpoints"
    __table_args__ = {"schema": "silver"}

    touchpoint_id: Mapped[str] = mapped_column(Text, primary_key=True)
    journey_id: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(Timestamp)
    channel: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[str | None] = mapped_column(Text)
    converted: Mapped[bool | None] = mapped_column(Boolean)
    conversion_value_usd: Mapped[Decimal | None] = mapped_column(Amount)


class UsageDaily(Base):
    """Daily product usage per account."""

    __tablename__ = "usage_daily"
    __table_args__ = {"schema": "silver"}

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    usage_date: Mapped[date] = mapped_column(Date, primary_key=True)
    active_users: Mapped[int | None] = mapped_column(Integer)
    sessions: Mapped[int | None] = mapped_column(Integer)
    api_calls: Mapped[int | None] = mapped_column(BigInteger)
    data_gb: Mapped[Decimal | None] = mapped_column(Numeric)


class WebSession(Base):
    """Web-analytics sessions."""

    __tablename__ = "web_sessions"
    __table_args__ = {"schema": "silver"}

    session_id: Mapped[str] = mapped_column(Text, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    contact_id: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    medium: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[str | None] = mapped_column(Text)
    pageviews: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    converted: Mapped[bool | None] = mapped_column(Boolean)


class Survey(Base):
    """NPS (0-10) and CSAT (1-5) surveys sent to contacts; the score is empty until answered.
    Ticket CSAT is on silver.tickets."""

    __tablename__ = "surveys"
    # The Customer 360 pages read one customer's rows by this column.
    __table_args__ = (Index("ix_silver_surveys_account_id", "account_id"), {"schema": "silver"})

    survey_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(Text)
    survey_type: Mapped[str] = mapped_column(Text)  # nps or csat
    touchpoint: Mapped[str | None] = mapped_column(Text)  # relationship, onboarding, billing_dispute
    sent_at: Mapped[datetime] = mapped_column(Timestamp)
    responded_at: Mapped[datetime | None] = mapped_column(Timestamp)
    nps_score: Mapped[int | None] = mapped_column(Integer)
    csat_score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)


class OnboardingMilestone(Base):
    """Onboarding steps of a new customer, in sequence; `completed_at` empty while open."""

    __tablename__ = "onboarding_milestones"
    # The Customer 360 pages read one customer's rows by this column.
    __table_args__ = (Index("ix_silver_onboarding_milestones_account_id", "account_id"), {"schema": "silver"})

    milestone_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(Text)
    milestone: Mapped[str] = mapped_column(Text)
    sequence: Mapped[int | None] = mapped_column(Integer)
    owner_team: Mapped[str | None] = mapped_column(Text)
    planned_date: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class PriceChange(UsdRate, Base):
    """Price changes of a running subscription; USD at the rate of the effective date."""

    __tablename__ = "price_changes"
    __table_args__ = {"schema": "silver"}

    price_change_id: Mapped[str] = mapped_column(Text, primary_key=True)
    subscription_id: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    product_id: Mapped[str | None] = mapped_column(Text)
    effective_date: Mapped[date] = mapped_column(Date)
    old_mrr: Mapped[Decimal] = mapped_column(Amount)
    new_mrr: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    old_mrr_usd: Mapped[Decimal | None] = mapped_column(Amount)
    new_mrr_usd: Mapped[Decimal | None] = mapped_column(Amount)


class Dispute(UsdRate, Base):
    """Invoice disputes; `amount_usd` (the amount disputed) at the rate of the day it was opened."""

    __tablename__ = "disputes"
    # The Customer 360 pages read one customer's, or one invoice's, disputes.
    __table_args__ = (Index("ix_silver_disputes_account_id", "account_id"),
                      Index("ix_silver_disputes_invoice_id", "invoice_id"), {"schema": "silver"})

    dispute_id: Mapped[str] = mapped_column(Text, primary_key=True)
    invoice_id: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(Timestamp)
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp)
    reason: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)  # open, upheld or rejected
    amount_usd: Mapped[Decimal | None] = mapped_column(Amount)


class Adjustment(UsdRate, Base):
    """Credit and debit notes against invoices (`kind` gives the sign of the positive `amount`);
    `amount_usd` at the rate of the day it was created."""

    __tablename__ = "adjustments"
    # An invoice's detail on the Customer 360 journey reads its notes by invoice.
    __table_args__ = (Index("ix_silver_adjustments_invoice_id", "invoice_id"), {"schema": "silver"})

    adjustment_id: Mapped[str] = mapped_column(Text, primary_key=True)
    invoice_id: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    dispute_id: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # credit or debit
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    amount_usd: Mapped[Decimal | None] = mapped_column(Amount)
