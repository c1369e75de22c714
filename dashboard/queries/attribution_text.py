"""Queries for the attribution, sentiment, topic-cloud and client-summary views (gold only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.tables.attribution_text import (
    ATTRIBUTION_MODELS,
    AccountSummary,
    AttributionCampaign,
    AttributionMonthly,
    SentimentDaily,
    TopicTrend,
)
from dashboard.tables.gold import Campaign


@dataclass(frozen=True)
class ChannelCredit:
    channel: str
    journeys: int
    conversions: float
    conversion_value_usd: float
    removal_effect: float | None  # Markov only


@dataclass(frozen=True)
class CampaignCredit:
    campaign_id: str
    campaign_name: str | None
    channel: str | None
    journeys: int
    conversions: float
    conversion_value_usd: float
    removal_effect: float | None


@dataclass(frozen=True)
class SentimentPoint:
    day: date
    texts: int
    positive: int
    neutral: int
    negative: int
    average: float  # mean VADER compound, -1..1


@dataclass(frozen=True)
class TopicCount:
    term: str
    mentions: int
    previous_mentions: int
    change_pct: float | None
    avg_sentiment: float | None
    negative_share: float | None


@dataclass(frozen=True)
class ClientSummary:
    account_id: str
    summary: str
    facts: dict
    generated_at: datetime


def _check_model(model: str) -> None:
    if model not in ATTRIBUTION_MODELS:
        raise ValueError(f"unknown attribution model {model!r}; one of {ATTRIBUTION_MODELS}")


def channel_attribution(session: Session, model: str, start: date | None = None,
                        end: date | None = None) -> list[ChannelCredit]:
    """Credit per channel under `model`, over the months from `start` to `end` (inclusive; all when
    empty), most conversions first. The Markov removal effect is the journey-weighted mean of the months'."""
    _check_model(model)
    t = AttributionMonthly
    query = select(t.channel, func.sum(t.journeys), func.sum(t.conversions), func.sum(t.conversion_value_usd),
                   func.sum(t.removal_effect * t.journeys) / func.nullif(func.sum(t.journeys), 0)
                   ).where(t.model == model).group_by(t.channel)
    if start is not None:
        query = query.where(t.month >= start.replace(day=1))
    if end is not None:
        query = query.where(t.month <= end)
    rows = session.execute(query.order_by(func.sum(t.conversions).desc(), t.channel)).all()
    return [ChannelCredit(ch, int(j or 0), float(c or 0), float(v or 0), None if r is None else float(r))
            for ch, j, c, v, r in rows]


def attribution_months(session: Session, model: str) -> dict[date, list[ChannelCredit]]:
    """Credit per month and channel under `model`, months in order, for a stacked chart."""
    _check_model(model)
    t = AttributionMonthly
    out: dict[date, list[ChannelCredit]] = {}
    for row in session.scalars(select(t).where(t.model == model).order_by(t.month, t.channel)):
        out.setdefault(row.month, []).append(ChannelCredit(row.channel, row.journeys, row.conversions,
                                                           row.conversion_value_usd, row.removal_effect))
    return out


def campaign_attribution(session: Session, model: str, limit: int = 20) -> list[CampaignCredit]:
    """The campaigns credited most conversions under `model`."""
    _check_model(model)
    t = AttributionCampaign
    rows = session.execute(
        select(t, Campaign.campaign_name, Campaign.channel)
        .outerjoin(Campaign, Campaign.campaign_id == t.campaign_id)
        .where(t.model == model).order_by(t.conversions.desc(), t.campaign_id).limit(limit)).all()
    return [CampaignCredit(r.campaign_id, name, channel, r.journeys, r.conversions, r.conversion_value_usd,
                           r.removal_effect) for r, name, channel in rows]


def sentiment_by_day(session: Session, start: date, end: date, *, account_ids: list[str] | None = None,
                     agent_id: str | None = None) -> list[SentimentPoint]:
    """Customer-text sentiment per day from `start` to `end`, optionally for some customers or one agent."""
    t = SentimentDaily
    query = (select(t.day, func.sum(t.texts), func.sum(t.positive), func.sum(t.neutral), func.sum(t.negative),
                    func.sum(t.compound_sum)).where(t.day >= start, t.day <= end).group_by(t.day).order_by(t.day))
    if account_ids is not None:
        query = query.where(t.account_id.in_(account_ids))
    if agent_id is not None:
        query = query.where(t.agent_id == agent_id)
    return [SentimentPoint(day, int(n), int(p), int(u), int(g), float(c) / n if n else 0.0)
            for day, n, p, u, g, c in session.execute(query)]


def sentiment_by_agent(session: Session, start: date, end: date) -> list[tuple[str, int, float]]:
    """(agent id, texts, average sentiment) for the texts in conversations and tickets each agent handled."""
    t = SentimentDaily
    rows = session.execute(
        select(t.agent_id, func.sum(t.texts), func.sum(t.compound_sum) / func.sum(t.texts))
        .where(t.day >= start, t.day <= end, t.agent_id != "Unassigned")
        .group_by(t.agent_id).order_by(t.agent_id)).all()
    return [(agent, int(n), float(avg)) for agent, n, avg in rows]


def topic_cloud(session: Session, period_days: int = 30, *, kind: str = "topic",
                limit: int = 50) -> list[TopicCount]:
    """Topics (or keywords) by mentions in the last `period_days` (7, 30 or 90), with the trend."""
    if kind not in ("topic", "keyword"):
        raise ValueError("kind must be 'topic' or 'keyword'")
    t = TopicTrend
    rows = session.scalars(select(t).where(t.kind == kind, t.period_days == period_days, t.mentions > 0)
                           .order_by(t.mentions.desc(), t.term).limit(limit))
    return [TopicCount(r.term, r.mentions, r.previous_mentions, r.change_pct, r.avg_sentiment, r.negative_share)
            for r in rows]


def account_summary(session: Session, account_id: str) -> ClientSummary | None:
    """The customer's plain-English summary, or None before the summary job has run."""
    row = session.get(AccountSummary, account_id)
    return None if row is None else ClientSummary(row.account_id, row.summary, row.facts, row.generated_at)
