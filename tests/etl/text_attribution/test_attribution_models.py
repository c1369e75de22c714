"""Attribution models on journeys small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.attribution import (
    MAX_SHAPLEY_CHANNELS,
    OTHER_CHANNELS,
    AttributionInputError,
    TooManyChannelsError,
    attribute_all,
    heuristic_attribution,
    markov_attribution,
    shapley_attribution,
)


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
    with pytest.raises(AttributionInputError, match=message):
        shapley_attribution(frame)


def test_markov_order_must_be_1_to_3():
    with pytest.raises(AttributionInputError, match="order"):
        markov_attribution(paths(("A", 1, 1, 0)), order=4)


def test_shapley_matches_the_hand_computed_two_channel_game():
    """Journeys: A (1 converted of 4, $100), B (1 converted of 2, $50), A > B (2 converted of 3, $200)
    and B > A (1 converted of 1, $150). Order does not matter: both of the last two have the set {A, B}.

    Conversion rates per exact channel set: r(A) = 1/4, r(B) = 1/2, r(AB) = 3/4. The game sums the
    rates of the sets within a coalition: v(A) = 1/4, v(B) = 1/2, v(AB) = 1/4 + 1/2 + 3/4 = 3/2.
    With 2 players each joins the empty set or the other one with weight 1/2:
        phi_A = 1/2 (1/4 - 0) + 1/2 (3/2 - 1/2) = 1/8 + 1/2 = 5/8
        phi_B = 1/2 (1/2 - 0) + 1/2 (3/2 - 1/4) = 1/4 + 5/8 = 7/8
    (phi_A + phi_B = 3/2 = v(AB)). Shares 5/12 and 7/12 of the 5 conversions and the $500:
        A 25/12 conversions, $2500/12;  B 35/12 conversions, $3500/12.
    """
    result = by_channel(shapley_attribution(paths(
        ("A", 1, 100, 3), ("B", 1, 50, 1), ("A > B", 2, 200, 1), ("B > A", 1, 150, 0))))
    assert result["A"]["shapley_value"] == pytest.approx(5 / 8)
    assert result["B"]["shapley_value"] == pytest.approx(7 / 8)
    assert result["A"]["conversions"] == pytest.approx(25 / 12)
    assert result["B"]["conversions"] == pytest.approx(35 / 12)
    assert result["A"]["conversion_value"] == pytest.approx(2500 / 12)
    assert result["B"]["conversion_value"] == pytest.approx(3500 / 12)


def test_shapley_gives_mirror_image_channels_equal_credit():
    """A and B are symmetric: every journey with one has its mirror image with the other (B > A is A > B
    reversed, and order does not matter), so every coalition's value is unchanged by swapping them."""
    result = by_channel(shapley_attribution(paths(
        ("A > C", 3, 300, 1), ("B > C", 3, 300, 1), ("A", 1, 50, 2), ("B", 1, 50, 2),
        ("A > B", 2, 80, 0), ("B > A", 0, 0, 5), ("C", 2, 20, 1))))
    assert result["A"]["shapley_value"] == pytest.approx(result["B"]["shapley_value"])
    assert result["A"]["conversions"] == pytest.approx(result["B"]["conversions"])
    assert result["A"]["conversion_value"] == pytest.approx(result["B"]["conversion_value"])
    assert result["C"]["conversions"] != pytest.approx(result["A"]["conversions"])


def test_shapley_gives_a_channel_found_only_on_journeys_that_never_convert_nothing():
    """D is on journeys that never convert (D alone, A > D, D > B): every channel set holding D has
    rate 0, so adding D to a coalition adds nothing: phi_D = 0 and D is credited nothing."""
    result = by_channel(shapley_attribution(paths(
        ("A", 1, 10, 1), ("A > D", 0, 0, 3), ("B", 1, 10, 3), ("D > B", 0, 0, 2), ("D", 0, 0, 7))))
    assert result["D"]["shapley_value"] == pytest.approx(0.0, abs=1e-12)
    assert result["D"]["conversions"] == pytest.approx(0.0, abs=1e-12)
    assert result["D"]["conversion_value"] == pytest.approx(0.0, abs=1e-12)
    assert result["A"]["conversions"] > result["B"]["conversions"] > 0  # A converts 1 in 2, B 1 in 4


def test_shapley_differs_from_linear_when_one_channels_journeys_convert_more_often():
    """A and B each convert 10 journeys alone, but A needs 100 journeys for them and B 20:
    r(A) = 1/10, r(B) = 1/2, r(AB) = 5/10 = 1/2; v(AB) = 1/10 + 1/2 + 1/2 = 11/10. Linear splits evenly.
        phi_A = 1/2 (1/10) + 1/2 (11/10 - 1/2) = 7/20;  phi_B = 1/2 (1/2) + 1/2 (11/10 - 1/10) = 15/20
    Shares 7/22 and 15/22 of the 25 conversions: A 175/22, B 375/22."""
    journeys = paths(("A", 10, 100, 90), ("B", 10, 100, 10), ("A > B", 5, 50, 5))
    linear = heuristic_attribution(journeys).query("model == 'linear'").set_index("channel")["conversions"]
    assert linear["A"] == pytest.approx(12.5) and linear["B"] == pytest.approx(12.5)
    shapley = by_channel(shapley_attribution(journeys))
    assert shapley["A"]["conversions"] == pytest.approx(175 / 22)
    assert shapley["B"]["conversions"] == pytest.approx(375 / 22)
    assert shapley["B"]["conversion_value"] == pytest.approx(15 / 22 * 250)


def test_shapley_values_are_each_channel_sets_rate_shared_equally_and_never_negative():
    """The enumeration against the closed form of this game, worked out independently with pandas:
    phi_k = sum over the observed channel sets T holding k of r(T) / |T|. With no conversion at all
    every phi is 0 and the (zero) totals are split equally."""
    journeys = random_paths(6, 300, seed=11)
    exact = shapley_attribution(journeys).set_index("channel")
    sets = journeys.assign(channels=journeys.path.str.split(" > ").map(lambda p: tuple(sorted(set(p)))))
    per_set = sets.groupby("channels")[["total_conversions", "total_null"]].sum()
    rate = per_set.total_conversions / (per_set.total_conversions + per_set.total_null)
    expected = {c: sum(r / len(t) for t, r in rate.items() if c in t) for c in exact.index}
    for channel, phi in expected.items():
        assert exact.loc[channel, "shapley_value"] == pytest.approx(phi, rel=1e-9)
    assert (exact["shapley_value"] >= 0).all()
    none = by_channel(shapley_attribution(paths(("A", 0, 0, 2), ("B", 0, 0, 2))))
    assert none["A"]["shapley_value"] == 0 and none["A"]["conversions"] == 0 == none["B"]["conversions"]


def random_paths(n_channels: int, rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [f"ch{i:02d}" for i in range(n_channels)]
    length = rng.integers(1, 6, rows)
    text = [" > ".join(names[c] for c in rng.integers(0, n_channels, k)) for k in length.tolist()]
    conversions = rng.integers(0, 4, rows)
    return pd.DataFrame({"path": text, "total_conversions": conversions,
                         "total_conversion_value": conversions * rng.uniform(10, 500, rows),
                         "total_null": rng.integers(0, 6, rows)})


@pytest.mark.parametrize("n_channels", [1, 5, MAX_SHAPLEY_CHANNELS])
def test_shapley_credits_add_up_to_the_totals(n_channels):
    journeys = random_paths(n_channels, 400, seed=n_channels)
    exact = shapley_attribution(journeys)
    assert len(exact) == n_channels
    assert exact["conversions"].sum() == pytest.approx(journeys["total_conversions"].sum(), rel=1e-12)
    assert exact["conversion_value"].sum() == pytest.approx(journeys["total_conversion_value"].sum(), rel=1e-12)
    assert (exact[["conversions", "conversion_value"]] >= 0).all().all()
    # phi adds up to v(all channels): the sum of every observed channel set's conversion rate
    sets = journeys.assign(channels=journeys.path.str.split(" > ").map(lambda p: tuple(sorted(set(p)))))
    per_set = sets.groupby("channels")[["total_conversions", "total_null"]].sum()
    taken = per_set.total_conversions + per_set.total_null
    rates = (per_set.total_conversions / taken.where(taken > 0)).fillna(0.0)
    assert exact["shapley_value"].sum() == pytest.approx(rates.sum(), rel=1e-9)


def test_shapley_refuses_more_channels_than_it_enumerates_and_attribute_all_pools_the_smallest():
    journeys = random_paths(MAX_SHAPLEY_CHANNELS + 2, 300, seed=7)
    journeys.loc[0, "path"] = "rare_one > ch00"  # reaches the fewest journeys: pooled
    with pytest.raises(TooManyChannelsError, match=f"at most {MAX_SHAPLEY_CHANNELS} channels, not 15"):
        shapley_attribution(journeys)
    shapley = attribute_all(journeys).query("model == 'shapley'").set_index("channel")
    assert len(shapley) == MAX_SHAPLEY_CHANNELS and OTHER_CHANNELS in shapley.index
    assert "rare_one" not in shapley.index
    assert shapley["conversions"].sum() == pytest.approx(journeys["total_conversions"].sum())
    assert shapley["conversion_value"].sum() == pytest.approx(journeys["total_conversion_value"].sum())
    # the pooled player is one channel to the game: the same as renaming the pooled channels
    pooled = set(attribute_all(journeys).channel) - set(shapley.index)
    renamed = journeys.assign(path=journeys.path.str.split(" > ").map(
        lambda names: " > ".join(OTHER_CHANNELS if n in pooled else n for n in names)))
    expected = shapley_attribution(renamed).set_index("channel")
    np.testing.assert_allclose(shapley["conversions"], expected.loc[shapley.index, "conversions"])
    assert shapley.loc[OTHER_CHANNELS, "journeys"] == int(
        renamed.loc[renamed.path.str.contains(OTHER_CHANNELS, regex=False),
                    ["total_conversions", "total_null"]].sum().sum())


def test_every_model_of_attribute_all_credits_exactly_the_totals():
    journeys = random_paths(6, 500, seed=3)
    result = attribute_all(journeys)
    assert set(result.model) == {"first_touch", "last_touch", "linear", "time_decay", "position_based",
                                 "markov", "shapley"}
    totals = result.groupby("model")[["conversions", "conversion_value"]].sum()
    np.testing.assert_allclose(totals["conversions"], journeys["total_conversions"].sum())
    np.testing.assert_allclose(totals["conversion_value"], journeys["total_conversion_value"].sum())
    assert result.loc[result.model == "shapley", "removal_effect"].isna().all()
