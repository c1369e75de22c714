"""The slow-changing master data every event stream refers to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calendar import DAY, Calendar
from .config import (
    ACCOUNT_TYPE_WEIGHTS,
    ACCOUNT_TYPES,
    CHURN_TYPE_FACTOR,
    COUNTRIES,
    COUNTRY_INDEX,
    CURRENCIES,
    EMPLOYEES,
    FX_LEVELS,
    INDUSTRIES,
    INDUSTRY_WEIGHTS,
    MRR_USD,
    REGION_CURRENCY_INDEX,
    REGIONS,
    SUPPORT_TEAM_WEIGHTS,
    SUPPORT_TEAMS,
    TERRITORIES,
    VENDOR_DOMAIN,
    Scale,
)
from .defects import company_variant
from .vocab import (
    CAMPAIGN_OBJECTIVES,
    CAMPAIGN_THEMES,
    COUNTRY_TLD,
    FIRST_NAMES,
    GENERIC_BRANDS,
    INDUSTRY_WORDS,
    LAST_NAMES,
    LEGAL_SUFFIXES,
    REGION_BRANDS,
    ascii_slug,
)

NEVER = 10**6  # churn_day of accounts that have not churned
UPCOMING_CHURN_DAYS = 90  # how far after as-of a churn still shows as a decline before it


def fx_table(rng: np.random.Generator, n_days: int) -> np.ndarray:
    """USD per unit, shape (currencies, days): a mean-reverting random walk around today's levels."""
    out = np.ones((len(CURRENCIES), n_days))
    for c, cur in enumerate(CURRENCIES):
        level, vol = FX_LEVELS[cur]
        if vol == 0:
            continue
        out[c] = level * np.exp(reverting_walk(rng.normal(0.0, vol, n_days)))
    return out


def reverting_walk(shocks: np.ndarray, start: float = 0.0) -> np.ndarray:
    """A log deviation from a level that is pulled back 1 % a day and moved by each shock."""
    x = np.empty(len(shocks))
    dev = start
    for d, shock in enumerate(shocks):
        dev += -0.01 * dev + shock
        x[d] = dev
    return x


@dataclass
class Users:
    """CRM users; user_id = index + 1."""

    full_name: list[str]
    email: list[str]
    role: list[str]
    region: np.ndarray
    territory: np.ndarray  # index into TERRITORIES, -1 for managers
    manager: np.ndarray  # user_id of the manager, 0 for none
    is_active: np.ndarray
    updated_s: np.ndarray

    def owners_by_territory(self, roles: tuple[str, ...]) -> list[np.ndarray]:
        """Active user ids per territory holding one of `roles`."""
        role = np.array(self.role)
        ok = self.is_active & np.isin(role, roles)
        return [np.flatnonzero(ok & (self.territory == t)) + 1 for t in range(len(TERRITORIES))]


def person_names(rng: np.random.Generator, countries: list[str]) -> tuple[list[str], list[str]]:
    """First and last names that fit each person's country."""
    u1, u2 = rng.random(len(countries)), rng.random(len(countries))
    firsts = [FIRST_NAMES[c][int(a * len(FIRST_NAMES[c]))] for c, a in zip(countries, u1.tolist(), strict=True)]
    lasts = [LAST_NAMES[c][int(b * len(LAST_NAMES[c]))] for c, b in zip(countries, u2.tolist(), strict=True)]
    return firsts, lasts


def expected_accounts_per_territory(n_accounts: int) -> np.ndarray:
    """How many accounts each territory will hold over the history, in expectation."""
    per_region = np.array([r.base_share * (1 + r.new_per_year * 3 * (1 + r.growth) / 2) for r in REGIONS])
    per_region = per_region / per_region.sum() * n_accounts
    return np.array([per_region[r] * t.weight for r, t in TERRITORIES])


def make_users(rng: np.random.Generator, scale: Scale, cal: Calendar) -> Users:
    """Sales managers per region, then reps and account managers per territory."""
    expected = expected_accounts_per_territory(scale.accounts)
    full, email, role, region, terr, manager, active = [], [], [], [], [], [], []
    seen: set[str] = set()

    def add(r: int, t: int, user_role: str, mgr: int, is_active: bool) -> int:
        country = TERRITORIES[t][1].country if t >= 0 else REGIONS[r].territories[0].country
        first, last = person_names(rng, [country])
        base = f"{ascii_slug(first[0])}.{ascii_slug(last[0])}"
        addr, k = base, 1
        while addr in seen:
            k += 1
            addr = f"{base}{k}"
        seen.add(addr)
        full.append(f"{first[0]} {last[0]}")
        email.append(f"{addr}@{VENDOR_DOMAIN}")
        role.append(user_role)
        region.append(r)
        terr.append(t)
        manager.append(mgr)
        active.append(is_active)
        return len(full)

    for r in range(len(REGIONS)):
        mgr = add(r, -1, "sales_manager", 0, True)
        for t, (tr, _) in enumerate(TERRITORIES):
            if tr != r:
                continue
            n = max(2, int(round(expected[t] / 45)))
            for k in range(n):
                user_role = ("sales_rep", "account_manager")[k % 2] if k < 2 else (
                    "sales_rep" if rng.random() < 0.5 else "account_manager")
                add(r, t, user_role, mgr, True)
            for _ in range(int(rng.random() < 0.5)):  # someone who left the company
                add(r, t, "sales_rep", mgr, False)
    n = len(full)
    updated = rng.integers(0, cal.n_days * DAY, n)
    return Users(full, email, role, np.array(region), np.array(terr), np.array(manager),
                 np.array(active, dtype=bool), updated)


@dataclass
class Accounts:
    """Customer accounts; account_id = index + 1, ids follow creation order."""

    n: int
    region: np.ndarray
    territory: np.ndarray
    country: np.ndarray  # index into COUNTRIES
    account_type: np.ndarray  # index into ACCOUNT_TYPES
    industry: np.ndarray  # index into INDUSTRIES
    employees: np.ndarray
    created_s: np.ndarray  # CRM record creation
    start_day: np.ndarray  # first subscription (new-business close); negative = before history
    churn_day: np.ndarray  # NEVER if still a customer at as_of
    decline_days: np.ndarray  # length of the pre-churn decline
    decline_floor: np.ndarray  # usage at churn as a share of baseline
    mrr_usd: np.ndarray  # target MRR at start, in USD
    payer: np.ndarray  # 0 punctual, 1 sometimes late, 2 chronic late payer
    owner: np.ndarray  # user_id
    parent: np.ndarray  # parent account_id, 0 for none
    is_group: np.ndarray
    name: list[str]
    brand: list[str]
    word: list[str]
    suffix: list[str]
    domain: list[str]
    updated_s: np.ndarray
    industry_missing: np.ndarray
    # Still customers at as-of, but due to churn within UPCOMING_CHURN_DAYS after it: their
    # pre-churn decline has begun, so the demo has accounts at risk today. NEVER for the rest.
    upcoming_churn_day: np.ndarray

    @property
    def currency(self) -> np.ndarray:
        """Index into CURRENCIES."""
        return np.asarray(REGION_CURRENCY_INDEX)[self.region]

    @property
    def churned(self) -> np.ndarray:
        """Accounts that churned on or before as_of."""
        return self.churn_day < NEVER


def _arrival_days(rng: np.random.Generator, n: int, growth: float, n_days: int) -> np.ndarray:
    """Days of new-account arrivals whose rate moves linearly from 1 to `growth` over the history."""
    u = rng.random(n)
    k = growth - 1.0
    if abs(k) < 1e-9:
        x = u
    else:
        x = (-1 + np.sqrt(1 + 2 * k * u * (1 + k / 2))) / k
    return np.sort(np.minimum((x * n_days).astype(np.int64), n_days - 1))


def make_accounts(rng: np.random.Generator, scale: Scale, cal: Calendar, users: Users,
                  cross_region_rate: float, missing_industry_rate: float) -> tuple[Accounts, list[tuple[int, int]]]:
    """All accounts over the history, with churn, ownership, groups and names."""
    n_days = cal.n_days
    per_region = np.array([r.base_share * (1 + r.new_per_year * 3 * (1 + r.growth) / 2) for r in REGIONS])
    base_total = scale.accounts / per_region.sum()
    region_l, start_l, is_base_l = [], [], []
    for r, reg in enumerate(REGIONS):
        n_base = int(round(base_total * reg.base_share))
        n_new = int(round(base_total * reg.base_share * reg.new_per_year * 3 * (1 + reg.growth) / 2))
        start_l.append(-rng.integers(30, 8 * 365, n_base))
        start_l.append(_arrival_days(rng, n_new, reg.growth, n_days))
        region_l.append(np.full(n_base + n_new, r))
        is_base_l.append(np.r_[np.ones(n_base, bool), np.zeros(n_new, bool)])
    region = np.concatenate(region_l)
    start_day = np.concatenate(start_l)
    is_base = np.concatenate(is_base_l)
    n = len(region)

    account_type = rng.choice(len(ACCOUNT_TYPES), n, p=ACCOUNT_TYPE_WEIGHTS)
    cycle = np.clip(rng.lognormal(np.log(np.where(account_type == 0, 35, 80)), 0.5), 20, 180).astype(np.int64)
    created_s = (start_day - cycle) * DAY + rng.integers(8 * 3600, 18 * 3600, n)
    # ids follow CRM creation order
    order = np.argsort(created_s, kind="stable")
    region, start_day, is_base, account_type, cycle, created_s = (
        a[order] for a in (region, start_day, is_base, account_type, cycle, created_s))

    territory = np.empty(n, dtype=np.int64)
    for r in range(len(REGIONS)):
        idx = np.flatnonzero(region == r)
        terr_ids = [t for t, (tr, _) in enumerate(TERRITORIES) if tr == r]
        weights = np.array([TERRITORIES[t][1].weight for t in terr_ids])
        territory[idx] = np.asarray(terr_ids)[rng.choice(len(terr_ids), len(idx), p=weights / weights.sum())]
    country = np.array([COUNTRY_INDEX[TERRITORIES[t][1].country] for t in territory.tolist()])

    industry = rng.choice(len(INDUSTRIES), n, p=INDUSTRY_WEIGHTS)
    wholesale = account_type == 2
    industry[wholesale] = np.where(rng.random(wholesale.sum()) < 0.75, INDUSTRIES.index("Telecommunications"),
                                   INDUSTRIES.index("Media"))
    emp = np.empty(n, dtype=np.int64)
    mrr = np.empty(n)
    for t, (median, sd, lo, hi) in enumerate(EMPLOYEES):
        m = account_type == t
        emp[m] = np.clip(rng.lognormal(np.log(median), sd, m.sum()), lo, hi).astype(np.int64)
        mrr[m] = rng.lognormal(np.log(MRR_USD[t][0]), MRR_USD[t][1], m.sum())
    new_size = np.array([r.new_account_mrr for r in REGIONS])[region]
    mrr = np.where(is_base, mrr, mrr * new_size)

    # churn: exponential waiting times, memoryless for the base, after a 90-day honeymoon for new accounts
    hazard = np.array([REGIONS[r].churn_per_year for r in region.tolist()]) * np.asarray(CHURN_TYPE_FACTOR)[
        account_type] / 365.0
    wait = rng.exponential(1.0 / hazard)
    churn_from = np.where(is_base, 0, start_day + 90)
    churn_day = (churn_from + wait).astype(np.int64)
    upcoming_churn_day = np.where((churn_day > n_days - 1) & (churn_day <= n_days - 1 + UPCOMING_CHURN_DAYS),
                                  churn_day, NEVER)
    churn_day[churn_day > n_days - 1] = NEVER

    # "Group" holding companies: the oldest enterprise accounts; they do not churn
    n_groups = max(3, int(round(0.02 * n)))
    candidates = np.flatnonzero(is_base & (account_type == 1))[:n_groups]
    is_group = np.zeros(n, dtype=bool)
    is_group[candidates] = True
    churn_day[is_group] = NEVER
    upcoming_churn_day[is_group] = NEVER
    parent = np.zeros(n, dtype=np.int64)
    subsidiary = (~is_group) & (rng.random(n) < 0.09)
    group_idx = np.flatnonzero(is_group)
    for a in np.flatnonzero(subsidiary).tolist():
        same = group_idx[region[group_idx] == region[a]]
        pool = same if (len(same) and rng.random() < 0.8) else group_idx
        pool = pool[created_s[pool] < created_s[a]]
        if len(pool):
            parent[a] = int(pool[int(rng.integers(0, len(pool)))]) + 1

    decline_days = rng.integers(60, 121, n)
    decline_floor = rng.uniform(0.3, 0.6, n)
    payer = rng.choice(3, n, p=(0.75, 0.18, 0.07))

    # owners: large accounts go to account managers, SMB to anyone in the territory
    managers = users.owners_by_territory(("account_manager",))
    everyone = users.owners_by_territory(("account_manager", "sales_rep"))
    pick = rng.random(n)
    owner = np.empty(n, dtype=np.int64)
    for a in range(n):
        pool = managers[territory[a]] if account_type[a] > 0 else everyone[territory[a]]
        owner[a] = pool[int(pick[a] * len(pool))]

    brand, word, suffix, name, domain = _company_names(rng, region, country, industry, is_group, parent)
    cross_pairs = _plant_cross_region(rng, cross_region_rate, region, country, industry, is_group, parent,
                                      brand, word, suffix, name, domain)
    industry_missing = rng.random(n) < missing_industry_rate

    end_s = np.minimum(churn_day, n_days - 1) * DAY
    # CRM records get touched now and then: the last edit is usually within the history
    last_change = np.maximum(created_s, np.where(churn_day < NEVER, churn_day * DAY + 15 * 3600, 0))
    updated_s = last_change + (rng.random(n) * np.maximum(end_s + DAY - 1 - last_change, 0)).astype(np.int64)
    accounts = Accounts(n, region, territory, country, account_type, industry, emp, created_s, start_day,
                        churn_day, decline_days, decline_floor, mrr, payer, owner, parent, is_group, name, brand,
                        word, suffix, domain, updated_s, industry_missing, upcoming_churn_day)
    return accounts, cross_pairs


def _company_names(rng: np.random.Generator, region: np.ndarray, country: np.ndarray, industry: np.ndarray,
                   is_group: np.ndarray, parent: np.ndarray) -> tuple[list[str], ...]:
    n = len(region)
    brand, word, suffix, name, domain = [""] * n, [""] * n, [""] * n, [""] * n, [""] * n
    taken: set[str] = set()
    for a in range(n):
        ctry = COUNTRIES[country[a]]
        local = REGION_BRANDS[REGIONS[region[a]].code]
        words = INDUSTRY_WORDS[INDUSTRIES[industry[a]]]
        suffixes = LEGAL_SUFFIXES[ctry]
        sfx = suffixes[int(rng.integers(0, len(suffixes)))]
        if INDUSTRIES[industry[a]] == "Public Sector":
            sfx = ""
        for attempt in range(50):
            if parent[a] and attempt < 5:
                b = brand[parent[a] - 1]
            elif attempt < 3 and rng.random() < 0.55:
                b = local[int(rng.integers(0, len(local)))]
            elif attempt < 20:
                b = GENERIC_BRANDS[int(rng.integers(0, len(GENERIC_BRANDS)))]
                if rng.random() < 0.35:
                    b = local[int(rng.integers(0, len(local)))] + " " + b
            else:
                b = (GENERIC_BRANDS[int(rng.integers(0, len(GENERIC_BRANDS)))] + " "
                     + GENERIC_BRANDS[int(rng.integers(0, len(GENERIC_BRANDS)))])
            w = "Group Holdings" if is_group[a] else words[int(rng.integers(0, len(words)))]
            key = ascii_slug(b + w)
            if key not in taken:
                break
        else:
            b = f"{b} {a}"
            key = ascii_slug(b + w)
        taken.add(key)
        brand[a], word[a], suffix[a] = b, w, sfx
        name[a] = f"{b} {w} {sfx}".strip()
        domain[a] = f"{key}.{COUNTRY_TLD[ctry]}"
    return brand, word, suffix, name, domain


def _plant_cross_region(rng: np.random.Generator, rate: float, region: np.ndarray, country: np.ndarray,
                        industry: np.ndarray, is_group: np.ndarray, parent: np.ndarray, brand: list[str],
                        word: list[str], suffix: list[str], name: list[str], domain: list[str]
                        ) -> list[tuple[int, int]]:
    """Rename some accounts as a variant of a company booked in another region."""
    n = len(region)
    k = int(round(rate * n))
    if k == 0:
        return []
    plain = np.flatnonzero(~is_group & (parent == 0) & (industry != INDUSTRIES.index("Public Sector")))
    chosen = rng.permutation(plain)
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for original in chosen.tolist():
        if len(pairs) >= k:
            break
        if original in used:
            continue
        twin = -1
        for _ in range(30):
            cand = int(plain[int(rng.integers(0, len(plain)))])
            if region[cand] != region[original] and cand not in used:
                twin = cand
                break
        if twin < 0:
            continue
        used.update((original, twin))
        ctry = COUNTRIES[country[twin]]
        industry[twin] = industry[original]
        brand[twin], word[twin] = brand[original], word[original]
        name[twin] = company_variant(brand[original], word[original], ctry, suffix[original], rng)
        suffix[twin] = ""
        domain[twin] = f"{ascii_slug(brand[original] + word[original])}.{COUNTRY_TLD[ctry]}"
        if domain[twin] == domain[original]:
            domain[twin] = f"{ascii_slug(brand[original] + word[original])}-{ctry.lower()}.{COUNTRY_TLD[ctry]}"
        pairs.append((twin + 1, original + 1))
    return pairs


@dataclass
class Agents:
    """Support agents; agent_id = index + 1."""

    full_name: list[str]
    email: list[str]
    team: np.ndarray
    is_active: np.ndarray
    speed: np.ndarray  # multiplier on response times; below 1 = consistently fast

    def active_ids(self) -> np.ndarray:
        """agent_ids of current agents."""
        return np.flatnonzero(self.is_active) + 1


def make_agents(rng: np.random.Generator, scale: Scale) -> Agents:
    """A support desk whose agents differ consistently in speed."""
    countries = ["ZA", "KE", "NG", "GB", "US", "IE", "GH", "UG"]
    ctry = [countries[i] for i in rng.integers(0, len(countries), scale.agents).tolist()]
    first, last = person_names(rng, ctry)
    seen: set[str] = set()
    emails = []
    for f, la in zip(first, last, strict=True):
        base = f"{ascii_slug(f)}.{ascii_slug(la)}"
        addr, k = base, 1
        while addr in seen:
            k += 1
            addr = f"{base}{k}"
        seen.add(addr)
        emails.append(f"{addr}@support.{VENDOR_DOMAIN}")
    team = rng.choice(len(SUPPORT_TEAMS), scale.agents, p=SUPPORT_TEAM_WEIGHTS)
    is_active = rng.random(scale.agents) > 0.08
    is_active[:3] = True
    speed = rng.lognormal(0.0, 0.45, scale.agents)
    return Agents([f"{f} {la}" for f, la in zip(first, last, strict=True)], emails, team, is_active, speed)


@dataclass
class Campaigns:
    """Outbound campaigns; campaign_id = index + 1."""

    name: list[str]
    channel: list[str]
    objective: list[str]
    target_region: np.ndarray  # -1 = all regions
    start_day: np.ndarray
    end_day: np.ndarray
    cost: np.ndarray
    currency: list[str]
    status: list[str]
    lift_b: np.ndarray  # reply-rate multiplier of variant B relative to A

    def live_on(self, day: int, channel: str) -> np.ndarray:
        """campaign_ids on `channel` running on `day`."""
        ch = np.array(self.channel)
        return np.flatnonzero((ch == channel) & (self.start_day <= day) & (self.end_day >= day)) + 1


CAMPAIGN_CHANNELS = ("email", "whatsapp", "sms")


def make_campaigns(rng: np.random.Generator, scale: Scale, cal: Calendar, fx: np.ndarray) -> Campaigns:
    """Campaigns over the history; a few are still running at as_of."""
    n = scale.campaigns
    n_days = cal.n_days
    n_live = max(4, n // 8)
    channel = [CAMPAIGN_CHANNELS[i] for i in rng.choice(3, n, p=(0.45, 0.3, 0.25)).tolist()]
    for i in range(3):  # every channel runs at least once, and one of each is live at as_of
        channel[i] = channel[n - 1 - i] = CAMPAIGN_CHANNELS[i]
    objective = [CAMPAIGN_OBJECTIVES[i] for i in rng.integers(0, len(CAMPAIGN_OBJECTIVES), n).tolist()]
    target = np.where(rng.random(n) < 0.4, -1, rng.integers(0, len(REGIONS), n))
    duration = rng.integers(10, 46, n)
    start = np.sort(rng.integers(0, n_days - 60, n - n_live))
    start = np.r_[start, n_days - 1 - rng.integers(3, 25, n_live)]
    end = start + duration
    live = np.arange(n) >= n - n_live
    end[live] = np.maximum(end[live], n_days + rng.integers(2, 30, n_live))
    end[~live] = np.minimum(end[~live], n_days - 2)
    cost_usd = rng.lognormal(np.log(np.where(np.array(channel) == "email", 2_500, 8_000)), 0.5)
    currency_idx = np.where(target < 0, CURRENCIES.index("USD"),
                            np.asarray(REGION_CURRENCY_INDEX)[np.maximum(target, 0)])
    cost = cost_usd / fx[currency_idx, np.minimum(start, n_days - 1)]
    names = []
    for i in range(n):
        d = cal.date(int(start[i]))
        themes = CAMPAIGN_THEMES[objective[i]]
        theme = themes[int(rng.integers(0, len(themes)))]
        where = "Global" if target[i] < 0 else REGIONS[target[i]].name
        names.append(f"Q{(d.month - 1) // 3 + 1} {d.year} {theme} ({where}, {channel[i]})")
    status = ["active" if lv else "completed" for lv in live.tolist()]
    lift_b = np.where(rng.random(n) < 0.85, rng.uniform(1.4, 2.2, n), rng.uniform(0.75, 0.95, n))
    return Campaigns(names, channel, objective, target, start, end, cost,
                     [CURRENCIES[c] for c in currency_idx.tolist()], status, lift_b)
