"""Growth page queries: growth velocity of contacts and leads, contacts by country, and segments.

One function per panel, each taking the page's URL state, the caller's `DataScope` and `MaskPolicy`
and returning a typed result, or gold's status before gold was built. Everything is read from gold:
gold.contact_daily (new contacts per creation day and territory), gold.leads_daily (new leads per
creation day and region), gold.contact_country / gold.contact_country_territory (each contact's
country, from its phone's country calling code, worked out by the gold stage).

The URL holds the granularity (`?grain=day|week|month`, weeks by default). Definitions (shown on the
page too):
- a period is a UTC day, an ISO week (Monday to Sunday) or a calendar month; the page shows the last
  PERIODS_SHOWN[grain] periods to the data's last day, the last one partial when that day does not end it;
- growth rate: new records in the latest complete period against the period before it, minus one;
- trend: the least-squares line through the complete periods shown, its slope given per month (an
  average month of 365.25 / 12 days); the chart also draws the rolling mean over ROLLING[grain] periods;
- country: from the country calling code of the contact's phone number (phonenumbers); contacts with
  no phone or one that is not a valid number count as unknown. Only counts are shown, never numbers.

Segments (gold.contact_segment_monthly, contacts per month of creation, territory and segment; the
URL holds the attribute key shown, `?segment=tier`, the key most contacts have by default):
- VIP: a contact of a customer (its account's master account) in the top 10% of paying customers by
  MRR, company-wide: the Operations page's VIP (dashboard/queries/support_insights.py, VIP_SHARE);
- Lead: a contact with an open lead, matched by email (silver.leads has no contact id; open: neither
  converted, disqualified nor lost), or whose lifecycle stage attribute (`lifecycle_stage`, or HubSpot's
  `lifecyclestage`) is "lead": silver has no lifecycle column of its own;
- Churned: a contact of an account whose status is churned (as gold.daily_kpi counts churned customers);
- custom attributes: each key = value of the contact's `attributes` (the CRM's custom fields, a JSON
  object): a new key shows with no code change. Of the TOP_KEYS keys most contacts have, the TOP_VALUES
  values most contacts have are shown, the rest of a key's values together as "(other values)";
- share: the segment's contacts over all contacts in scope; new: contacts created in the latest complete
  calendar month to the data's last day and in the month before; growth: new in the latest against the
  month before, minus one. Segments are counted by month whatever the granularity, which only the
  velocity panel follows.
Contacts without a creation time are left out, as in the velocity panel.

Scope: contacts count in the caller's territories (and, for accounts assigned by name, per contact for
the countries). Leads belong to no account yet: they count in the regions of the caller's customers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Date, cast, func, select, true
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import COUNT, PERCENT, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.gold import (
    ContactCountry,
    ContactCountryTerritory,
    ContactDaily,
    ContactSegmentMonthly,
    Customer360,
    LeadsDaily,
)
from dashboard.url_state import first, to_search

PAGE_PATH = "/marketing/growth"
GRAINS = ("day", "week", "month")
DEFAULT_GRAIN = "week"
PERIODS_SHOWN = {"day": 90, "week": 26, "month": 24}
ROLLING = {"day": 7, "week": 4, "month": 3}
DAYS_PER_MONTH = 365.25 / 12
PERIODS_PER_MONTH = {"day": DAYS_PER_MONTH, "week": DAYS_PER_MONTH / 7, "month": 1.0}
GRAIN_WORDS = {"day": "day", "week": "week", "month": "month"}
UNKNOWN_ISO3 = "---"  # gold.contact_country's unknown country


# --- The page's state in the URL -----------------------------------------------------


@dataclass(frozen=True)
class GrowthQuery:
    """The page as the URL holds it, raw: `?grain=month&segment=tier`. Validated by `resolve` (the
    granularity) and `segments` (the attribute key)."""

    grain: Any = None
    segment: Any = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> GrowthQuery:
        return cls(first(args, "grain"), first(args, "segment"))

    @classmethod
    def from_state(cls, data: Any) -> GrowthQuery:
        if not isinstance(data, dict):
            return cls()
        return cls.from_args({"grain": data.get("grain"), "segment": data.get("segment")})

    def as_state(self) -> dict[str, Any]:
        return {"grain": self.grain, "segment": self.segment}

    @property
    def search(self) -> str:
        return to_search([(name, value if isinstance(value, str) else None)
                          for name, value in (("grain", self.grain), ("segment", self.segment))])

    @property
    def href(self) -> str:
        return PAGE_PATH + self.search


@dataclass(frozen=True)
class ResolvedQuery:
    """The validated state: the granularity and the data's last day."""

    grain: str
    as_of: date
    scope: DataScope
    notes: tuple[str, ...] = ()

    @property
    def canonical(self) -> GrowthQuery:
        return GrowthQuery(self.grain if self.grain != DEFAULT_GRAIN else None)

    @property
    def periods(self) -> list[date]:
        """The starts of the periods shown, oldest first, the last one holding the as-of day."""
        return period_starts(self.grain, self.as_of, PERIODS_SHOWN[self.grain])


def period_start(grain: str, day: date) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def period_end(grain: str, start: date) -> date:
    """The last day of the period starting on `start`."""
    if grain == "week":
        return start + timedelta(days=6)
    if grain == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return start


def period_starts(grain: str, as_of: date, count: int) -> list[date]:
    starts = [period_start(grain, as_of)]
    while len(starts) < count:
        starts.append(period_start(grain, starts[-1] - timedelta(days=1)))
    return starts[::-1]


def resolve(session: Session, query: GrowthQuery, scope: DataScope) -> ResolvedQuery | None:
    """Validate the URL state; an unknown granularity falls back with a note. None before gold was built."""
    as_of = session.scalar(select(func.greatest(select(func.max(ContactDaily.day)).scalar_subquery(),
                                                select(func.max(LeadsDaily.day)).scalar_subquery())))
    if as_of is None:
        return None
    notes: list[str] = []
    grain = DEFAULT_GRAIN
    if query.grain is not None:
        raw = str(query.grain).strip().lower()
        if raw in GRAINS:
            grain = raw
        else:
            notes.append(f"The granularity can be day, week or month, not \u201c{str(query.grain)[:40]}\u201d: "
                         "showing weeks.")
    if not scope.served_by_territory:
        notes.append("New contacts and segments count in your territories; the accounts assigned to you by name "
                     "count only in the countries.")
    return ResolvedQuery(grain, as_of, scope, tuple(notes))


def lead_region_filter(session: Session, scope: DataScope) -> Any:
    """Leads belong to no account yet: the caller sees those of the regions of its customers."""
    if scope.unrestricted:
        return true()
    regions = [r for r in session.scalars(select(Customer360.region).distinct().where(scope.customer_filter())) if r]
    return LeadsDaily.region.in_(regions)


# --- 1. Growth velocity --------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesSummary:
    """One measure (new contacts or new leads) over the periods shown."""

    label: str
    counts: tuple[int, ...]  # per period shown, oldest first
    rolling_mean: tuple[float | None, ...]
    latest: int | None  # the latest complete period
    previous: int | None  # the period before it
    slope_per_month: float | None  # the linear trend's change in new records per period, per month
    trend_line: tuple[float | None, ...]  # the fitted line at each complete period

    @property
    def growth_rate(self) -> float | None:
        if self.latest is None or not self.previous:
            return None
        return self.latest / self.previous - 1

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class VelocityResult:
    resolved: ResolvedQuery
    periods: tuple[date, ...]
    last_is_partial: bool  # the as-of day does not end the last period
    contacts: SeriesSummary
    leads: SeriesSummary

    @property
    def complete_periods(self) -> tuple[date, ...]:
        return self.periods[:-1] if self.last_is_partial else self.periods


def summarise(label: str, counts: list[int], grain: str, last_is_partial: bool) -> SeriesSummary:
    """Rolling mean, latest complete period against the one before, and the least-squares trend."""
    complete = counts[:-1] if last_is_partial else counts
    window = ROLLING[grain]
    rolling = pd.Series(complete, dtype="float64").rolling(window, min_periods=window).mean()
    rolling_mean = tuple(None if pd.isna(v) else float(v) for v in rolling) + ((None,) if last_is_partial else ())
    latest = complete[-1] if complete else None
    previous = complete[-2] if len(complete) >= 2 else None
    slope = None
    line: tuple[float | None, ...] = tuple(None for _ in counts)
    if len(complete) >= 3:
        x = np.arange(len(complete), dtype="float64")
        per_period, intercept = np.polyfit(x, np.asarray(complete, dtype="float64"), 1)
        slope = float(per_period) * PERIODS_PER_MONTH[grain]
        line = tuple(float(intercept + per_period * i) for i in x) + ((None,) if last_is_partial else ())
    return SeriesSummary(label, tuple(counts), rolling_mean, latest, previous, slope, line)


def velocity(session: Session, query: GrowthQuery, scope: DataScope, *,
             policy: MaskPolicy) -> VelocityResult | GoldStatus:
    """New contacts and new leads per period, with growth rate and trend."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    grain = resolved.grain
    starts = resolved.periods
    first_day = starts[0]

    def per_period(day_column: Any, count_column: Any, *where: Any) -> dict[date, int]:
        period = cast(func.date_trunc(grain, day_column), Date)
        stmt = (select(period, func.sum(count_column)).where(day_column >= first_day, day_column <= resolved.as_of,
                                                              *where).group_by(period))
        return {p: int(n or 0) for p, n in session.execute(stmt)}

    contacts = per_period(ContactDaily.day, ContactDaily.new_contacts, scope.territory_filter(ContactDaily.territory))
    leads = per_period(LeadsDaily.day, LeadsDaily.new_leads, lead_region_filter(session, scope))
    partial = period_end(grain, starts[-1]) != resolved.as_of
    return VelocityResult(
        resolved, tuple(starts), partial,
        summarise("New contacts", [contacts.get(s, 0) for s in starts], grain, partial),
        summarise("New leads", [leads.get(s, 0) for s in starts], grain, partial))


# --- 2. Geography ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CountryRow:
    iso3: str
    name: str
    contacts: int


@dataclass(frozen=True)
class GeographyResult:
    resolved: ResolvedQuery
    rows: tuple[CountryRow, ...]  # known countries, most contacts first
    unknown: int  # contacts without a valid phone number

    @property
    def known(self) -> int:
        return sum(r.contacts for r in self.rows)

    @property
    def total(self) -> int:
        return self.known + self.unknown


def geography(session: Session, query: GrowthQuery, scope: DataScope, *,
              policy: MaskPolicy) -> GeographyResult | GoldStatus:
    """Contacts per country of their phone number: counts only, the numbers are never read."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    if scope.served_by_territory:
        t = ContactCountryTerritory
        stmt = (select(t.country_iso3, func.max(t.country_name), func.sum(t.contacts))
                .where(scope.territory_filter(t.territory)).group_by(t.country_iso3))
    else:  # accounts assigned by name: counted contact by contact
        c = ContactCountry
        stmt = (select(c.country_iso3, func.max(c.country_name), func.count())
                .where(scope.account_filter(c.territory, c.account_id)).group_by(c.country_iso3))
    rows, unknown = [], 0
    for iso3, name, contacts in session.execute(stmt):
        if iso3 == UNKNOWN_ISO3:
            unknown += int(contacts or 0)
        else:
            rows.append(CountryRow(iso3, name, int(contacts or 0)))
    rows.sort(key=lambda r: (-r.contacts, r.name))
    return GeographyResult(resolved, tuple(rows), unknown)


# --- 3. Segments ---------------------------------------------------------------------------------


BUILT_IN_SEGMENTS = ("VIP", "Lead", "Churned")
SEGMENT_DEFINITIONS = {
    "VIP": "A contact of a customer in the top 10% of paying customers by MRR, company-wide (the Operations "
           "page's VIPs)",
    "Lead": "A contact with an open lead (the same email; the lead neither converted, disqualified nor lost), or "
            "whose lifecycle stage attribute is \u201clead\u201d",
    "Churned": "A contact of an account whose status is churned",
}
ATTRIBUTE_DEFINITION = "A custom attribute from the CRM (the contact's key = value)"
OTHER_VALUES = "(other values)"  # gold.contact_segment_monthly: a key's values beyond its TOP_VALUES
TOP_KEYS = 20  # as etl/gold/contact_segment_monthly.sql keeps
TOP_VALUES = 10


@dataclass(frozen=True)
class SegmentRow:
    """One segment, or one attribute key = value, in the caller's scope."""

    kind: str  # segment or attribute
    key: str
    value: str
    contacts: int
    new_latest: int  # created in the latest complete month
    new_previous: int  # created in the month before
    share: float | None  # of every contact in scope

    @property
    def label(self) -> str:
        return self.key if self.kind == "segment" else f"{self.key} = {self.value}"

    @property
    def growth(self) -> float | None:
        return self.new_latest / self.new_previous - 1 if self.new_previous else None

    @property
    def definition(self) -> str:
        return SEGMENT_DEFINITIONS.get(self.key, "") if self.kind == "segment" else ATTRIBUTE_DEFINITION


@dataclass(frozen=True)
class SegmentsResult:
    resolved: ResolvedQuery
    total: int  # contacts in scope
    latest_month: date  # the latest complete month
    previous_month: date
    segments: tuple[SegmentRow, ...]  # VIP, Lead, Churned
    keys: tuple[tuple[str, int], ...]  # attribute keys and the contacts having each, most first
    key: str | None  # the key shown; None when no contact in scope has attributes
    values: tuple[SegmentRow, ...]  # the shown key's values, most contacts first, "(other values)" last
    notes: tuple[str, ...]
    grid: GridRows

    @property
    def search(self) -> str:
        """The URL state of what is shown, for the export."""
        return GrowthQuery(self.resolved.canonical.grain, self.key).search


def segment_columns(latest_month: date, previous_month: date) -> tuple[GridColumn, ...]:
    return (GridColumn("contact_segment", "Segment", pinned=True), GridColumn("segment_contacts", "Contacts", COUNT),
            GridColumn("segment_share", "Share of contacts", PERCENT),
            GridColumn("segment_new_latest", f"New in {latest_month:%b %Y}", COUNT),
            GridColumn("segment_new_previous", f"New in {previous_month:%b %Y}", COUNT),
            GridColumn("segment_growth", "Growth", PERCENT), GridColumn("segment_definition", "Definition"))


def complete_months(as_of: date) -> tuple[date, date]:
    """The latest calendar month ending on or before the as-of day, and the month before it."""
    month = period_start("month", as_of)
    latest = month if period_end("month", month) == as_of else period_start("month", month - timedelta(days=1))
    return latest, period_start("month", latest - timedelta(days=1))


def attribute_keys(session: Session, scope: DataScope) -> list[tuple[str, int]]:
    """The attribute keys of the contacts in scope and how many contacts have each, most first."""
    t = ContactSegmentMonthly
    rows = session.execute(select(t.segment_key, func.sum(t.contacts))
                           .where(t.kind == "attribute", scope.territory_filter(t.territory))
                           .group_by(t.segment_key).order_by(func.sum(t.contacts).desc(), t.segment_key))
    return [(key, int(n or 0)) for key, n in rows]


def chosen_key(requested: Any, keys: list[tuple[str, int]]) -> tuple[str | None, str | None]:
    """The attribute key to show (the requested one when it exists, else the most common) and a note
    when the request could not be followed."""
    names = [k for k, _ in keys]
    if requested is None or requested == "":
        return (names[0] if names else None), None
    raw = requested.strip() if isinstance(requested, str) else None
    if raw in names:
        return raw, None
    folded = {k.casefold(): k for k in reversed(names)}
    if raw is not None and raw.casefold() in folded:
        return folded[raw.casefold()], None
    shown = str(requested)[:40]
    if not names:
        return None, f"No contact in your data has the attribute \u201c{shown}\u201d, nor any other."
    return names[0], f"No contact in your data has the attribute \u201c{shown}\u201d: showing \u201c{names[0]}\u201d."


def segments(session: Session, query: GrowthQuery, scope: DataScope, *,
             policy: MaskPolicy) -> SegmentsResult | GoldStatus:
    """Contacts per built-in segment and per value of one custom attribute: count, share and growth."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    latest, previous = complete_months(resolved.as_of)
    t = ContactSegmentMonthly
    rows = session.execute(
        select(t.kind, t.segment_key, t.segment_value, func.sum(t.contacts),
               func.coalesce(func.sum(t.contacts).filter(t.month == latest), 0),
               func.coalesce(func.sum(t.contacts).filter(t.month == previous), 0))
        .where(scope.territory_filter(t.territory), t.month <= resolved.as_of)
        .group_by(t.kind, t.segment_key, t.segment_value)).all()
    total = sum(int(n) for kind, _, _, n, _, _ in rows if kind == "all")

    def row(kind: str, key: str, value: str, contacts: Any, new_latest: Any, new_previous: Any) -> SegmentRow:
        return SegmentRow(kind, key, value, int(contacts or 0), int(new_latest or 0), int(new_previous or 0),
                          int(contacts or 0) / total if total else None)

    found = {(kind, key, value): row(kind, key, value, *counts) for kind, key, value, *counts in rows}
    built_in = tuple(found.get(("segment", name, "")) or row("segment", name, "", 0, 0, 0)
                     for name in BUILT_IN_SEGMENTS)
    keys = attribute_keys(session, scope)
    key, note = chosen_key(query.segment, keys)
    values = sorted((r for (kind, k, _), r in found.items() if kind == "attribute" and k == key),
                    key=lambda r: (r.value == OTHER_VALUES, -r.contacts, r.value))
    columns = segment_columns(latest, previous)
    records = [{"contact_segment": r.label, "segment_contacts": r.contacts, "segment_share": r.share,
                "segment_new_latest": r.new_latest, "segment_new_previous": r.new_previous,
                "segment_growth": r.growth, "segment_definition": r.definition}
               for r in (*built_in, *values)] if total else []
    return SegmentsResult(resolved, total, latest, previous, built_in, tuple(keys), key, tuple(values),
                          (note,) if note else (), GridRows(columns, records, "contact_segment"))


def export_segments(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    result = segments(session, GrowthQuery.from_args(args), scope, policy=policy)
    if isinstance(result, GoldStatus):
        latest, previous = complete_months(date.today())
        return GridRows(segment_columns(latest, previous))
    return result.grid


def export_name(args: Mapping[str, Any]) -> str:
    return "contact-segments"
