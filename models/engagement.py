"""Engagement radar: a 0-1 score per account or contact, tiers, sharp drops and peer groups.

The score blends three parts of the interactions in a look-back window (90 days by default),
counted across every channel (tickets, chat, meetings, campaign replies, web visits):

    recency    0.40  halves every `recency_half_life_days` since the last interaction (0 if none)
    frequency  0.35  1 - exp(-interactions / frequency_saturation): the first few count most
    depth      0.25  half from the number of distinct channels used (all `channels` = 1), half
                     from deep interactions (meetings, QBRs), 1 - exp(-deep / 2)

Tiers (documented thresholds, `TIER_THRESHOLDS`):
    Potential   score >= 0.60  engaged: room to grow the relationship
    Watch List  0.30 <= score < 0.60  lukewarm: keep an eye on it
    Alert       score < 0.30  disengaged: act now

A sharp drop is a fall of at least `min_drop` points (0.20) that is also at least
`min_relative_drop` (30 %) of the earlier score.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd


class EngagementTier(StrEnum):
    POTENTIAL = "Potential"
    WATCH_LIST = "Watch List"
    ALERT = "Alert"


TIER_THRESHOLDS: dict[EngagementTier, float] = {EngagementTier.POTENTIAL: 0.60, EngagementTier.WATCH_LIST: 0.30}
WEIGHTS = {"recency": 0.40, "frequency": 0.35, "depth": 0.25}
COMPONENT_LABELS = {"recency": "Recency", "frequency": "Frequency", "depth": "Depth"}
TIER_MEANINGS = {EngagementTier.POTENTIAL: "engaged: room to grow the relationship",
                 EngagementTier.WATCH_LIST: "lukewarm: keep an eye on it",
                 EngagementTier.ALERT: "disengaged: act now"}
# A drop is measured against the score this many days before the as-of day.
DROP_LOOKBACK_DAYS = 30
MIN_DROP = 0.20
MIN_RELATIVE_DROP = 0.30


@dataclass(frozen=True)
class EngagementScale:
    """How quickly recency decays and how many interactions count as 'a lot' for one kind of entity."""

    recency_half_life_days: float = 30.0
    frequency_saturation: float = 20.0
    channels: int = 4

    def __post_init__(self) -> None:
        if self.recency_half_life_days <= 0 or self.frequency_saturation <= 0 or self.channels <= 0:
            raise ValueError("engagement scale parameters must be positive")


ACCOUNT_SCALE = EngagementScale(recency_half_life_days=30.0, frequency_saturation=20.0, channels=4)
CONTACT_SCALE = EngagementScale(recency_half_life_days=45.0, frequency_saturation=5.0, channels=4)
REQUIRED_COLUMNS = ("days_since_last_interaction", "interactions_90d", "channels_90d", "deep_interactions_90d")


def engagement_scores(frame: pd.DataFrame, scale: EngagementScale = ACCOUNT_SCALE) -> pd.DataFrame:
    """Per row: recency, frequency and depth parts, the 0-1 engagement_score and its tier."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"engagement_scores needs columns {missing}")
    days = pd.to_numeric(frame["days_since_last_interaction"], errors="coerce").astype(float)
    count = pd.to_numeric(frame["interactions_90d"], errors="coerce").astype(float).fillna(0).clip(lower=0)
    channels = pd.to_numeric(frame["channels_90d"], errors="coerce").astype(float).fillna(0).clip(lower=0)
    deep = pd.to_numeric(frame["deep_interactions_90d"], errors="coerce").astype(float).fillna(0).clip(lower=0)
    out = pd.DataFrame(index=frame.index)
    out["recency"] = np.power(0.5, days.clip(lower=0) / scale.recency_half_life_days).fillna(0.0)
    out["frequency"] = 1.0 - np.exp(-count / scale.frequency_saturation)
    out["depth"] = 0.5 * (channels / scale.channels).clip(upper=1.0) + 0.5 * (1.0 - np.exp(-deep / 2.0))
    score = (WEIGHTS["recency"] * out["recency"] + WEIGHTS["frequency"] * out["frequency"]
             + WEIGHTS["depth"] * out["depth"])
    out["engagement_score"] = score.clip(0, 1).round(4)
    out["tier"] = engagement_tiers(out["engagement_score"])
    return out


def engagement_tier(score: float) -> EngagementTier:
    """The tier of one 0-1 score (see TIER_THRESHOLDS)."""
    if score is None or np.isnan(score) or not 0 <= score <= 1:
        raise ValueError(f"an engagement score must be between 0 and 1, got {score!r}")
    if score >= TIER_THRESHOLDS[EngagementTier.POTENTIAL]:
        return EngagementTier.POTENTIAL
    if score >= TIER_THRESHOLDS[EngagementTier.WATCH_LIST]:
        return EngagementTier.WATCH_LIST
    return EngagementTier.ALERT


def engagement_tiers(scores: pd.Series) -> pd.Series:
    """Vectorised engagement_tier."""
    values = scores.astype(float).to_numpy()
    tiers = np.where(values >= TIER_THRESHOLDS[EngagementTier.POTENTIAL], EngagementTier.POTENTIAL.value,
                     np.where(values >= TIER_THRESHOLDS[EngagementTier.WATCH_LIST],
                              EngagementTier.WATCH_LIST.value, EngagementTier.ALERT.value))
    return pd.Series(tiers, index=scores.index, dtype=object)


def detect_drops(current: pd.Series, previous: pd.Series, *, min_drop: float = MIN_DROP,
                 min_relative_drop: float = MIN_RELATIVE_DROP) -> pd.Series:
    """True where the score fell sharply from `previous` to `current` (aligned on the index)."""
    current, previous = current.astype(float).align(previous.astype(float), join="left")
    fall = previous - current
    relative = fall / previous.where(previous > 0)
    return ((fall >= min_drop - 1e-9) & (relative >= min_relative_drop - 1e-9)).fillna(False).astype(bool)


def tier_rules() -> list[tuple[EngagementTier, str]]:
    """Each tier with its rule in words, from TIER_THRESHOLDS and TIER_MEANINGS (never retyped)."""
    potential, watch = TIER_THRESHOLDS[EngagementTier.POTENTIAL], TIER_THRESHOLDS[EngagementTier.WATCH_LIST]
    rules = {EngagementTier.POTENTIAL: f"score \u2265 {potential:.2f}",
             EngagementTier.WATCH_LIST: f"{watch:.2f} \u2264 score < {potential:.2f}",
             EngagementTier.ALERT: f"score < {watch:.2f}"}
    return [(tier, f"{rules[tier]} \u2014 {TIER_MEANINGS[tier]}") for tier in EngagementTier]


def score_rule() -> str:
    """How the 0-1 score is made, in words, from WEIGHTS."""
    parts = ", ".join(f"{COMPONENT_LABELS[name].lower()} {weight:.0%}" for name, weight in WEIGHTS.items())
    return f"Engagement score 0\u20131: a weighted blend of {parts} of the last 90 days' interactions."


def drop_rule() -> str:
    """The sharp-drop rule in words, from MIN_DROP, MIN_RELATIVE_DROP and DROP_LOOKBACK_DAYS."""
    return (f"A sharp drop: the score fell at least {MIN_DROP:.2f} and at least {MIN_RELATIVE_DROP:.0%} of its "
            f"value {DROP_LOOKBACK_DAYS} days earlier.")


def component_falls(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per row, how much each part fell (its own 0-1 scale, positive = fell) from `before` to `after`
    (aligned on the index), the part whose weighted fall took most off the score, and that weighted fall.
    """
    out = pd.DataFrame(index=after.index)
    weighted = pd.DataFrame(index=after.index)
    for name, weight in WEIGHTS.items():
        fall = before[name].astype(float).reindex(after.index) - after[name].astype(float)
        out[f"{name}_fall"] = fall
        weighted[name] = weight * fall
    known = weighted.notna().all(axis=1)
    out["main_part"] = weighted.fillna(-np.inf).idxmax(axis=1).where(known)
    out["main_part_score_fall"] = weighted.max(axis=1).where(known)
    return out


SIZE_BANDS = ((0, "1-49"), (50, "50-499"), (500, "500+"))


def size_band(employees: pd.Series) -> pd.Series:
    """Company size band from the employee count ('Unknown' when missing)."""
    values = pd.to_numeric(employees, errors="coerce").astype(float)
    labels = np.full(len(values), "Unknown", dtype=object)
    for lower, label in SIZE_BANDS:
        labels[(values >= lower).to_numpy()] = label
    return pd.Series(labels, index=employees.index, dtype=object)


def peer_percentiles(frame: pd.DataFrame, score_col: str = "engagement_score",
                     group_cols: tuple[str, ...] = ("segment", "region", "size_band"),
                     *, min_peers: int = 5) -> pd.DataFrame:
    """Each row's percentile (0-100) and peer median within its group of like accounts.

    A group smaller than `min_peers` falls back to the first group column alone (segment), and
    the `peer_group` column says which group was used.
    """
    missing = [c for c in (score_col, *group_cols) if c not in frame.columns]
    if missing:
        raise ValueError(f"peer_percentiles needs columns {missing}")
    keys = frame[list(group_cols)].astype(str).fillna("Unknown")
    full_key = keys.agg(" / ".join, axis=1)
    coarse_key = keys[group_cols[0]]
    scores = frame[score_col].astype(float)
    small = full_key.map(full_key.value_counts()) < min_peers
    by_full, by_coarse = scores.groupby(full_key), scores.groupby(coarse_key)
    out = pd.DataFrame(index=frame.index)
    out["peer_group"] = full_key.where(~small, coarse_key)
    for column, full, coarse in (
        ("peer_percentile", by_full.rank(pct=True, method="average") * 100,
         by_coarse.rank(pct=True, method="average") * 100),
        ("peer_median", by_full.transform("median"), by_coarse.transform("median")),
        ("peer_count", by_full.transform("size"), by_coarse.transform("size")),
    ):
        out[column] = full.where(~small, coarse)
    out["peer_percentile"] = out["peer_percentile"].round(1)
    out["peer_median"] = out["peer_median"].round(4)
    out["peer_count"] = out["peer_count"].astype(int)
    return out
