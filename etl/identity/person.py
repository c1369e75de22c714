"""Probabilistic person matching with Splink (Fellegi-Sunter) on DuckDB.

Splink does the scoring; this module prepares the records, states the model and trains it on the
records at hand. Fields are compared at levels that tolerate typing errors: Jaro-Winkler on names
and streets, one or two edits or the day and month swapped in a birth date, first and last names
swapped. The m and u probabilities start from priors (ordinary figures for CRM data: how often a
true pair agrees on a field, m, and how often two random people do, u). From
MIN_TRAINING_RECORDS records on they are estimated from the data: u from random pairs, m by
Splink's expectation maximisation (EM) within blocks of likely pairs large enough to learn from,
and the share of pairs that match from the scored pairs. Smaller inputs keep the priors: EM is
unstable on a few hundred contacts with a handful of duplicates. Sampling is seeded, so a rerun
gives the same probabilities.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from etl.identity import normalize

PERSON_COLUMNS = ("record_id", "first_name", "last_name", "email", "phone", "street", "city", "postcode",
                  "state", "date_of_birth")
# Prior odds that two records picked at random are the same person (trained models estimate it).
PRIOR_MATCH = 1e-4
MIN_TRAINING_RECORDS = 1_000
U_SAMPLE_PAIRS = 1_000_000
SEED = 42
# An EM block needs enough pairs to estimate from, and few enough to stay quick.
EM_BLOCK_PAIRS = (200, 3_000_000)

for _name in ("splink", "splink.internals"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def prepare_people(records: pd.DataFrame) -> pd.DataFrame:
    """Normalised matching columns for person records; missing columns count as empty."""
    frame = records.copy()
    for column in (*PERSON_COLUMNS, "country"):
        if column not in frame.columns:
            frame[column] = None
    cols: dict[str, list] = {"record_id": [str(v) for v in frame["record_id"]]}
    cols["first_name"] = [normalize.person_name(v) for v in frame["first_name"]]
    cols["last_name"] = [normalize.person_name(v) for v in frame["last_name"]]
    cols["email"] = [normalize.email(v) for v in frame["email"]]
    cols["email_local"] = [e.partition("@")[0] if e else None for e in cols["email"]]
    cols["email_domain"] = [e.partition("@")[2] or None if e else None for e in cols["email"]]
    cols["phone"] = [normalize.phone(p, c) for p, c in zip(frame["phone"], frame["country"], strict=True)]
    cols["phone_tail"] = [p[-8:] if p else None for p in cols["phone"]]
    streets = [normalize.street_parts(v) for v in frame["street"]]
    cols["street_number"] = [number for number, _ in streets]
    cols["street_name"] = [name for _, name in streets]
    cols["city"] = [normalize.person_name(v) for v in frame["city"]]
    cols["postcode"] = [normalize.person_name(v) for v in frame["postcode"]]
    cols["state"] = [normalize.person_name(v) for v in frame["state"]]
    cols["date_of_birth"] = [normalize.birth_date(v) for v in frame["date_of_birth"]]
    cols["birth_year"] = [d[:4] if d else None for d in cols["date_of_birth"]]
    cols["last_name_sound"] = [normalize.soundex(n) if n else None for n in cols["last_name"]]
    # object columns keep None as SQL NULL on the way into DuckDB (pandas 3 strings would use NaN)
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})


def _level(sql: str, label: str, m: float, u: float):
    return cll.CustomLevel(sql, label_for_charts=label).configure(m_probability=m, u_probability=u)


def _else(m: float, u: float):
    return cll.ElseLevel().configure(m_probability=m, u_probability=u)


def _comparisons() -> list:
    jw = "jaro_winkler_similarity"
    swapped = (f"{jw}(first_name_l, last_name_r) >= 0.92 AND {jw}(last_name_l, first_name_r) >= 0.92 "
               "AND first_name_l <> first_name_r")

    def name(column: str, exact_u: float, typo_u: float, swap) -> cl.CustomComparison:
        return cl.CustomComparison(output_column_name=column, comparison_levels=[
            cll.NullLevel(column),
            _level(f"{column}_l = {column}_r", "exact", 0.80, exact_u),
            swap,
            _level(f"{jw}({column}_l, {column}_r) >= 0.92", "one typo", 0.09, typo_u),
            _level(f"{jw}({column}_l, {column}_r) >= 0.8", "similar", 0.05, 0.03),
            _else(0.04, 1 - 0.03 - 2e-4 - exact_u - typo_u),
        ])

    # First and last name swapped: the evidence of both names, counted once, in the first name.
    first_name = name("first_name", 0.02, 0.005, _level(swapped, "swapped with last name", 0.02, 2e-4))
    last_name = name("last_name", 0.01, 0.002, cll.CustomLevel(swapped, label_for_charts="swapped with first name")
                     .configure(m_probability=1e-3, u_probability=1e-3, fix_m_probability=True,
                                fix_u_probability=True))
    email = cl.CustomComparison(output_column_name="email", comparison_levels=[
        cll.NullLevel("email"),
        _level("email_l = email_r", "exact", 0.85, 1e-4),
        # One typo. Not a shared local part or a Jaro-Winkler score: addresses are built from the
        # name, so those mostly repeat what the name comparison already counted. A differing
        # number before the @ ("jo.lee@", "jo.lee2@") marks a namesake, not a typo. Its u stays
        # fixed: random pairs almost never come this close, but namesakes at one company do
        # ("ciaran@", "ciarank@"), and those are the pairs this level decides.
        # One typo leaves the part before or after the @ whole: checking that first (in a CASE,
        # which DuckDB evaluates lazily, unlike AND) spares the slow edit distance on most pairs.
        cll.CustomLevel("CASE WHEN email_local_l = email_local_r OR email_domain_l = email_domain_r "
                        "THEN damerau_levenshtein(email_l, email_r) <= 1 AND "
                        "regexp_replace(email_l, '[0-9]+@', '@') <> regexp_replace(email_r, '[0-9]+@', '@') "
                        "ELSE false END",
                        label_for_charts="one typo").configure(m_probability=0.05, u_probability=1e-3,
                                                               fix_u_probability=True),
        _else(0.10, 0.9989),
    ])
    phone = cl.CustomComparison(output_column_name="phone", comparison_levels=[
        cll.NullLevel("phone"),
        _level("phone_l = phone_r", "exact", 0.85, 1e-4),
        _level("right(phone_l, 8) = right(phone_r, 8)", "same last 8 digits", 0.05, 1e-4),
        _else(0.10, 0.9998),
    ])
    dob = cl.CustomComparison(output_column_name="date_of_birth", comparison_levels=[
        cll.NullLevel("date_of_birth"),
        _level("date_of_birth_l = date_of_birth_r", "exact", 0.85, 5e-5),
        _level("date_of_birth_l[1:4] = date_of_birth_r[1:4] AND date_of_birth_l[6:7] = date_of_birth_r[9:10] "
               "AND date_of_birth_l[9:10] = date_of_birth_r[6:7]", "day and month swapped", 0.03, 2e-5),
        _level("damerau_levenshtein(date_of_birth_l, date_of_birth_r) <= 1", "one typo", 0.07, 1e-3),
        _level("damerau_levenshtein(date_of_birth_l, date_of_birth_r) <= 2", "two typos", 0.03, 1e-2),
        _else(0.02, 0.989),
    ])
    # One comparison for the whole address: street, city and postcode say much the same, and
    # multiplied as if they were independent they would outweigh two different names (a household).
    same_street = f"{jw}(street_name_l, street_name_r) >= 0.9"
    same_town = "(postcode_l = postcode_r OR city_l = city_r)"
    near_town = f"(damerau_levenshtein(postcode_l, postcode_r) <= 1 OR {jw}(city_l, city_r) >= 0.9)"
    address = cl.CustomComparison(output_column_name="address", comparison_levels=[
        cll.CustomLevel("(street_name_l IS NULL AND postcode_l IS NULL AND city_l IS NULL) OR "
                        "(street_name_r IS NULL AND postcode_r IS NULL AND city_r IS NULL)",
                        label_for_charts="null").configure(is_null_level=True),
        _level(f"street_number_l = street_number_r AND {same_street} AND {same_town}", "same address", 0.60, 1e-4),
        _level(f"{same_street} AND {same_town}", "same street", 0.10, 5e-4),
        _level(f"street_number_l = street_number_r AND {same_street}", "same street elsewhere", 0.05, 5e-5),
        _level("postcode_l = postcode_r AND city_l = city_r", "same postcode and city", 0.10, 2e-3),
        _level(same_town, "same postcode or city", 0.07, 0.03),
        _level(near_town, "near postcode or city", 0.04, 0.05),
        _else(0.04, 0.9174),
    ])
    state = cl.CustomComparison(output_column_name="state", comparison_levels=[
        cll.NullLevel("state"),
        _level("state_l = state_r", "exact", 0.90, 0.3),
        _else(0.10, 0.7),
    ])
    return [first_name, last_name, email, phone, dob, address, state]


def _blocking_rules() -> list:
    # Any one of these puts a pair up for scoring; together they reach the pairs that can score
    # a match: a shared email or phone, names with a contact detail, or, for a typo in both names,
    # a shared birth date or address. Names alone are no rule: at 390k contacts "same first and
    # last name" was 17 M pairs and a shared email local part ("priya@") 12 M, which made scoring
    # take minutes for nothing. Rules on the birth date or address find no pairs where those are
    # empty, so they cost nothing there.
    return [
        block_on("email"),
        block_on("phone_tail"),  # the same number, also when one copy lost its country code
        block_on("first_name", "last_name", "email_domain"),  # a typo before the @
        block_on("first_name", "last_name", "email_local", "substr(email_domain, 1, 3)"),  # ... or after it
        "l.first_name = r.last_name AND l.last_name = r.first_name",
        block_on("date_of_birth"),
        block_on("last_name_sound", "birth_year"),  # a typo in the surname and one in the birth date
        block_on("postcode", "substr(last_name, 1, 2)"),
        block_on("street_number", "postcode"),
        block_on("street_number", "street_name"),
        block_on("street_name", "city"),
        block_on("first_name", "street_number"),
        block_on("first_name", "postcode"),
        block_on("last_name", "city"),
    ]


# Blocks to train m by EM on, each a list of prepared columns that must be equal. EM estimates
# every comparison that does not read the block's columns, so together they cover all fields.
# Equal names with an email domain are no training block: namesakes at one company and their
# duplicates fill it about equally, and EM took the namesakes' different phones for a match.
_TRAINING_BLOCKS = (
    ("date_of_birth",),
    ("email",),
    ("phone_tail",),
    ("postcode", "last_name_sound"),
)


def _pair_count(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> int:
    """Pairs a block on `columns` compares (records with any of them empty are in none)."""
    keys = [f[list(columns)].dropna().value_counts() for f in frames]
    if len(keys) == 1:
        return int((keys[0] * (keys[0] - 1) // 2).sum())
    left, right = keys[0].align(keys[1], join="inner")
    return int((left * right).sum())


def _train(linker: Linker, frames: list[pd.DataFrame]) -> None:
    """Estimate u from random pairs and m by EM on the blocks this data fills."""
    rows = sum(len(f) for f in frames)
    everything = rows * (rows - 1) // 2 if len(frames) == 1 else len(frames[0]) * len(frames[1])
    sampled = min(U_SAMPLE_PAIRS, everything)
    linker.training.estimate_u_using_random_sampling(max_pairs=sampled, seed=SEED)
    # A level that no sampled pair reached (an exact email among 400k contacts) keeps its prior u
    # unless that is more than such a sample makes likely: at most one in `sampled`. (Splink 4 has
    # no public setter for a level's u.)
    for comparison in linker._settings_obj.comparisons:
        for level in comparison._comparison_levels_excluding_null:
            if not level._has_estimated_u_values and not level._fix_u_probability:
                level.u_probability = min(level.u_probability, 1 / sampled)
    for columns in _TRAINING_BLOCKS:
        if EM_BLOCK_PAIRS[0] <= _pair_count(frames, columns) <= EM_BLOCK_PAIRS[1]:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*columns), estimate_without_term_frequencies=True)


def _match_share(bayes_factors: np.ndarray, pairs: int, start: float) -> float:
    """The share of all pairs that match, by EM over the scored pairs' Bayes factors (pairs left
    unscored are taken as non-matches): the expected matches under a share, divided by all pairs,
    until it settles."""
    share = start
    for _ in range(200):
        odds = share / (1 - share) * bayes_factors
        updated = min(max(float((odds / (1 + odds)).sum()) / pairs, 1e-12), 0.5)
        if abs(updated - share) <= 1e-4 * share:
            return updated
        share = updated
    return share


def link_people(left: pd.DataFrame, right: pd.DataFrame | None, threshold: float) -> pd.DataFrame:
    """Scored pairs of person records at or above `threshold`, as left_id, right_id, probability, method."""
    prepared_left = prepare_people(left)
    frames = [prepared_left] if right is None else [prepared_left, prepare_people(right)]
    if any(len(f) == 0 for f in frames):
        return _empty()
    settings = SettingsCreator(
        link_type="dedupe_only" if right is None else "link_only",
        unique_id_column_name="record_id",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=_blocking_rules(),
        probability_two_random_records_match=PRIOR_MATCH,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,  # keeps bf_* for `method`
    )
    linker = Linker(frames, settings, db_api=DuckDBAPI(), set_up_basic_logging=False)
    trained = sum(len(f) for f in frames) >= MIN_TRAINING_RECORDS
    if trained:
        _train(linker, frames)
    prior_odds = PRIOR_MATCH / (1 - PRIOR_MATCH)
    # The share of matching pairs is estimated below (at most one half), so a pair whose Bayes
    # factor is under the threshold's odds (under 1 for a threshold of one half) cannot reach it;
    # leaving those out keeps large runs small.
    least_factor = min(1.0, threshold / (1 - threshold)) if threshold < 1 else 1.0
    scored = linker.inference.predict(
        threshold_match_weight=math.log2(prior_odds * least_factor) if trained and least_factor > 0 else None,
        threshold_match_probability=None if trained else threshold).as_pandas_dataframe()
    if scored.empty:
        return _empty()
    if trained:
        factors = np.exp2(scored["match_weight"].astype(float).to_numpy()) / prior_odds
        n = sum(len(f) for f in frames)
        pairs_in_all = n * (n - 1) // 2 if right is None else len(frames[0]) * len(frames[1])
        share = _match_share(factors, pairs_in_all, PRIOR_MATCH)
        odds = share / (1 - share) * factors
        scored["match_probability"] = odds / (1 + odds)
        scored = scored[scored["match_probability"] >= threshold]
        if scored.empty:
            return _empty()
    # method names the fields whose Bayes factor spoke for the match
    factor_columns = [c for c in scored.columns if c.startswith("bf_") and not c.startswith("bf_tf_")]
    evidence = scored[factor_columns].astype(float).gt(1.0)
    method = ["probabilistic:" + "+".join(f.removeprefix("bf_") for f, hit in zip(factor_columns, row, strict=True)
                                          if hit)
              for row in evidence.itertuples(index=False)]
    pairs = pd.DataFrame({
        "left_id": scored["record_id_l"].astype(str).to_numpy(),
        "right_id": scored["record_id_r"].astype(str).to_numpy(),
        "match_probability": scored["match_probability"].astype(float).to_numpy(),
        "method": method,
    })
    if right is None:
        # Splink orders each dedupe pair internally; report the smaller id on the left.
        swap = pairs["left_id"] > pairs["right_id"]
        pairs.loc[swap, ["left_id", "right_id"]] = pairs.loc[swap, ["right_id", "left_id"]].to_numpy()
    return pairs.sort_values(["left_id", "right_id"], ignore_index=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"left_id": pd.Series(dtype=str), "right_id": pd.Series(dtype=str),
                         "match_probability": pd.Series(dtype=float), "method": pd.Series(dtype=str)})
