"""Multi-touch channel attribution: rule-based models and exact Markov-chain removal effects.

Input (`paths`): one row per distinct journey path, the layout most attribution tools use:

    path                    channels in the order they were touched, joined by " > "
    total_conversions       journeys on that path that converted
    total_conversion_value  the value of those conversions (USD)
    total_null              journeys on that path that did not convert

Identical paths may appear on several rows; they are added up first, so 1 M raw journeys
cost no more than their distinct paths.

Rule-based models (`heuristic_attribution`) share each converting journey between its touches:

    first_touch     all to the first touch
    last_touch      all to the last touch
    linear          equal shares to every touch
    time_decay      weight 2 ** (-steps_before_conversion / half_life_steps); the last touch is
                    0 steps before, so with the default half-life of 1 step each earlier touch
                    counts half as much as the one after it
    position_based  40 % first, 40 % last, 20 % split evenly between the touches in between;
                    a one-touch path gives 100 % to its channel and a two-touch path 50/50

A channel touched twice in a journey gets both of its touches' shares.

Markov model (`markov_attribution`): the journeys define an absorbing Markov chain from a
start state through channel states to "conversion" or "null". For order k a state is the
tuple of the last k channels (fewer at the beginning of a journey: a journey a > b > c in
order 2 walks (a), (a, b), (b, c)). The conversion probability P is the absorption
probability into "conversion" from the start, solved exactly from (I - Q) x = r (Q the
transient-to-transient transition matrix, r the one-step conversion probabilities), which
is what the fundamental matrix N = (I - Q)^-1 gives, without inverting it. The removal
effect of a channel is 1 - P_without / P, where P_without is the same probability once every
state containing the channel is removed (its incoming transitions then lead nowhere, i.e.
to null). A channel is credited removal_effect / sum(removal effects) of the conversions and
of their value. Self-transitions (a channel touched twice in a row) are kept.

Shapley model (`shapley_attribution`): data-driven Shapley attribution on conversion rates
(Dalessandro et al. 2012; Zhao et al. 2018). For each set T of distinct channels that journeys
took, r(T) = conversions / journeys among the journeys whose channel set is exactly T, so journeys
that did not convert count (they lower r), while order and repeats within a journey do not. The
channels are the players of the game

    v(S) = sum of r(T) over the channel sets T within S (T observed in the data),

the conversion rates a coalition of channels brings about. Each channel's exact Shapley value
phi_k = sum over S not containing k of |S|! (n - |S| - 1)! / n! * (v(S + k) - v(S)) is computed by
enumerating the 2^n coalitions as bit masks (v itself by a sum over subsets), so only up to
MAX_SHAPLEY_CHANNELS channels. The game only grows as channels join, so phi >= 0, and it equals
each observed set's rate shared equally between its channels: a channel that turns many journeys
into conversions is credited more than one that rides along on journeys that rarely convert. phi
adds up to v(all channels), not to the conversions, so the channels are credited shares phi / sum(phi)
of the total conversions and of the total value (equal shares when no journey converted); the
credits add up to the totals exactly, mirror-image channels get equal credit and a channel found
only on journeys that never convert gets 0. `attribute_all` pools the channels reaching the fewest
journeys into one OTHER_CHANNELS player beyond MAX_SHAPLEY_CHANNELS channels.
"""

from __future__ import annotations

import logging
from math import factorial

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.linalg import spsolve

PATH_COLUMNS = ("path", "total_conversions", "total_conversion_value", "total_null")
SEPARATOR = " > "
HEURISTIC_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")
DEFAULT_HALF_LIFE_STEPS = 1.0
MAX_MARKOV_ORDER = 3
MAX_SHAPLEY_CHANNELS = 12  # 4,096 coalitions; every extra channel doubles them
OTHER_CHANNELS = "(other channels)"  # the pooled player beyond MAX_SHAPLEY_CHANNELS

log = logging.getLogger(__name__)


class AttributionInputError(ValueError):
    """The paths frame is malformed: missing columns, negative counts or an empty path."""


class TooManyChannelsError(AttributionInputError):
    """More channels than the exact Shapley enumeration takes (MAX_SHAPLEY_CHANNELS)."""


class _Journeys:
    """Distinct paths as flat token arrays: a channel code per touch and its path's row."""

    def __init__(self, paths: pd.DataFrame) -> None:
        path, numbers = _validated(paths)
        # Add up identical paths (np.bincount is far cheaper than a pandas group-by).
        path_code, distinct = pd.factorize(path, sort=True)
        sums = [np.bincount(path_code, weights=column, minlength=len(distinct)) for column in numbers]
        keep = (sums[0] + sums[2]) > 0  # a path nobody took tells nothing
        self.conversions, self.value, self.nulls = (column[keep] for column in sums)
        distinct = np.asarray(distinct, dtype=object)[keep]
        names = pd.Series(distinct, dtype=object).str.split(">").explode().str.strip()
        empty = (names == "").to_numpy()
        if empty.any():
            raise AttributionInputError(f"path {distinct[names.index[empty][0]]!r} has an empty channel name")
        self.path_of_touch = names.index.to_numpy(dtype=np.int64)
        codes, channels = pd.factorize(names.to_numpy(dtype=object), sort=True)
        self.code = codes.astype(np.int64)
        self.channels = np.asarray(channels, dtype=object)
        self.length = np.bincount(self.path_of_touch, minlength=len(distinct)).astype(np.int64)
        first = np.r_[0, np.cumsum(self.length)[:-1]].astype(np.int64)
        self.first_touch = first
        self.last_touch = first + self.length - 1
        self.position = np.arange(len(self.code)) - np.repeat(first, self.length)

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        return float(self.value.sum())

    def credit(self, touch_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Conversions and value per channel given each touch's share of its journey (shares sum to 1)."""
        conv = np.bincount(self.code, weights=touch_weights * self.conversions[self.path_of_touch],
                           minlength=len(self.channels))
        value = np.bincount(self.code, weights=touch_weights * self.value[self.path_of_touch],
                            minlength=len(self.channels))
        return conv, value


def _validated(paths: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
    """The path strings and the three count columns as float arrays; AttributionInputError if malformed."""
    if not isinstance(paths, pd.DataFrame):
        raise AttributionInputError(f"paths must be a pandas DataFrame, not {type(paths).__name__}")
    missing = [c for c in PATH_COLUMNS if c not in paths.columns]
    if missing:
        raise AttributionInputError(f"paths is missing column(s) {missing}; expected {list(PATH_COLUMNS)}")
    numbers = []
    for column in PATH_COLUMNS[1:]:
        values = pd.to_numeric(paths[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(values).any():
            raise AttributionInputError(f"column {column!r} has missing or non-numeric values")
        if (values < 0).any():
            raise AttributionInputError(f"column {column!r} has negative values")
        numbers.append(values)
    path = paths["path"]
    if path.isna().any():
        raise AttributionInputError("column 'path' has missing values")
    path = path.astype(str)
    if (path.str.strip() == "").any():
        raise AttributionInputError("column 'path' has an empty path")
    return path.to_numpy(dtype=object), numbers


def _output(channels: np.ndarray, conversions: np.ndarray, value: np.ndarray,
            removal_effect: np.ndarray | None = None) -> pd.DataFrame:
    out = pd.DataFrame({"channel": channels.astype(str), "conversions": conversions, "conversion_value": value})
    if removal_effect is not None:
        out["removal_effect"] = removal_effect
    return out


def heuristic_attribution(paths: pd.DataFrame, *, half_life_steps: float = DEFAULT_HALF_LIFE_STEPS) -> pd.DataFrame:
    """Conversions and value per channel under each rule-based model.

    Returns one long frame: columns `model` (one of HEURISTIC_MODELS), `channel`,
    `conversions` and `conversion_value`, one row per model and channel (removal effects
    belong to the Markov model only). See the module docstring for each rule.
    """
    _check_half_life(half_life_steps)
    journeys = _Journeys(paths)
    credit = _heuristic(journeys, half_life_steps)
    n = len(journeys.channels)
    return pd.DataFrame({
        "model": np.repeat(HEURISTIC_MODELS, n), "channel": np.tile(journeys.channels.astype(str), len(credit)),
        "conversions": np.concatenate([credit[m][0] for m in HEURISTIC_MODELS]),
        "conversion_value": np.concatenate([credit[m][1] for m in HEURISTIC_MODELS]),
    })


def _check_half_life(half_life_steps: float) -> None:
    if not half_life_steps > 0:
        raise AttributionInputError("half_life_steps must be positive")


def _heuristic(journeys: _Journeys, half_life_steps: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Conversions and value per channel for each rule-based model."""
    length = journeys.length[journeys.path_of_touch]
    pos = journeys.position
    is_first = pos == 0
    is_last = pos == length - 1
    steps_before = (length - 1 - pos).astype(float)
    decay = np.power(2.0, -steps_before / half_life_steps)
    decay_total = np.bincount(journeys.path_of_touch, weights=decay, minlength=len(journeys.length))
    middle_share = np.where(length > 2, 0.2 / np.maximum(length - 2, 1), 0.0)
    position_based = np.select(
        [length == 1, length == 2, is_first | is_last], [1.0, 0.5, 0.4], default=middle_share)
    weights = {
        "first_touch": is_first.astype(float),
        "last_touch": is_last.astype(float),
        "linear": 1.0 / length,
        "time_decay": decay / decay_total[journeys.path_of_touch],
        "position_based": position_based,
    }
    return {model: journeys.credit(weights[model]) for model in HEURISTIC_MODELS}


def _state_ids(journeys: _Journeys, order: int) -> np.ndarray:
    """A 64-bit id per touch for the tuple of its path's last `order` channels (fewer at the start)."""
    base = np.int64(len(journeys.channels) + 1)  # code 0 means "no channel" (before the journey)
    if base ** order >= np.iinfo(np.int64).max:
        raise AttributionInputError(f"too many channels ({base - 1}) for a Markov chain of order {order}")
    state = np.zeros(len(journeys.code), dtype=np.int64)
    for lag in range(order):
        earlier = np.zeros_like(state)
        earlier[lag:] = journeys.code[:len(state) - lag] + 1  # the channel `lag` touches back
        state = state * base + np.where(journeys.position >= lag, earlier, 0)
    return state


def _channels_in_states(state_ids: np.ndarray, n_channels: int, order: int) -> sparse.csr_matrix:
    """Channel x state incidence: which states contain which channel."""
    base = n_channels + 1
    rows, cols = [], []
    remaining = state_ids.copy()
    for _ in range(order):
        digit = remaining % base
        remaining //= base
        present = digit > 0
        rows.append(digit[present] - 1)
        cols.append(np.flatnonzero(present))
    data = np.ones(sum(len(r) for r in rows))
    return sparse.csr_matrix((data, (np.concatenate(rows), np.concatenate(cols))),
                             shape=(n_channels, len(state_ids)))


def markov_attribution(paths: pd.DataFrame, order: int = 1) -> pd.DataFrame:
    """Conversions and value per channel from the exact removal effects of an order-k Markov chain.

    Returns columns `channel`, `conversions`, `conversion_value` and `removal_effect`
    (0-1), one row per channel in name order. Conversions and value add up to the input totals
    (when anything converted). See the module docstring for the method.
    """
    _check_order(order)
    journeys = _Journeys(paths)
    return _output(journeys.channels, *_markov(journeys, order))


def _check_order(order: int) -> None:
    if not isinstance(order, int | np.integer) or not 1 <= order <= MAX_MARKOV_ORDER:
        raise AttributionInputError(f"order must be an integer from 1 to {MAX_MARKOV_ORDER}, not {order!r}")


def _markov(journeys: _Journeys, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conversions, value and removal effect per channel."""
    n_channels = len(journeys.channels)
    if n_channels == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)

    touch_state_ids = _state_ids(journeys, order)
    state_codes, touch_state = np.unique(touch_state_ids, return_inverse=True)
    n = len(state_codes) + 1  # the transient states, with the start state last
    start = n - 1
    journeys_on_path = journeys.conversions + journeys.nulls
    # Transitions, each weighted by the number of journeys that made it.
    same_path_next = np.r_[journeys.path_of_touch[1:] == journeys.path_of_touch[:-1], False]
    src = np.r_[np.full(len(journeys.length), start), touch_state[same_path_next]]
    dst = np.r_[touch_state[journeys.first_touch], touch_state[np.flatnonzero(same_path_next) + 1]]
    weight = np.r_[journeys_on_path, journeys_on_path[journeys.path_of_touch[same_path_next]]]
    last_state = touch_state[journeys.last_touch]
    to_conversion = np.bincount(last_state, weights=journeys.conversions, minlength=n)
    to_null = np.bincount(last_state, weights=journeys.nulls, minlength=n)
    counts = sparse.csr_matrix((weight, (src, dst)), shape=(n, n))  # duplicates are summed
    leaving = np.asarray(counts.sum(axis=1)).ravel() + to_conversion + to_null
    inverse = sparse.diags(1.0 / leaving)
    q = (inverse @ counts).tocsc()
    r = to_conversion / leaving

    def conversion_probability(keep: np.ndarray) -> float:
        kept = np.flatnonzero(keep)
        system = (sparse.identity(len(kept), format="csc") - q[kept][:, kept]).tocsc()
        solution = np.atleast_1d(spsolve(system, r[kept]))
        return float(solution[np.searchsorted(kept, start)])

    everything = np.ones(n, dtype=bool)
    base_probability = conversion_probability(everything) if journeys.total_conversions > 0 else 0.0
    removal = np.zeros(n_channels)
    if base_probability > 0:
        contains = _channels_in_states(state_codes, n_channels, order)
        for channel in range(n_channels):
            keep = everything.copy()
            keep[contains[channel].indices] = False
            removal[channel] = 1.0 - conversion_probability(keep) / base_probability
    removal = np.clip(removal, 0.0, 1.0)  # round-off only: removing states never raises P
    share = removal / removal.sum() if removal.sum() > 0 else np.zeros(n_channels)
    return share * journeys.total_conversions, share * journeys.total_value, removal


def shapley_attribution(paths: pd.DataFrame) -> pd.DataFrame:
    """Conversions and value per channel by the data-driven Shapley model, enumerating every coalition.

    Returns columns `channel`, `conversions`, `conversion_value` and `shapley_value` (phi, in
    conversion probability), one row per channel in name order. TooManyChannelsError beyond
    MAX_SHAPLEY_CHANNELS channels (`attribute_all` then pools the channels reaching the fewest
    journeys into OTHER_CHANNELS). When every phi is 0 (nothing converted), the conversions are split
    equally between the channels. See the module docstring for the game.
    """
    journeys = _Journeys(paths)
    n = len(journeys.channels)
    if n > MAX_SHAPLEY_CHANNELS:
        raise TooManyChannelsError(
            f"the exact Shapley model takes at most {MAX_SHAPLEY_CHANNELS} channels, not {n}; "
            "group channels together or use attribute_all, which pools the smallest ones")
    conversions, value, phi = _shapley(journeys, journeys.code, n)
    out = _output(journeys.channels, conversions, value)
    out["shapley_value"] = phi
    return out


def _shapley_values(channel_set: np.ndarray, conversions: np.ndarray, journeys_on_set: np.ndarray,
                    n: int) -> np.ndarray:
    """phi per player of the game v(S) = the sum of the conversion rates of the channel sets within S
    (each rate: conversions / journeys among the journeys whose channel set is exactly that set)."""
    coalitions = np.arange(1 << n, dtype=np.int64)
    converted = np.bincount(channel_set, weights=conversions, minlength=len(coalitions))
    taken = np.bincount(channel_set, weights=journeys_on_set, minlength=len(coalitions))
    game = np.divide(converted, taken, out=np.zeros(len(coalitions)), where=taken > 0)
    for player in range(n):  # sum over subsets, one player at a time (a zeta transform over the bit masks)
        holding = coalitions[(coalitions >> player) & 1 == 1]
        game[holding] += game[holding ^ (1 << player)]
    size = np.bitwise_count(coalitions)
    weight_by_size = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    phi = np.empty(n)
    for player in range(n):
        without = coalitions[(coalitions >> player) & 1 == 0]
        phi[player] = (game[without | (1 << player)] - game[without]) @ weight_by_size[size[without]]
    return phi


def _shapley(journeys: _Journeys, player_of_touch: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conversions, value and phi per player (player_of_touch: each touch's player, 0..n-1)."""
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    # Each distinct path's set of players as a bit mask (a repeated player sets its bit once).
    channel_set = np.bitwise_or.reduceat(np.left_shift(np.int64(1), player_of_touch), journeys.first_touch)
    phi = _shapley_values(channel_set, journeys.conversions, journeys.conversions + journeys.nulls, n)
    positive = np.clip(phi, 0.0, None)  # round-off only: the game never falls as channels join
    share = positive / positive.sum() if positive.sum() > 0 else np.full(n, 1.0 / n)
    return share * journeys.total_conversions, share * journeys.total_value, phi


def _shapley_players(journeys: _Journeys) -> tuple[np.ndarray, np.ndarray]:
    """Each touch's Shapley player and the players' names: the channels themselves up to
    MAX_SHAPLEY_CHANNELS; beyond, the MAX_SHAPLEY_CHANNELS - 1 reaching the most journeys (ties by
    name) and OTHER_CHANNELS for all the rest, logged."""
    n = len(journeys.channels)
    if n <= MAX_SHAPLEY_CHANNELS:
        return journeys.code, journeys.channels
    reach = _reach(journeys)
    by_reach = np.lexsort((journeys.channels.astype(str), -reach))  # channels are already in name order
    kept = np.sort(by_reach[:MAX_SHAPLEY_CHANNELS - 1])
    player_of_channel = np.full(n, len(kept), dtype=np.int64)
    player_of_channel[kept] = np.arange(len(kept))
    log.info("shapley: %d channels are more than the %d the exact enumeration takes; the %d reaching the "
             "fewest journeys are pooled into %r", n, MAX_SHAPLEY_CHANNELS, n - len(kept), OTHER_CHANNELS)
    return player_of_channel[journeys.code], np.r_[journeys.channels[kept], np.array([OTHER_CHANNELS], dtype=object)]


def channel_reach(paths: pd.DataFrame) -> pd.DataFrame:
    """Journeys that touched each channel at least once: columns `channel`, `journeys`."""
    journeys = _Journeys(paths)
    return pd.DataFrame({"channel": journeys.channels.astype(str), "journeys": _reach(journeys)})


def _reach(journeys: _Journeys, player_of_touch: np.ndarray | None = None, n: int | None = None) -> np.ndarray:
    """Journeys that touched each channel (or each player, when touches are mapped to players)."""
    code = journeys.code if player_of_touch is None else player_of_touch
    n = len(journeys.channels) if n is None else n
    on_path = journeys.conversions + journeys.nulls
    # one (path, channel) pair per distinct pair: a channel touched twice counts once
    base = max(n, 1)
    pair = np.unique(journeys.path_of_touch * base + code)
    reach = np.bincount(pair % base, weights=on_path[pair // base], minlength=n)
    return reach.round().astype(np.int64)


def attribute_all(paths: pd.DataFrame, *, markov_orders: tuple[int, ...] = (1,),
                  half_life_steps: float = DEFAULT_HALF_LIFE_STEPS) -> pd.DataFrame:
    """Every rule-based model, the Markov model of each order and the Shapley model in one frame,
    reading the paths once.

    Columns: `model` (a HEURISTIC_MODELS name, "markov" / "markov_<order>" when several
    orders are asked for, or "shapley"), `channel`, `journeys` (that touched the channel), `conversions`,
    `conversion_value` and `removal_effect` (Markov rows only; NaN otherwise). Beyond
    MAX_SHAPLEY_CHANNELS channels the Shapley rows are the MAX_SHAPLEY_CHANNELS - 1 channels reaching
    the most journeys plus one OTHER_CHANNELS row pooling the rest (logged), so they still add up to
    the totals; the pooled channels have no Shapley row of their own.
    """
    for order in markov_orders:
        _check_order(order)
    _check_half_life(half_life_steps)
    journeys = _Journeys(paths)
    channels = journeys.channels.astype(str)
    reach = _reach(journeys)
    nothing = np.full(len(channels), np.nan)
    parts = [(model, channels, reach, conv, value, nothing)
             for model, (conv, value) in _heuristic(journeys, half_life_steps).items()]
    for order in markov_orders:
        model = "markov" if len(markov_orders) == 1 else f"markov_{order}"
        parts.append((model, channels, reach, *_markov(journeys, order)))
    player_of_touch, players = _shapley_players(journeys)
    conv, value, _ = _shapley(journeys, player_of_touch, len(players))
    parts.append(("shapley", players.astype(str), _reach(journeys, player_of_touch, len(players)), conv, value,
                  np.full(len(players), np.nan)))
    return pd.DataFrame({
        "model": np.concatenate([np.repeat(p[0], len(p[1])) for p in parts]).astype(object),
        **{column: np.concatenate([p[i] for p in parts]) for i, column in enumerate(
            ("channel", "journeys", "conversions", "conversion_value", "removal_effect"), start=1)},
    })
