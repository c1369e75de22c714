"""Engagement radar: score parts on known inputs, tier thresholds, sharp drops and peer groups."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from models.engagement import (
    ACCOUNT_SCALE,
    EngagementTier,
    component_falls,
    detect_drops,
    engagement_scores,
    engagement_tier,
    peer_percentiles,
    size_band,
    tier_rules,
)


def test_score_parts_on_known_inputs() -> None:
    frame = pd.DataFrame([
        {"days_since_last_interaction": 0, "interactions_90d": 0, "channels_90d": 0, "deep_interactions_90d": 0},
        {"days_since_last_interaction": 30, "interactions_90d": 20, "channels_90d": 2, "deep_interactions_90d": 2},
        {"days_since_last_interaction": None, "interactions_90d": 0, "channels_90d": 0, "deep_interactions_90d": 0},
    ])
    scores = engagement_scores(frame, ACCOUNT_SCALE)
    assert scores.loc[0, "recency"] == 1.0 and scores.loc[0, "engagement_score"] == pytest.approx(0.4)
    assert scores.loc[1, "recency"] == pytest.approx(0.5)  # one half-life
    assert scores.loc[1, "frequency"] == pytest.approx(1 - math.exp(-1))
    assert scores.loc[1, "depth"] == pytest.approx(0.5 * 0.5 + 0.5 * (1 - math.exp(-1)))
    expected = 0.4 * 0.5 + 0.35 * (1 - math.exp(-1)) + 0.25 * (0.25 + 0.5 * (1 - math.exp(-1)))
    assert scores.loc[1, "engagement_score"] == pytest.approx(expected, abs=1e-4)
    assert scores.loc[2, "engagement_score"] == 0.0 and scores.loc[2, "tier"] == "Alert"


@pytest.mark.parametrize(("score", "tier"), [
    (1.0, EngagementTier.POTENTIAL), (0.6, EngagementTier.POTENTIAL), (0.5999, EngagementTier.WATCH_LIST),
    (0.3, EngagementTier.WATCH_LIST), (0.2999, EngagementTier.ALERT), (0.0, EngagementTier.ALERT),
])
def test_tier_thresholds(score: float, tier: EngagementTier) -> None:
    assert engagement_tier(score) is tier
    assert engagement_scores(pd.DataFrame([{"days_since_last_interaction": 0, "interactions_90d": 0,
                                            "channels_90d": 0, "deep_interactions_90d": 0}]))["tier"].iloc[0] \
        == "Watch List"  # 0.4: recent but nothing else


def test_out_of_range_scores_are_refused() -> None:
    with pytest.raises(ValueError):
        engagement_tier(1.5)


def test_sharp_drop_needs_both_an_absolute_and_a_relative_fall() -> None:
    previous = pd.Series({"a": 0.8, "b": 0.9, "c": 0.1, "d": None, "e": 0.6, "f": 0.7, "g": 0.3})
    current = pd.Series({"a": 0.6, "b": 0.65, "c": 0.0, "d": 0.2, "e": 0.4, "f": 0.45, "g": 0.9})
    drops = detect_drops(current, previous)
    assert not drops["a"]  # 0.20 points but only 25 %
    assert not drops["b"]  # 0.25 points, 28 %
    assert not drops["c"]  # 100 % but only 0.1 points
    assert not drops["d"]  # nothing to compare with
    assert drops["e"]  # exactly 0.20 points and 33 %: on the boundary
    assert drops["f"]
    assert not drops["g"]  # a rise


def test_peer_percentiles_within_segment_region_and_size_band() -> None:
    frame = pd.DataFrame({
        "segment": ["SMB"] * 5 + ["SMB"] * 2 + ["Enterprise"] * 5,
        "region": ["EMEA"] * 5 + ["APAC"] * 2 + ["EMEA"] * 5,
        "size_band": size_band(pd.Series([10] * 5 + [10, 10] + [800] * 5)),
        "engagement_score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 0.0, 0.5, 0.5, 0.5, 0.5, 0.9],
    })
    peers = peer_percentiles(frame, min_peers=5)
    assert peers.loc[4, "peer_group"] == "SMB / EMEA / 1-49"
    assert peers.loc[4, "peer_percentile"] == 100.0 and peers.loc[0, "peer_percentile"] == 20.0
    assert peers.loc[0, "peer_median"] == 0.3 and peers.loc[0, "peer_count"] == 5
    # Two APAC SMBs are too few: they are compared with every SMB (7 accounts).
    assert peers.loc[5, "peer_group"] == "SMB" and peers.loc[5, "peer_count"] == 7
    assert peers.loc[5, "peer_percentile"] == 100.0
    assert peers.loc[11, "peer_percentile"] == 100.0 and peers.loc[11, "peer_median"] == 0.5


def test_size_bands() -> None:
    bands = size_band(pd.Series([1, 49, 50, 499, 500, None]))
    assert bands.tolist() == ["1-49", "1-49", "50-499", "50-499", "500+", "Unknown"]


def test_component_falls_name_the_part_that_took_most_off_the_score() -> None:
    before = pd.DataFrame({"recency": [1.0, 0.5, None], "frequency": [0.5, 0.9, 0.5], "depth": [0.5, 0.5, 0.5]},
                          index=["a", "b", "c"])
    after = pd.DataFrame({"recency": [0.5, 0.5, 0.2], "frequency": [0.5, 0.2, 0.5], "depth": [0.0, 0.5, 0.5]},
                         index=["a", "b", "c"])
    falls = component_falls(before, after)
    # a: recency fell 0.5 (x 0.40 = 0.20) and depth 0.5 (x 0.25 = 0.125): recency took most.
    assert falls.loc["a", "main_part"] == "recency" and falls.loc["a", "main_part_score_fall"] == pytest.approx(0.2)
    assert falls.loc["b", "main_part"] == "frequency" and falls.loc["b", "frequency_fall"] == pytest.approx(0.7)
    assert pd.isna(falls.loc["c", "main_part"])  # a part unknown before: nothing to name


def test_tier_rules_state_the_thresholds() -> None:
    rules = dict(tier_rules())
    assert list(rules) == [EngagementTier.POTENTIAL, EngagementTier.WATCH_LIST, EngagementTier.ALERT]
    assert "0.60" in rules[EngagementTier.POTENTIAL] and "0.30" in rules[EngagementTier.WATCH_LIST]
    assert "< 0.30" in rules[EngagementTier.ALERT]
