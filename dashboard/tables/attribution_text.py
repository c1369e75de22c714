"""Tables of the channel-attribution, sentiment, topic and client-summary jobs.

Written by etl.insights.attribution, etl.insights.text and etl.insights.summaries; the pages
read them through dashboard.queries.attribution_text. Account ids are gold.customer_360's
(the master account).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, Double, Index, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base

Timestamp = DateTime(timezone=True)
ATTRIBUTION_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "markov",
                      "shapley")
_MODEL_CHECK = "model IN (" + ", ".join(f"'{m}'" for m in ATTRIBUTION_MODELS) + ")"


class AttributionMonthly(Base):
    """Conversions credited to each marketing channel per month (of the journey's last touch) and model.

    Conversions and their value are fractional credit; they add up to the month's converted
    journeys and value in every model. removal_effect (0-1) is the Markov model's only.
    """

    __tablename__ = "attribution_monthly"
    __table_args__ = (CheckConstraint(_MODEL_CHECK, name="model"), {"schema": "gold"})

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month
    model: Mapped[str] = mapped_column(Text, primary_key=True)
    channel: Mapped[str] = mapped_column(Text, primary_key=True)
    journeys: Mapped[int] = mapped_column(Integer)  # journeys that touched the channel
    conversions: Mapped[float] = mapped_column(Double)
    conversion_value_usd: Mapped[float] = mapped_column(Double)
    removal_effect: Mapped[float | None] = mapped_column(Double)


class AttributionCampaign(Base):
    """Conversions credited to each campaign over all journeys, per model.

    Journeys are paths of campaigns (touches without a campaign count as their channel), so
    campaigns compete with the channels they run beside; only campaign rows are kept.
    """

    __tablename__ = "attribution_campaign"
    __table_args__ = (CheckConstraint(_MODEL_CHECK, name="model"), {"schema": "gold"})

    campaign_id: Mapped[str] = mapped_column(Text, primary_key=True)
    model: Mapped[str] = mapped_column(Text, primary_key=True)
    journeys: Mapped[int] = mapped_column(Integer)  # journeys that touched the campaign
    conversions: Mapped[float] = mapped_column(Double)
    conversion_value_usd: Mapped[float] = mapped_column(Double)
    removal_effect: Mapped[float | None] = mapped_column(Double)


class TextScore(Base):
    """Sentiment, topics and keywords of one customer text: an inbound chat message, a ticket's
    subject or a campaign reply. Scored once; scored again only when the text changes (md5)."""

    __tablename__ = "text_score"
    __table_args__ = (
        CheckConstraint("source IN ('message', 'ticket', 'reply')", name="source"),
        CheckConstraint("label IN ('positive', 'neutral', 'negative')", name="label"),
        {"schema": "gold"},
    )

    source: Mapped[str] = mapped_column(Text, primary_key=True)
    item_id: Mapped[str] = mapped_column(Text, primary_key=True)  # message_id, ticket_id or reply_id
    text_md5: Mapped[str] = mapped_column(Text)
    compound: Mapped[float] = mapped_column(Double)  # VADER, -1..1
    label: Mapped[str] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(ARRAY(Text))
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text))
    scored_at: Mapped[datetime] = mapped_column(Timestamp)


class SentimentDaily(Base):
    """Scored customer texts per day, account, agent and source, for sentiment by account,
    agent or day. Average sentiment = compound_sum / texts."""

    __tablename__ = "sentiment_daily"
    __table_args__ = (
        Index("ix_sentiment_daily_account_day", "account_id", "day"),
        {"schema": "gold"},
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text, primary_key=True)  # 'Unknown' when no account
    agent_id: Mapped[str] = mapped_column(Text, primary_key=True)  # 'Unassigned' when none
    source: Mapped[str] = mapped_column(Text, primary_key=True)
    texts: Mapped[int] = mapped_column(Integer)
    positive: Mapped[int] = mapped_column(Integer)
    neutral: Mapped[int] = mapped_column(Integer)
    negative: Mapped[int] = mapped_column(Integer)
    compound_sum: Mapped[float] = mapped_column(Double)


class SentimentPeriod(Base):
    """Per customer, its texts and compound sum in the last 7, 30 and 90 days to the last day of
    gold.support_case (`period_end`) and in the period before: the VIP panel's falling sentiment."""

    __tablename__ = "sentiment_period"
    __table_args__ = {"schema": "gold"}

    period_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    period_end: Mapped[date] = mapped_column(Date)
    texts: Mapped[int | None] = mapped_column(Integer)  # empty without a text in the period
    compound_sum: Mapped[float | None] = mapped_column(Double)
    previous_texts: Mapped[int | None] = mapped_column(Integer)
    previous_compound_sum: Mapped[float | None] = mapped_column(Double)


class TopicTrend(Base):
    """Topic and keyword mentions in the last `period_days` to period_end against the period
    before, for the topic cloud. Keywords: the most used 100 per period."""

    __tablename__ = "topic_trend"
    __table_args__ = (CheckConstraint("kind IN ('topic', 'keyword')", name="kind"), {"schema": "gold"})

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    term: Mapped[str] = mapped_column(Text, primary_key=True)
    period_days: Mapped[int] = mapped_column(Integer, primary_key=True)  # 7, 30 or 90
    period_end: Mapped[date] = mapped_column(Date)  # the as-of day
    mentions: Mapped[int] = mapped_column(Integer)  # texts in the period
    previous_mentions: Mapped[int] = mapped_column(Integer)  # texts in the period before
    change_pct: Mapped[float | None] = mapped_column(Double)  # empty without earlier mentions
    avg_sentiment: Mapped[float | None] = mapped_column(Double)  # of the period's texts
    negative_share: Mapped[float | None] = mapped_column(Double)  # 0-1


class AccountSummary(Base):
    """A plain-English summary per customer, from its gold facts (kept in `facts`)."""

    __tablename__ = "account_summary"
    __table_args__ = {"schema": "gold"}

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    summary: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict] = mapped_column(JSONB)
    generated_at: Mapped[datetime] = mapped_column(Timestamp)


# The windows of the book's feedback (My accounts), counted back from the data's as-of day.
FEEDBACK_SURVEY_DAYS = 365
FEEDBACK_TEXT_DAYS = 90
FEEDBACK_ITEMS_PER_CUSTOMER = 10


class FeedbackItem(Base):
    """Each customer's newest survey comments (any age) and newest negative texts of the last
    FEEDBACK_TEXT_DAYS days, at most FEEDBACK_ITEMS_PER_CUSTOMER of each, so a book's newest
    across thousands of customers is an index read.

    kind 'comment': source is the survey type (nps or csat), score its score. kind 'negative':
    source is message, ticket or reply, score the text's VADER compound.
    """

    __tablename__ = "feedback_item"
    __table_args__ = (
        CheckConstraint("kind IN ('comment', 'negative')", name="kind"),
        Index("ix_feedback_item_kind_at", "kind", "at", "item_id"),
        {"schema": "gold"},
    )

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    source: Mapped[str] = mapped_column(Text, primary_key=True)
    item_id: Mapped[str] = mapped_column(Text, primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp)
    body: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Double)


class FeedbackSummary(Base):
    """Per customer: survey responses of the last FEEDBACK_SURVEY_DAYS days and scored texts of the
    last FEEDBACK_TEXT_DAYS days to the as-of day, as sums, so any book's averages add up exactly."""

    __tablename__ = "feedback_summary"
    __table_args__ = {"schema": "gold"}

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    responses: Mapped[int] = mapped_column(Integer)
    nps_sum: Mapped[float] = mapped_column(Double)
    nps_responses: Mapped[int] = mapped_column(Integer)
    csat_sum: Mapped[float] = mapped_column(Double)
    csat_responses: Mapped[int] = mapped_column(Integer)
    texts: Mapped[int] = mapped_column(Integer)
    compound_sum: Mapped[float] = mapped_column(Double)
    negative_texts: Mapped[int] = mapped_column(Integer)
