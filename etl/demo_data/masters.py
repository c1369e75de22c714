"""Writers for the master files: fx, products, users, accounts, agents, campaigns."""

from __future__ import annotations

import numpy as np

from .calendar import DAY, DAYS_BEFORE
from .config import (
    ACCOUNT_TYPES,
    COUNTRIES,
    CURRENCIES,
    FX_LEVELS,
    INDUSTRIES,
    PRODUCTS,
    REGIONS,
    SUPPORT_TEAMS,
    TERRITORIES,
)
from .context import Context
from .defects import malformed_row
from .sink import bools, ids, money
from .vocab import VARIANT_TEXTS
from .world import NEVER, reverting_walk


def write_fx(ctx: Context) -> None:
    """One rate per currency per day, from the first day any record may be dated (deals of the
    oldest accounts) to as-of: amounts are converted only at their own day's rate or one a few
    days older, so the feed covers the whole history, as a real rate feed does."""
    first = -DAYS_BEFORE
    n_days = ctx.cal.n_days
    dates = ctx.cal.dates(np.arange(first, n_days))
    rates = np.concatenate([_fx_before_history(ctx, -first), ctx.fx], axis=1)
    rows_date, rows_cur, rows_rate = [], [], []
    for d in range(n_days - first):
        for c, cur in enumerate(CURRENCIES):
            rows_date.append(dates[d])
            rows_cur.append(cur)
            rows_rate.append(f"{rates[c, d]:.10f}".rstrip("0").rstrip(".") if cur != "USD" else "1.0")
    ctx.sinks["billing/fx_rates"].write({"rate_date": rows_date, "currency": rows_cur, "usd_per_unit": rows_rate})


def _fx_before_history(ctx: Context, n_days: int) -> np.ndarray:
    """Rates for the `n_days` before the history: the same mean-reverting walk as the history's,
    run backwards from its first day (a stream of its own, so the rest of the data is unchanged)."""
    rng = ctx.rng("fx-before-history")
    out = np.ones((len(CURRENCIES), n_days))
    for c, cur in enumerate(CURRENCIES):
        level, vol = FX_LEVELS[cur]
        if vol == 0:
            continue
        backwards = reverting_walk(rng.normal(0.0, vol, n_days), start=float(np.log(ctx.fx[c, 0] / level)))
        out[c] = level * np.exp(backwards[::-1])  # backwards[k]: k + 1 days before the history
    return out


def write_products(ctx: Context) -> None:
    """The catalogue."""
    ctx.sinks["crm/products"].write({
        "product_id": [p.product_id for p in PRODUCTS],
        "product_name": [p.name for p in PRODUCTS],
        "product_family": [p.family for p in PRODUCTS],
        "list_price_usd": [p.list_price_usd for p in PRODUCTS],
        "is_recurring": bools(np.array([p.is_recurring for p in PRODUCTS])),
    })


def write_users(ctx: Context) -> None:
    """Sales users with their manager links."""
    u = ctx.users
    n = len(u.full_name)
    ctx.sinks["crm/users"].write({
        "user_id": np.arange(1, n + 1).tolist(),
        "full_name": u.full_name,
        "email": u.email,
        "role": u.role,
        "region": [REGIONS[r].name for r in u.region.tolist()],
        "territory": ["" if t < 0 else TERRITORIES[t][1].name for t in u.territory.tolist()],
        "manager_id": ids("user", u.manager, u.manager == 0),
        "is_active": bools(u.is_active),
        "updated_at": ctx.cal.timestamps(u.updated_s),
    })


def write_agents(ctx: Context) -> None:
    """Support agents."""
    ag = ctx.agents
    n = len(ag.full_name)
    ctx.sinks["support/agents"].write({
        "agent_id": np.arange(1, n + 1).tolist(),
        "full_name": ag.full_name,
        "email": ag.email,
        "team": [SUPPORT_TEAMS[t] for t in ag.team.tolist()],
        "is_active": bools(ag.is_active),
    })


def write_accounts(ctx: Context) -> None:
    """Accounts, plus stale older copies and a few malformed rows."""
    a = ctx.accounts
    cal = ctx.cal
    rng = ctx.rng("accounts-out")
    n = a.n
    churned = a.churn_day < NEVER
    churn_s = np.where(churned, a.churn_day * DAY + rng.integers(8 * 3600, 18 * 3600, n), 0)
    end_s = cal.end_seconds - 1
    updated_s = np.where(churned, np.maximum(a.updated_s, churn_s + 3600), a.updated_s)
    updated_s = np.minimum(updated_s, end_s)
    cur = np.asarray(CURRENCIES)[a.currency].tolist()
    cols = {
        "account_id": np.arange(1, n + 1).tolist(),
        "parent_account_id": ids("account", a.parent, a.parent == 0),
        "account_name": a.name,
        "account_type": [ACCOUNT_TYPES[t] for t in a.account_type.tolist()],
        "industry": ["" if m else INDUSTRIES[i] for i, m in zip(a.industry.tolist(), a.industry_missing.tolist(), strict=True)],
        "region": [REGIONS[r].name for r in a.region.tolist()],
        "country": [COUNTRIES[c] for c in a.country.tolist()],
        "territory": [TERRITORIES[t][1].name for t in a.territory.tolist()],
        "owner_user_id": a.owner.tolist(),
        "currency": cur,
        "employee_count": [str(e) for e in a.employees.tolist()],
        "created_at": cal.timestamps(a.created_s),
        "status": np.where(churned, "churned", "active").tolist(),
        "churned_at": cal.timestamps(np.where(churned, churn_s, np.iinfo(np.int64).min)),
        "updated_at": cal.timestamps(updated_s),
    }
    ctx.planted.missing_fields["crm/accounts.industry"] += int(a.industry_missing.sum())
    sink = ctx.sinks["crm/accounts"]
    sink.write(cols)

    # stale copies: the record as it looked before its last change
    eligible = np.flatnonzero(updated_s - a.created_s > 600)
    stale = eligible[rng.random(len(eligible)) < ctx.rates.stale_versions]
    if len(stale):
        frac = rng.uniform(0.2, 0.9, len(stale))
        last_before = np.where(churned[stale], np.minimum(churn_s[stale], updated_s[stale]), updated_s[stale])
        stale_s = a.created_s[stale] + ((last_before - a.created_s[stale]) * frac).astype(np.int64)
        stale_cols = {k: [v[i] for i in stale.tolist()] for k, v in cols.items()}
        stale_cols["status"] = ["active"] * len(stale)
        stale_cols["churned_at"] = [""] * len(stale)
        stale_cols["employee_count"] = [str(max(1, int(e * f))) for e, f in
                                        zip(a.employees[stale].tolist(), rng.uniform(0.7, 1.0, len(stale)).tolist(), strict=True)]
        stale_cols["updated_at"] = cal.timestamps(stale_s)
        sink.write(stale_cols)
        ctx.planted.stale_versions["crm/accounts"].extend(ids("account", stale + 1))

    kinds = ctx.malformed_kinds("crm/accounts", 0)
    rows = []
    for kind in kinds:
        i = int(rng.integers(0, n))
        key = ids("account", ctx.take_ids("account", 1))[0]
        rows.append(malformed_row(sink, cols, i, kind, key, cal.as_of.year, "account_name", "created_at",
                                  "employee_count"))
        ctx.planted.malformed_rows["crm/accounts"].append((key, kind))
    sink.write_fields(rows)


def write_campaigns(ctx: Context) -> None:
    """Campaigns and their A/B variants."""
    c = ctx.campaigns
    cal = ctx.cal
    n = len(c.name)
    ctx.sinks["marketing/campaigns"].write({
        "campaign_id": np.arange(1, n + 1).tolist(),
        "campaign_name": c.name,
        "channel": c.channel,
        "objective": c.objective,
        "start_date": cal.dates(c.start_day),
        "end_date": cal.dates(c.end_day),
        "cost": money(c.cost),
        "currency": c.currency,
        "status": c.status,
    })
    cid, variant, template, text = [], [], [], []
    for i in range(n):
        for v, body in zip("AB", VARIANT_TEXTS[c.objective[i]], strict=True):
            cid.append(i + 1)
            variant.append(v)
            template.append(f"{c.objective[i]}_{c.channel[i]}_{i + 1:03d}_{v.lower()}")
            text.append(body)
    ctx.sinks["marketing/campaign_variants"].write(
        {"campaign_id": cid, "variant": variant, "template_name": template, "message_text": text})
