"""Score chips explained: one colour code for churn risk, health and engagement, and what a
score means for one account in plain words (the churn model's top factors, the health
components, the engagement parts), read from gold and limited to the caller's scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.scope import DataScope
from dashboard.tables.gold import Customer360
from dashboard.tables.intelligence import AccountEngagement, AccountHealth, ChurnPrediction

CHURN, HEALTH, ENGAGEMENT = "churn", "health", "engagement"
# One severity scale across the product: every score's level maps onto it, and the chip's
# colour (and its text label, so colour is never the only cue) follows the severity.
SEVERE, WATCH, GOOD, UNKNOWN = "severe", "watch", "good", "unknown"
SEVERITY: dict[str, dict[str, str]] = {
    CHURN: {"HIGH": SEVERE, "MEDIUM": WATCH, "LOW": GOOD},
    HEALTH: {"Critical": SEVERE, "At-Risk": WATCH, "Healthy": GOOD},
    ENGAGEMENT: {"Alert": SEVERE, "Watch List": WATCH, "Potential": GOOD},
}
SCORE_NAMES = {CHURN: "Churn risk", HEALTH: "Health", ENGAGEMENT: "Engagement"}
LEVEL_WORDS = {CHURN: {"HIGH": "High", "MEDIUM": "Medium", "LOW": "Low"}}
HEALTH_WEIGHTS = {"payment": 30, "support": 25, "usage": 25, "engagement": 20}
MAX_FACTORS = 5


def severity(score: str, level: str | None) -> str:
    """The shared severity (severe, watch, good, unknown) of a score's level."""
    return SEVERITY.get(score, {}).get(level or "", UNKNOWN)


def level_label(score: str, level: str | None) -> str:
    """The chip's words, e.g. 'High' for churn 'HIGH', 'At-Risk' for health."""
    if not level:
        return "Not scored"
    return LEVEL_WORDS.get(score, {}).get(level, level)


@dataclass(frozen=True)
class ScoreFactor:
    """One reason behind a score, as a sentence, with whether it raises or lowers the concern."""

    label: str
    sentence: str
    raises_concern: bool


@dataclass(frozen=True)
class ScoreExplanation:
    """What one account's score is and why, in plain words."""

    score: str  # churn, health, engagement
    account_id: str
    account_name: str
    level: str | None
    severity: str
    value: float | None  # 0-100
    summary: str
    factors: tuple[ScoreFactor, ...]
    scored_at: datetime | None
    recommended_action: str | None = None


def _account_name(session: Session, account_id: str, scope: DataScope) -> str | None:
    return session.scalar(select(Customer360.account_name)
                          .where(Customer360.account_id == account_id, scope.customer_filter()))


def churn_explanation(session: Session, account_id: str, scope: DataScope) -> ScoreExplanation | None:
    """The churn model's risk for the account and its strongest factors; None outside the scope."""
    name = _account_name(session, account_id, scope)
    if name is None:
        return None
    churn = session.get(ChurnPrediction, account_id)
    if churn is None:
        return ScoreExplanation(CHURN, account_id, name, None, UNKNOWN, None,
                                "The churn model has not scored this customer yet.", (), None)
    factors = tuple(
        ScoreFactor(str(f.get("label") or f.get("feature") or ""), str(f.get("sentence") or ""),
                    float(f.get("contribution") or 0.0) > 0)
        for f in (churn.contributing_factors or [])[:MAX_FACTORS])
    summary = (f"{level_label(CHURN, churn.risk_level)} risk: a {churn.churn_probability:.0%} chance of "
               f"churning within 90 days (score {churn.churn_risk_score:.0f} of 100).")
    return ScoreExplanation(CHURN, account_id, name, churn.risk_level, severity(CHURN, churn.risk_level),
                            churn.churn_risk_score, summary, factors, churn.scored_at, churn.recommended_action)


def health_explanation(session: Session, account_id: str, scope: DataScope) -> ScoreExplanation | None:
    """The health score and its four weighted components, weakest first."""
    name = _account_name(session, account_id, scope)
    if name is None:
        return None
    health = session.get(AccountHealth, account_id)
    if health is None:
        return ScoreExplanation(HEALTH, account_id, name, None, UNKNOWN, None,
                                "No health score has been worked out for this customer yet.", (), None)
    parts = {"payment": health.payment_score, "support": health.support_score, "usage": health.usage_score,
             "engagement": health.engagement_component}
    factors = tuple(
        ScoreFactor(f"{part.title()} ({HEALTH_WEIGHTS[part]} % of the score)",
                    f"{part.title()} scores {value:.0f} of 100.", value < 50)
        for part, value in sorted(parts.items(), key=lambda item: item[1]))
    summary = f"{health.health_band}: health {health.health_score:.0f} of 100, the weighted sum of four parts."
    return ScoreExplanation(HEALTH, account_id, name, health.health_band, severity(HEALTH, health.health_band),
                            health.health_score, summary, factors, health.scored_at)


def engagement_explanation(session: Session, account_id: str,
                           scope: DataScope) -> ScoreExplanation | None:
    """The engagement score, its recency, frequency and depth, and where it stands among peers."""
    name = _account_name(session, account_id, scope)
    if name is None:
        return None
    engagement = session.get(AccountEngagement, account_id)
    if engagement is None:
        return ScoreExplanation(ENGAGEMENT, account_id, name, None, UNKNOWN, None,
                                "No engagement score has been worked out for this customer yet.", (), None)
    parts = {"recency": engagement.recency, "frequency": engagement.frequency, "depth": engagement.depth}
    # The engagement score and its parts are 0-1 (models.engagement).
    factors = tuple(ScoreFactor(part.title(), f"{part.title()} scores {value:.2f} of 1.", value < 0.5)
                    for part, value in sorted(parts.items(), key=lambda item: item[1]))
    summary = (f"{engagement.tier}: engagement {engagement.engagement_score:.2f} of 1, higher than "
               f"{engagement.peer_percentile:.0f} % of similar customers ({engagement.peer_group}).")
    if engagement.sharp_drop:
        summary += " It dropped sharply in the last 30 days."
    return ScoreExplanation(ENGAGEMENT, account_id, name, engagement.tier, severity(ENGAGEMENT, engagement.tier),
                            engagement.engagement_score, summary, factors, engagement.scored_at)


EXPLAINERS = {CHURN: churn_explanation, HEALTH: health_explanation, ENGAGEMENT: engagement_explanation}


def explain(session: Session, score: str, account_id: str, scope: DataScope) -> ScoreExplanation | None:
    """The explanation of one score of one account; None for an unknown score or an account
    outside the scope (callers say 'not found' either way)."""
    explainer = EXPLAINERS.get(score)
    if explainer is None or not isinstance(account_id, str) or not account_id:
        return None
    return explainer(session, account_id, scope)
