"""Attribution over 1 M journeys and text insights over 100k messages.

    python bench/attribution.py [--paths 1000000] [--seed 0]
    (or through the runner: python bench/models.py --only attribution)
"""

from __future__ import annotations

import argparse
from argparse import Namespace

import numpy as np
import pandas as pd
from churn_clv import timed  # the benchmark sections' wall and CPU timer

from models.attribution import (
    attribute_all,
    channel_reach,
    heuristic_attribution,
    markov_attribution,
    shapley_attribution,
)
from models.text import detect_topics, extract_keywords, score_sentiment

CHANNELS = np.array(["paid_search", "organic_search", "email", "whatsapp", "social", "webinar", "referral",
                     "direct"], dtype=object)
CHANNEL_WEIGHTS = np.array([0.2, 0.2, 0.17, 0.1, 0.15, 0.06, 0.05, 0.07])
CHANNEL_EFFECT = np.array([0.15, 0.1, 0.3, 0.5, -0.4, 0.9, 1.1, 0.35])  # log-odds, as the demo data plants
MAX_TOUCHES = 6
MESSAGES = 100_000


def journeys(n: int, seed: int) -> pd.DataFrame:
    """n journeys of 1-6 touches, one row each (total_conversions and total_null are 0 or 1)."""
    rng = np.random.default_rng(seed)
    length = np.minimum(rng.geometric(0.38, n), MAX_TOUCHES)
    touches = rng.choice(len(CHANNELS), length.sum(), p=CHANNEL_WEIGHTS)
    journey = np.repeat(np.arange(n), length)
    present = np.zeros((n, len(CHANNELS)))
    np.maximum.at(present, (journey, touches), 1.0)
    converted = rng.random(n) < 1 / (1 + np.exp(-(-2.6 + present @ CHANNEL_EFFECT + 0.15 * length)))
    # Build each distinct path's text once: a journey's path as a base-9 number first.
    first = np.r_[0, np.cumsum(length)[:-1]]
    key = np.zeros(n, dtype=np.int64)
    for step in range(MAX_TOUCHES):
        has = length > step
        key[has] = key[has] * 9 + touches[first[has] + step] + 1
    distinct, index = np.unique(key, return_inverse=True)
    names = []
    for value in distinct.tolist():
        digits = []
        while value:
            value, digit = divmod(value, 9)
            digits.append(CHANNELS[digit - 1])
        names.append(" > ".join(reversed(digits)))
    value = np.where(converted, np.round(rng.lognormal(np.log(4_000), 0.9, n), 2), 0.0)
    return pd.DataFrame({"path": np.asarray(names, dtype=object)[index], "total_conversions": converted.astype(int),
                         "total_conversion_value": value, "total_null": (~converted).astype(int)})


def messages(n: int, seed: int) -> list[str]:
    """Customer messages from the demo generator's templates, with varied names, amounts and codes."""
    from etl.demo_data.vocab import CHAT_FOLLOWUPS, CHAT_OPENERS, ERROR_CODES

    rng = np.random.default_rng(seed)
    templates = [t for options in CHAT_OPENERS.values() for t in options]
    templates += [t for options in CHAT_FOLLOWUPS.values() for t in options]
    picks = rng.integers(0, len(templates), n)
    amounts = rng.integers(20, 5_000, n)
    invoices = rng.integers(10_000, 999_999, n)
    errors = rng.integers(0, len(ERROR_CODES), n)
    products = np.array(["Fibre 100", "Fibre 1 Gbps", "Cloud Backup", "SD-WAN", "Managed Firewall"])[
        rng.integers(0, 5, n)]
    return [templates[p].format(product=products[i], amount=f"{amounts[i]:,}.00", invoice=f"INV{invoices[i]}",
                                error=ERROR_CODES[errors[i]], name="Alex")
            for i, p in enumerate(picks.tolist())]


def run(args: Namespace) -> None:
    paths, made = timed(lambda: journeys(args.paths, args.seed))
    print(f"attribution: {len(paths):,} journeys ({paths['path'].nunique():,} distinct paths, "
          f"{paths['total_conversions'].mean():.1%} converted), made in {made.wall:.1f} s")
    _, heuristics = timed(lambda: heuristic_attribution(paths))
    print(f"  rule-based (5 models)   {heuristics.text()}")
    for order in (1, 2, 3):
        result, markov = timed(lambda order=order: markov_attribution(paths, order=order))
        effects = ", ".join(f"{r.channel} {r.removal_effect:.3f}" for r in
                            result.sort_values("removal_effect", ascending=False).itertuples())
        print(f"  Markov order {order}          {markov.text()}; removal effects: {effects}")
    result, shapley = timed(lambda: shapley_attribution(paths))
    print(f"  Shapley (exact, {len(result)} channels) {shapley.text()}; phi: "
          + ", ".join(f"{r.channel} {r.shapley_value:+.4f}" for r in
                      result.sort_values("shapley_value", ascending=False).itertuples()))
    # Planted truth: credit per journey reached should rank the channels as their planted effects do.
    reach = channel_reach(paths).set_index("channel")["journeys"]
    per_journey = result.set_index("channel")["conversions"] / reach
    planted = pd.Series(CHANNEL_EFFECT, index=CHANNELS)
    rank = per_journey.corr(planted.reindex(per_journey.index), method="spearman")
    print(f"  Shapley credit per journey reached vs planted effect: Spearman {rank:.2f}; "
          + ", ".join(f"{c} {v:.3f}" for c, v in per_journey.sort_values(ascending=False).items()))
    _, together = timed(lambda: attribute_all(paths))
    print(f"  all models (nightly job) {together.text()}")

    texts, made = timed(lambda: messages(MESSAGES, args.seed))
    print(f"text: {len(texts):,} messages ({len(set(texts)):,} distinct texts), made in {made.wall:.1f} s")
    scores, sentiment = timed(lambda: score_sentiment(texts))
    print(f"  sentiment (VADER)       {sentiment.text()}; {np.mean(scores['label'] == 'negative'):.1%} negative")
    unique_texts = [f"{t} (ref {i})" for i, t in enumerate(texts)]  # worst case: nothing repeats
    _, all_distinct = timed(lambda: score_sentiment(unique_texts))
    print(f"  sentiment, all distinct {all_distinct.text()}")
    _, topics = timed(lambda: detect_topics(texts))
    print(f"  topics                  {topics.text()}")
    _, keywords = timed(lambda: extract_keywords(texts))
    print(f"  keywords                {keywords.text()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=1_000_000, help="journeys to attribute")
    parser.add_argument("--seed", type=int, default=0)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
