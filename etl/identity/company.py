"""Rule-based company matching across regions (requirements 003, prompt 9).

Rules, each giving a confidence from 0 to 100:
  exact           normalised names equal (legal forms, "The", spacing and case ignored)      95
  shared_contact  the same non-personal email domain or the same E.164 phone                 90
  fuzzy           name similarity >= 85 (`name_similarity`, built on rapidfuzz)    the score, at most 94
  parent          the same parent id and names at least 80 % similar                         80
The parent rule needs the names to be alike because in a CRM hierarchy siblings under one group
are different customers; the same parent id makes a moderate name match enough.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from etl.identity import normalize

COMPANY_COLUMNS = ("record_id", "company_name", "country", "parent_id", "email_domain", "phone")
FUZZY_THRESHOLD = 85
PARENT_NAME_FLOOR = 80
CONFIDENCE = {"exact": 95, "shared_contact": 90, "parent": 80}
# When two rules fire for a pair, the higher confidence wins; on a tie, the earlier method here.
METHOD_ORDER = ("manual", "exact", "shared_contact", "fuzzy", "parent")


def prepare_companies(records: pd.DataFrame) -> pd.DataFrame:
    """Normalised matching columns for company records; missing columns count as empty."""
    frame = records.copy()
    for column in COMPANY_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    names = ["" if normalize.is_blank(v) else str(v) for v in frame["company_name"]]
    domains = []
    for value in frame["email_domain"]:
        domain = None if normalize.is_blank(value) else str(value).strip().lower().rpartition("@")[2] or None
        domains.append(None if domain in normalize.PERSONAL_EMAIL_DOMAINS else domain)
    cols: dict[str, list] = {
        "record_id": [str(v) for v in frame["record_id"]],
        "key": [normalize.company_name(n) or None for n in names],
        "words": [normalize.company_words(n) or None for n in names],
        "parent_id": [None if normalize.is_blank(v) else str(v).strip() for v in frame["parent_id"]],
        "email_domain": domains,
        "phone": [normalize.phone(p, c) for p, c in zip(frame["phone"], frame["country"], strict=True)],
    }
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})



def _equal_pairs(left: pd.DataFrame, right: pd.DataFrame, column: str, dedupe: bool) -> pd.DataFrame:
    a = left[["record_id", column]].dropna()
    b = right[["record_id", column]].dropna()
    pairs = a.merge(b, on=column, suffixes=("_l", "_r"))[["record_id_l", "record_id_r"]]
    if dedupe:
        pairs = pairs[pairs["record_id_l"] < pairs["record_id_r"]]
    return pairs


def name_similarity(a: str | None, b: str | None) -> int:
    """0-100: how alike two normalised company names (`company_words`) are.

    The lower of rapidfuzz's token_sort_ratio and the ratio between the words the names do not
    share. So a plural or a typo still scores high ("acme logistic" / "acme logistics": 94), while
    a shared brand or industry word alone does not ("elbe medical" / "elbe media": 83,
    "maple trident pharma" / "maple trident power": 55, "cape catering" / "apex caterings": 75), and a name that only adds a word to
    another scores 0 ("cornerstone insurance" / "hudson cornerstone insurance").
    """
    if not a or not b:
        return 0
    if a == b:
        return 100
    sort_score = fuzz.token_sort_ratio(a, b)
    ta, tb = set(a.split()), set(b.split())
    only_a, only_b = " ".join(sorted(ta - tb)), " ".join(sorted(tb - ta))
    if not only_a and not only_b:
        return int(round(sort_score))
    if not only_a or not only_b:
        # Same words once spaces are ignored ("blue sky" / "bluesky") is the same name.
        return 100 if a.replace(" ", "") == b.replace(" ", "") else 0
    # Pair each differing word with its closest counterpart: one poor pair ("cape" / "apex") sinks
    # the score even when the rest agree ("catering" / "caterings").
    words_a, words_b = only_a.split(), only_b.split()
    if len(words_a) > len(words_b):
        words_a, words_b = words_b, words_a
    aligned = min(max(fuzz.ratio(x, y) for y in words_b) for x in words_a)
    return int(round(min(sort_score, fuzz.ratio(only_a, only_b), aligned)))


# Candidate pairs for the fuzzy name rule: records within this many places of each other when
# sorted by name, by reversed name and by name with its words sorted (sorted neighbourhood
# blocking). A near-identical name shares a long start or a long end with its twin, so it sorts
# close to it one way or the other; comparing every pair is quadratic (10^10 at 100k accounts).
NEIGHBOURHOOD = 25


def _neighbour_pairs(left: pd.DataFrame, right: pd.DataFrame, dedupe: bool) -> tuple[np.ndarray, np.ndarray]:
    """(left positions, right positions) of the distinct candidate pairs; with `dedupe` (left is
    right) each unordered pair once, the smaller record id on the left."""
    frames = [left] if dedupe else [left, right]
    union = pd.concat(frames, ignore_index=True)
    side = np.concatenate([np.zeros(len(left), dtype=np.int8)] + ([] if dedupe else [np.ones(len(right), np.int8)]))
    position = np.concatenate([np.arange(len(f)) for f in frames])
    keys = union["key"].fillna("").to_numpy(dtype=object)
    orders = [np.argsort(keys, kind="stable"),
              np.argsort(np.array([k[::-1] for k in keys], dtype=object), kind="stable"),
              np.argsort(np.array([" ".join(sorted(w.split())) for w in union["words"]], dtype=object),
                         kind="stable")]
    a_parts, b_parts = [], []
    for order in orders:
        for offset in range(1, min(NEIGHBOURHOOD, len(order) - 1) + 1):
            a_parts.append(order[:-offset])
            b_parts.append(order[offset:])
    if not a_parts:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    if dedupe:
        ids = union["record_id"].to_numpy(dtype=object)
        swap = ids[a] > ids[b]
        a, b = np.where(swap, b, a), np.where(swap, a, b)
        keep = a != b
    else:
        swap = side[a] == 1
        a, b = np.where(swap, b, a), np.where(swap, a, b)
        keep = side[a] != side[b]
    pairs = np.unique(np.stack([position[a[keep]], position[b[keep]]], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def _similarity(left: pd.DataFrame, right: pd.DataFrame, dedupe: bool, cutoff: int) -> pd.DataFrame:
    """Pairs whose names score at least `cutoff` by `name_similarity`, with the score."""
    lk = left.dropna(subset=["words"])
    rk = right.dropna(subset=["words"])
    if lk.empty or rk.empty:
        return pd.DataFrame({"record_id_l": pd.Series(dtype=object), "record_id_r": pd.Series(dtype=object),
                             "score": pd.Series(dtype=int)})
    # token_sort_ratio bounds name_similarity from above, so rapidfuzz's fast pass over the
    # candidate pairs finds every match among them; only those few are scored in Python.
    i, j = _neighbour_pairs(lk, rk, dedupe)
    if not len(i):
        return pd.DataFrame({"record_id_l": pd.Series(dtype=object), "record_id_r": pd.Series(dtype=object),
                             "score": pd.Series(dtype=int)})
    words_l, words_r = lk["words"].to_numpy()[i], rk["words"].to_numpy()[j]
    keys_l, keys_r = lk["key"].fillna("").to_numpy()[i], rk["key"].fillna("").to_numpy()[j]
    bound = np.maximum(
        process.cpdist(words_l, words_r, scorer=fuzz.token_sort_ratio, dtype=np.uint8, workers=-1),
        process.cpdist(keys_l, keys_r, scorer=fuzz.ratio, dtype=np.uint8, workers=-1))
    keep = bound >= cutoff
    i, j = i[keep], j[keep]
    left_ids, right_ids = lk["record_id"].to_numpy()[i], rk["record_id"].to_numpy()[j]
    left_words, right_words = lk["words"].to_numpy()[i], rk["words"].to_numpy()[j]
    scores = [name_similarity(x, y) for x, y in zip(left_words, right_words, strict=True)]
    out = pd.DataFrame({"record_id_l": left_ids, "record_id_r": right_ids, "score": scores})
    out = out[out["score"] >= cutoff]
    if dedupe:
        out = out[out["record_id_l"] < out["record_id_r"]]
    return out


def link_companies(left: pd.DataFrame, right: pd.DataFrame | None) -> pd.DataFrame:
    """Every pair that some rule links, with its best confidence (0-100) and that rule's name."""
    dedupe = right is None
    a = prepare_companies(left)
    b = a if dedupe else prepare_companies(right)
    found: list[pd.DataFrame] = []

    def add(pairs: pd.DataFrame, method: str, confidence) -> None:
        if len(pairs):
            found.append(pairs[["record_id_l", "record_id_r"]].assign(confidence=confidence, method=method))

    add(_equal_pairs(a, b, "key", dedupe), "exact", CONFIDENCE["exact"])
    for column in ("email_domain", "phone"):
        add(_equal_pairs(a, b, column, dedupe), "shared_contact", CONFIDENCE["shared_contact"])
    similar = _similarity(a, b, dedupe, PARENT_NAME_FLOOR)
    fuzzy = similar[similar["score"] >= FUZZY_THRESHOLD]
    # a fuzzy match is never surer than an exact one
    add(fuzzy, "fuzzy", np.minimum(fuzzy["score"].to_numpy(), CONFIDENCE["exact"] - 1))
    same_parent = _equal_pairs(a, b, "parent_id", dedupe)
    add(same_parent.merge(similar, on=["record_id_l", "record_id_r"]), "parent", CONFIDENCE["parent"])
    if not found:
        return pd.DataFrame({"left_id": pd.Series(dtype=str), "right_id": pd.Series(dtype=str),
                             "match_probability": pd.Series(dtype=float), "method": pd.Series(dtype=str)})
    links = pd.concat(found, ignore_index=True)
    links = links[links["record_id_l"] != links["record_id_r"]] if dedupe else links
    links["rank"] = links["method"].map(METHOD_ORDER.index)
    links = (links.sort_values(["record_id_l", "record_id_r", "confidence", "rank"],
                               ascending=[True, True, False, True])
             .drop_duplicates(["record_id_l", "record_id_r"]))
    return pd.DataFrame({"left_id": links["record_id_l"].to_numpy(), "right_id": links["record_id_r"].to_numpy(),
                         "match_probability": links["confidence"].to_numpy(dtype=float) / 100.0,
                         "method": links["method"].to_numpy()}).reset_index(drop=True)


def shared_contact_pairs(contacts: pd.DataFrame) -> pd.DataFrame:
    """Pairs of accounts whose contacts share a normalised email or E.164 phone.

    `contacts` has account_id, email, phone and optionally country.
    """
    country = contacts["country"] if "country" in contacts.columns else [None] * len(contacts)
    keyed = pd.DataFrame({
        "account_id": contacts["account_id"].astype(object).to_numpy(),
        "email": [normalize.email(v) for v in contacts["email"]],
        "phone": [normalize.phone(p, c) for p, c in zip(contacts["phone"], country, strict=True)],
    }).astype(object)
    pairs = pd.concat([accounts_sharing(keyed, "email"), accounts_sharing(keyed, "phone")], ignore_index=True)
    return pairs.drop_duplicates(["left_id", "right_id"]).sort_values(["left_id", "right_id"], ignore_index=True)


def accounts_sharing(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Pairs of distinct accounts (`account_id`) with rows sharing a value of `column`, as
    shared_contact links, the smaller id on the left."""
    keyed = frame.dropna(subset=[column, "account_id"])[[column, "account_id"]].astype({"account_id": str})
    keyed = keyed.drop_duplicates()
    merged = keyed.merge(keyed, on=column, suffixes=("_l", "_r"))
    merged = merged[merged["account_id_l"] < merged["account_id_r"]].drop_duplicates(["account_id_l", "account_id_r"])
    return pd.DataFrame({"left_id": pd.Series(merged["account_id_l"].to_numpy(), dtype=object),
                         "right_id": pd.Series(merged["account_id_r"].to_numpy(), dtype=object),
                         "match_probability": pd.Series(CONFIDENCE["shared_contact"] / 100.0, index=range(len(merged)),
                                                        dtype=float),
                         "method": pd.Series("shared_contact", index=range(len(merged)), dtype=object)})
