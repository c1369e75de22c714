"""Attribution models on journeys small enough to work out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from models.attribution import AttributionInputError, heuristic_attribution, markov_attribution


def paths(*rows: tuple[str, float, float, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["path", "total_conversions", "total_conversion_value", "total_null"])


def by_channel(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return frame.set_index("channel").to_dict("index")


def test_markov_order_1_matches_the_hand_solved_chain():
    """Journeys: A > B (1 converted, 1 not, value 100), A (2 not), B (1 converted, value 50).

    Transitions counted over the 5 journeys:
        start -> A 4/5, start -> B 1/5;  A -> B 2/4, A -> null 2/4;  B -> conv 2/3, B -> null 1/3.
    P(conv) = 4/5 * 1/2 * 2/3 + 1/5 * 2/3 = 4/15 + 2/15 = 6/15.
    Without A: only start -> B -> conv remains: 1/5 * 2/3 = 2/15, removal effect 1 - 2/6 = 2/3.
    Without B: nothing converts: removal effect 1.
    Shares: A (2/3) / (5/3) = 2/5, B 3/5 of 2 conversions (0.8, 1.2) and of $150 ($60, $90).
    """
    result = by_channel(markov_attribution(paths(("A > B", 1, 100, 1), ("A", 0, 0, 2), ("B", 1, 50, 0))))
    assert result["A"]["removal_effect"] == pytest.approx(2 / 3)
    assert result["B"]["removal_effect"] == pytest.approx(1.0)
    assert result["A"]["conversions"] == pytest.approx(0.8)
    assert result["B"]["conversions"] == pytest.approx(1.2)
    assert result["A"]["conversion_value"] == pytest.approx(60.0)
    assert result["B"]["conversion_value"] == pytest.approx(90.0)


def test_markov_solves_a_chain_with_a_cycle_exactly():
    """Journeys: A > B > A (converted, value 10) and B (not converted).

    start -> A 1/2, start -> B 1/2; A -> B 1/2, A -> conv 1/2; B -> A 1/2, B -> null 1/2.
    Absorption probabilities: x_A = 1/2 + 1/2 x_B and x_B = 1/2 x_A, so x_A = 2/3, x_B = 1/3 and
    P(conv) = 1/2 * 2/3 + 1/2 * 1/3 = 1/2 (an infinite sum of loops, which a simulation only
    approximates). Without A: 0, removal effect 1. Without B: x_A = 1/2, P = 1/4, removal effect 1/2.
    Shares 2/3 and 1/3.
    """
    result = by_channel(markov_attribution(paths(("A > B > A", 1, 10, 0), ("B", 0, 0, 1))))
    assert result["A"]["removal_effect"] == pytest.approx(1.0)
    assert result["B"]["removal_effect"] == pytest.approx(0.5)
    assert result["A"]["conversions"] == pytest.approx(2 / 3)
    assert result["B"]["conversion_value"] == pytest.approx(10 / 3)


def test_markov_order_2_reproduces_the_journeys_exactly():
    """With journeys of at most 2 touches, the order-2 states ((A), (A, B), (B), (B, A)) are the
    journeys' prefixes, so the chain is the journeys themselves: 16 journeys, 6 conversions.
    Without A only the journey "B" is left (2 of 16 convert): removal effect 1 - 2/6 = 2/3.
    Without B only "A" is left (1 of 16): 1 - 1/6 = 5/6. Order 1 mixes what follows A whether or
    not B came first, so it gives other numbers (4/9 and 8/9).
    """
    journeys = paths(("A > B", 3, 30, 1), ("A", 1, 10, 3), ("B", 2, 20, 2), ("B > A", 0, 0, 4))
    second = by_channel(markov_attribution(journeys, order=2))
    assert second["A"]["removal_effect"] == pytest.approx(2 / 3)
    assert second["B"]["removal_effect"] == pytest.approx(5 / 6)
    assert second["A"]["conversions"] + second["B"]["conversions"] == pytest.approx(6)
    assert second["A"]["conversions"] == pytest.approx(6 * (2 / 3) / (2 / 3 + 5 / 6))
    first = by_channel(markov_attribution(journeys, order=1))
    assert first["A"]["removal_effect"] == pytest.approx(4 / 9)
    assert first["B"]["removal_effect"] == pytest.approx(8 / 9)
    third = by_channel(markov_attribution(journeys, order=3))
    assert third["A"]["removal_effect"] == pytest.approx(2 / 3)


def test_markov_splits_identical_paths_the_same_as_one_row_and_nothing_converting_gives_zero():
    one = markov_attribution(paths(("A > B", 2, 20, 2), ("B", 1, 5, 1)))
    split = markov_attribution(paths(("A > B", 1, 10, 1), ("B", 1, 5, 1), ("A > B", 1, 10, 1)))
    pd.testing.assert_frame_equal(one, split)
    nothing = markov_attribution(paths(("A > B", 0, 0, 3)))
    assert nothing["conversions"].tolist() == [0, 0]
    assert nothing["removal_effect"].tolist() == [0, 0]


def test_heuristics_on_two_paths():
    """Journeys: "A > B > C" converted once for $90, and "C" converted twice for $30."""
    result = heuristic_attribution(paths(("A > B > C", 1, 90, 0), ("C", 2, 30, 5)))
    got = {(r.model, r.channel): (r.conversions, r.conversion_value) for r in result.itertuples()}
    expected = {
        "first_touch": {"A": (1, 90), "B": (0, 0), "C": (2, 30)},
        "last_touch": {"A": (0, 0), "B": (0, 0), "C": (3, 120)},
        "linear": {"A": (1 / 3, 30), "B": (1 / 3, 30), "C": (7 / 3, 60)},
        # half-life 1 step: weights 1/4, 1/2, 1 over A, B, C -> 1/7, 2/7, 4/7
        "time_decay": {"A": (1 / 7, 90 / 7), "B": (2 / 7, 180 / 7), "C": (2 + 4 / 7, 30 + 360 / 7)},
        "position_based": {"A": (0.4, 36), "B": (0.2, 18), "C": (2.4, 66)},
    }
    for model, channels in expected.items():
        for channel, (conversions, value) in channels.items():
            assert got[(model, channel)] == pytest.approx((conversions, value)), (model, channel)


def test_position_based_gives_two_touch_paths_half_each_and_counts_repeats():
    result = heuristic_attribution(paths(("A > B", 1, 10, 0), ("A > A > A > B", 1, 10, 0)))
    position = result[result.model == "position_based"].set_index("channel")["conversions"]
    assert position["A"] == pytest.approx(0.5 + 0.4 + 0.2)
    assert position["B"] == pytest.approx(0.5 + 0.4)


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"path": ["A"], "total_conversions": [1], "total_null": [0]}), "missing column"),
    (paths(("A > B", -1, 0, 1)), "negative"),
    (paths(("", 1, 0, 1)), "empty path"),
    (paths(("A >  > B", 1, 0, 1)), "empty channel"),
])
def test_malformed_paths_get_a_clear_error(frame, message):
    with pytest.raises(AttributionInputError, match=message):
        markov_attribution(frame)
    with pytest.raises(AttributionInputError, match=message):
        heuristic_attribution(frame)


def test_markov_order_must_be_1_to_3():
    with pytest.raises(AttributionInputError, match="order"):
        markov_attribution(paths(("A", 1, 1, 0)), order=4)
