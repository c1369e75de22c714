"""Billing streams per account batch: monthly invoices, payments and credit holds."""

from __future__ import annotations

import numpy as np

from .calendar import DAY, NO_TIME
from .config import COUNTRIES, CURRENCIES, REGIONS
from .context import Batch, Context
from .defects import malformed_row
from .sink import bools, ids, money
from .vocab import DISPUTE_REASON_WEIGHTS, DISPUTE_REASONS
from .world import NEVER

LATE_SHARE = np.array([0.04, 0.3, 0.7])  # by payer profile: punctual, sometimes late, chronic
PAYMENT_METHODS = ("eft", "card", "debit_order", "mobile_money", "wire")
METHOD_WEIGHTS = {  # by region code
    "ZA": (0.5, 0.15, 0.35, 0.0, 0.0), "EA": (0.3, 0.1, 0.0, 0.55, 0.05), "WA": (0.45, 0.15, 0.0, 0.3, 0.1),
    "EU": (0.4, 0.2, 0.3, 0.0, 0.1), "UK": (0.35, 0.2, 0.45, 0.0, 0.0), "NA": (0.3, 0.4, 0.0, 0.0, 0.3),
}
HOLD_AFTER_DAYS = 45
HABITUAL_DISPUTER_SHARE = 0.06  # customers who dispute one invoice in eleven
BILLING_ERROR_SHARE = 0.012  # invoices corrected in-house by a credit or debit note
SERVICE_CREDIT_SHARE = 0.004  # invoices reduced by a service credit after an outage


def invoices(ctx: Context, batch: Batch) -> None:
    """Invoices on the 1st of each month a customer is active; payments get late before churn."""
    a = ctx.accounts
    cal = ctx.cal
    end = cal.end_seconds
    n_days = cal.n_days
    rng = ctx.rng("billing", batch.index)
    acc = batch.acc
    months = cal.month_starts
    # invoice on day m when the account was a customer the day before (billing in arrears for the month)
    was_active = batch.active[:, np.maximum(months - 1, 0)] & (months >= 1)[None, :]
    la, mi = np.nonzero(was_active)
    issue_day = months[mi]
    n = len(la)
    malformed_kinds = ctx.malformed_kinds("billing/invoices", batch.index)
    if n == 0:
        ctx.carry_malformed("billing/invoices", malformed_kinds)
        return

    # recurring charge: every subscription live on the day before the issue date
    subs = batch.subs
    order = np.argsort(subs["acc"], kind="stable")
    s_acc, s_start, s_end, s_mrr = (subs[k][order] for k in ("acc", "start", "end", "mrr"))
    per_acc = np.bincount(s_acc, minlength=len(acc))
    s_first = np.r_[0, np.cumsum(per_acc)[:-1]]
    pairs = per_acc[la]
    inv_rep = np.repeat(np.arange(n), pairs)
    within = np.arange(pairs.sum()) - np.repeat(np.r_[0, np.cumsum(pairs)[:-1]], pairs)
    s_idx = s_first[la][inv_rep] + within
    billed_day = issue_day[inv_rep] - 1
    live = (s_start[s_idx] <= billed_day) & (s_end[s_idx] > billed_day)
    charge = s_mrr[s_idx] * _price_factor(batch, order[s_idx], billed_day, n_days)
    amount = np.bincount(inv_rep[live], weights=charge[live], minlength=n)
    # one-off items (installation, hardware) go on the first invoice after the deal closed
    inv_key = la * (n_days + 1) + issue_day
    for local, close_day, value in batch.one_offs:
        j = np.searchsorted(inv_key, local * (n_days + 1) + close_day, side="right")
        if j < n and la[j] == local:
            amount[j] += value
    overage = rng.random(n) < 0.2
    amount = amount * np.where(overage, rng.uniform(1.01, 1.06, n), 1.0)
    keep = amount > 0
    la, issue_day, amount = la[keep], issue_day[keep], amount[keep]
    n = len(la)
    if n == 0:
        ctx.carry_malformed("billing/invoices", malformed_kinds)
        return

    ai = acc[la]
    ramp = batch.ramp[la, np.maximum(issue_day - 1, 0)]
    churned = a.churn_day[ai] < NEVER
    issue_s = issue_day * DAY + rng.integers(2 * 3600, 5 * 3600, n)
    due_day = issue_day + 30
    late = rng.random(n) < np.minimum(LATE_SHARE[a.payer[ai]] + 0.8 * ramp, 0.97)
    delay_days = np.where(late, 31 + np.minimum(rng.lognormal(np.log(18), 0.7, n), 200),
                          rng.uniform(1, 29.5, n))
    never_paid = rng.random(n) < np.where(ramp > 0.3, 0.55 * ramp, np.where(a.payer[ai] == 2, 0.02, 0.0))
    # after churn nobody chases the last invoices hard
    never_paid |= churned & (issue_day >= a.churn_day[ai] - 5) & (rng.random(n) < 0.6)
    # a few customers dispute habitually, and anyone disputes more while drifting away
    leaving = np.minimum(a.churn_day[acc], a.upcoming_churn_day[acc]) < NEVER
    disputer = rng.random(len(acc)) < np.where(leaving, 2.5, 1.0) * HABITUAL_DISPUTER_SHARE
    disputed = rng.random(n) < np.where(disputer[la], 0.09, 0.007) + 0.08 * ramp
    delay_days = np.where(disputed, delay_days + rng.uniform(20, 60, n), delay_days)
    never_paid |= disputed & (rng.random(n) < 0.3)
    void = rng.random(n) < 0.005
    paid_s = issue_s + (delay_days * DAY).astype(np.int64)
    paid = ~void & ~never_paid & (paid_s < end)
    status = np.where(void, "void", np.where(paid, "paid", np.where(due_day < n_days - 1, "overdue", "open")))
    void_s = issue_s + rng.integers(DAY, 10 * DAY, n)
    reminder_s = (due_day + 1) * DAY + 8 * 3600
    updated_s = np.where(void, void_s, np.where(paid, paid_s,
                                                np.where(status == "overdue", reminder_s, issue_s)))
    updated_s = np.minimum(updated_s, end - 1)

    currency = np.asarray(CURRENCIES)[a.currency[ai]].tolist()
    invoice_id = ctx.take_ids("invoice", n)
    months_txt = [d[:7].replace("-", "") for d in cal.dates(issue_day)]
    number = [f"{COUNTRIES[c]}-{mo}-{i:07d}" for c, mo, i in
              zip(a.country[ai].tolist(), months_txt, invoice_id.tolist(), strict=True)]
    cols = {
        "invoice_id": invoice_id.tolist(),
        "account_id": (ai + 1).tolist(),
        "invoice_number": number,
        "issue_date": cal.dates(issue_day),
        "due_date": cal.dates(due_day),
        "amount": money(amount),
        "currency": currency,
        "status": status.tolist(),
        "paid_at": cal.timestamps(np.where(paid, paid_s, NO_TIME)),
        "is_disputed": bools(disputed),
        "updated_at": cal.timestamps(updated_s),
    }
    sink = ctx.sinks["billing/invoices"]
    sink.write(cols)
    stale = np.flatnonzero(paid & (rng.random(n) < ctx.rates.stale_versions))
    if len(stale):
        stale_cols = {k: [v[i] for i in stale.tolist()] for k, v in cols.items()}
        stale_cols["status"] = ["open"] * len(stale)
        stale_cols["paid_at"] = [""] * len(stale)
        stale_cols["updated_at"] = cal.timestamps(issue_s[stale])
        sink.write(stale_cols)
        ctx.planted.stale_versions["billing/invoices"].extend(ids("invoice", invoice_id[stale]))
    rows = []
    for kind in malformed_kinds:
        i = int(rng.integers(0, n))
        key = ids("invoice", ctx.take_ids("invoice", 1))[0]
        rows.append(malformed_row(sink, cols, i, kind, key, cal.as_of.year, "invoice_number", "issue_date",
                                  "amount"))
        ctx.planted.malformed_rows["billing/invoices"].append((key, kind))
    sink.write_fields(rows)

    _payments(ctx, rng, ai, invoice_id, amount, currency, issue_s, paid_s, paid)
    _credit_holds(ctx, rng, ai, due_day, paid_s, paid, void, disputed)
    _disputes_and_adjustments(ctx, batch, ctx.rng("disputes", batch.index), la, invoice_id, amount, currency,
                              issue_s, disputed, void)


def _price_factor(batch: Batch, sub: np.ndarray, day: np.ndarray, n_days: int) -> np.ndarray:
    """Price of subscription `sub` on `day` relative to the price signed (its latest price change on
    or before the day)."""
    changes = batch.price_changes
    if changes is None or len(changes["sub"]) == 0:
        return np.ones(len(sub))
    keys = changes["sub"] * (n_days + 1) + changes["day"]  # sorted: by subscription, then day
    j = np.searchsorted(keys, sub * (n_days + 1) + day, side="right") - 1
    found = (j >= 0) & (changes["sub"][np.maximum(j, 0)] == sub)
    return np.where(found, np.exp(changes["log_factor"][np.maximum(j, 0)]), 1.0)


def _disputes_and_adjustments(ctx: Context, batch: Batch, rng: np.random.Generator, la: np.ndarray,
                              invoice_id: np.ndarray, amount: np.ndarray, currency: list[str], issue_s: np.ndarray,
                              disputed: np.ndarray, void: np.ndarray) -> None:
    """A dispute for every disputed invoice, settled by a credit note when upheld; and the credit and
    debit notes of billing errors found in-house and of service credits."""
    cal = ctx.cal
    end = cal.end_seconds
    acc = batch.acc
    d = np.flatnonzero(disputed)
    k = len(d)
    opened_s = issue_s[d] + rng.integers(2 * DAY, 25 * DAY, k)
    resolved_s = opened_s + (np.minimum(rng.lognormal(np.log(14), 0.7, k), 120) * DAY).astype(np.int64)
    reason = rng.choice(len(DISPUTE_REASONS), k, p=DISPUTE_REASON_WEIGHTS)
    share = np.where(np.asarray(DISPUTE_REASONS)[reason] == "duplicate_charge", 1.0, rng.uniform(0.05, 0.6, k))
    disputed_amount = np.round(amount[d] * share, 2)
    upheld = rng.random(k) < 0.6
    opened_s = np.minimum(opened_s, end - 1)
    resolved = resolved_s < end
    status = np.where(resolved, np.where(upheld, "upheld", "rejected"), "open")
    dispute_ids = ctx.take_ids("dispute", k)
    ctx.sinks["billing/disputes"].write({
        "dispute_id": dispute_ids.tolist(),
        "invoice_id": invoice_id[d].tolist(),
        "account_id": (acc[la[d]] + 1).tolist(),
        "opened_at": cal.timestamps(opened_s),
        "resolved_at": cal.timestamps(np.where(resolved, resolved_s, NO_TIME)),
        "reason": np.asarray(DISPUTE_REASONS)[reason].tolist(),
        "amount": money(disputed_amount),
        "currency": [currency[i] for i in d.tolist()],
        "status": status.tolist(),
    })
    batch.disputes = {"acc": la[d], "opened_day": opened_s // DAY,
                      "resolved_day": np.where(resolved, resolved_s // DAY, -1), "upheld": resolved & upheld}

    # credit notes for upheld disputes (sometimes for less than was disputed)
    c = np.flatnonzero(resolved & upheld)
    credit = np.round(disputed_amount[c] * np.where(rng.random(len(c)) < 0.8, 1.0, rng.uniform(0.4, 0.9, len(c))), 2)
    # in-house corrections (mostly credits) and service credits after outages
    n = len(invoice_id)
    error = ~void & ~disputed & (rng.random(n) < BILLING_ERROR_SHARE)
    service = ~void & (rng.random(n) < SERVICE_CREDIT_SHARE)
    e, v = np.flatnonzero(error), np.flatnonzero(service)
    error_kind = np.where(rng.random(len(e)) < 0.7, "credit", "debit")
    inv = np.r_[d[c], e, v]
    created_s = np.r_[resolved_s[c] + rng.integers(3600, 2 * DAY, len(c)),
                      issue_s[e] + rng.integers(3 * DAY, 40 * DAY, len(e)),
                      issue_s[v] + rng.integers(5 * DAY, 35 * DAY, len(v))]
    value = np.r_[credit, np.round(amount[e] * rng.uniform(0.02, 0.25, len(e)), 2),
                  np.round(amount[v] * rng.uniform(0.05, 0.2, len(v)), 2)]
    kind = np.r_[np.full(len(c), "credit"), error_kind, np.full(len(v), "credit")]
    why = np.r_[np.asarray(DISPUTE_REASONS)[reason[c]], np.full(len(e), "billing_error"),
                np.full(len(v), "service_credit")]
    keep = (created_s < end) & (value > 0)
    order = np.flatnonzero(keep)[np.argsort(created_s[keep], kind="stable")]
    from_dispute = order < len(c)
    m = len(order)
    ctx.sinks["billing/adjustments"].write({
        "adjustment_id": ctx.take_ids("adjustment", m).tolist(),
        "invoice_id": invoice_id[inv[order]].tolist(),
        "account_id": (acc[la[inv[order]]] + 1).tolist(),
        "dispute_id": ids("dispute", dispute_ids[c][np.where(from_dispute, order, 0)] if len(c) else
                          np.zeros(m, dtype=np.int64), ~from_dispute),
        "kind": kind[order].tolist(),
        "amount": money(value[order]),
        "currency": [currency[i] for i in inv[order].tolist()],
        "reason": why[order].tolist(),
        "created_at": cal.timestamps(created_s[order]),
    })


def _payments(ctx: Context, rng: np.random.Generator, ai: np.ndarray, invoice_id: np.ndarray,
              amount: np.ndarray, currency: list[str], issue_s: np.ndarray, paid_s: np.ndarray,
              paid: np.ndarray) -> None:
    a = ctx.accounts
    idx = np.flatnonzero(paid)
    split = rng.random(len(idx)) < 0.04  # paid in two instalments
    first_share = rng.uniform(0.3, 0.7, len(idx))
    first_amount = np.round(amount[idx] * np.where(split, first_share, 1.0), 2)
    second_amount = np.round(amount[idx], 2) - first_amount
    early_s = np.maximum(paid_s[idx] - rng.integers(3 * DAY, 20 * DAY, len(idx)), issue_s[idx] + 3600)
    inv = np.r_[idx, idx[split]]
    when = np.r_[np.where(split, early_s, paid_s[idx]), paid_s[idx][split]]
    value = np.r_[first_amount, second_amount[split]]
    order = np.lexsort((when, inv))
    inv, when, value = inv[order], when[order], value[order]
    weights = np.array([METHOD_WEIGHTS[r.code] for r in REGIONS])
    cum = np.cumsum(weights / weights.sum(1, keepdims=True), axis=1)
    region = a.region[ai[inv]]
    method_idx = np.minimum((rng.random(len(inv))[:, None] > cum[region]).sum(1), len(PAYMENT_METHODS) - 1)
    methods = np.asarray(PAYMENT_METHODS)[method_idx].tolist()
    ctx.sinks["billing/payments"].write({
        "payment_id": ctx.take_ids("payment", len(inv)).tolist(),
        "invoice_id": invoice_id[inv].tolist(),
        "account_id": (ai[inv] + 1).tolist(),
        "paid_at": ctx.cal.timestamps(when),
        "amount": money(value),
        "currency": [currency[i] for i in inv.tolist()],
        "method": methods,
    })


def _credit_holds(ctx: Context, rng: np.random.Generator, ai: np.ndarray, due_day: np.ndarray,
                  paid_s: np.ndarray, paid: np.ndarray, void: np.ndarray, disputed: np.ndarray) -> None:
    """A hold when an invoice is 45 days past due, released a day or two after it is paid."""
    end = ctx.cal.end_seconds
    settled_day = np.where(paid, paid_s // DAY, ctx.cal.n_days - 1)
    over = np.flatnonzero(~void & (settled_day - due_day > HOLD_AFTER_DAYS))
    if len(over) == 0:
        return
    placed_s = (due_day[over] + HOLD_AFTER_DAYS) * DAY + rng.integers(7 * 3600, 10 * 3600, len(over))
    released_s = np.where(paid[over], paid_s[over] + rng.integers(DAY // 2, 3 * DAY, len(over)), NO_TIME)
    released_s = np.where(released_s >= end, NO_TIME, released_s)
    order = np.lexsort((placed_s, ai[over]))
    hold_acc, hold_placed, hold_released, hold_reason = [], [], [], []
    busy_until: dict[int, int] = {}
    for j in order.tolist():
        account = int(ai[over[j]])
        if placed_s[j] < busy_until.get(account, -1):
            continue  # the account is already on hold
        rel = int(released_s[j])
        busy_until[account] = end * 2 if rel == NO_TIME else rel
        hold_acc.append(account)
        hold_placed.append(int(placed_s[j]))
        hold_released.append(rel)
        hold_reason.append("disputed_balance" if disputed[over[j]] else "invoice_overdue_45_days")
    n = len(hold_acc)
    ctx.sinks["billing/credit_holds"].write({
        "hold_id": ctx.take_ids("hold", n).tolist(),
        "account_id": (np.asarray(hold_acc) + 1).tolist(),
        "placed_at": ctx.cal.timestamps(np.asarray(hold_placed, dtype=np.int64)),
        "released_at": ctx.cal.timestamps(np.asarray(hold_released, dtype=np.int64)),
        "reason": hold_reason,
    })
