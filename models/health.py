"""Customer health score (0-100): payment 30 %, support 25 %, usage trend 25 %, engagement 20 %.

Each component is itself a 0-100 score, kept alongside the total so a page can show why an
account is unhealthy. Inputs are per-account columns of a DataFrame (missing values count as
"nothing known", which scores neutral-to-good rather than punishing an account with no history):

    days_overdue            the oldest unpaid, overdue invoice's days past due (0 when none)
    late_payment_share      share (0-1) of the last 12 months' invoices paid after their due date
    open_tickets            tickets open or pending now
    escalations_90d         escalated tickets opened in the last 90 days
    sla_breaches_90d        tickets in the last 90 days whose first response missed the SLA
    usage_trend_90d         mean daily usage of the last 30 days over the 90 days before, minus 1
    engagement_score        0-1 (see models.engagement)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd


class HealthBand(StrEnum):
    HEALTHY = "Healthy"  # 80-100
    AT_RISK = "At-Risk"  # 50-79
    CRITICAL = "Critical"  # 0-49


@dataclass(frozen=True)
class HealthWeights:
    """Weights of the four components; they must add up to 1."""

    payment: float = 0.30
    support: float = 0.25
    usage: float = 0.25
    engagement: float = 0.20

    def __post_init__(self) -> None:
        values = (self.payment, self.support, self.usage, self.engagement)
        if any(v < 0 for v in values) or not np.isclose(sum(values), 1.0):
            raise ValueError(f"health weights must be non-negative and add up to 1, got {values}")


COMPONENTS = ("payment_score", "support_score", "usage_score", "engagement_component")
REQUIRED_COLUMNS = ("days_overdue", "late_payment_share", "open_tickets", "escalations_90d",
                    "sla_breaches_90d", "usage_trend_90d", "engagement_score")


HEALTHY_MIN_SCORE = 80.0
AT_RISK_MIN_SCORE = 50.0


def health_band(score: float) -> HealthBand:
    """Healthy at 80 and above, At-Risk from 50 to below 80, Critical below 50."""
    if score is None or np.isnan(score):
        raise ValueError("a health score is needed to name its band")
    if score >= HEALTHY_MIN_SCORE:
        return HealthBand.HEALTHY
    if score >= AT_RISK_MIN_SCORE:
        return HealthBand.AT_RISK
    return HealthBand.CRITICAL


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(frame[name], errors="coerce").astype(float)


def payment_score(days_overdue: pd.Series, late_payment_share: pd.Series) -> pd.Series:
    """100 when every invoice is paid on time; -50 for a 60-day-old debt, -50 if all are paid late."""
    overdue = days_overdue.fillna(0).clip(lower=0, upper=60) / 60 * 50
    late = late_payment_share.fillna(0).clip(0, 1) * 50
    return (100 - overdue - late).clip(0, 100)


def support_score(open_tickets: pd.Series, escalations_90d: pd.Series, sla_breaches_90d: pd.Series) -> pd.Series:
    """100 with no trouble; each escalation costs 15, each SLA breach 10, each open ticket 5."""
    penalty = (15 * escalations_90d.fillna(0) + 10 * sla_breaches_90d.fillna(0) + 5 * open_tickets.fillna(0))
    return (100 - penalty).clip(0, 100)


def usage_score(usage_trend_90d: pd.Series) -> pd.Series:
    """80 for flat usage, 100 from +12.5 % growth, 0 at a 50 % fall; unknown trend counts as flat."""
    return (80 + 160 * usage_trend_90d.fillna(0)).clip(0, 100)


def health_scores(frame: pd.DataFrame, weights: HealthWeights | None = None) -> pd.DataFrame:
    """Per row: the four component scores, the weighted health_score (0-100) and its band."""
    weights = weights or HealthWeights()
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"health_scores needs columns {missing}")
    out = pd.DataFrame(index=frame.index)
    out["payment_score"] = payment_score(_col(frame, "days_overdue"), _col(frame, "late_payment_share"))
    out["support_score"] = support_score(_col(frame, "open_tickets"), _col(frame, "escalations_90d"),
                                         _col(frame, "sla_breaches_90d"))
    out["usage_score"] = usage_score(_col(frame, "usage_trend_90d"))
    # an account with no engagement data at all scores 0 here: silence is a warning sign
    out["engagement_component"] = (_col(frame, "engagement_score").fillna(0).clip(0, 1) * 100)
    out["health_score"] = (weights.payment * out["payment_score"] + weights.support * out["support_score"]
                           + weights.usage * out["usage_score"]
                           + weights.engagement * out["engagement_component"]).round(1)
    out["health_band"] = [health_band(s).value for s in out["health_score"]]
    return out
