"""Campaigns page queries: the funnel, A/B tests, the best time to send, ROI, attribution, high-intent
contacts and campaigns side by side.

One function per panel, each taking the page's URL state, the caller's `DataScope` and `MaskPolicy`
and returning a typed result, or gold's status before gold was built. Everything is read from gold:
gold.campaign (cost in USD), gold.campaign_hourly (the send funnel per campaign, variant, UTC hour and
channel), gold.campaign_daily (per send day), gold.campaign_reply (every replied send with its contact
and account), gold.sales_opportunity (won deals) and the attribution job's gold.attribution_monthly /
gold.attribution_campaign.

Campaigns are company-wide: their funnels, tests and costs are not split by territory. The high-intent
list names contacts and is limited to the caller's data scope (by the contact's account).

The URL holds the period (`?period=30d|90d|365d|all`, the last year by default) and the campaigns compared
(`?compare=CMP-1&compare=CMP-2`). The period ends on the newest send day in gold (not today, so a quiet
source still shows its last sends) and limits every panel:
- funnel, A/B tests, best time to send, ROI and side by side: the campaigns with sends in the period,
  counting only the sends in the period (gold.campaign_hourly by its hour, gold.campaign_daily by its day);
  a campaign's cost counts in the share of its sends made in the period;
- conversions and high intent: the replies from the period's first day on (gold.campaign_reply has the
  reply's day, not the send's) to campaigns with sends in the period;
- attribution: the months the period touches (gold.attribution_monthly is kept by month); the credit per
  campaign is over all journeys (gold.attribution_campaign has no month), for campaigns with sends in the
  period.

Definitions (shown on the page too):
- a step of the funnel counts when its timestamp is present; reply rate = replies / sends;
- a channel has no read receipts when none of its sends was ever read (SMS): its read step is shown as
  "no read receipts" and its reply step follows delivery;
- A/B test: each variant against the first (A) with the pooled two-proportion z-test on replies per
  send, the 95% confidence interval of the difference (Newcombe-Wilson score), Holm's correction when a
  campaign has more than two variants, and the sends per variant that 80% power at alpha 0.05 needs to
  detect the observed lift (Cohen's h, `NormalIndPower`);
- best time to send: reply rate per UTC weekday x hour; a cell needs MIN_CELL_SENDS sends to be
  recommended; the recommendation is the cell with the highest lower bound of the 95% Wilson interval;
- conversion: an opportunity of the replying contact's account won within the conversion window (the
  setting C360_CONVERSION_WINDOW_DAYS, 30 days by default) after the reply (close date from the reply's
  day on); one deal counts once per campaign, and once in the totals; ROI = (won value - cost) / cost;
- high intent: a contact who replied more than HIGH_INTENT_REPLIES times.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from statistics import NormalDist
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, cast, distinct, extract, func, select, true
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, mask_value
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import COUNT, DAY, TEXT, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.attribution_text import ATTRIBUTION_MODELS, AttributionCampaign, AttributionMonthly
from dashboard.tables.gold import Campaign, CampaignDaily, CampaignHourly, CampaignReply, SalesOpportunity
from dashboard.url_state import first, to_search, values
from models.kpi import (
    holm_adjusted,
    proportion_effect_size,
    rate_difference_interval,
    two_proportion_p_value,
    wilson_interval,
)

PAGE_PATH = "/marketing"
PERIODS = ("30d", "90d", "365d", "all")
# The last year fills every panel of the demo data (its last 90 days hold no high-intent contact).
DEFAULT_PERIOD = "365d"
PERIOD_DAYS = {"30d": 30, "90d": 90, "365d": 365}
PERIOD_LABELS = {"30d": "Last 30 days", "90d": "Last 90 days", "365d": "Last year", "all": "Everything"}
HIGH_INTENT_REPLIES = 3  # more replies than this make a contact high intent
MIN_CELL_SENDS = 50  # sends a weekday x hour cell needs before it is recommended
ALPHA = 0.05
POWER = 0.80
COMPARE_MIN, COMPARE_MAX = 2, 4
STEPS = ("sent", "delivered", "read", "replied")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HIGH_INTENT_LIMIT = 500

H = CampaignHourly
D = CampaignDaily


# --- The page's state in the URL -----------------------------------------------------


@dataclass(frozen=True)
class CampaignsQuery:
    """The page as the URL holds it, raw: `?period=90d&compare=CMP-1&compare=CMP-2` (2 to 4 campaigns).
    Validated by `resolve`."""

    compare: tuple[str, ...] = ()
    period: Any = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> CampaignsQuery:
        return cls(tuple(values(args, "compare")), first(args, "period"))

    @classmethod
    def from_state(cls, data: Any) -> CampaignsQuery:
        if not isinstance(data, dict):
            return cls()
        raw = data.get("compare")
        return cls.from_args({"compare": raw if isinstance(raw, list) else [], "period": data.get("period")})

    def as_state(self) -> dict[str, Any]:
        return {"compare": list(self.compare), "period": self.period}

    @property
    def search(self) -> str:
        return to_search([("period", self.period), ("compare", list(self.compare))])


@dataclass(frozen=True)
class CampaignInfo:
    campaign_id: str
    name: str
    channel: str
    status: str
    start_date: date
    cost_usd: float | None


@dataclass(frozen=True)
class ResolvedQuery:
    """The validated state: the period (its first and last send day; None before any send), the
    campaigns with sends in it, newest first (every campaign for `all`), and the campaigns compared
    (2 to 4 of those)."""

    compare: tuple[str, ...]
    campaigns: dict[str, CampaignInfo]
    scope: DataScope
    notes: tuple[str, ...] = ()
    period: str = DEFAULT_PERIOD
    first_day: date | None = None
    last_day: date | None = None

    @property
    def canonical(self) -> CampaignsQuery:
        return CampaignsQuery(self.compare, None if self.period == DEFAULT_PERIOD else self.period)

    @property
    def limited(self) -> bool:
        """Whether the panels filter on the period (not `all`, and there are sends)."""
        return self.period != "all" and self.first_day is not None and self.last_day is not None

    def hourly_filter(self) -> ColumnElement[bool]:
        """gold.campaign_hourly's sends in the period: UTC hours from its first day to the end of its last."""
        first_day, last_day = self.first_day, self.last_day
        if not self.limited or first_day is None or last_day is None:
            return true()
        start = datetime.combine(first_day, time(), UTC)
        end = datetime.combine(last_day + timedelta(days=1), time(), UTC)
        return and_(H.sent_hour >= start, H.sent_hour < end)

    def daily_filter(self) -> ColumnElement[bool]:
        """gold.campaign_daily's send days in the period."""
        return D.day.between(self.first_day, self.last_day) if self.limited else true()

    def reply_filter(self) -> ColumnElement[bool]:
        """gold.campaign_reply's replies from the period's first day on, to campaigns with sends in it."""
        if not self.limited:
            return true()
        return and_(CampaignReply.replied_day >= self.first_day, CampaignReply.campaign_id.in_(list(self.campaigns)))

    @property
    def first_month(self) -> date | None:
        """The first month the period touches (attribution is kept by month)."""
        return None if self.first_day is None else self.first_day.replace(day=1)


def _period(query: CampaignsQuery, notes: list[str]) -> str:
    if query.period is None:
        return DEFAULT_PERIOD
    raw = str(query.period).strip().lower()
    if raw in PERIODS:
        return raw
    notes.append(f"The period can be the last 30 days (30d), 90 days (90d), year (365d) or everything (all), "
                 f"not \u201c{str(query.period)[:40]}\u201d: showing the last year.")
    return DEFAULT_PERIOD


def resolve(session: Session, query: CampaignsQuery, scope: DataScope) -> ResolvedQuery | None:
    """Validate the URL state; an unknown period, and unknown, idle or too many campaigns fall back with a
    note. None before gold."""
    rows = session.execute(select(Campaign).order_by(Campaign.start_date.desc(), Campaign.campaign_id)).scalars().all()
    if not rows:
        return None
    every = {c.campaign_id: CampaignInfo(c.campaign_id, c.campaign_name, c.channel, c.status, c.start_date,
                                         None if c.cost_usd is None else float(c.cost_usd)) for c in rows}
    notes: list[str] = []
    period = _period(query, notes)
    oldest, newest = session.execute(select(func.min(D.day), func.max(D.day))).one()
    first_day = oldest if period == "all" or newest is None else newest - timedelta(days=PERIOD_DAYS[period] - 1)
    if period == "all" or newest is None:
        campaigns = every
    else:
        sending = set(session.scalars(select(D.campaign_id).distinct().where(D.day.between(first_day, newest))))
        campaigns = {cid: info for cid, info in every.items() if cid in sending}
    chosen: list[str] = []
    for campaign_id in query.compare:
        if campaign_id in campaigns and campaign_id not in chosen:
            chosen.append(campaign_id)
        elif campaign_id in every and campaign_id not in campaigns:
            notes.append(f"{campaign_id} sent nothing in the period: left out of the comparison.")
        elif campaign_id not in every:
            notes.append(f"No campaign \u201c{campaign_id[:40]}\u201d: left out of the comparison.")
    if len(chosen) > COMPARE_MAX:
        notes.append(f"Up to {COMPARE_MAX} campaigns side by side: showing the first {COMPARE_MAX}.")
        chosen = chosen[:COMPARE_MAX]
    if len(chosen) < COMPARE_MIN:
        if query.compare:
            notes.append(f"Pick {COMPARE_MIN} to {COMPARE_MAX} campaigns to compare: the newest are added.")
        for campaign_id in campaigns:  # newest first
            if len(chosen) >= COMPARE_MIN:
                break
            if campaign_id not in chosen:
                chosen.append(campaign_id)
    return ResolvedQuery(tuple(chosen), campaigns, scope, tuple(notes), period, first_day, newest)


def period_costs(session: Session, resolved: ResolvedQuery) -> dict[str, float | None]:
    """Each campaign's cost in the period: the share of its sends made in the period (all of it for `all`)."""
    if not resolved.limited:
        return {cid: info.cost_usd for cid, info in resolved.campaigns.items()}
    sends = {cid: (int(in_period or 0), int(total or 0)) for cid, in_period, total in session.execute(
        select(D.campaign_id, func.sum(D.sent).filter(resolved.daily_filter()), func.sum(D.sent))
        .where(D.campaign_id.in_(list(resolved.campaigns))).group_by(D.campaign_id))}
    out: dict[str, float | None] = {}
    for cid, info in resolved.campaigns.items():
        in_period, total = sends.get(cid, (0, 0))
        out[cid] = None if info.cost_usd is None or not total else info.cost_usd * in_period / total
    return out


def _ratio(part: float | None, whole: float | None) -> float | None:
    return None if not whole or part is None else float(part) / float(whole)


def receipt_channels(session: Session) -> frozenset[str]:
    """Channels with read receipts: some send on them was read."""
    return frozenset(session.scalars(select(H.channel).group_by(H.channel).having(func.sum(H.read) > 0)))


# --- 1. The funnel --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    """One campaign (or total) on one channel. Rates are of the step before; `read` is None without
    read receipts, and the reply step then follows delivery."""

    campaign_id: str | None
    name: str
    channel: str
    sent: int
    delivered: int
    read: int | None
    replied: int

    @property
    def delivered_rate(self) -> float | None:
        return _ratio(self.delivered, self.sent)

    @property
    def read_rate(self) -> float | None:
        return None if self.read is None else _ratio(self.read, self.delivered)

    @property
    def replied_rate(self) -> float | None:
        """Replies of the step before: read messages, or delivered ones without read receipts."""
        return _ratio(self.replied, self.delivered if self.read is None else self.read)

    @property
    def reply_rate(self) -> float | None:
        """Replies per send."""
        return _ratio(self.replied, self.sent)

    def drop_offs(self) -> list[tuple[str, int]]:
        """The messages lost at each step: (step, lost)."""
        out = [("delivered", self.sent - self.delivered)]
        if self.read is None:
            out.append(("replied", self.delivered - self.replied))
        else:
            out += [("read", self.delivered - self.read), ("replied", self.read - self.replied)]
        return out


@dataclass(frozen=True)
class FunnelResult:
    resolved: ResolvedQuery
    total: FunnelRow
    channels: tuple[FunnelRow, ...]  # every campaign together, per channel
    rows: tuple[FunnelRow, ...]  # per campaign and channel, newest campaign first
    receipt_channels: frozenset[str]
    cost_usd: float | None
    cost_per_reply_usd: float | None


def _funnel_row(campaign_id: str | None, name: str, channel: str, sent: Any, delivered: Any, read: Any,
                replied: Any, receipts: frozenset[str]) -> FunnelRow:
    has_receipts = channel in receipts if channel != "All" else True
    return FunnelRow(campaign_id, name, channel, int(sent or 0), int(delivered or 0),
                     int(read or 0) if has_receipts else None, int(replied or 0))


def funnel(session: Session, query: CampaignsQuery, scope: DataScope, *, policy: MaskPolicy) -> FunnelResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    receipts = receipt_channels(session)
    sums = (func.sum(H.sent), func.sum(H.delivered), func.sum(H.read), func.sum(H.replied))
    rows = []
    for campaign_id, channel, *counts in session.execute(
            select(H.campaign_id, H.channel, *sums).where(resolved.hourly_filter()).group_by(H.campaign_id, H.channel)):
        info = resolved.campaigns.get(campaign_id)
        rows.append(_funnel_row(campaign_id, info.name if info else campaign_id, channel, *counts, receipts))
    order = {cid: i for i, cid in enumerate(resolved.campaigns)}
    rows.sort(key=lambda r: (order.get(r.campaign_id or "", len(order)), r.channel))
    by_channel: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        for i, v in enumerate((r.sent, r.delivered, r.read or 0, r.replied)):
            by_channel[r.channel][i] += v
    channels = tuple(_funnel_row(None, "Every campaign", ch, *c, receipts) for ch, c in sorted(by_channel.items()))
    # The total's read step: only channels with read receipts count, so SMS does not read as unread.
    receipt_rows = [c for c in channels if c.read is not None]
    total = FunnelRow(None, "Every campaign", "All", sum(c.sent for c in channels),
                      sum(c.delivered for c in channels),
                      sum(c.read or 0 for c in receipt_rows) if receipt_rows else None,
                      sum(c.replied for c in channels))
    cost = sum(c or 0 for c in period_costs(session, resolved).values())
    cost_value = mask_value("cost_usd", cost, policy)
    per_reply = _ratio(cost, total.replied)
    return FunnelResult(resolved, total, channels, tuple(rows), receipts, cost_value,
                        mask_value("cost_per_reply_usd", per_reply, policy))


def receipt_read_rate(result: FunnelResult) -> float | None:
    """Read per delivered over the channels with read receipts only."""
    rows = [c for c in result.channels if c.read is not None]
    return _ratio(sum(c.read or 0 for c in rows), sum(c.delivered for c in rows))


# --- 2. A/B tests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantRow:
    variant: str
    sends: int
    replies: int

    @property
    def rate(self) -> float | None:
        return _ratio(self.replies, self.sends)


@dataclass(frozen=True)
class Comparison:
    """One variant against the control: the z-test, the interval of the difference (variant - control),
    the Holm-adjusted p-value and the sends per variant 80% power needs for the observed lift."""

    variant: str
    control: str
    difference: float
    p_value: float
    p_adjusted: float
    ci_low: float
    ci_high: float
    needed_per_variant: int | None  # None: no lift observed
    more_sends: int  # sends still missing over both arms (0 once there are enough)
    verdict: str
    outcome: str  # "better", "worse" or "undecided"


@dataclass(frozen=True)
class AbTest:
    campaign_id: str
    name: str
    variants: tuple[VariantRow, ...]
    comparisons: tuple[Comparison, ...]
    corrected: bool  # Holm's correction applied (more than one comparison)


@dataclass(frozen=True)
class AbResult:
    resolved: ResolvedQuery
    tests: tuple[AbTest, ...]


def sends_needed(p_control: float, p_variant: float, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """Sends per variant a two-sided test at `alpha` needs to detect this lift with `power`: the sample
    size statsmodels' NormalIndPower solves for (a test checks), found directly. Its power with n per
    group is Φ(a - z) + Φ(-a - z), a = effect·√(n/2); the second tail is tiny, so a = z + Φ⁻¹(power -
    Φ(-a - z)) settles in a few steps, where the general solver took 5 ms a comparison."""
    effect = abs(proportion_effect_size(p_variant, p_control))
    if effect == 0 or math.isnan(effect):
        return None
    normal = NormalDist()
    z = normal.inv_cdf(1 - alpha / 2)
    a = z + normal.inv_cdf(power)
    for _ in range(20):
        settled = z + normal.inv_cdf(power - normal.cdf(-a - z))
        if abs(settled - a) < 1e-12:
            break
        a = settled
    return math.ceil(2 * (a / effect) ** 2 - 1e-9)


def compare_variants(variants: list[VariantRow]) -> list[Comparison]:
    """Each variant against the first, Holm-corrected when there are several."""
    control, others = variants[0], variants[1:]
    raw = []
    for v in others:
        if control.sends == 0 or v.sends == 0:
            continue
        p = two_proportion_p_value(v.replies, v.sends, control.replies, control.sends)
        p = 1.0 if math.isnan(p) else p
        low, high = rate_difference_interval(v.replies, v.sends, control.replies, control.sends, alpha=ALPHA)
        raw.append((v, p, low, high))
    if not raw:
        return []
    adjusted = holm_adjusted([p for _, p, _, _ in raw])
    out = []
    for (v, p, low, high), p_adj in zip(raw, adjusted, strict=True):
        p_c, p_v = control.replies / control.sends, v.replies / v.sends
        needed = sends_needed(p_c, p_v)
        more = 0 if needed is None else max(0, needed - v.sends) + max(0, needed - control.sends)
        if p_adj < ALPHA and p_v > p_c:
            verdict, outcome = f"{v.variant} beats {control.variant}", "better"
        elif p_adj < ALPHA:
            verdict, outcome = f"stop: {control.variant} is better", "worse"
        elif needed is None:
            verdict, outcome = "no difference yet: both reply alike", "undecided"
        elif more == 0:
            verdict, outcome = "no difference: enough sends, the lift is not real", "undecided"
        else:
            verdict, outcome = f"no difference yet, need about {more:,} more sends", "undecided"
        out.append(Comparison(v.variant, control.variant, p_v - p_c, p, float(p_adj), low, high, needed, more,
                              verdict, outcome))
    return out


def ab_tests(session: Session, query: CampaignsQuery, scope: DataScope, *, policy: MaskPolicy) -> AbResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    counts: dict[str, list[VariantRow]] = defaultdict(list)
    for campaign_id, variant, sends, replies in session.execute(
            select(H.campaign_id, H.variant, func.sum(H.sent), func.sum(H.replied))
            .where(H.variant != "Unknown", resolved.hourly_filter()).group_by(H.campaign_id, H.variant).order_by(H.campaign_id, H.variant)):
        counts[campaign_id].append(VariantRow(variant, int(sends or 0), int(replies or 0)))
    tests = []
    for campaign_id in resolved.campaigns:  # newest first
        variants = counts.get(campaign_id, [])
        if len(variants) < 2:
            continue
        comparisons = compare_variants(variants)
        tests.append(AbTest(campaign_id, resolved.campaigns[campaign_id].name, tuple(variants), tuple(comparisons),
                            len(comparisons) > 1))
    return AbResult(resolved, tuple(tests))


# --- 3. Best time to send -------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotRow:
    weekday: int  # 0 Monday .. 6 Sunday (UTC)
    hour: int  # UTC
    sends: int
    replies: int

    @property
    def rate(self) -> float | None:
        return _ratio(self.replies, self.sends)

    @property
    def enough(self) -> bool:
        return self.sends >= MIN_CELL_SENDS

    @cached_property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.replies, self.sends)

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:00 UTC"


@dataclass(frozen=True)
class ChannelTime:
    channel: str
    sends: int
    replies: int
    best: SlotRow | None  # None: no cell with enough sends


@dataclass(frozen=True)
class SendTimeResult:
    resolved: ResolvedQuery
    cells: tuple[SlotRow, ...]
    best: SlotRow | None
    sends: int
    replies: int
    channels: tuple[ChannelTime, ...]


def best_slot(cells: list[SlotRow]) -> SlotRow | None:
    """The cell with enough sends whose reply rate is surely highest: the highest Wilson lower bound."""
    candidates = [c for c in cells if c.enough]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.interval[0] if c.interval else 0.0, c.sends))


def send_time(session: Session, query: CampaignsQuery, scope: DataScope, *, policy: MaskPolicy) -> SendTimeResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    utc = func.timezone("UTC", H.sent_hour)
    weekday = cast(extract("isodow", utc), Integer) - 1
    hour = cast(extract("hour", utc), Integer)
    per_channel: dict[str, list[SlotRow]] = defaultdict(list)
    overall: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for channel, wd, hr, sends, replies in session.execute(
            select(H.channel, weekday, hour, func.sum(H.sent), func.sum(H.replied)).where(resolved.hourly_filter())
            .group_by(H.channel, weekday, hour)):
        per_channel[channel].append(SlotRow(int(wd), int(hr), int(sends or 0), int(replies or 0)))
        overall[(int(wd), int(hr))][0] += int(sends or 0)
        overall[(int(wd), int(hr))][1] += int(replies or 0)
    cells = [SlotRow(wd, hr, s, r) for (wd, hr), (s, r) in sorted(overall.items())]
    channels = tuple(ChannelTime(ch, sum(c.sends for c in rows), sum(c.replies for c in rows), best_slot(rows))
                     for ch, rows in sorted(per_channel.items()))
    return SendTimeResult(resolved, tuple(cells), best_slot(cells), sum(c.sends for c in cells),
                          sum(c.replies for c in cells), channels)


# --- 4. ROI ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoiRow:
    key: str  # campaign id or channel
    name: str
    channel: str
    cost_usd: Any
    delivered: int
    replies: int
    conversions: int
    won_usd: Any
    cost_per_delivered_usd: Any
    cost_per_reply_usd: Any
    cost_per_conversion_usd: Any
    roi: float | None  # None without financials or without a cost


@dataclass(frozen=True)
class RoiResult:
    resolved: ResolvedQuery
    campaigns: tuple[RoiRow, ...]
    channels: tuple[RoiRow, ...]
    total: RoiRow
    window_days: int


def conversions(session: Session, window_days: int, replies: ColumnElement[bool] | None = None
                ) -> dict[str, dict[str, float]]:
    """Per campaign, the opportunities won within `window_days` days of a reply to it (of the replies
    `replies` keeps): {campaign: {opp: usd}}."""
    r, o = CampaignReply, SalesOpportunity
    rows = session.execute(
        select(r.campaign_id, o.opportunity_id, o.amount_usd).distinct()
        .join(o, and_(o.account_id == r.account_id, o.is_won, o.close_date >= r.replied_day,
                      o.close_date <= r.replied_day + window_days))
        .where(true() if replies is None else replies)).all()
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for campaign_id, opportunity_id, amount in rows:
        out[campaign_id][opportunity_id] = float(amount or 0)
    return out


def _roi_row(key: str, name: str, channel: str, cost: float | None, delivered: int, replies: int,
             won: dict[str, float], policy: MaskPolicy) -> RoiRow:
    value = sum(won.values())
    roi = None if not cost or not policy.view_financials else (value - cost) / cost

    def money(field: str, amount: float | None) -> Any:
        return mask_value(field, None if amount is None else round(amount, 2), policy)

    return RoiRow(key, name, channel, money("cost_usd", cost), delivered, replies, len(won), money("won_usd", value),
                  money("cost_per_delivered_usd", None if cost is None else _ratio(cost, delivered)),
                  money("cost_per_reply_usd", None if cost is None else _ratio(cost, replies)),
                  money("cost_per_conversion_usd", None if cost is None else _ratio(cost, len(won))), roi)


def roi(session: Session, query: CampaignsQuery, scope: DataScope, *, policy: MaskPolicy,
        window_days: int) -> RoiResult | GoldStatus:
    """ROI per campaign, channel and in total; `window_days` is the conversion window (a setting)."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    funnel_counts = {cid: (int(d or 0), int(r or 0)) for cid, d, r in session.execute(
        select(H.campaign_id, func.sum(H.delivered), func.sum(H.replied)).where(resolved.hourly_filter())
        .group_by(H.campaign_id))}
    won = conversions(session, window_days, resolved.reply_filter())
    costs = period_costs(session, resolved)
    campaigns, by_channel = [], defaultdict(lambda: [0.0, 0, 0, {}])
    for cid, info in resolved.campaigns.items():
        delivered, replies = funnel_counts.get(cid, (0, 0))
        campaign_won = won.get(cid, {})
        campaigns.append(_roi_row(cid, info.name, info.channel, costs[cid], delivered, replies, campaign_won, policy))
        acc = by_channel[info.channel]
        acc[0] += costs[cid] or 0
        acc[1] += delivered
        acc[2] += replies
        acc[3].update(campaign_won)
    channels = tuple(_roi_row(ch, ch, ch, c, d, r, w, policy) for ch, (c, d, r, w) in sorted(by_channel.items()))
    every: dict[str, float] = {}
    for deals in won.values():
        every.update(deals)
    total = _roi_row("all", "Every campaign", "All", sum(c or 0 for c in costs.values()),
                     sum(d for d, _ in funnel_counts.values()), sum(r for _, r in funnel_counts.values()), every,
                     policy)
    return RoiResult(resolved, tuple(campaigns), channels, total, window_days)


# --- 5. Attribution -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributionResult:
    """Credit per channel (and per campaign) under every model present, side by side."""

    resolved: ResolvedQuery
    models: tuple[str, ...]
    channels: tuple[str, ...]
    conversions: dict[tuple[str, str], float]  # (channel, model) -> conversions
    value_usd: dict[tuple[str, str], Any]  # (channel, model) -> value (masked)
    removal_effect: dict[str, float | None]  # channel -> Markov removal effect
    campaign_rows: tuple[tuple[str, str, dict[str, float], float | None], ...]  # id, name, model -> conv, removal


def model_order(models: set[str]) -> tuple[str, ...]:
    """The known models in their usual order, then any newer one (a data-driven model added later)."""
    known = [m for m in ATTRIBUTION_MODELS if m in models]
    return tuple(known + sorted(models - set(known)))


def attribution(session: Session, query: CampaignsQuery, scope: DataScope, *, policy: MaskPolicy) -> AttributionResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    t = AttributionMonthly
    conv: dict[tuple[str, str], float] = {}
    value: dict[tuple[str, str], Any] = {}
    removal: dict[str, float | None] = {}
    models: set[str] = set()
    months = t.month.between(resolved.first_month, resolved.last_day) if resolved.limited else true()
    for model, channel, conversions_, value_usd, effect in session.execute(
            select(t.model, t.channel, func.sum(t.conversions), func.sum(t.conversion_value_usd),
                   func.sum(t.removal_effect * t.journeys) / func.nullif(func.sum(t.journeys), 0))
            .where(months).group_by(t.model, t.channel)):
        models.add(model)
        conv[(channel, model)] = float(conversions_ or 0)
        value[(channel, model)] = mask_value("value_usd", float(value_usd or 0), policy)
        if effect is not None:
            removal[channel] = float(effect)
    channels = tuple(sorted({ch for ch, _ in conv}, key=lambda ch: -sum(v for (c, _), v in conv.items() if c == ch)))
    a = AttributionCampaign
    per_campaign: dict[str, dict[str, float]] = defaultdict(dict)
    campaign_removal: dict[str, float | None] = {}
    sending = a.campaign_id.in_(list(resolved.campaigns)) if resolved.limited else true()
    for campaign_id, model, conversions_, effect in session.execute(
            select(a.campaign_id, a.model, a.conversions, a.removal_effect).where(sending)):
        models.add(model)
        per_campaign[campaign_id][model] = float(conversions_ or 0)
        if effect is not None:
            campaign_removal[campaign_id] = float(effect)
    ranked = sorted(per_campaign, key=lambda cid: -max(per_campaign[cid].values(), default=0))[:10]
    campaign_rows = tuple((cid, resolved.campaigns[cid].name if cid in resolved.campaigns else cid,
                           per_campaign[cid], campaign_removal.get(cid)) for cid in ranked)
    return AttributionResult(resolved, model_order(models), channels, conv, value, removal, campaign_rows)


# --- 6. High intent -------------------------------------------------------------------------------


def high_intent_columns() -> tuple[GridColumn, ...]:
    return (GridColumn("contact_name", "Contact", TEXT, pinned=True), GridColumn("email", "Email"),
            GridColumn("phone", "Phone"), GridColumn("account_name", "Account"), GridColumn("region", "Region"),
            GridColumn("replies", "Replies", COUNT), GridColumn("campaigns", "Campaigns", COUNT),
            GridColumn("channels", "Channels"), GridColumn("last_reply", "Last reply", DAY),
            GridColumn("contact_id", "Contact id"))


@dataclass(frozen=True)
class HighIntentResult:
    resolved: ResolvedQuery
    grid: GridRows
    contacts: int  # in the list, before any limit


def high_intent(session: Session, query: CampaignsQuery, scope: DataScope, *, policy: MaskPolicy) -> HighIntentResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    r = CampaignReply
    replies = func.count()
    rows = session.execute(
        select(r.contact_id, func.max(r.contact_name), func.max(r.email), func.max(r.phone), func.max(r.account_name),
               func.max(r.region), replies, func.count(distinct(r.campaign_id)),
               func.string_agg(distinct(r.channel), ", "), func.max(r.replied_day))
        .where(r.contact_id.is_not(None), scope.account_filter(r.territory, r.account_id), resolved.reply_filter())
        .group_by(r.contact_id).having(replies > HIGH_INTENT_REPLIES)
        .order_by(replies.desc(), func.max(r.replied_day).desc(), r.contact_id)).all()
    records = [{"contact_name": name or contact_id, "email": mask_value("email", email, policy),
                "phone": mask_value("phone", phone, policy), "account_name": account, "region": region,
                "replies": int(n), "campaigns": int(c), "channels": channels,
                "last_reply": last.isoformat() if last else None, "contact_id": contact_id}
               for contact_id, name, email, phone, account, region, n, c, channels, last in rows]
    return HighIntentResult(resolved, GridRows(high_intent_columns(), records[:HIGH_INTENT_LIMIT], "contact_name"),
                            len(records))


def export_high_intent(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    result = high_intent(session, CampaignsQuery.from_args(args), scope, policy=policy)
    return GridRows(high_intent_columns()) if isinstance(result, GoldStatus) else result.grid


def export_name(args: Mapping[str, Any]) -> str:
    return "high-intent-contacts"


# --- 7. Side by side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareResult:
    resolved: ResolvedQuery
    funnels: tuple[FunnelRow, ...]  # one per compared campaign, every channel together
    cost_per_reply_usd: dict[str, Any]
    weekly: dict[str, tuple[tuple[date, int, int], ...]]  # campaign -> (week start, sends, replies)


def compare(session: Session, query: CampaignsQuery, scope: DataScope, *, policy: MaskPolicy) -> CompareResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    ids = list(resolved.compare)
    receipts = receipt_channels(session)
    counts = {cid: (ch, s, d, rd, rp) for cid, ch, s, d, rd, rp in session.execute(
        select(H.campaign_id, func.min(H.channel), func.sum(H.sent), func.sum(H.delivered), func.sum(H.read),
               func.sum(H.replied)).where(H.campaign_id.in_(ids), resolved.hourly_filter()).group_by(H.campaign_id))}
    costs = period_costs(session, resolved)
    funnels, per_reply = [], {}
    for cid in ids:
        info = resolved.campaigns[cid]
        _, s, d, rd, rp = counts.get(cid, (info.channel, 0, 0, 0, 0))
        row = _funnel_row(cid, info.name, info.channel, s, d, rd, rp, receipts)
        funnels.append(row)
        per_reply[cid] = mask_value("cost_per_reply_usd",
                                    None if costs[cid] is None else _ratio(costs[cid], row.replied), policy)
    week = func.date_trunc("week", D.day)
    weekly: dict[str, list[tuple[date, int, int]]] = defaultdict(list)
    for cid, start, sends, replies in session.execute(
            select(D.campaign_id, week, func.sum(D.sent), func.sum(D.replied))
            .where(D.campaign_id.in_(ids), resolved.daily_filter())
            .group_by(D.campaign_id, week).order_by(D.campaign_id, week)):
        day = start.date() if hasattr(start, "date") else start
        weekly[cid].append((day, int(sends or 0), int(replies or 0)))
    return CompareResult(resolved, tuple(funnels), per_reply, {k: tuple(v) for k, v in weekly.items()})

