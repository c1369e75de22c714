"""Clustering links into masters: connected components, with cannot-link constraints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd


class _Clusters:
    def __init__(self, ids: Iterable[str]) -> None:
        self.parent = {i: i for i in ids}
        self.members = {i: {i} for i in self.parent}

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str, cannot: Mapping[str, set[str]]) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        small, big = sorted((ra, rb), key=lambda r: len(self.members[r]))
        # refuse a merge that would put two records of an unlink pair in one cluster
        if any(other in self.members[big] for m in self.members[small] for other in cannot.get(m, ())):
            return False
        self.parent[small] = big
        self.members[big] |= self.members.pop(small)
        return True


def assign_masters(record_ids: Iterable[str], links: pd.DataFrame, *, score_column: str = "score",
                   seniority: Mapping[str, object] | None = None,
                   cannot_link: Iterable[tuple[str, str]] = ()) -> pd.DataFrame:
    """Cluster records by `links` (left_id, right_id, score, method), strongest link first.

    Returns record_id, master_id, score, method. The master id is the most senior member (the
    smallest `seniority` value, e.g. created_at, then the smallest id), so it stays put as newer
    duplicates arrive. A member's score and method are those of its strongest link inside its
    cluster; a record alone gets score None and method "single". Links that would join two
    records of a `cannot_link` pair are skipped, so an unlink holds even across other links.
    """
    ids = sorted({str(i) for i in record_ids})
    clusters = _Clusters(ids)
    cannot: dict[str, set[str]] = {}
    for a, b in cannot_link:
        cannot.setdefault(str(a), set()).add(str(b))
        cannot.setdefault(str(b), set()).add(str(a))
    ordered = links.assign(left_id=links["left_id"].astype(str), right_id=links["right_id"].astype(str))
    ordered = ordered[ordered["left_id"].isin(clusters.parent) & ordered["right_id"].isin(clusters.parent)]
    ordered = ordered.sort_values([score_column, "left_id", "right_id"], ascending=[False, True, True])
    best: dict[str, tuple[float, str]] = {}
    for left_id, right_id, score, method in ordered[["left_id", "right_id", score_column, "method"]].itertuples(
            index=False):
        if clusters.union(left_id, right_id, cannot):
            for record in (left_id, right_id):
                if record not in best:  # links come strongest first
                    best[record] = (float(score), str(method))
    rank = seniority or {}

    def seniority_key(record: str) -> tuple:
        value = rank.get(record)
        return (value is None or pd.isna(value), value if value is not None and not pd.isna(value) else 0, record)

    master_of: dict[str, str] = {}
    for members in clusters.members.values():
        master = min(members, key=seniority_key)
        for member in members:
            master_of[member] = master
    rows = []
    for record in ids:
        score, method = best.get(record, (None, "single"))
        rows.append((record, master_of[record], score, method))
    return pd.DataFrame(rows, columns=["record_id", "master_id", "score", "method"])
