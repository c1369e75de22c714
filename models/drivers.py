"""Why did a KPI move? Exact breakdowns of a change between two periods into its drivers.

- `mrr_bridge`: MRR at two dates, per account, into new, expansion, contraction and churn (and FX,
  given the start's MRR at the end day's rates);
- `active_customers_bridge`: customers active at two dates into new, reactivated and churned;
- `rate_shift_share`: a rate (replies / sends) into mix and rate effects by group.

Every breakdown adds up exactly: start + sum(components) = end (floating point, so to rounding).
Component frames have the columns of COMPONENT_COLUMNS: dimension, member, component, value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

COMPONENT_COLUMNS = ["dimension", "member", "component", "value"]
MRR_COMPONENTS = ("new", "expansion", "contraction", "churn")
ACTIVE_COMPONENTS = ("new", "reactivated", "churned")
TOTAL = ("total", "All")  # dimension and member of the whole-population rows


@dataclass(frozen=True)
class MrrBridge:
    """MRR change from start to end: start_mrr + new + expansion + contraction + churn = end_mrr.

    components: COMPONENT_COLUMNS rows, components 'start', MRR_COMPONENTS and 'end', for the
    total and each member of each dimension asked for (contraction and churn are negative).
    accounts: one row per account with MRR at either date: account_id, the dimensions,
    mrr_start, mrr_end, change and component (new, expansion, contraction, churn or unchanged).
    """

    components: pd.DataFrame
    accounts: pd.DataFrame

    def total(self, component: str) -> float:
        """The whole-population value of one component ('start', 'new', ..., 'end')."""
        rows = self.components[(self.components["dimension"] == TOTAL[0]) & (self.components["component"] == component)]
        return float(rows["value"].sum())

    def top_accounts(self, n: int = 10) -> pd.DataFrame:
        """The n accounts whose MRR moved most (by absolute change), largest first."""
        moved = self.accounts[self.accounts["change"] != 0]
        order = moved["change"].abs().sort_values(ascending=False, kind="stable").index
        return moved.loc[order].head(n).reset_index(drop=True)


def mrr_bridge(start: pd.DataFrame, end: pd.DataFrame, *, dimensions: Sequence[str] = ()) -> MrrBridge:
    """Break the MRR change down per account; `start`/`end` have account_id, mrr_usd and the dimensions.

    An account's dimension values (region, segment) are taken from `end`, else from `start`.
    Accounts missing from a frame, or with MRR <= 0 there, had no MRR at that date.

    When `start` also has `mrr_usd_at_end_rates` (its MRR revalued at the end day's exchange rates),
    an account with MRR at both dates has an 'fx' part, that revaluation less its start MRR, and its
    expansion or contraction is the rest of its change; new and churned accounts have no FX part.
    The components then include 'fx' (after churn), and still add up exactly.
    """
    for name, frame in (("start", start), ("end", end)):
        _require(frame, ["account_id", "mrr_usd", *dimensions], name)
        if frame["account_id"].duplicated().any():
            raise ValueError(f"{name} has duplicate account_id values")
    with_fx = "mrr_usd_at_end_rates" in start.columns
    accounts = _outer(start, end, "mrr_usd", dimensions)
    accounts = accounts.rename(columns={"mrr_usd_start": "mrr_start", "mrr_usd_end": "mrr_end"})
    before, after = accounts["mrr_start"].clip(lower=0), accounts["mrr_end"].clip(lower=0)
    accounts["mrr_start"], accounts["mrr_end"] = before, after
    accounts["fx"] = 0.0
    if with_fx:
        revalued = accounts["account_id"].map(start.set_index("account_id")["mrr_usd_at_end_rates"])
        revalued = pd.to_numeric(revalued, errors="coerce").astype(float)
        both = (before > 0) & (after > 0) & revalued.notna()
        accounts["fx"] = (revalued - before).where(both, 0.0)
    accounts["change"] = after - before
    underlying = after - before - accounts["fx"]
    accounts["component"] = np.select(
        [(before <= 0) & (after > 0), (before > 0) & (after <= 0), underlying > 0, underlying < 0],
        ["new", "churn", "expansion", "contraction"], default="unchanged")
    accounts = accounts[(before > 0) | (after > 0)].reset_index(drop=True)
    components = (*MRR_COMPONENTS, "fx") if with_fx else MRR_COMPONENTS

    def breakdown(frame: pd.DataFrame) -> dict[str, float]:
        values = {"start": float(frame["mrr_start"].sum())}
        moved = frame["change"] - frame["fx"]
        for component in MRR_COMPONENTS:
            values[component] = float(moved[frame["component"] == component].sum())
        if with_fx:
            values["fx"] = float(frame["fx"].sum())
        values["end"] = float(frame["mrr_end"].sum())
        return {name: values[name] for name in ("start", *components, "end")}

    return MrrBridge(_by_dimension(accounts, dimensions, breakdown), accounts)


@dataclass(frozen=True)
class ActiveCustomersBridge:
    """Active customers: start + new + reactivated - churned = end (components has churned negative)."""

    components: pd.DataFrame
    accounts: pd.DataFrame  # account_id, dimensions, component: new, reactivated or churned


def active_customers_bridge(active_start: pd.DataFrame, active_end: pd.DataFrame,
                            ever_active_before_start: Sequence[str] | pd.Series = (), *,
                            dimensions: Sequence[str] = ()) -> ActiveCustomersBridge:
    """Break the change in active customers down: new, reactivated (active before, not at start) and churned.

    `active_start` / `active_end` list the accounts active at each date (account_id and the dimensions);
    `ever_active_before_start` are the accounts that had been active at some time before the start.
    """
    for name, frame in (("active_start", active_start), ("active_end", active_end)):
        _require(frame, ["account_id", *dimensions], name)
    before = active_start.drop_duplicates("account_id").assign(active=1)
    after = active_end.drop_duplicates("account_id").assign(active=1)
    accounts = _outer(before, after, "active", dimensions)
    was, now = accounts["active_start"] > 0, accounts["active_end"] > 0
    returning = accounts["account_id"].isin(set(ever_active_before_start))
    accounts["component"] = np.select([~was & now & returning, ~was & now, was & ~now],
                                      ["reactivated", "new", "churned"], default="retained")

    def breakdown(frame: pd.DataFrame) -> dict[str, float]:
        counts = frame["component"].value_counts()
        return {"start": float((frame["active_start"] > 0).sum()),
                "new": float(counts.get("new", 0)), "reactivated": float(counts.get("reactivated", 0)),
                "churned": -float(counts.get("churned", 0)), "end": float((frame["active_end"] > 0).sum())}

    components = _by_dimension(accounts, dimensions, breakdown)
    moved = accounts[accounts["component"] != "retained"]
    return ActiveCustomersBridge(components, moved[["account_id", *dimensions, "component"]].reset_index(drop=True))


def rate_shift_share(groups: pd.DataFrame, *, dimension: str) -> pd.DataFrame:
    """Change in an overall rate (successes / trials) split into mix and rate effects per group.

    `groups` has one row per member of `dimension` with trials_start, successes_start, trials_end,
    successes_end (e.g. sends and replies in each period). With w the member's share of trials and r
    its rate, the change sum(w1 r1) - sum(w0 r0) = sum((w1 - w0)(r0 + r1)/2) [mix]
    + sum((w0 + w1)/2 (r1 - r0)) [rate], exactly. A member with no trials in one period takes its
    other period's rate there (its weight is 0, so this only keeps the formula defined).

    Returns COMPONENT_COLUMNS rows: per member its 'mix' and 'rate' effects, and for the member
    'All' the rates 'start' and 'end' and the totals 'mix' and 'rate'. Values are rates (0-1).
    """
    _require(groups, [dimension, "trials_start", "successes_start", "trials_end", "successes_end"], "groups")
    frame = groups.groupby(dimension, as_index=False, sort=True)[
        ["trials_start", "successes_start", "trials_end", "successes_end"]].sum()
    if (frame[["trials_start", "trials_end"]] < 0).any().any():
        raise ValueError("trials must not be negative")
    totals = frame[["trials_start", "trials_end"]].sum()
    with np.errstate(all="ignore"):
        weight_start = frame["trials_start"] / totals["trials_start"] if totals["trials_start"] else 0 * frame["trials_start"]
        weight_end = frame["trials_end"] / totals["trials_end"] if totals["trials_end"] else 0 * frame["trials_end"]
        rate_start = frame["successes_start"] / frame["trials_start"].where(frame["trials_start"] > 0)
        rate_end = frame["successes_end"] / frame["trials_end"].where(frame["trials_end"] > 0)
    rate_start, rate_end = rate_start.fillna(rate_end).fillna(0.0), rate_end.fillna(rate_start).fillna(0.0)
    mix = (weight_end - weight_start) * (rate_start + rate_end) / 2
    rate = (weight_start + weight_end) / 2 * (rate_end - rate_start)
    overall_start = float((weight_start * rate_start).sum())
    overall_end = float((weight_end * rate_end).sum())
    rows = [(dimension, "All", "start", overall_start), (dimension, "All", "mix", float(mix.sum())),
            (dimension, "All", "rate", float(rate.sum())), (dimension, "All", "end", overall_end)]
    for member, mix_effect, rate_effect in zip(frame[dimension], mix, rate, strict=True):
        rows += [(dimension, str(member), "mix", float(mix_effect)), (dimension, str(member), "rate", float(rate_effect))]
    return pd.DataFrame(rows, columns=COMPONENT_COLUMNS)


# --- helpers -----------------------------------------------------------------------------
def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks columns: {missing}")


def _outer(start: pd.DataFrame, end: pd.DataFrame, value: str, dimensions: Sequence[str]) -> pd.DataFrame:
    """account_id, dimensions (end's, else start's), value_start, value_end (0 when absent)."""
    merged = start[["account_id", value, *dimensions]].merge(
        end[["account_id", value, *dimensions]], on="account_id", how="outer", suffixes=("_start", "_end"))
    for dimension in dimensions:
        merged[dimension] = merged[f"{dimension}_end"].fillna(merged[f"{dimension}_start"]).fillna("Unknown")
        merged = merged.drop(columns=[f"{dimension}_start", f"{dimension}_end"])
    for suffix in ("_start", "_end"):
        merged[value + suffix] = pd.to_numeric(merged[value + suffix], errors="coerce").fillna(0.0).astype(float)
    return merged


def _by_dimension(accounts: pd.DataFrame, dimensions: Sequence[str], breakdown) -> pd.DataFrame:
    rows = [(*TOTAL, component, value) for component, value in breakdown(accounts).items()]
    for dimension in dimensions:
        for member, frame in accounts.groupby(dimension, sort=True):
            rows += [(dimension, str(member), component, value) for component, value in breakdown(frame).items()]
    return pd.DataFrame(rows, columns=COMPONENT_COLUMNS)
