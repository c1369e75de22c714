"""Engagement radar queries: accounts and contacts by tier, the score distribution, sharp drops with
what fell, an account against its peers, and the contacts grid, for sales managers.

One function per panel, each taking the page's URL state, the caller's `DataScope` and
`MaskPolicy` (both required) and returning a typed result, or gold's status when nothing has been
scored yet. Everything is read from gold, as the scoring job wrote it (etl/intelligence/scoring.py
with the pure models in models/engagement.py):

- gold.account_engagement: each customer's 0-1 score, tier, parts, the score 30 days earlier and
  its sharp-drop flag;
- gold.contact_engagement: each contact's (master person's) score, tier, parts and score 30 days
  earlier, with the master contact row's name, title, email and phone;
- gold.engagement_history: each customer's daily score and parts, for what fell and since when;
- gold.engagement_band: customers and contacts per territory, tier and 0.01 score band, for the tiers
  and the distribution (read per territory, as the daily KPIs: accounts assigned by name are not
  counted in these totals, which would reveal their neighbours);
- gold.account_book: the customer's name, territory (the scope), activity and peer group
  (segment / size band, as the product-gap peers).

Emails and phones pass through `mask_value`: a caller without view_pii gets them masked, on
screen and in the exports alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, mask_value
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import ACCOUNT, CHIP, COUNT, DAY, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.gold import AccountBook
from dashboard.tables.intelligence import (
    AccountEngagement,
    ContactEngagement,
    EngagementBand,
    EngagementHistory,
)
from dashboard.url_state import first, to_search
from models.engagement import (
    COMPONENT_LABELS,
    DROP_LOOKBACK_DAYS,
    TIER_THRESHOLDS,
    WEIGHTS,
    EngagementTier,
    component_falls,
    drop_rule,
    score_rule,
    tier_rules,
)

PAGE_PATH = "/sales/engagement"
TIERS: tuple[str, ...] = tuple(t.value for t in EngagementTier)  # Potential, Watch List, Alert
ALL_TIERS = "all"
BINS = 20  # the distribution's bars: 0-0.05, 0.05-0.10, ... 0.95-1
# The grid's rows, as in the product's other grids (a thousand sent twice the JSON for the browser to parse
# and the grid to take in, for rows past the tenth page); the export of the campaign list holds every one.
CONTACT_LIMIT = 500
CAMPAIGN_LIMIT = 100_000
DROP_LIMIT = 200
ACCOUNT_OPTIONS = 500
# A contact's trend: rising or falling when the score moved at least this much in 30 days.
STEADY_BAND = 0.05
PARTS: tuple[str, ...] = tuple(WEIGHTS)


# --- The page's state in the URL -----------------------------------------------------


@dataclass(frozen=True)
class EngagementQuery:
    """The page as the URL holds it, raw: `?tier=Potential&account=ACC-1`. Validated by `resolve`."""

    tier: Any = None
    account: Any = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> EngagementQuery:
        """From Dash's layout kwargs or Flask's request args."""
        return cls(first(args, "tier"), first(args, "account"))

    @classmethod
    def from_state(cls, data: Any) -> EngagementQuery:
        """From the page's state store; anything malformed reads as the default view."""
        if not isinstance(data, dict):
            return cls()
        return cls.from_args({k: data.get(k) for k in ("tier", "account")})

    def as_state(self) -> dict[str, Any]:
        return {"tier": self.tier, "account": self.account}

    @property
    def search(self) -> str:
        return to_search([("tier", self.tier), ("account", self.account)])

    @property
    def href(self) -> str:
        return PAGE_PATH + self.search


@dataclass(frozen=True)
class ResolvedQuery:
    """The validated state: the contacts' tier (None for all), the account compared with its peers
    (None: the page picks one), the data day scored, notes on what was adjusted, and the scope."""

    tier: str | None
    account: str | None
    as_of: date | None
    scope: DataScope
    notes: tuple[str, ...] = ()

    @property
    def canonical(self) -> EngagementQuery:
        return EngagementQuery(self.tier, self.account)


def _in_scope(scope: DataScope) -> Any:
    return scope.account_filter(AccountBook.territory, AccountBook.account_id)


def _scoped(stmt: Select, account_id: Any, scope: DataScope) -> Select:
    """Rows of customers in the scope; an unrestricted scope reads the engagement table alone."""
    if scope.unrestricted:
        return stmt
    return stmt.where(account_id.in_(select(AccountBook.account_id).where(_in_scope(scope))))


def _names(session: Session, account_ids: set[str]) -> dict[str, str]:
    """The customers' names, read for the rows shown only."""
    if not account_ids:
        return {}
    return dict(session.execute(select(AccountBook.account_id, AccountBook.account_name)
                                .where(AccountBook.account_id.in_(sorted(account_ids)))).all())


def resolve(session: Session, query: EngagementQuery, scope: DataScope) -> ResolvedQuery | None:
    """Validate the URL state: an unknown tier shows every tier, an account that is not scored or not
    in the scope is dropped, each with a note saying so. None when nothing has been scored yet."""
    if session.scalar(select(AccountEngagement.account_id).limit(1)) is None:
        return None
    notes: list[str] = []
    tier = query.tier if query.tier in TIERS else None
    if query.tier not in (None, "", ALL_TIERS) and tier is None:
        notes.append(f"Unknown tier \u201c{str(query.tier)[:40]}\u201d: showing contacts of every tier.")
    account = query.account if isinstance(query.account, str) and query.account else None
    if account is not None:
        known = session.scalar(select(AccountEngagement.account_id)
                               .join(AccountBook, AccountBook.account_id == AccountEngagement.account_id)
                               .where(AccountEngagement.account_id == account, _in_scope(scope)))
        if known is None:
            notes.append(f"No engagement score in your data scope for the account \u201c{account[:40]}\u201d.")
            account = None
    elif query.account not in (None, ""):
        notes.append("Unknown account: showing the default comparison.")
    as_of = session.scalar(select(func.max(EngagementHistory.as_of)))
    return ResolvedQuery(tier, account, as_of, scope, tuple(notes))


def account_options(session: Session, resolved: ResolvedQuery) -> list[tuple[str, str]]:
    """(account id, name) of the scored customers in scope for the peer comparison's picker, by name;
    the selected one is always among them."""
    b, e = AccountBook, AccountEngagement
    rows = session.execute(select(b.account_id, b.account_name).join(e, e.account_id == b.account_id)
                           .where(_in_scope(resolved.scope))
                           .order_by(b.account_name, b.account_id).limit(ACCOUNT_OPTIONS)).all()
    options = [(r[0], r[1] or r[0]) for r in rows]
    if resolved.account and resolved.account not in {o[0] for o in options}:
        name = session.scalar(select(b.account_name).where(b.account_id == resolved.account))
        options.insert(0, (resolved.account, name or resolved.account))
    return options


# --- 1. Accounts and contacts by tier --------------------------------------------------


@dataclass(frozen=True)
class TiersResult:
    """Customers and contacts of the scope's territories per tier (in TIERS order, from
    gold.engagement_band), and the rules in words."""

    resolved: ResolvedQuery
    rows: pd.DataFrame  # tier, accounts, contacts, account_share, contact_share
    rules: tuple[tuple[str, str], ...]  # (tier, rule), from models.engagement's constants
    score_rule: str
    drop_rule: str

    @property
    def accounts(self) -> int:
        return int(self.rows["accounts"].sum())

    @property
    def contacts(self) -> int:
        return int(self.rows["contacts"].sum())


def tier_counts(session: Session, table: Any, scope: DataScope) -> dict[str, int]:
    """Rows of `table` (AccountEngagement or ContactEngagement) of the scope's customers per tier; for
    everything or a scope of territories, summed from gold.engagement_band (every row is counted there
    once, in its customer's territory): counting a region's contacts row by row took 70 ms."""
    if scope.served_by_territory:
        kind = "account" if table is AccountEngagement else "contact"
        stmt = (select(EngagementBand.tier, func.sum(EngagementBand.members))
                .where(EngagementBand.kind == kind, scope.territory_filter(EngagementBand.territory))
                .group_by(EngagementBand.tier))
        return {tier: int(n) for tier, n in session.execute(stmt).all()}
    stmt = _scoped(select(table.tier, func.count()).group_by(table.tier), table.account_id, scope)
    return {tier: int(n) for tier, n in session.execute(stmt).all()}


def tiers(session: Session, query: EngagementQuery, scope: DataScope, *,
          policy: MaskPolicy) -> TiersResult | GoldStatus:
    """How many customers and contacts of the scope are in each tier (see models.engagement)."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    counts = {(kind, tier): int(n) for kind, tier, n in session.execute(
        select(EngagementBand.kind, EngagementBand.tier, func.sum(EngagementBand.members))
        .where(scope.territory_filter(EngagementBand.territory))
        .group_by(EngagementBand.kind, EngagementBand.tier)).all()}
    accounts = {tier: counts.get(("account", tier), 0) for tier in TIERS}
    contacts = {tier: counts.get(("contact", tier), 0) for tier in TIERS}
    rows = pd.DataFrame({"tier": list(TIERS), "accounts": [accounts.get(t, 0) for t in TIERS],
                         "contacts": [contacts.get(t, 0) for t in TIERS]})
    for column in ("accounts", "contacts"):
        total = rows[column].sum()
        rows[column.removesuffix("s") + "_share"] = rows[column] / total if total else float("nan")
    return TiersResult(resolved, rows, tuple((t.value, rule) for t, rule in tier_rules()), score_rule(),
                       drop_rule())


# --- 2. The score distribution ----------------------------------------------------------


@dataclass(frozen=True)
class DistributionResult:
    """Customers and contacts of the scope's territories per score band of width 1 / BINS (a score
    of exactly 1 counts in the last band), the 0.01-wide band holding each one's median score, and
    the tier thresholds to draw."""

    resolved: ResolvedQuery
    bins: pd.DataFrame  # bin_start, bin_end, accounts, contacts
    median_account: tuple[float, float] | None  # (from, to)
    median_contact: tuple[float, float] | None
    thresholds: tuple[float, ...]


FINE_BANDS = 100  # gold.engagement_band's bands


def _median_band(counts: dict[int, int]) -> tuple[float, float] | None:
    """The 0.01 band holding the median (the lower middle value for an even count)."""
    total = sum(counts.values())
    if not total:
        return None
    middle, seen = (total + 1) // 2, 0
    for band in sorted(counts):
        seen += counts[band]
        if seen >= middle:
            return (band - 1) / FINE_BANDS, band / FINE_BANDS
    return None


def distribution(session: Session, query: EngagementQuery, scope: DataScope, *,
                 policy: MaskPolicy) -> DistributionResult | GoldStatus:
    """The 0-1 scores of the scope's customers and contacts as a histogram of BINS bands."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    fine: dict[str, dict[int, int]] = {"account": {}, "contact": {}}
    for kind, band, n in session.execute(
            select(EngagementBand.kind, EngagementBand.band, func.sum(EngagementBand.members))
            .where(scope.territory_filter(EngagementBand.territory))
            .group_by(EngagementBand.kind, EngagementBand.band)).all():
        fine[kind][int(band)] = int(n)
    per_bin = FINE_BANDS // BINS

    def folded(kind: str) -> list[int]:
        return [sum(n for band, n in fine[kind].items() if (band - 1) // per_bin == k) for k in range(BINS)]

    bins = pd.DataFrame({"bin_start": [k / BINS for k in range(BINS)],
                         "bin_end": [(k + 1) / BINS for k in range(BINS)],
                         "accounts": folded("account"), "contacts": folded("contact")})
    thresholds = tuple(sorted(float(v) for v in TIER_THRESHOLDS.values()))
    return DistributionResult(resolved, bins, _median_band(fine["account"]), _median_band(fine["contact"]),
                              thresholds)


# --- 3. Recent sharp drops ---------------------------------------------------------------


@dataclass(frozen=True)
class DropsResult:
    """Customers of the scope whose score fell sharply over DROP_LOOKBACK_DAYS (gold.account_engagement's
    sharp_drop), largest fall first, with what fell.

    main_part: the part (recency, frequency or depth) whose weighted fall took most off the score,
    from gold.engagement_history's parts on the as-of day and DROP_LOOKBACK_DAYS before it.
    since: the last day kept in the history, from the day measured against up to the as-of day,
    on which the score was still at least its level then: the fall came after it.
    """

    resolved: ResolvedQuery
    count: int
    grid: GridRows
    lookback_days: int = DROP_LOOKBACK_DAYS
    rule: str = field(default_factory=drop_rule)


def drops_columns() -> tuple[GridColumn, ...]:
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True),
            GridColumn("engagement_tier", "Tier", CHIP, score="engagement"),
            GridColumn("engagement_score", "Score now", COUNT),
            GridColumn("previous_engagement_score", f"{DROP_LOOKBACK_DAYS} days before", COUNT),
            GridColumn("engagement_fall", "Fell by", COUNT),
            GridColumn("main_part", "What fell most"),
            GridColumn("part_changes", "Parts (now vs before)"),
            GridColumn("drop_since", "Falling since", DAY))


def _round(value: Any, digits: int = 2) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), digits)


def drops(session: Session, query: EngagementQuery, scope: DataScope, *,
          policy: MaskPolicy) -> DropsResult | GoldStatus:
    """The sharp drops of the scope (see `DropsResult`), at most DROP_LIMIT rows."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    e = AccountEngagement
    fall = e.previous_engagement_score - e.engagement_score
    rows = session.execute(_scoped(
        select(e.account_id, e.tier, e.engagement_score, e.previous_engagement_score, e.recency, e.frequency,
               e.depth, func.count().over()).where(e.sharp_drop), e.account_id, scope)
        .order_by(fall.desc(), e.account_id).limit(DROP_LIMIT)).all()
    frame = pd.DataFrame([tuple(r) for r in rows],
                         columns=["account_id", "tier", "engagement_score", "previous_engagement_score",
                                  *PARTS, "total"]).set_index("account_id", drop=False)
    names = _names(session, set(frame.index))
    frame["account_name"] = [names.get(a) or a for a in frame.index]
    history = _history(session, list(frame.index), resolved.as_of)
    before_day = resolved.as_of - timedelta(days=DROP_LOOKBACK_DAYS) if resolved.as_of else None
    before = history[history["as_of"] == before_day].set_index("account_id") if before_day else history.iloc[0:0]
    falls = component_falls(before.reindex(frame.index), frame) if len(frame) else pd.DataFrame()
    since = _since(history, frame, before_day)
    # Plain dicts per row: reading DataFrame cells one by one costs more than the queries.
    before_parts = before[list(PARTS)].to_dict("index") if len(before) else {}
    fell = falls.to_dict("index") if len(falls) else {}
    records = []
    for row in frame.to_dict("records"):
        account_id = row["account_id"]
        main = fell.get(account_id, {}).get("main_part")
        earlier = before_parts.get(account_id)
        changes = (", ".join(f"{COMPONENT_LABELS[p]} {earlier[p]:.2f}\u2192{row[p]:.2f}" for p in PARTS)
                   if earlier else None)
        records.append({
            "account_id": account_id, "account_name": row["account_name"], "engagement_tier": row["tier"],
            "engagement_score": _round(row["engagement_score"]),
            "previous_engagement_score": _round(row["previous_engagement_score"]),
            "engagement_fall": _round(row["previous_engagement_score"] - row["engagement_score"]),
            "main_part": (f"{COMPONENT_LABELS[main]} (\u2212{fell[account_id][main + '_fall']:.2f})"
                          if isinstance(main, str) else None),
            "part_changes": changes, "drop_since": since.get(account_id)})
    count = int(frame["total"].iloc[0]) if len(frame) else 0
    return DropsResult(resolved, count, GridRows(drops_columns(), records, key_field="account_name"))


def _history(session: Session, account_ids: list[str], as_of: date | None) -> pd.DataFrame:
    columns = ["account_id", "as_of", "engagement_score", *PARTS]
    if not account_ids or as_of is None:
        return pd.DataFrame(columns=columns)
    h = EngagementHistory
    rows = session.execute(select(h.account_id, h.as_of, h.engagement_score, h.recency, h.frequency, h.depth)
                           .where(h.account_id.in_(account_ids),
                                  h.as_of.between(as_of - timedelta(days=DROP_LOOKBACK_DAYS), as_of))).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def _since(history: pd.DataFrame, frame: pd.DataFrame, before_day: date | None) -> dict[str, date]:
    """Per account, the last history day before the as-of day whose score was at least the score
    DROP_LOOKBACK_DAYS before (see `DropsResult`)."""
    if history.empty or before_day is None:
        return {}
    level = frame["previous_engagement_score"].astype(float)
    kept = history.assign(level=history["account_id"].map(level))
    last_day = history.groupby("account_id")["as_of"].max()
    kept = kept[(kept["as_of"] >= before_day) & (kept["as_of"] < kept["account_id"].map(last_day))
                & (kept["engagement_score"].astype(float) >= kept["level"] - 1e-9)]
    return kept.groupby("account_id")["as_of"].max().to_dict()


# --- 4. An account against its peers -----------------------------------------------------


@dataclass(frozen=True)
class PeersResult:
    """One customer against its peers: the other active customers of its segment and size band
    (gold.account_book's peer group, company-wide as for product gaps) that have a score.

    percentile: the share of those peers scoring below it, ties counting half (0-100).
    peer_medians and peer_quartiles: of the score and of each part, over the peers.
    """

    resolved: ResolvedQuery
    account_id: str | None
    account_name: str | None
    peer_group: str | None
    peers: int
    account: dict[str, float]  # engagement_score, recency, frequency, depth
    peer_medians: dict[str, float | None]
    peer_quartiles: dict[str, tuple[float | None, float | None]]
    percentile: float | None
    tier: str | None


def _default_account(session: Session, scope: DataScope) -> str | None:
    """The sharpest drop of the scope, else its lowest score."""
    e = AccountEngagement
    dropped = session.scalar(_scoped(select(e.account_id).where(e.sharp_drop), e.account_id, scope)
                             .order_by((e.previous_engagement_score - e.engagement_score).desc(), e.account_id)
                             .limit(1))
    if dropped is not None:
        return dropped
    for tier in reversed(TIERS):  # the tiers are score ranges: the lowest score is in the lowest tier held
        lowest = session.scalar(_scoped(select(e.account_id).where(e.tier == tier), e.account_id, scope)
                                .order_by(e.engagement_score, e.account_id).limit(1))
        if lowest is not None:
            return lowest
    return None


def peers(session: Session, query: EngagementQuery, scope: DataScope, *,
          policy: MaskPolicy) -> PeersResult | GoldStatus:
    """The selected customer (or the default one) against its peer group (see `PeersResult`)."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    account_id = resolved.account or _default_account(session, scope)
    empty = PeersResult(resolved, None, None, None, 0, {}, {}, {}, None, None)
    if account_id is None:
        return empty
    b, e = AccountBook, AccountEngagement
    row = session.execute(select(b.account_name, b.peer_group, e.engagement_score, e.recency, e.frequency, e.depth,
                                 e.tier).join(e, e.account_id == b.account_id)
                          .where(b.account_id == account_id, _in_scope(scope))).first()
    if row is None:
        return empty
    own = {"engagement_score": float(row[2]), "recency": float(row[3]), "frequency": float(row[4]),
           "depth": float(row[5])}
    columns = {"engagement_score": e.engagement_score, **{p: getattr(e, p) for p in PARTS}}
    stats: list[Any] = [func.count()]
    for column in columns.values():
        stats += [func.percentile_cont(q).within_group(column) for q in (0.25, 0.5, 0.75)]
    stats += [func.count().filter(e.engagement_score < own["engagement_score"]),
              func.count().filter(e.engagement_score == own["engagement_score"])]
    figures = session.execute(select(*stats).select_from(b).join(e, e.account_id == b.account_id)
                              .where(and_(b.peer_group == row[1], b.active, b.account_id != account_id))).one()
    count = int(figures[0])
    medians: dict[str, float | None] = {}
    quartiles: dict[str, tuple[float | None, float | None]] = {}
    for k, name in enumerate(columns):
        low, mid, high = figures[1 + 3 * k: 4 + 3 * k]
        medians[name] = _round(mid, 4)
        quartiles[name] = (_round(low, 4), _round(high, 4))
    below, equal = figures[-2], figures[-1]
    percentile = round(100.0 * (below + 0.5 * equal) / count, 1) if count else None
    return PeersResult(resolved, account_id, row[0], row[1], count, own, medians, quartiles, percentile, row[6])


# --- 5. Customers of a tier ------------------------------------------------------------------


@dataclass(frozen=True)
class AccountsResult:
    """The scope's customers of the selected tier, most engaged first: the first ACCOUNT_LIMIT in the
    grid, `total` in all, with their change over DROP_LOOKBACK_DAYS and their standing among peers
    (gold.account_engagement's peer percentile: segment / region / size band, as the job ranks it)."""

    resolved: ResolvedQuery
    total: int
    grid: GridRows


ACCOUNT_LIMIT = 500  # as CONTACT_LIMIT


def account_columns() -> tuple[GridColumn, ...]:
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True),
            GridColumn("engagement_tier", "Tier", CHIP, score="engagement"),
            GridColumn("engagement_score", "Score", COUNT),
            GridColumn("previous_engagement_score", f"{DROP_LOOKBACK_DAYS} days before", COUNT),
            GridColumn("engagement_change", "Change", COUNT), GridColumn("engagement_trend", "Trend"),
            GridColumn("peer_percentile", "Peer percentile", COUNT), GridColumn("peer_group", "Peer group"))


def accounts(session: Session, query: EngagementQuery, scope: DataScope, *,
             policy: MaskPolicy) -> AccountsResult | GoldStatus:
    """The customers grid of the selected tier (see `AccountsResult`)."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    e = AccountEngagement
    total, rows = _most_engaged(session, e, e.account_id, resolved, resolved.tier, ACCOUNT_LIMIT,
                                e.tier, e.engagement_score, e.previous_engagement_score, e.peer_percentile,
                                e.peer_group)
    names = _names(session, {r[0] for r in rows})
    records = []
    for r in rows:
        change = None if r[3] is None else float(r[2]) - float(r[3])
        records.append({"account_id": r[0], "account_name": names.get(r[0]) or r[0], "engagement_tier": r[1],
                        "engagement_score": _round(r[2]), "previous_engagement_score": _round(r[3]),
                        "engagement_change": _round(change), "engagement_trend": trend_words(change),
                        "peer_percentile": _round(r[4], 0), "peer_group": r[5]})
    return AccountsResult(resolved, total, GridRows(account_columns(), records, key_field="account_name"))


def _most_engaged(session: Session, table: Any, key: Any, resolved: ResolvedQuery, tier: str | None, limit: int,
                  *columns: Any) -> tuple[int, list[Any]]:
    """How many rows of `table` the scope holds in `tier` (every tier when None), and the first `limit`
    by score (highest first, then key) as (key, *columns). The tiers are score ranges, so every tier's
    rows are read in order from its index, highest tier first, until `limit` rows are found."""
    counts = tier_counts(session, table, resolved.scope)
    tiers = [tier] if tier is not None else list(TIERS)
    rows: list[Any] = []
    for name in tiers:
        if len(rows) >= limit:
            break
        if not counts.get(name):
            continue
        stmt = _scoped(select(key, *columns).where(table.tier == name), table.account_id, resolved.scope)
        rows += session.execute(stmt.order_by(table.engagement_score.desc(), key).limit(limit - len(rows))).all()
    return sum(counts.get(name, 0) for name in tiers), rows


def export_accounts(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    """The customers grid for the page's query string, as the page shows it."""
    result = accounts(session, EngagementQuery.from_args(args), scope, policy=policy)
    if not isinstance(result, AccountsResult):
        return GridRows(account_columns(), [], "account_name")
    return result.grid


# --- 6. Contacts and their trend -----------------------------------------------------------


@dataclass(frozen=True)
class ContactsResult:
    """The scope's contacts (master persons) of the selected tier, most engaged first: the first
    CONTACT_LIMIT in the grid, `total` in all. change = score now - score DROP_LOOKBACK_DAYS before;
    the trend is rising or falling when it moved at least STEADY_BAND, steady otherwise."""

    resolved: ResolvedQuery
    total: int
    grid: GridRows


def contact_columns() -> tuple[GridColumn, ...]:
    return (GridColumn("contact_name", "Contact", pinned=True), GridColumn("job_title", "Title"),
            GridColumn("email", "Email"), GridColumn("phone", "Phone"),
            GridColumn("account_name", "Account", ACCOUNT), GridColumn("contact_tier", "Tier"),
            GridColumn("engagement_score", "Score", COUNT),
            GridColumn("previous_engagement_score", f"{DROP_LOOKBACK_DAYS} days before", COUNT),
            GridColumn("engagement_change", "Change", COUNT), GridColumn("engagement_trend", "Trend"))


def trend_words(change: float | None) -> str:
    """'▲ rising', '▼ falling' or '● steady' (arrow and word: colour is never the only cue)."""
    if change is None or pd.isna(change):
        return "\u25cb new"
    if change >= STEADY_BAND - 1e-9:
        return "\u25b2 rising"
    if change <= -STEADY_BAND + 1e-9:
        return "\u25bc falling"
    return "\u25cf steady"


def _contact_rows(session: Session, resolved: ResolvedQuery, policy: MaskPolicy, tier: str | None,
                  limit: int) -> tuple[int, list[dict[str, Any]]]:
    c = ContactEngagement
    total, rows = _most_engaged(session, c, c.contact_id, resolved, tier, limit, c.contact_name, c.job_title,
                                c.email, c.phone, c.account_id, c.tier, c.engagement_score,
                                c.previous_engagement_score)
    names = _names(session, {r[5] for r in rows})
    records = []
    for r in rows:
        change = None if r[8] is None else float(r[7]) - float(r[8])
        records.append({"contact_id": r[0], "contact_name": r[1] or r[0], "job_title": r[2],
                        "email": mask_value("email", r[3], policy), "phone": mask_value("phone", r[4], policy),
                        "account_id": r[5], "account_name": names.get(r[5]) or r[5], "contact_tier": r[6],
                        "engagement_score": _round(r[7]), "previous_engagement_score": _round(r[8]),
                        "engagement_change": _round(change), "engagement_trend": trend_words(change)})
    return total, records


def contacts(session: Session, query: EngagementQuery, scope: DataScope, *,
             policy: MaskPolicy) -> ContactsResult | GoldStatus:
    """The contacts grid (see `ContactsResult`), emails and phones masked by the policy."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    total, records = _contact_rows(session, resolved, policy, resolved.tier, CONTACT_LIMIT)
    return ContactsResult(resolved, total, GridRows(contact_columns(), records, key_field="contact_name"))


def export_contacts(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    """The contacts grid for the page's query string, as the page shows it."""
    result = contacts(session, EngagementQuery.from_args(args), scope, policy=policy)
    if not isinstance(result, ContactsResult):
        return GridRows(contact_columns(), [], "contact_name")
    return result.grid


def export_campaign_list(session: Session, args: Mapping[str, Any], scope: DataScope,
                         policy: MaskPolicy) -> GridRows:
    """Every high-potential contact of the scope (tier Potential), most engaged first, for a campaign;
    emails and phones masked as on screen."""
    resolved = resolve(session, EngagementQuery.from_args(args), scope)
    if resolved is None:
        return GridRows(contact_columns(), [], "contact_name")
    _, records = _contact_rows(session, resolved, policy, EngagementTier.POTENTIAL.value, CAMPAIGN_LIMIT)
    return GridRows(contact_columns(), records, key_field="contact_name")


def export_name(args: Mapping[str, Any]) -> str:
    """The tier part of an export's file name, e.g. 'potential' (or 'all')."""
    tier = first(args, "tier")
    return tier.lower().replace(" ", "-") if tier in TIERS else ALL_TIERS


def campaign_export_name(args: Mapping[str, Any]) -> str:
    return "potential"

