"""Daily product usage per account, with weekly rhythm and the pre-churn decline."""

from __future__ import annotations

import numpy as np

from .context import Batch, Context

# users active per employee, by account type: SMB staff all use it, Wholesale has few operators
ADOPTION = ((0.35, 0.85), (0.08, 0.3), (0.02, 0.08))
WEEKDAY_SHAPE = (np.array([1.0, 1.02, 1.03, 1.0, 0.93, 0.42, 0.33]),  # office customers
                 np.array([1.0, 1.0, 1.0, 1.0, 0.98, 0.85, 0.8]))  # wholesale traffic barely sleeps


def usage_daily(ctx: Context, batch: Batch) -> None:
    """One row per account per day it is a customer (Mondays only outside the daily window at large scale)."""
    a = ctx.accounts
    cal = ctx.cal
    rng = ctx.rng("usage", batch.index)
    acc = batch.acc
    kind = a.account_type[acc]
    n_acc = len(acc)
    lo = np.array([ADOPTION[k][0] for k in kind.tolist()])
    hi = np.array([ADOPTION[k][1] for k in kind.tolist()])
    base_users = np.maximum(a.employees[acc] * rng.uniform(lo, hi), 2.0)
    sessions_per_user = rng.uniform(1.8, 4.0, n_acc)
    api_per_user = np.where(kind == 2, rng.uniform(400, 2000, n_acc), rng.uniform(5, 60, n_acc))
    gb_per_user = np.where(kind == 2, rng.uniform(2.0, 8.0, n_acc), rng.uniform(0.02, 0.25, n_acc))
    trend = rng.normal(0.08, 0.12, n_acc) / 365.0  # organic growth per day

    mask = batch.active
    window = ctx.scale.usage_daily_days
    if window is not None:
        days = np.arange(cal.n_days)
        mask = mask & ((days >= cal.n_days - window) | (cal.weekday == 0))[None, :]
    la, day = np.nonzero(mask)
    n = len(la)
    if n == 0:
        return
    shape = np.where(kind[la] == 2, WEEKDAY_SHAPE[1][cal.weekday[day]], WEEKDAY_SHAPE[0][cal.weekday[day]])
    tenure = day - np.maximum(a.start_day[acc][la], 0)
    floor = a.decline_floor[acc][la]
    decline = 1.0 - (1.0 - floor) * batch.ramp[la, day]
    level = base_users[la] * shape * np.exp(trend[la] * tenure) * decline
    noise = rng.lognormal(0.0, 0.1, (3, n))
    users = np.maximum(np.rint(level * noise[0]), 0).astype(np.int64)
    sessions = np.rint(users * sessions_per_user[la] * noise[1]).astype(np.int64)
    api_calls = np.rint(users * api_per_user[la] * noise[2]).astype(np.int64)
    data_gb = np.round(users * gb_per_user[la] * noise[1] * noise[2], 2)

    sink = ctx.sinks["product/usage_daily"]
    acc_ids = (acc + 1)[la].tolist()
    dates = cal.dates(day)
    sink.write({"account_id": acc_ids, "usage_date": dates, "active_users": users.tolist(),
                "sessions": sessions.tolist(), "api_calls": api_calls.tolist(), "data_gb": data_gb.tolist()})
