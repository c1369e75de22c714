"""Probabilistic person matching with Splink (Fellegi-Sunter) on DuckDB.

Splink does the scoring; this module prepares the records and states the model. The m and u
probabilities are fixed from priors rather than trained by EM: EM is unstable on the small,
duplicate-poor inputs a tenant often has (a few hundred contacts, a handful of duplicates), and
fixed priors make a rerun give the same probabilities. The priors are ordinary figures for CRM
data: how often a true pair agrees on a field (m), and how often two random people do (u).
"""

from __future__ import annotations

import logging

import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from etl.identity import normalize

PERSON_COLUMNS = ("record_id", "first_name", "last_name", "email", "phone", "street", "city", "postcode",
                  "state", "date_of_birth")
# Prior odds that two records picked at random are the same person.
PRIOR_MATCH = 1e-4

for _name in ("splink", "splink.internals"):
    logging.getLogger(_name).setLevel(logging.WARNING)


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
    cols["street"] = [None if normalize.is_blank(v) else (normalize.fold(str(v)) or None) for v in frame["street"]]
    cols["city"] = [normalize.person_name(v) for v in frame["city"]]
    cols["postcode"] = [normalize.person_name(v) for v in frame["postcode"]]
    dob = pd.to_datetime(frame["date_of_birth"].astype(object), errors="coerce", format="mixed")
    cols["date_of_birth"] = [None if pd.isna(d) else d.strftime("%Y-%m-%d") for d in dob]
    cols["first_initial"] = [n[0] if n else None for n in cols["first_name"]]
    cols["phone_tail"] = [p[-8:] if p else None for p in cols["phone"]]
    # object columns keep None as SQL NULL on the way into DuckDB (pandas 3 strings would use NaN)
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})



def _comparisons() -> list:
    def level(sql: str, label: str, m: float, u: float):
        return cll.CustomLevel(sql, label_for_charts=label).configure(m_probability=m, u_probability=u)

    def null(sql: str):
        return cll.CustomLevel(sql, label_for_charts="null").configure(is_null_level=True)

    jw = "jaro_winkler_similarity"
    name = cl.CustomComparison(output_column_name="name", comparison_levels=[
        null("(first_name_l IS NULL AND last_name_l IS NULL) OR (first_name_r IS NULL AND last_name_r IS NULL)"),
        level("first_name_l = first_name_r AND last_name_l = last_name_r", "exact", 0.70, 2e-4),
        level("first_name_l = last_name_r AND last_name_l = first_name_r", "swapped", 0.04, 1e-5),
        level(f"({jw}(first_name_l, first_name_r) >= 0.88 AND {jw}(last_name_l, last_name_r) >= 0.88) OR "
              f"({jw}(first_name_l, last_name_r) >= 0.88 AND {jw}(last_name_l, first_name_r) >= 0.88)",
              "both similar", 0.18, 5e-4),
        level("last_name_l = last_name_r AND (first_name_l IS NULL OR first_name_r IS NULL "
              "OR first_name_l[1] = first_name_r[1])", "surname and initial", 0.04, 2e-3),
        level(f"{jw}(last_name_l, last_name_r) >= 0.88 OR {jw}(first_name_l, first_name_r) >= 0.92",
              "one name similar", 0.02, 0.05),
        cll.ElseLevel().configure(m_probability=0.02, u_probability=0.948),
    ])
    email = cl.CustomComparison(output_column_name="email", comparison_levels=[
        cll.NullLevel("email"),
        level("email_l = email_r", "exact", 0.85, 1e-4),
        # One typo. Not a shared local part or a Jaro-Winkler score: addresses are built from the
        # name, so those mostly repeat what the name comparison already counted. A differing
        # number before the @ ("jo.lee@", "jo.lee2@") marks a namesake, not a typo.
        level("damerau_levenshtein(email_l, email_r) <= 1 AND "
              "regexp_replace(email_l, '[0-9]+@', '@') <> regexp_replace(email_r, '[0-9]+@', '@')",
              "one typo", 0.05, 1e-3),
        cll.ElseLevel().configure(m_probability=0.10, u_probability=0.9989),
    ])
    phone = cl.CustomComparison(output_column_name="phone", comparison_levels=[
        cll.NullLevel("phone"),
        level("phone_l = phone_r", "exact", 0.85, 1e-4),
        level("right(phone_l, 8) = right(phone_r, 8)", "same last 8 digits", 0.05, 1e-4),
        cll.ElseLevel().configure(m_probability=0.10, u_probability=0.9998),
    ])
    dob = cl.CustomComparison(output_column_name="date_of_birth", comparison_levels=[
        cll.NullLevel("date_of_birth"),
        level("date_of_birth_l = date_of_birth_r", "exact", 0.90, 5e-5),
        level("levenshtein(date_of_birth_l, date_of_birth_r) <= 1 OR "
              "(date_of_birth_l[1:4] = date_of_birth_r[1:4] AND date_of_birth_l[6:7] = date_of_birth_r[9:10] "
              "AND date_of_birth_l[9:10] = date_of_birth_r[6:7])", "typo or day/month swapped", 0.06, 1e-3),
        cll.ElseLevel().configure(m_probability=0.04, u_probability=0.99895),
    ])
    address = cl.CustomComparison(output_column_name="address", comparison_levels=[
        null("(street_l IS NULL AND postcode_l IS NULL AND city_l IS NULL) OR "
             "(street_r IS NULL AND postcode_r IS NULL AND city_r IS NULL)"),
        level(f"{jw}(street_l, street_r) >= 0.9 AND (postcode_l = postcode_r OR city_l = city_r)",
              "street and postcode or city", 0.70, 1e-4),
        level("postcode_l = postcode_r", "postcode", 0.15, 0.01),
        level("city_l = city_r", "city", 0.08, 0.05),
        cll.ElseLevel().configure(m_probability=0.07, u_probability=0.9399),
    ])
    return [name, email, phone, dob, address]


def _blocking_rules() -> list:
    # Any one of these puts a pair up for scoring. They are chosen from the model above: a pair
    # can only reach a match probability of 0.9 (Bayes factors multiplying to about 9e4) when it
    # shares an email or a phone number, or when its names agree and one more field does (one
    # typo in an email, the date of birth, the address). Names alone never get there, so they
    # are not a rule: at 390k contacts "same first and last name" was 17 M pairs and a shared
    # email local part ("priya@") 12 M, which made scoring take minutes for nothing.
    return [
        block_on("email"),
        block_on("phone_tail"),  # the same number, also when one copy lost its country code
        block_on("first_name", "last_name", "email_domain"),  # a typo before the @
        block_on("first_name", "last_name", "email_local", "substr(email_domain, 1, 3)"),  # ... or after it
        "l.first_name = r.last_name AND l.last_name = r.first_name",
        block_on("first_name", "date_of_birth"),
        block_on("date_of_birth", "postcode"),
        block_on("first_name", "postcode"),
        block_on("last_name", "city"),
    ]


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
    scored = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    if scored.empty:
        return _empty()
    # method names the fields whose Bayes factor spoke for the match
    factors = [c for c in scored.columns if c.startswith("bf_")]
    evidence = scored[factors].astype(float).gt(1.0)
    method = ["probabilistic:" + "+".join(f.removeprefix("bf_") for f, hit in zip(factors, row, strict=True)
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
