"""Support desk streams per account batch: tickets, chat conversations and their messages."""

from __future__ import annotations

import numpy as np

from .calendar import DAY, NO_TIME
from .config import PRODUCT_INDEX, PRODUCTS, TICKET_PROPENSITY
from .context import Batch, Context
from .defects import malformed_row
from .sink import bools, ids
from .vocab import (
    AGENT_CLOSERS,
    AGENT_REPLIES,
    CHAT_FOLLOWUPS,
    CHAT_OPENERS,
    CHAT_TOPIC_WEIGHTS,
    CHAT_TOPICS,
    COMPETITOR_MENTIONS,
    COMPETITORS,
    ERROR_CODES,
    TICKET_CATEGORIES,
    TICKET_CATEGORY_WEIGHTS,
    TICKET_CHANNEL_WEIGHTS,
    TICKET_CHANNELS,
    TICKET_SEVERITY_WEIGHTS,
    TICKET_SUBJECTS,
)

SEVERITIES = ("P1", "P2", "P3", "P4")
SLA_MINUTES = np.array([15, 60, 240, 480])
RESOLUTION_HOURS = np.array([4.0, 14.0, 40.0, 80.0])
ESCALATION_BASE = np.array([0.25, 0.12, 0.05, 0.02])
TICKETS_PER_MONTH = (0.5, 2.5, 1.8)
CHATS_PER_MONTH = (0.6, 1.6, 1.0)
# when customers open chats (UTC): after work is when people deal with their provider
CHAT_HOUR_WEIGHTS = np.array([0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                              1.0, 2.0, 7.0, 7.5, 7.0, 1.5, 0.8, 0.5])
TICKET_HOUR_WEIGHTS = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 1.8, 1.8, 1.7, 1.4, 1.6, 1.7, 1.6,
                                1.4, 1.0, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1])
AGENT_FOLLOWUPS = ("Thanks {name}, let me check that for you.", "Understood, I'm looking into it now.",
                   "I've updated your ticket, {name}. Anything else?",
                   "Could you send a screenshot of the error, please?")


def _events(rng: np.random.Generator, batch: Batch, per_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson event counts per account-day, expanded to one (local account, day) pair per event."""
    counts = rng.poisson(np.where(batch.active, per_day, 0.0))
    la, day = np.nonzero(counts)
    reps = counts[la, day]
    return np.repeat(la, reps), np.repeat(day, reps)


def _pick_contact(rng: np.random.Generator, batch: Batch, la: np.ndarray) -> np.ndarray:
    """Position (in the batch's contacts) of a random person at each event's account."""
    return batch.contact_first[la] + (rng.random(len(la)) * batch.contact_count[la]).astype(np.int64)


def _hour_seconds(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    hours = rng.choice(24, n, p=weights / weights.sum())
    return hours * 3600 + rng.integers(0, 3600, n)


def tickets(ctx: Context, batch: Batch) -> None:
    """Cases with SLAs, agent-dependent response times and more escalations before churn."""
    a = ctx.accounts
    cal = ctx.cal
    end = cal.end_seconds
    rng = ctx.rng("tickets", batch.index)
    acc = batch.acc
    kind = a.account_type[acc]
    weekday_factor = np.where(cal.weekday < 5, 1.0, 0.4)
    size = np.clip(np.log10(a.employees[acc]) / 2.5, 0.5, 2.0)
    propensity, live_subs = _product_load(batch, cal.n_days)
    per_day = (np.asarray(TICKETS_PER_MONTH)[kind] * size / 30 * ctx.scale.support_rate)[:, None] \
        * weekday_factor[None, :] * (1.0 + 1.5 * batch.ramp) * (0.5 + 0.5 * propensity) \
        * _onboarding_load(batch, cal.n_days)
    la, day = _events(rng, batch, per_day)
    n = len(la)
    malformed_kinds = ctx.malformed_kinds("support/tickets", batch.index)
    if n == 0:
        ctx.carry_malformed("support/tickets", malformed_kinds)
        return
    ramp = batch.ramp[la, day]
    created_s = day * DAY + _hour_seconds(rng, TICKET_HOUR_WEIGHTS, n)
    cat = rng.choice(len(TICKET_CATEGORIES), n, p=TICKET_CATEGORY_WEIGHTS)
    sev_cum = np.cumsum(np.array([TICKET_SEVERITY_WEIGHTS[c] for c in TICKET_CATEGORIES]), axis=1)
    sev = np.minimum((rng.random(n)[:, None] > sev_cum[cat]).sum(1), 3)
    channel = np.asarray(TICKET_CHANNELS)[rng.choice(len(TICKET_CHANNELS), n, p=TICKET_CHANNEL_WEIGHTS)]
    agents = ctx.agents.active_ids()
    agent = agents[rng.integers(0, len(agents), n)]
    speed = ctx.agents.speed[agent - 1]
    sla = SLA_MINUTES[sev]
    first_response_minutes = sla * rng.lognormal(np.log(0.45), 0.6, n) * speed
    first_response_s = created_s + np.maximum(np.rint(first_response_minutes * 60), 30).astype(np.int64)
    escalated = rng.random(n) < np.minimum(ESCALATION_BASE[sev] + 0.4 * ramp, 0.95)
    resolution_h = RESOLUTION_HOURS[sev] * rng.lognormal(0.0, 0.8, n) * np.where(escalated, 2.2, 1.0) * speed
    resolved_s = first_response_s + np.rint(resolution_h * 3600).astype(np.int64)

    responded = first_response_s < end
    resolved = resolved_s < end
    # brand-new tickets may not be picked up by anyone yet
    unassigned = ~responded & (rng.random(n) < 0.5)
    status = np.where(resolved, np.where(resolved_s > end - 5 * DAY, "resolved", "closed"),
                      np.where(responded & (rng.random(n) < 0.5), "pending", "open"))
    csat_score = np.clip(np.rint(4.4 - 1.1 * escalated - 0.5 * (resolution_h > 72) - 1.8 * ramp
                                 + rng.normal(0, 0.7, n)), 1, 5).astype(np.int64)
    rated = resolved & (rng.random(n) < 0.55)
    blanked = rated & (rng.random(n) < ctx.rates.blank_csat)
    ctx.planted.missing_fields["support/tickets.csat"] += int(blanked.sum())
    rated &= ~blanked
    last_s = np.where(resolved, resolved_s, np.where(responded, first_response_s, created_s))
    closed_lag = np.where(status == "closed", rng.integers(DAY, 5 * DAY, n), rng.integers(60, 7200, n))
    updated_s = np.minimum(last_s + closed_lag, end - 1)

    contact_pos = _pick_contact(rng, batch, la)
    no_contact = rng.random(n) < 0.03  # phoned in from a number nobody could match
    subjects = []
    product_id = _ticket_products(rng, batch, la, day, live_subs)
    category_name = np.asarray(TICKET_CATEGORIES)[cat]
    # account changes concern no product; billing questions often the bill as a whole
    no_product = (product_id == 0) | (category_name == "account_change") | (
        (category_name == "billing") & (rng.random(n) < 0.6))
    fallback = rng.integers(0, len(PRODUCTS), n)
    template_pick = rng.random(n)
    invoice_no = rng.integers(10_000, 999_999, n)
    for c, p, none, f, t, inv in zip(cat.tolist(), product_id.tolist(), no_product.tolist(), fallback.tolist(),
                                     template_pick.tolist(), invoice_no.tolist(), strict=True):
        options = TICKET_SUBJECTS[TICKET_CATEGORIES[c]]
        name = PRODUCTS[f].name if none else PRODUCTS[PRODUCT_INDEX[p]].name
        subjects.append(options[int(t * len(options))].format(product=name, invoice=f"INV{inv}"))

    # A customer reopens a resolved case more often after an escalation, from a slow agent, or
    # while the account is sliding towards churn; own stream, so the other columns stay as they were.
    reopen_rng = ctx.rng("ticket_reopens", batch.index)
    reopen_p = np.minimum((0.03 + 0.07 * escalated + 0.2 * ramp) * np.clip(speed, 0.5, 2.0), 0.6)
    reopen_count = np.where(resolved & (reopen_rng.random(n) < reopen_p), 1 + (reopen_rng.random(n) < 0.15), 0)

    ticket_id = ctx.take_ids("ticket", n)
    cols = {
        "ticket_id": ticket_id.tolist(),
        "account_id": (acc[la] + 1).tolist(),
        "contact_id": ids("contact", batch.contact_id[contact_pos], no_contact),
        "created_at": cal.timestamps(created_s),
        "channel": channel.tolist(),
        "severity": np.asarray(SEVERITIES)[sev].tolist(),
        "category": np.asarray(TICKET_CATEGORIES)[cat].tolist(),
        "subject": subjects,
        "sla_first_response_minutes": sla.tolist(),
        "first_response_at": cal.timestamps(np.where(responded, first_response_s, NO_TIME)),
        "resolved_at": cal.timestamps(np.where(resolved, resolved_s, NO_TIME)),
        "status": status.tolist(),
        "csat": ["" if not r else str(s) for r, s in zip(rated.tolist(), csat_score.tolist(), strict=True)],
        "agent_id": ids("agent", agent, unassigned),
        "is_escalated": bools(escalated),
        "updated_at": cal.timestamps(updated_s),
        "product_id": ids("product", product_id, no_product),
        "reopen_count": reopen_count.tolist(),
    }
    sink = ctx.sinks["support/tickets"]
    sink.write(cols)

    stale = np.flatnonzero(resolved & (updated_s - created_s > 600) & (rng.random(n) < ctx.rates.stale_versions))
    if len(stale):
        stale_cols = {k: [v[i] for i in stale.tolist()] for k, v in cols.items()}
        stale_cols["status"] = ["open"] * len(stale)
        stale_cols["resolved_at"] = [""] * len(stale)
        stale_cols["csat"] = [""] * len(stale)
        stale_cols["reopen_count"] = [0] * len(stale)
        stale_s = np.minimum(first_response_s[stale], resolved_s[stale] - 60)
        stale_s = np.minimum(np.maximum(stale_s, created_s[stale] + 1), updated_s[stale] - 1)
        stale_cols["updated_at"] = cal.timestamps(stale_s)
        sink.write(stale_cols)
        ctx.planted.stale_versions["support/tickets"].extend(ids("ticket", ticket_id[stale]))

    rows = []
    for kind_name in malformed_kinds:
        i = int(rng.integers(0, n))
        key = ids("ticket", ctx.take_ids("ticket", 1))[0]
        rows.append(malformed_row(sink, cols, i, kind_name, key, cal.as_of.year, "subject", "created_at", "csat"))
        ctx.planted.malformed_rows["support/tickets"].append((key, kind_name))
    sink.write_fields(rows)


def _product_load(batch: Batch, n_days: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(accounts, days) mean ticket propensity of the products an account runs that day (1 when
    none), and its subscriptions sorted by account for `_ticket_products`."""
    subs = batch.subs
    n_acc = len(batch.acc)
    weight = np.array([TICKET_PROPENSITY[p] for p in subs["product"].tolist()])
    start = np.clip(subs["start"], 0, n_days)
    end = np.clip(subs["end"], 0, n_days)
    load = np.zeros((n_acc, n_days + 1))
    count = np.zeros((n_acc, n_days + 1))
    np.add.at(load, (subs["acc"], start), weight)
    np.add.at(load, (subs["acc"], end), -weight)
    np.add.at(count, (subs["acc"], start), 1.0)
    np.add.at(count, (subs["acc"], end), -1.0)
    load, count = np.cumsum(load, axis=1)[:, :n_days], np.cumsum(count, axis=1)[:, :n_days]
    propensity = np.where(count > 0.5, load / np.maximum(count, 1.0), 1.0)
    order = np.argsort(subs["acc"], kind="stable")
    per_acc = np.bincount(subs["acc"], minlength=n_acc)
    live_subs = {"first": np.r_[0, np.cumsum(per_acc)[:-1]], "count": per_acc, "product": subs["product"][order],
                 "start": subs["start"][order], "end": subs["end"][order], "weight": weight[order]}
    return propensity, live_subs


def _onboarding_load(batch: Batch, n_days: int) -> np.ndarray:
    """(accounts, days) ticket multiplier: a late onboarding raises cases until two months after go-live."""
    if batch.onboarding_delay is None:
        return np.ones((len(batch.acc), 1))
    days = np.arange(n_days)
    settled = np.where(batch.go_live_day >= 0, batch.go_live_day, n_days) + 60
    window = days[None, :] < settled[:, None]
    return 1.0 + np.where(window, 0.06 * np.minimum(batch.onboarding_delay, 40.0)[:, None], 0.0)


def _ticket_products(rng: np.random.Generator, batch: Batch, la: np.ndarray, day: np.ndarray,
                     live_subs: dict[str, np.ndarray]) -> np.ndarray:
    """The product_id a ticket is about: one of the account's running subscriptions, the case-prone
    ones more often (0 when it runs none)."""
    pairs = live_subs["count"][la]
    ticket = np.repeat(np.arange(len(la)), pairs)
    within = np.arange(pairs.sum()) - np.repeat(np.r_[0, np.cumsum(pairs)[:-1]], pairs)
    s = live_subs["first"][la][ticket] + within
    running = (live_subs["start"][s] <= day[ticket]) & (live_subs["end"][s] > day[ticket])
    weight = np.where(running, live_subs["weight"][s], 0.0)
    total = np.bincount(ticket, weights=weight, minlength=len(la))
    cum = np.cumsum(weight)
    before = np.r_[0.0, cum][np.r_[0, np.cumsum(pairs)][:-1]]
    target = before + rng.random(len(la)) * total
    chosen = np.minimum(np.searchsorted(cum, target, side="right"), max(len(cum) - 1, 0))
    product = np.where(total > 0, live_subs["product"][s[chosen]] if len(cum) else 0, 0)
    return product.astype(np.int64)


def conversations(ctx: Context, batch: Batch) -> None:
    """Chat and WhatsApp threads that peak in the evening; the newest may be unassigned or unanswered."""
    a = ctx.accounts
    cal = ctx.cal
    end = cal.end_seconds
    rng = ctx.rng("chats", batch.index)
    acc = batch.acc
    kind = a.account_type[acc]
    per_day = (np.asarray(CHATS_PER_MONTH)[kind] / 30 * ctx.scale.support_rate)[:, None] * (1.0 + batch.ramp)
    la, day = _events(rng, batch, per_day)
    n = len(la)
    if n == 0:
        return
    ramp = batch.ramp[la, day]
    started_s = day * DAY + _hour_seconds(rng, CHAT_HOUR_WEIGHTS, n)
    african = a.region[acc[la]] <= 2
    channel = np.where(rng.random(n) < np.where(african, 0.75, 0.45), "whatsapp", "chat")
    topic = rng.choice(len(CHAT_TOPICS), n, p=CHAT_TOPIC_WEIGHTS)
    tone = (rng.random(n) >= 0.35 + 0.45 * ramp).astype(np.int64)  # 0 = negative
    agents = ctx.agents.active_ids()
    agent = agents[rng.integers(0, len(agents), n)]
    contact_pos = _pick_contact(rng, batch, la)
    n_in = np.minimum(1 + rng.poisson(1.2, n), 5)
    closer = (rng.random(n) < 0.5) & (n_in > 1)  # the agent's last message signs off
    n_msgs = 2 * n_in

    # the newest threads: some nobody picked up, some picked up but not answered yet
    recent = started_s > end - 36 * 3600
    unassigned = recent & (rng.random(n) < 0.3)
    unanswered = recent & ~unassigned & (rng.random(n) < 0.3)

    conv = np.repeat(np.arange(n), n_msgs)
    first_msg = np.r_[0, np.cumsum(n_msgs)[:-1]]
    pos = np.arange(len(conv)) - np.repeat(first_msg, n_msgs)
    outbound = pos % 2 == 1
    m = len(conv)
    speed = ctx.agents.speed[agent - 1][conv]
    gap = np.where(outbound, rng.lognormal(np.log(180), 0.8, m) * speed, rng.lognormal(np.log(100), 0.7, m))
    gap[pos == 0] = 0
    gap = np.rint(gap).astype(np.int64)
    offset = np.cumsum(gap)
    offset -= np.repeat(offset[first_msg], n_msgs)
    sent_s = started_s[conv] + offset
    keep = (sent_s < end) & ~(outbound & (unassigned | unanswered)[conv])
    last_s = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_s, conv[keep], sent_s[keep])
    has_out = np.zeros(n, dtype=bool)
    has_out[conv[keep & outbound]] = True
    kept_idx = np.flatnonzero(keep)
    final_msg = np.full(n, -1, dtype=np.int64)
    np.maximum.at(final_msg, conv[kept_idx], kept_idx)
    last_out = outbound[np.maximum(final_msg, 0)] & (final_msg >= 0)

    closed_s = last_s + rng.integers(5 * 60, 2 * 3600, n)
    can_close = has_out & last_out & (closed_s < end)
    closed = np.where(recent, can_close & (rng.random(n) < 0.5), can_close)
    status = np.where(closed, "closed", np.where(last_out, "pending", "open"))
    conv_id = ctx.take_ids("conversation", n)
    contact = batch.contact_id[contact_pos]
    ctx.sinks["support/conversations"].write({
        "conversation_id": conv_id.tolist(),
        "account_id": (acc[la] + 1).tolist(),
        "contact_id": contact.tolist(),
        "channel": channel.tolist(),
        "started_at": cal.timestamps(started_s),
        "assigned_agent_id": ids("agent", agent, unassigned),
        "status": status.tolist(),
        "closed_at": cal.timestamps(np.where(closed, closed_s, NO_TIME)),
    })

    # message texts
    k = kept_idx
    names = [batch.contact_name[i] for i in contact_pos.tolist()]
    product_pick = rng.integers(0, len(PRODUCTS), n)
    amount = rng.integers(20, 5000, n)
    invoice_no = rng.integers(10_000, 999_999, n)
    error_pick = rng.integers(0, len(ERROR_CODES), n)
    text_pick = rng.random(m)
    # customers drifting away mention the competitors courting them, above all when prices come up
    mentions = rng.random(n) < 0.01 + 0.3 * ramp + np.where(np.asarray(CHAT_TOPICS)[topic] == "pricing", 0.03, 0.0)
    competitor = rng.integers(0, len(COMPETITORS), n)
    mention_pick = rng.integers(0, len(COMPETITOR_MENTIONS), n)
    fills: dict[int, dict[str, str]] = {}
    bodies = []
    for i, c, p in zip(k.tolist(), conv[k].tolist(), pos[k].tolist(), strict=True):
        if p == 0:
            options = CHAT_OPENERS[(CHAT_TOPICS[topic[c]], int(tone[c]))]
        elif p % 2 == 0:
            options = CHAT_FOLLOWUPS[int(tone[c])]
        elif p == 1:
            options = AGENT_REPLIES[CHAT_TOPICS[topic[c]]]
        elif p == n_msgs[c] - 1 and closer[c]:
            options = AGENT_CLOSERS
        else:
            options = AGENT_FOLLOWUPS
        text = options[int(text_pick[i] * len(options))]
        if "{" in text:
            fill = fills.get(c)
            if fill is None:
                fill = fills[c] = {"product": PRODUCTS[product_pick[c]].name, "amount": f"{amount[c]:,}.00",
                                   "invoice": f"INV{invoice_no[c]}", "error": ERROR_CODES[error_pick[c]],
                                   "name": names[c]}
            text = text.format(**fill)
        if p == 0 and mentions[c]:
            text += " " + COMPETITOR_MENTIONS[mention_pick[c]].format(competitor=COMPETITORS[competitor[c]])
        bodies.append(text)
    out = outbound[k]
    author = np.where(out, [f"AGT-{x:04d}" for x in agent[conv[k]].tolist()],
                      [f"CON-{x:07d}" for x in contact[conv[k]].tolist()])
    ctx.sinks["support/messages"].write({
        "message_id": ctx.take_ids("message", len(k)).tolist(),
        "conversation_id": conv_id[conv[k]].tolist(),
        "sent_at": cal.timestamps(sent_s[k]),
        "direction": np.where(out, "outbound", "inbound").tolist(),
        "author_id": author.tolist(),
        "body": bodies,
    })
