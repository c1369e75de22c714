"""CRM streams per account batch (contacts, deals, subscriptions, meetings) and the lead flow."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .calendar import DAY
from .config import (
    COUNTRIES,
    CURRENCIES,
    ONE_OFF_PRODUCTS,
    PER_SEAT_PRODUCT,
    PRODUCT_INDEX,
    PRODUCT_MENU,
    PRODUCTS,
    REGION_COUNTRIES,
    REGIONS,
)
from .context import Batch, Context
from .defects import malformed_row, misspell, recase_email
from .phones import random_phones, spaced_format
from .sink import bools, ids, money
from .vocab import (
    COUNTRY_TLD,
    GENERIC_BRANDS,
    INDUSTRY_WORDS,
    JOB_TITLES,
    LEGAL_SUFFIXES,
    PERSONAL_EMAIL_DOMAINS,
    REGION_BRANDS,
    ascii_slug,
)
from .world import NEVER, person_names

OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
STAGE_PROBABILITY = {"Prospecting": 10, "Qualification": 20, "Proposal": 50, "Negotiation": 75,
                     "Closed Won": 100, "Closed Lost": 0}


def _end_days(ctx: Context, acc: np.ndarray) -> np.ndarray:
    return np.minimum(ctx.accounts.churn_day[acc], ctx.cal.n_days)


# Custom contact attributes as a CRM's custom fields hold them: a few keys, each on some contacts, with
# skewed values; "event" has many values (the long tail the Growth page folds into "(other values)").
# Each key: (name, share of the contacts with attributes that have it, values, their weights).
CONTACT_ATTRIBUTES_SHARE = 0.7  # contacts with any attribute at all
CONTACT_ATTRIBUTES: tuple[tuple[str, float, tuple[object, ...], tuple[float, ...]], ...] = (
    ("tier", 0.6, ("bronze", "silver", "gold"), (0.58, 0.3, 0.12)),
    ("newsletter", 0.5, (True, False), (0.65, 0.35)),
    ("persona", 0.45, ("End user", "Champion", "Decision maker", "Influencer", "CFO"), (0.4, 0.2, 0.15, 0.15, 0.1)),
    ("event", 0.15, tuple(f"{name} {year}" for year in (2024, 2025, 2026)
                          for name in ("Client Summit", "Retail Expo", "Cloud Days", "Partner Forum", "Webinar Week",
                                       "Growth Meetup", "Data Forum", "Roadshow", "Open House", "Hackathon")),
     tuple(float(w) for w in (1 / np.arange(1, 31)) / (1 / np.arange(1, 31)).sum())),
    # The CRM's lifecycle stage: a contact still at "lead" is in the Growth page's Lead segment.
    ("lifecycle_stage", 0.5, ("customer", "lead", "opportunity", "subscriber"), (0.62, 0.2, 0.1, 0.08)),
)


def contact_attributes(ctx: Context, unit: int, n: int) -> list[str]:
    """The `attributes` column of n contacts: a JSON object, or empty. Its own random stream, so the
    other columns and files stay as they were."""
    rng = ctx.rng("contact_attributes", unit)
    has_any = rng.random(n) < CONTACT_ATTRIBUTES_SHARE
    chosen = []
    for _, share, values, weights in CONTACT_ATTRIBUTES:
        present = has_any & (rng.random(n) < share)
        chosen.append((present.tolist(), rng.choice(len(values), n, p=weights).tolist()))
    out = []
    for i in range(n):
        attrs = {key: values[picks[i]] for (key, _, values, _), (present, picks) in zip(CONTACT_ATTRIBUTES, chosen,
                                                                                          strict=True) if present[i]}
        out.append(json.dumps(attrs, ensure_ascii=False) if attrs else "")
    return out


def contacts(ctx: Context, batch: Batch) -> None:
    """2-8 people per account, plus planted duplicates with spelling variants."""
    a = ctx.accounts
    rng = ctx.rng("contacts", batch.index)
    acc = batch.acc
    kind = a.account_type[acc]
    n_per = np.where(kind == 0, rng.integers(2, 5, len(acc)),
                     np.where(kind == 1, rng.integers(4, 9, len(acc)), rng.integers(3, 7, len(acc))))
    row_acc = np.repeat(acc, n_per)
    first_of = np.r_[0, np.cumsum(n_per)[:-1]]
    pos = np.arange(len(row_acc)) - np.repeat(first_of, n_per)
    n = len(row_acc)

    acc_country = [COUNTRIES[c] for c in a.country[row_acc].tolist()]
    region_countries = [REGION_COUNTRIES[r] for r in a.region[row_acc].tolist()]
    other = rng.random(n) < 0.06
    pick = rng.random(n)
    country = [rc[int(p * len(rc))] if o else c
               for c, rc, o, p in zip(acc_country, region_countries, other.tolist(), pick.tolist(), strict=True)]
    first, last = person_names(rng, country)
    style = rng.choice(4, n, p=(0.6, 0.2, 0.1, 0.1))
    emails: list[str] = []
    seen: set[str] = set()
    for f, la, s, ai in zip(first, last, style.tolist(), row_acc.tolist(), strict=True):
        fs, ls = ascii_slug(f), ascii_slug(la)
        local = (f"{fs}.{ls}", f"{fs[0]}.{ls}", f"{fs}{ls[0]}", fs)[s]
        addr, k = f"{local}@{a.domain[ai]}", 1
        while addr in seen:
            k += 1
            addr = f"{local}{k}@{a.domain[ai]}"
        seen.add(addr)
        emails.append(addr)
    phones = random_phones(rng, country)
    titles = [JOB_TITLES[i] for i in rng.integers(0, len(JOB_TITLES), n).tolist()]

    end_s = _end_days(ctx, row_acc) * DAY - 1
    created0 = a.created_s[row_acc]
    span = np.maximum(end_s - created0, 1)
    created_s = np.where(pos == 0, created0 + rng.integers(60, 3600, n),
                         created0 + (rng.random(n) ** 2 * span).astype(np.int64))
    created_s = np.minimum(created_s, end_s)
    updated_s = created_s + (rng.random(n) ** 3 * np.maximum(end_s - created_s, 0)).astype(np.int64)

    no_email = rng.random(n) < ctx.rates.missing_contact_email
    no_phone = rng.random(n) < ctx.rates.missing_contact_phone
    ctx.planted.missing_fields["crm/contacts.email"] += int(no_email.sum())
    ctx.planted.missing_fields["crm/contacts.phone"] += int(no_phone.sum())
    contact_id = ctx.take_ids("contact", n)

    cols = {
        "contact_id": contact_id.tolist(),
        "account_id": (row_acc + 1).tolist(),
        "first_name": first,
        "last_name": last,
        "email": ["" if m else e for e, m in zip(emails, no_email.tolist(), strict=True)],
        "phone": ["" if m else p for p, m in zip(phones, no_phone.tolist(), strict=True)],
        "country": country,
        "job_title": titles,
        "is_primary": bools(pos == 0),
        "created_at": ctx.cal.timestamps(created_s),
        "updated_at": ctx.cal.timestamps(updated_s),
        "attributes": contact_attributes(ctx, batch.index, n),
    }
    sink = ctx.sinks["crm/contacts"]
    sink.write(cols)
    for i in np.flatnonzero(pos == 0).tolist():
        ctx.contacts.primary[int(row_acc[i])] = (first[i], last[i], cols["email"][i], cols["phone"][i])

    # duplicates: the same person entered again, typed differently
    dup = np.flatnonzero(rng.random(n) < ctx.rates.duplicate_contacts)
    dup_ids = ctx.take_ids("contact", len(dup))
    if len(dup):
        d_first, d_last, d_email, d_phone = [], [], [], []
        for i in dup.tolist():
            which = int(rng.integers(0, 3))
            d_first.append(misspell(first[i], rng) if which != 1 else first[i])
            d_last.append(misspell(last[i], rng) if which == 1 else last[i])
            d_email.append(recase_email(emails[i], rng) if rng.random() < 0.7 else emails[i])
            d_phone.append(spaced_format(phones[i], country[i]) if rng.random() < 0.7 else phones[i])
        d_created = np.minimum(created_s[dup] + rng.integers(DAY, 300 * DAY, len(dup)), end_s[dup])
        sink.write({
            "contact_id": dup_ids.tolist(), "account_id": (row_acc[dup] + 1).tolist(),
            "first_name": d_first, "last_name": d_last, "email": d_email, "phone": d_phone,
            "country": [country[i] for i in dup.tolist()], "job_title": [titles[i] for i in dup.tolist()],
            "is_primary": ["false"] * len(dup), "created_at": ctx.cal.timestamps(d_created),
            "updated_at": ctx.cal.timestamps(d_created), "attributes": [""] * len(dup),  # typed in again, bare
        })
        ctx.planted.duplicate_contacts.extend(zip(ids("contact", dup_ids), ids("contact", contact_id[dup]), strict=True))
        ctx.contacts.add(dup_ids, row_acc[dup], d_created, np.ones(len(dup), bool), np.ones(len(dup), bool))

    rows = []
    for kind_name in ctx.malformed_kinds("crm/contacts", batch.index):
        i = int(rng.integers(0, n))
        key = ids("contact", ctx.take_ids("contact", 1))[0]
        rows.append(malformed_row(sink, cols, i, kind_name, key, ctx.cal.as_of.year, "job_title", "created_at",
                                  None))
        ctx.planted.malformed_rows["crm/contacts"].append((key, kind_name))
    sink.write_fields(rows)

    ctx.contacts.add(contact_id, row_acc, created_s, ~no_email, ~no_phone)
    batch.contact_first = first_of
    batch.contact_count = n_per
    batch.contact_id = contact_id
    batch.contact_name = first


def _choose_products(rng: np.random.Generator, account_type: int, k: int) -> list[int]:
    menu = PRODUCT_MENU[account_type]
    weights = np.array([w for _, w in menu])
    idx = rng.choice(len(menu), size=min(k, len(menu)), replace=False, p=weights / weights.sum())
    return [menu[i][0] for i in sorted(idx.tolist())]


@dataclass
class _DealRows:
    """Rows collected for one batch before they are numbered and written."""

    sub_acc: list[int] = field(default_factory=list)  # local account index
    sub_prod: list[int] = field(default_factory=list)
    sub_start: list[int] = field(default_factory=list)
    sub_end: list[int] = field(default_factory=list)
    sub_mrr: list[float] = field(default_factory=list)
    opp_acc: list[int] = field(default_factory=list)  # account index
    opp_name: list[str] = field(default_factory=list)
    opp_stage: list[str] = field(default_factory=list)
    opp_created: list[int] = field(default_factory=list)
    opp_close: list[int] = field(default_factory=list)
    opp_updated: list[int] = field(default_factory=list)
    item_opp: list[int] = field(default_factory=list)
    item_prod: list[int] = field(default_factory=list)
    item_qty: list[int] = field(default_factory=list)
    item_price: list[float] = field(default_factory=list)
    one_offs: list[tuple[int, int, float]] = field(default_factory=list)


class _AccountDeals:
    """The deal history of one account: new business, expansions, contractions, losses, pipeline."""

    def __init__(self, ctx: Context, rng: np.random.Generator, rows: _DealRows, local: int, account: int,
                 end: int) -> None:
        a = ctx.accounts
        self.ctx, self.rng, self.rows = ctx, rng, rows
        self.local, self.account, self.end = local, account, end
        self.kind = int(a.account_type[account])
        self.currency = int(a.currency[account])
        self.employees = int(a.employees[account])
        self.short = f"{a.brand[account]} {a.word[account]}"
        self.live: list[int] = []  # indexes into rows.sub_* of running subscriptions

    def fx(self, day: int) -> float:
        return float(self.ctx.fx[self.currency, min(max(day, 0), self.ctx.cal.n_days - 1)])

    def close_time(self, day: int) -> int:
        return day * DAY + int(self.rng.integers(9 * 3600, 18 * 3600))

    def opportunity(self, name: str, stage: str, created_s: int, close_day: int, updated_s: int) -> int:
        r = self.rows
        r.opp_acc.append(self.account)
        r.opp_name.append(f"{self.short} - {name}")
        r.opp_stage.append(stage)
        r.opp_created.append(created_s)
        r.opp_close.append(close_day)
        r.opp_updated.append(updated_s)
        return len(r.opp_acc) - 1

    def lines(self, opp: int, products: list[int], budget_usd: float, day: int, won: bool) -> None:
        """Line items of a deal; when won, its recurring lines become subscriptions starting on `day`."""
        r, rng = self.rows, self.rng
        fx = self.fx(day)
        shares = rng.dirichlet(np.ones(len(products))) * budget_usd
        for p, share in zip(products, shares.tolist(), strict=True):
            prod = PRODUCTS[PRODUCT_INDEX[p]]
            if p == PER_SEAT_PRODUCT:
                qty = int(np.clip(self.employees * rng.uniform(0.3, 0.9), 5, 20_000))
            else:
                qty = max(1, int(round(share / prod.list_price_usd)))
            monthly = round(prod.list_price_usd * rng.uniform(0.85, 1.05) / fx, 2)
            r.item_opp.append(opp)
            r.item_prod.append(p)
            r.item_qty.append(qty)
            r.item_price.append(round(monthly * 12, 2))  # recurring lines are priced per unit per year
            if won:
                r.sub_acc.append(self.local)
                r.sub_prod.append(p)
                r.sub_start.append(day)
                r.sub_end.append(NEVER)
                r.sub_mrr.append(round(monthly * qty, 2))
                self.live.append(len(r.sub_acc) - 1)
        for p in ONE_OFF_PRODUCTS:
            if rng.random() < (0.6 if p == 13 else 0.45) * (1.0 if len(products) > 1 or p == 13 else 0.5):
                prod = PRODUCTS[PRODUCT_INDEX[p]]
                qty = int(rng.integers(1, 4 if self.kind else 2))
                price = round(prod.list_price_usd * rng.uniform(0.8, 1.1) / fx, 2)
                r.item_opp.append(opp)
                r.item_prod.append(p)
                r.item_qty.append(qty)
                r.item_price.append(price)
                if won:
                    r.one_offs.append((self.local, day, round(price * qty, 2)))

    def fresh_products(self) -> list[int]:
        """Menu products the account does not run yet (or the whole menu if it has them all)."""
        running = {self.rows.sub_prod[s] for s in self.live}
        menu = [p for p, _ in PRODUCT_MENU[self.kind]]
        return [p for p in menu if p not in running] or menu

    def build(self) -> None:
        """Generate the account's deals and subscriptions into the shared rows."""
        a, rng, n_days = self.ctx.accounts, self.rng, self.ctx.cal.n_days
        ai, end = self.account, self.end
        first_day = int(a.start_day[ai])
        churn_day = int(a.churn_day[ai])
        churned = churn_day < NEVER
        target_usd = float(a.mrr_usd[ai])
        created0 = int(a.created_s[ai])

        k = int(rng.integers(1, 4) if self.kind == 0 else rng.integers(3, 7) if self.kind == 1
                else rng.integers(2, 5))
        opp = self.opportunity("New Business", "Closed Won", created0, first_day, self.close_time(first_day))
        self.lines(opp, _choose_products(rng, self.kind, k), target_usd, first_day, True)

        lo = max(first_day, 0)
        years = max(end - lo - 60, 0) / 365.0
        events: list[tuple[int, str]] = []
        region = REGIONS[a.region[ai]]
        lam = 0.3 * region.expansion * (0.6 if self.kind == 0 else 1.0)
        quiet_from = churn_day - 150 if churned else end  # no one expands while drifting away
        for day in rng.integers(lo + 60, max(end, lo + 61), rng.poisson(lam * years)).tolist():
            if day < quiet_from:
                events.append((day, "expand"))
        for day in rng.integers(lo + 60, max(end, lo + 61), rng.poisson(region.contraction_per_year * years)).tolist():
            events.append((day, "contract"))
        if churned and rng.random() < 0.4:
            events.append((churn_day - int(rng.integers(10, 50)), "contract"))
        for day in rng.integers(lo + 30, max(end, lo + 31), rng.poisson(0.3 * years)).tolist():
            events.append((day, "lost"))
        events = sorted((d, e) for d, e in events if lo <= d < end and d < n_days)

        for day, event in events:
            if event == "contract":
                if len(self.live) >= 2:
                    gone = self.live.pop(int(rng.integers(0, len(self.live))))
                    self.rows.sub_end[gone] = day
                continue
            cycle = int(np.clip(rng.lognormal(np.log(50), 0.5), 20, 180))
            created_s = max(created0 + 3600, (day - cycle) * DAY + int(rng.integers(9 * 3600, 17 * 3600)))
            fresh = self.fresh_products()
            products = [fresh[int(rng.integers(0, len(fresh)))]]
            budget = target_usd * rng.uniform(0.1, 0.4)
            family = PRODUCTS[PRODUCT_INDEX[products[0]]].family
            won = event == "expand"
            opp = self.opportunity(f"{family} Expansion" if won else f"{family} Upsell",
                                   "Closed Won" if won else "Closed Lost", created_s, day, self.close_time(day))
            self.lines(opp, products, budget, day, won)

        if churned:
            for s in self.live:
                self.rows.sub_end[s] = churn_day
        elif rng.random() < 0.45:  # one deal in the pipeline at as_of
            created_day = int(rng.integers(max(lo, n_days - 150), n_days))
            close_day = min(max(n_days - 1 + int(rng.integers(7, 150)), created_day + 20), created_day + 180)
            stage = OPEN_STAGES[int(rng.choice(4, p=(0.3, 0.25, 0.25, 0.2)))]
            created_s = max(created0 + 3600, created_day * DAY + int(rng.integers(8 * 3600, 18 * 3600)))
            updated_s = created_s + int(rng.random() * max(self.ctx.cal.end_seconds - 1 - created_s, 0))
            fresh = self.fresh_products()
            product = fresh[int(rng.integers(0, len(fresh)))]
            family = PRODUCTS[PRODUCT_INDEX[product]].family
            opp = self.opportunity(f"{family} Opportunity", stage, created_s, close_day, updated_s)
            self.lines(opp, [product], target_usd * rng.uniform(0.1, 0.5), n_days - 1, False)


def deals(ctx: Context, batch: Batch) -> None:
    """Opportunities with line items, and the subscriptions that won deals create."""
    rng = ctx.rng("deals", batch.index)
    end_all = _end_days(ctx, batch.acc)
    rows = _DealRows()
    for local, account in enumerate(batch.acc.tolist()):
        _AccountDeals(ctx, rng, rows, local, account, int(end_all[local])).build()
    _write_subscriptions(ctx, batch, rng, rows)
    _write_opportunities(ctx, batch, rng, rows)
    batch.one_offs = rows.one_offs


def _write_subscriptions(ctx: Context, batch: Batch, rng: np.random.Generator, rows: _DealRows) -> None:
    a = ctx.accounts
    cal = ctx.cal
    local = np.asarray(rows.sub_acc, dtype=np.int64)
    start = np.asarray(rows.sub_start, dtype=np.int64)
    end = np.asarray(rows.sub_end, dtype=np.int64)
    mrr = np.asarray(rows.sub_mrr)
    batch.subs = {"acc": local, "product": np.asarray(rows.sub_prod), "start": start, "end": end, "mrr": mrr}
    n = len(local)
    acc = batch.acc[local]
    ended = end < NEVER
    last_day = np.where(ended, end, start)
    updated_s = np.minimum(last_day * DAY + rng.integers(8 * 3600, 20 * 3600, n), cal.end_seconds - 1)
    sub_ids = ctx.take_ids("subscription", n)
    ctx.sinks["crm/subscriptions"].write({
        "subscription_id": sub_ids.tolist(),
        "account_id": (acc + 1).tolist(),
        "product_id": rows.sub_prod,
        "start_date": cal.dates(start),
        "end_date": cal.dates(np.where(ended, end, 0), null=~ended),
        "mrr": money(mrr),
        "currency": np.asarray(CURRENCIES)[a.currency[acc]].tolist(),
        "status": np.where(ended, "cancelled", "active").tolist(),
        "updated_at": cal.timestamps(updated_s),
    })
    _price_changes(ctx, batch, rng, sub_ids)


ANNUAL_UPLIFT_SHARE = 0.25  # anniversaries on which the price goes up by inflation
LIST_PRICE_RISE_SHARE = 0.03  # subscriptions of staying customers repriced once in the history
PRE_CHURN_RISE_SHARE = 0.45  # subscriptions of leaving customers repriced in the months before


def _price_changes(ctx: Context, batch: Batch, rng: np.random.Generator, sub_ids: np.ndarray) -> None:
    """Annual uplifts on anniversaries, and list-price rises that land more often in the months
    before a customer leaves (a price rise precedes churn)."""
    a = ctx.accounts
    cal = ctx.cal
    n_days = cal.n_days
    subs = batch.subs
    local, start, end, mrr = subs["acc"], subs["start"], subs["end"], subs["mrr"]
    n = len(local)
    acc = batch.acc[local]
    running_until = np.minimum(end, n_days)
    sub_l, day_l, factor_l, reason_l = [], [], [], []
    for year in (1, 2, 3):
        day = start + 365 * year
        hit = (day >= 0) & (day < running_until) & (rng.random(n) < ANNUAL_UPLIFT_SHARE)
        sub_l.append(np.flatnonzero(hit))
        day_l.append(day[hit])
        factor_l.append(rng.uniform(1.03, 1.06, n)[hit])
        reason_l.append(np.full(hit.sum(), "annual_uplift"))
    churn_day = np.minimum(a.churn_day[acc], a.upcoming_churn_day[acc])
    leaving = churn_day < NEVER
    day = np.where(leaving, churn_day - rng.integers(60, 200, n), start + (rng.random(n) * 3 * 365).astype(np.int64))
    share = np.where(leaving, PRE_CHURN_RISE_SHARE, LIST_PRICE_RISE_SHARE)
    hit = (day > start) & (day >= 0) & (day < running_until) & (rng.random(n) < share)
    sub_l.append(np.flatnonzero(hit))
    day_l.append(day[hit])
    factor_l.append(rng.uniform(1.08, 1.18, n)[hit])
    reason_l.append(np.full(hit.sum(), "list_price_increase"))
    sub, day, factor, reason = (np.concatenate(x) for x in (sub_l, day_l, factor_l, reason_l))
    order = np.lexsort((day, sub))
    sub, day, factor, reason = sub[order], day[order], factor[order], reason[order]
    # the price before and after each change, compounding earlier changes of the same subscription
    log_total = np.cumsum(np.log(factor))
    first = np.r_[True, sub[1:] != sub[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(sub)), 0))
    before = log_total[group_start] - np.log(factor[group_start])
    new_mrr = np.round(mrr[sub] * np.exp(log_total - before), 2)
    old_mrr = np.round(new_mrr / factor, 2)
    batch.price_changes = {"sub": sub, "day": day, "log_factor": log_total - before}
    m = len(sub)
    ctx.sinks["crm/price_changes"].write({
        "price_change_id": ctx.take_ids("price_change", m).tolist(),
        "subscription_id": sub_ids[sub].tolist(),
        "account_id": (acc[sub] + 1).tolist(),
        "product_id": subs["product"][sub].tolist(),
        "effective_date": cal.dates(day),
        "old_mrr": money(old_mrr),
        "new_mrr": money(new_mrr),
        "currency": np.asarray(CURRENCIES)[a.currency[acc[sub]]].tolist(),
        "reason": reason.tolist(),
    })


def _write_opportunities(ctx: Context, batch: Batch, rng: np.random.Generator, rows: _DealRows) -> None:
    a = ctx.accounts
    opp_acc, opp_name, opp_stage = rows.opp_acc, rows.opp_name, rows.opp_stage
    opp_created, opp_close, opp_updated = rows.opp_created, rows.opp_close, rows.opp_updated
    item_opp, item_prod, item_qty, item_price = rows.item_opp, rows.item_prod, rows.item_qty, rows.item_price
    cal = ctx.cal
    n = len(opp_acc)
    opp_ids = ctx.take_ids("opportunity", n)
    acc = np.asarray(opp_acc, dtype=np.int64)
    item_opp_arr = np.asarray(item_opp, dtype=np.int64)
    line_total = np.asarray(item_qty) * np.asarray(item_price)
    amount = np.bincount(item_opp_arr, weights=line_total, minlength=n)
    stage = np.asarray(opp_stage)
    closed = np.isin(stage, ("Closed Won", "Closed Lost"))
    created_s = np.asarray(opp_created, dtype=np.int64)
    updated_s = np.minimum(np.asarray(opp_updated, dtype=np.int64), cal.end_seconds - 1)
    currency = np.asarray(CURRENCIES)[a.currency[acc]].tolist()
    cols = {
        "opportunity_id": opp_ids.tolist(),
        "account_id": (acc + 1).tolist(),
        "owner_user_id": a.owner[acc].tolist(),
        "opportunity_name": opp_name,
        "stage": opp_stage,
        "amount": money(amount),
        "currency": currency,
        "probability": [STAGE_PROBABILITY[s] for s in opp_stage],
        "created_at": cal.timestamps(created_s),
        "close_date": cal.dates(np.asarray(opp_close)),
        "is_closed": bools(closed),
        "is_won": bools(stage == "Closed Won"),
        "updated_at": cal.timestamps(updated_s),
    }
    cols.update(_deal_details(ctx, batch, stage, created_s, updated_s, np.asarray(opp_close, dtype=np.int64)))
    _count_bookings(ctx, acc, stage, np.asarray(opp_close, dtype=np.int64), amount)
    sink = ctx.sinks["crm/opportunities"]
    stale = np.flatnonzero((updated_s - created_s > 600) & (rng.random(n) < ctx.rates.stale_versions))
    stale_cols = None
    if len(stale):
        stale_cols = {k: [v[i] for i in stale.tolist()] for k, v in cols.items()}
        earlier = []
        for i in stale.tolist():
            s = opp_stage[i]
            earlier.append("Negotiation" if s.startswith("Closed") else
                           OPEN_STAGES[max(OPEN_STAGES.index(s) - 1, 0)])
        stale_cols["stage"] = earlier
        stale_cols["probability"] = [STAGE_PROBABILITY[s] for s in earlier]
        stale_cols["is_closed"] = ["false"] * len(stale)
        stale_cols["is_won"] = ["false"] * len(stale)
        stale_cols["loss_reason"] = [""] * len(stale)
        stale_cols["stage_entered_at"] = cal.timestamps(created_s[stale])  # the earlier stage, from the start
        frac = rng.uniform(0.2, 0.9, len(stale))
        stale_cols["updated_at"] = cal.timestamps(
            created_s[stale] + ((updated_s[stale] - created_s[stale]) * frac).astype(np.int64))
        ctx.planted.stale_versions["crm/opportunities"].extend(ids("opportunity", opp_ids[stale]))
    # older copies land before or after the current one, so file order cannot be trusted
    if stale_cols is not None and batch.index % 2:
        sink.write(stale_cols)
        sink.write(cols)
    else:
        sink.write(cols)
        if stale_cols is not None:
            sink.write(stale_cols)

    m = len(item_opp)
    ctx.sinks["crm/opportunity_line_items"].write({
        "line_item_id": ctx.take_ids("line_item", m).tolist(),
        "opportunity_id": opp_ids[item_opp_arr].tolist(),
        "product_id": item_prod,
        "quantity": item_qty,
        "unit_price": money(np.asarray(item_price)),
        "currency": [currency[o] for o in item_opp],
    })


LOSS_REASONS = ("Price", "Competitor", "No budget", "No decision", "Timing", "Product fit")
LOSS_REASON_WEIGHTS = (0.3, 0.25, 0.15, 0.15, 0.1, 0.05)
MISSING_LOSS_REASON = 0.1  # lost deals whose rep gave no reason
NEXT_STEPS = {"Prospecting": ("Discovery call", "Send intro deck"),
              "Qualification": ("Schedule demo", "Confirm budget"),
              "Proposal": ("Send proposal", "Proposal review call"),
              "Negotiation": ("Negotiate terms", "Legal review", "Executive sponsor meeting")}
MISSING_NEXT_STEP = 0.12  # open deals without a next step


def _deal_details(ctx: Context, batch: Batch, stage: np.ndarray, created_s: np.ndarray, updated_s: np.ndarray,
                  close_day: np.ndarray) -> dict[str, list[str]]:
    """Loss reason (lost deals), next step (open deals) and the moment the deal entered its current stage:
    its close day for a closed deal, somewhere between creation and its last update for an open one. A
    stream of its own, so the other deal columns stay as they were."""
    rng = ctx.rng("deal-details", batch.index)
    n = len(stage)
    lost, is_open = stage == "Closed Lost", np.isin(stage, OPEN_STAGES)
    reason = np.asarray(LOSS_REASONS)[rng.choice(len(LOSS_REASONS), n, p=LOSS_REASON_WEIGHTS)]
    reason = np.where(lost & (rng.random(n) >= MISSING_LOSS_REASON), reason, "")
    pick = rng.random(n)
    steps = [NEXT_STEPS[s][int(p * len(NEXT_STEPS[s]))] if s in NEXT_STEPS else "" for s, p in
             zip(stage.tolist(), pick.tolist(), strict=True)]
    step = np.where(is_open & (rng.random(n) >= MISSING_NEXT_STEP), np.asarray(steps, dtype=object), "")
    open_entered = created_s + (rng.uniform(0.2, 1.0, n) * np.maximum(updated_s - created_s, 0)).astype(np.int64)
    closed_entered = np.maximum(created_s, np.minimum(close_day * DAY + 9 * 3600, ctx.cal.end_seconds - 1))
    entered = np.where(is_open, open_entered, closed_entered)
    return {"loss_reason": reason.tolist(), "next_step": step.tolist(),
            "stage_entered_at": ctx.cal.timestamps(entered)}


def _quarter_start(ctx: Context, days: np.ndarray) -> np.ndarray:
    """The first day (ISO) of the calendar quarter of each day index."""
    iso = np.asarray(ctx.cal.dates(days), dtype=object)
    year = np.asarray([d[:4] for d in iso.tolist()], dtype=object)
    month = (np.asarray([int(d[5:7]) for d in iso.tolist()]) - 1) // 3 * 3 + 1
    return np.asarray([f"{y}-{m:02d}-01" for y, m in zip(year.tolist(), month.tolist(), strict=True)], dtype=object)


def _count_bookings(ctx: Context, acc: np.ndarray, stage: np.ndarray, close_day: np.ndarray,
                    amount: np.ndarray) -> None:
    """Won USD per owner and quarter, from which each rep's quota is set."""
    won = np.flatnonzero(stage == "Closed Won")
    if not len(won):
        return
    currency = ctx.accounts.currency[acc[won]]
    day = np.clip(close_day[won], 0, ctx.cal.n_days - 1)
    usd = amount[won] * ctx.fx[currency, day]
    frame = {}
    for owner, quarter, value in zip(ctx.accounts.owner[acc[won]].tolist(), _quarter_start(ctx, close_day[won]).tolist(),
                                     usd.tolist(), strict=True):
        frame[(owner, quarter)] = frame.get((owner, quarter), 0.0) + value
    for key, value in frame.items():
        ctx.bookings[key] = ctx.bookings.get(key, 0.0) + value


QUOTA_STRETCH = (0.85, 1.35)  # quota over a rep's typical quarter: some reps beat it, others miss


def quotas(ctx: Context) -> None:
    """A quota per account-owning rep and calendar quarter, from the first quarter of the history to
    the one after as_of: the rep's typical (median) quarterly bookings times a stretch, growing 2 % a
    quarter, rounded to 1,000 USD. Reps who left have quotas up to the quarter they left in."""
    cal = ctx.cal
    rng = ctx.rng("quotas")
    users = ctx.users
    role = np.asarray(users.role)
    reps = np.flatnonzero(np.isin(role, ("account_manager", "sales_rep"))) + 1
    quarters = sorted(set(_quarter_start(ctx, np.arange(0, cal.n_days + 92, 30)).tolist()))
    booked: dict[int, list[float]] = {}
    for (owner, _), value in ctx.bookings.items():
        booked.setdefault(owner, []).append(value)
    fallback = float(np.median([v for values in booked.values() for v in values])) if booked else 50_000.0
    last_day = np.where(users.is_active, cal.n_days + 92, users.updated_s // DAY)
    last_quarter = _quarter_start(ctx, np.minimum(last_day, cal.n_days + 92))
    stretch = rng.uniform(*QUOTA_STRETCH, len(reps))
    user_col, quarter_col, quota_col = [], [], []
    for rep, factor in zip(reps.tolist(), stretch.tolist(), strict=True):
        base = float(np.median(booked[rep])) if rep in booked else fallback
        for k, quarter in enumerate(q for q in quarters if q <= last_quarter[rep - 1]):
            user_col.append(rep)
            quarter_col.append(quarter)
            quota_col.append(max(1000, round(base * factor * 1.02 ** (k - len(quarters) / 2) / 1000) * 1000))
    n = len(user_col)
    ctx.sinks["crm/quotas"].write({
        "user_id": user_col, "quarter_start": quarter_col, "quota_usd": money(np.asarray(quota_col)),
        "updated_at": cal.timestamps(np.full(n, cal.end_seconds - 3600, dtype=np.int64)),
    })


EMAIL_RATE = (0.5, 3.0, 1.5)  # emails per month between the owner's team and an account, by account type


def emails(ctx: Context, batch: Batch) -> None:
    """Emails logged in the CRM while an account is a customer: mostly its owner's, outbound twice as often
    as inbound; a stream of its own."""
    a = ctx.accounts
    cal = ctx.cal
    rng = ctx.rng("emails", batch.index)
    acc = batch.acc
    kind = a.account_type[acc]
    weekday_factor = np.where(cal.weekday < 5, 1.0, 0.1)
    lam = (np.asarray(EMAIL_RATE)[kind] / 30 * ctx.scale.support_rate)[:, None] * weekday_factor[None, :]
    counts = rng.poisson(np.where(batch.active, lam, 0.0))
    la, day = np.nonzero(counts)
    reps = counts[la, day]
    la, day = np.repeat(la, reps), np.repeat(day, reps)
    n = len(la)
    if n == 0:
        return
    sent_s = day * DAY + rng.integers(7 * 3600, 19 * 3600, n)
    ai = acc[la]
    everyone = ctx.users.owners_by_territory(("account_manager", "sales_rep"))
    other = rng.random(n) < 0.15
    pick = rng.random(n)
    user = [int(everyone[t][int(p * len(everyone[t]))]) if o and len(everyone[t]) else int(u)
            for t, o, p, u in zip(a.territory[ai].tolist(), other.tolist(), pick.tolist(), a.owner[ai].tolist(),
                                  strict=True)]
    order = np.lexsort((sent_s, la))
    ctx.sinks["crm/emails"].write({
        "email_id": ctx.take_ids("email", n).tolist(),
        "account_id": (ai[order] + 1).tolist(),
        "user_id": [user[i] for i in order.tolist()],
        "sent_at": cal.timestamps(sent_s[order]),
        "direction": np.where(rng.random(n) < 2 / 3, "outbound", "inbound")[order].tolist(),
    })


MEETING_RATE = (0.25, 1.0, 0.7)  # calls and meetings per month by account type


def meetings(ctx: Context, batch: Batch) -> None:
    """Calls and meetings, quarterly QBRs for Enterprise, and a few booked after as_of."""
    a = ctx.accounts
    cal = ctx.cal
    n_days = cal.n_days
    rng = ctx.rng("meetings", batch.index)
    acc = batch.acc
    kind = a.account_type[acc]
    weekday_factor = np.where(cal.weekday < 5, 1.0, 0.05)
    lam = (np.asarray(MEETING_RATE)[kind] / 30 * ctx.scale.support_rate)[:, None] * weekday_factor[None, :]
    counts = rng.poisson(np.where(batch.active, lam, 0.0))
    la, day = np.nonzero(counts)
    reps = counts[la, day]
    la, day = np.repeat(la, reps), np.repeat(day, reps)
    mtype = np.where(rng.random(len(la)) < np.where(kind[la] == 0, 0.7, 0.5), "call", "meeting")

    # QBRs every ~91 days while an Enterprise account is a customer
    q_la, q_day = [], []
    for i in np.flatnonzero(kind == 1).tolist():
        lo = max(int(a.start_day[acc[i]]), 0)
        hi = min(int(a.churn_day[acc[i]]), n_days)
        first = int(a.start_day[acc[i]]) + 45
        k0 = max(0, -(-(lo - first) // 91))
        for d in range(first + 91 * k0, hi, 91):
            q_la.append(i)
            q_day.append(min(max(d + int(rng.integers(-7, 8)), lo), hi - 1))
    # meetings already booked after as_of
    booked = np.flatnonzero(batch.active[:, -1] & (rng.random(len(acc)) < np.asarray((0.15, 0.6, 0.4))[kind]))
    f_day = n_days + rng.integers(1, 31, len(booked))

    la = np.r_[la, np.asarray(q_la, dtype=np.int64), booked]
    day = np.r_[day, np.asarray(q_day, dtype=np.int64), f_day]
    mtype = np.r_[mtype, np.full(len(q_la), "qbr"), np.where(rng.random(len(booked)) < 0.5, "call", "meeting")]
    n = len(la)
    if n == 0:
        return
    scheduled_s = day * DAY + rng.integers(8, 17, n) * 3600 + rng.integers(0, 4, n) * 900
    duration = np.where(mtype == "call", rng.choice([15, 20, 30, 45], n),
                        np.where(mtype == "meeting", rng.choice([30, 45, 60, 90], n), rng.choice([60, 90, 120], n)))
    outcome = np.asarray(("completed", "rescheduled", "no_show"))[rng.choice(3, n, p=(0.86, 0.07, 0.07))]
    outcome = np.where(scheduled_s >= cal.end_seconds, "", outcome)
    ai = acc[la]
    owner = a.owner[ai]
    everyone = ctx.users.owners_by_territory(("account_manager", "sales_rep"))
    other = rng.random(n) < 0.2
    pick = rng.random(n)
    user = [int(everyone[t][int(p * len(everyone[t]))]) if o else int(u)
            for t, o, p, u in zip(a.territory[ai].tolist(), other.tolist(), pick.tolist(), owner.tolist(), strict=True)]
    order = np.lexsort((scheduled_s, la))
    ctx.sinks["crm/meetings"].write({
        "meeting_id": ctx.take_ids("meeting", n).tolist(),
        "account_id": (ai[order] + 1).tolist(),
        "user_id": [user[i] for i in order.tolist()],
        "meeting_type": mtype[order].tolist(),
        "scheduled_at": cal.timestamps(scheduled_s[order]),
        "duration_minutes": duration[order].tolist(),
        "outcome": outcome[order].tolist(),
    })


LEAD_SOURCES = ("web", "campaign", "referral", "event", "partner")
LEAD_SOURCE_WEIGHTS = (0.35, 0.2, 0.15, 0.1, 0.2)
# The planted conversion signal (Context.lead_signal): leads that convert come more often through
# referrals and events, nearly always leave a work email and a phone number. Without it, converted
# leads draw their source, personal emails and blank fields exactly as the others do.
CONVERTED_SOURCE_WEIGHTS = (0.08, 0.04, 0.5, 0.3, 0.08)
PERSONAL_EMAIL_SHARE = 0.25
CONVERTED_PERSONAL_EMAIL_SHARE = 0.02


def leads(ctx: Context, chunk_days: int = 120) -> None:
    """A steady daily lead flow, and the converted leads behind new accounts."""
    a = ctx.accounts
    cal = ctx.cal
    n_days = cal.n_days
    sink = ctx.sinks["crm/leads"]
    region_share = np.array([r.base_share * r.new_per_year for r in REGIONS])
    growth = np.array([r.growth for r in REGIONS])
    sales_reps = []
    role = np.asarray(ctx.users.role)
    for r in range(len(REGIONS)):
        reps = np.flatnonzero((role == "sales_rep") & (ctx.users.region == r)) + 1
        sales_reps.append((reps[ctx.users.is_active[reps - 1]], reps))

    # converted leads: one for most accounts that became customers during the history
    conv_rng = ctx.rng("leads-converted")
    new_acc = np.flatnonzero((a.start_day >= 0) & (conv_rng.random(a.n) < 0.7))
    conv_created = a.created_s[new_acc] - conv_rng.integers(2 * DAY, 30 * DAY, len(new_acc))
    keep = conv_created >= 0
    new_acc, conv_created = new_acc[keep], conv_created[keep]

    for chunk, lo in enumerate(range(0, n_days, chunk_days)):
        rng = ctx.rng("leads", chunk)
        days = np.arange(lo, min(lo + chunk_days, n_days))
        per_day = ctx.scale.leads_per_weekday * np.where(cal.weekday[days] < 5, 1.0, 0.3)
        counts = rng.poisson(per_day)
        day = np.repeat(days, counts)
        n = len(day)
        created_s = day * DAY + rng.integers(6 * 3600, 22 * 3600, n)
        weights = region_share[None, :] * (1 + (growth[None, :] - 1) * (day[:, None] / n_days))
        cum = np.cumsum(weights / weights.sum(1, keepdims=True), axis=1)
        region = (rng.random(n)[:, None] > cum).sum(1)
        region = np.minimum(region, len(REGIONS) - 1)
        country = []
        for r, p in zip(region.tolist(), rng.random(n).tolist(), strict=True):
            rc = REGION_COUNTRIES[r]
            country.append(rc[int(p * len(rc))])
        first, last = person_names(rng, country)
        personal = rng.random(n) < PERSONAL_EMAIL_SHARE
        brand_pick, word_pick, num_pick = rng.random(n), rng.random((n, 2)), rng.integers(1, 99, n)
        industry_words = list(INDUSTRY_WORDS.values())
        company, email = [], []
        for i in range(n):
            brands = REGION_BRANDS[REGIONS[region[i]].code] + GENERIC_BRANDS
            brand = brands[int(brand_pick[i] * len(brands))]
            words = industry_words[int(word_pick[i, 0] * len(industry_words))]
            word = words[int(word_pick[i, 1] * len(words))]
            company.append(f"{brand} {word} {LEGAL_SUFFIXES[country[i]][0]}")
            local = f"{ascii_slug(first[i])}.{ascii_slug(last[i])}"
            if personal[i]:
                email.append(f"{local}{num_pick[i]}@{PERSONAL_EMAIL_DOMAINS[i % 4]}")
            else:
                email.append(f"{local}@{ascii_slug(brand + word)}.{COUNTRY_TLD[country[i]]}")
        phone = random_phones(rng, country)
        age = n_days - 1 - day
        u = rng.random(n)
        status = np.where(age < 14, np.asarray(("new", "working", "qualified", "disqualified"))[
            np.searchsorted([0.55, 0.9, 0.97], u)],
            np.where(age < 60, np.asarray(("new", "working", "qualified", "disqualified"))[
                np.searchsorted([0.1, 0.5, 0.75], u)],
                np.asarray(("new", "working", "qualified", "disqualified"))[np.searchsorted([0.02, 0.07, 0.32], u)]))
        source = np.asarray(LEAD_SOURCES)[rng.choice(5, n, p=LEAD_SOURCE_WEIGHTS)]
        pick = rng.random(n)
        owner = []
        for r, p, ag in zip(region.tolist(), pick.tolist(), age.tolist(), strict=True):
            active_reps, all_reps = sales_reps[r]
            pool = all_reps if ag > 540 else active_reps
            owner.append(int(pool[int(p * len(pool))]))
        updated_s = created_s + (rng.random(n) * (np.minimum(age, 60) * DAY)).astype(np.int64)
        updated_s = np.minimum(np.where(status == "new", created_s, updated_s), cal.end_seconds - 1)

        # the converted leads created in this chunk
        in_chunk = (conv_created >= lo * DAY) & (conv_created < (lo + chunk_days) * DAY)
        conv = new_acc[in_chunk]
        conv_s = conv_created[in_chunk]
        c_first, c_last, c_email, c_phone = [], [], [], []
        for ai in conv.tolist():
            f, la, e, p = ctx.contacts.primary[ai]
            c_first.append(f)
            c_last.append(la)
            c_email.append(e)
            c_phone.append(p)
        m = len(conv)
        conv_region = a.region[conv]

        no_email = rng.random(n) < ctx.rates.missing_lead_contact / 2
        no_phone = rng.random(n) < ctx.rates.missing_lead_contact / 2
        ctx.planted.missing_fields["crm/leads.email"] += int(no_email.sum())
        ctx.planted.missing_fields["crm/leads.phone"] += int(no_phone.sum())
        signal_rng = ctx.rng("leads-signal", chunk)
        if ctx.lead_signal:
            conv_source = np.asarray(LEAD_SOURCES)[signal_rng.choice(5, m, p=CONVERTED_SOURCE_WEIGHTS)]
            conv_personal = signal_rng.random(m) < CONVERTED_PERSONAL_EMAIL_SHARE
            conv_no_email = np.zeros(m, dtype=bool)
            conv_no_phone = np.zeros(m, dtype=bool)
        else:
            conv_source = np.asarray(LEAD_SOURCES)[signal_rng.choice(5, m, p=LEAD_SOURCE_WEIGHTS)]
            conv_personal = signal_rng.random(m) < PERSONAL_EMAIL_SHARE
            conv_no_email = signal_rng.random(m) < ctx.rates.missing_lead_contact / 2
            conv_no_phone = signal_rng.random(m) < ctx.rates.missing_lead_contact / 2
            ctx.planted.missing_fields["crm/leads.email"] += int(conv_no_email.sum())
            ctx.planted.missing_fields["crm/leads.phone"] += int(conv_no_phone.sum())
        for i in np.flatnonzero(conv_personal).tolist():
            local = c_email[i].split("@")[0]
            c_email[i] = f"{local}{i % 97 + 1}@{PERSONAL_EMAIL_DOMAINS[i % 4]}"
        c_email = ["" if x else e for e, x in zip(c_email, conv_no_email.tolist(), strict=True)]
        c_phone = ["" if x else p for p, x in zip(c_phone, conv_no_phone.tolist(), strict=True)]
        cols = {
            "lead_id": ctx.take_ids("lead", n + m).tolist(),
            "created_at": cal.timestamps(np.r_[created_s, conv_s]),
            "first_name": first + c_first,
            "last_name": last + c_last,
            "company": company + [a.name[i] for i in conv.tolist()],
            "email": ["" if x else e for e, x in zip(email, no_email.tolist(), strict=True)] + c_email,
            "phone": ["" if x else p for p, x in zip(phone, no_phone.tolist(), strict=True)] + c_phone,
            "country": country + [COUNTRIES[c] for c in a.country[conv].tolist()],
            "region": [REGIONS[r].name for r in np.r_[region, conv_region].tolist()],
            "lead_source": source.tolist() + conv_source.tolist(),
            "status": status.tolist() + ["converted"] * m,
            "owner_user_id": owner + a.owner[conv].tolist(),
            "converted_account_id": [""] * n + ids("account", conv + 1),
            "updated_at": cal.timestamps(np.r_[updated_s, a.created_s[conv]]),
        }
        sink.write(cols)
