"""Marketing and web streams: campaign sends and replies, attribution journeys, web sessions."""

from __future__ import annotations

import numpy as np

from .calendar import DAY, NO_TIME
from .context import Context
from .defects import malformed_row
from .sink import bools, ids
from .vocab import CAMPAIGN_REPLIES

DELIVERY_RATE = {"email": 0.95, "whatsapp": 0.93, "sms": 0.96}
READ_RATE = {"email": 0.22, "whatsapp": 0.72, "sms": 0.0}  # SMS has no read receipts
REPLY_RATE = {"email": 0.012, "whatsapp": 0.075, "sms": 0.035}  # of delivered messages, variant A, neutral hour
SEND_HOUR_WEIGHTS = np.array([0.2, 0.15, 0.15, 0.15, 0.2, 0.3, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                              1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.5, 0.3])
# people answer mid-morning and after dinner, and ignore messages that arrive at night
REPLY_HOUR_FACTOR = np.array([0.45] * 7 + [1.0, 1.0, 1.7, 1.7, 1.7] + [1.0] * 6 + [1.8, 1.8, 1.8] + [1.0, 0.45, 0.45])


def sends(ctx: Context, campaign: int, contacts: dict[str, np.ndarray]) -> None:
    """One row per recipient of a campaign; replies depend on variant, hour and channel."""
    a = ctx.accounts
    c = ctx.campaigns
    cal = ctx.cal
    end = cal.end_seconds
    rng = ctx.rng("sends", campaign)
    channel = c.channel[campaign]
    start_day, end_day = int(c.start_day[campaign]), int(c.end_day[campaign])
    start_s = start_day * DAY
    acc = contacts["account"]
    eligible = (contacts["created_s"] < start_s) & (a.start_day[acc] <= start_day) & (a.churn_day[acc] > start_day)
    eligible &= contacts["has_email"] if channel == "email" else contacts["has_phone"]
    if c.target_region[campaign] >= 0:
        eligible &= a.region[acc] == c.target_region[campaign]
    pool = np.flatnonzero(eligible)
    take = pool[rng.random(len(pool)) < ctx.scale.audience_fraction * rng.uniform(0.6, 1.0)]
    n = len(take)
    malformed_kinds = ctx.malformed_kinds("marketing/sends", campaign)
    if n == 0:
        ctx.carry_malformed("marketing/sends", malformed_kinds)
        return
    variant_b = rng.random(n) < 0.5
    last_day = min(end_day, cal.n_days - 1)
    day = rng.integers(start_day, last_day + 1, n)
    hour = rng.choice(24, n, p=SEND_HOUR_WEIGHTS / SEND_HOUR_WEIGHTS.sum())
    sent_s = day * DAY + hour * 3600 + rng.integers(0, 3600, n)
    sent_s = np.where(sent_s >= end, end - 1 - rng.integers(0, 3 * 3600, n), sent_s)
    order = np.argsort(sent_s, kind="stable")
    take, variant_b, sent_s, hour = take[order], variant_b[order], sent_s[order], hour[order]

    delivered = rng.random(n) < DELIVERY_RATE[channel]
    delivered_s = sent_s + rng.integers(1, 300, n)
    p_reply = REPLY_RATE[channel] * np.where(variant_b, c.lift_b[campaign], 1.0) * REPLY_HOUR_FACTOR[hour]
    replied = delivered & (rng.random(n) < p_reply)
    read = delivered & ((rng.random(n) < READ_RATE[channel]) | (replied & (channel != "sms")))
    read_s = delivered_s + np.rint(rng.lognormal(np.log(40 * 60), 1.0, n)).astype(np.int64)
    replied_s = np.where(read, read_s, delivered_s) + np.rint(rng.lognormal(np.log(12 * 60), 0.9, n)).astype(
        np.int64)
    delivered &= delivered_s < end
    read &= delivered & (read_s < end)
    replied &= delivered & (replied_s < end)
    status = np.where(replied, "replied", np.where(read, "read", np.where(
        delivered, "delivered", np.where(sent_s > end - 300, "sent", "failed"))))

    send_id = ctx.take_ids("send", n)
    contact_id = contacts["contact_id"][take]
    cols = {
        "send_id": send_id.tolist(),
        "campaign_id": [campaign + 1] * n,
        "variant": np.where(variant_b, "B", "A").tolist(),
        "contact_id": contact_id.tolist(),
        "channel": [channel] * n,
        "sent_at": cal.timestamps(sent_s),
        "delivered_at": cal.timestamps(np.where(delivered, delivered_s, NO_TIME)),
        "read_at": cal.timestamps(np.where(read, read_s, NO_TIME)),
        "replied_at": cal.timestamps(np.where(replied, replied_s, NO_TIME)),
        "status": status.tolist(),
    }
    sink = ctx.sinks["marketing/sends"]
    sink.write(cols)
    rows = []
    for kind in malformed_kinds:
        i = int(rng.integers(0, n))
        key = f"SND-{ctx.take_ids('send', 1)[0]:09d}"
        rows.append(malformed_row(sink, cols, i, kind, key, cal.as_of.year, "status", "sent_at", None))
        ctx.planted.malformed_rows["marketing/sends"].append((key, kind))
    sink.write_fields(rows)

    r = np.flatnonzero(replied)
    mood = rng.choice(3, len(r), p=(0.5, 0.3, 0.2))
    pick = rng.random(len(r))
    bodies = [CAMPAIGN_REPLIES[m][int(p * len(CAMPAIGN_REPLIES[m]))] for m, p in zip(mood.tolist(), pick.tolist(), strict=True)]
    ctx.sinks["marketing/replies"].write({
        "reply_id": ctx.take_ids("reply", len(r)).tolist(),
        "send_id": send_id[r].tolist(),
        "contact_id": contact_id[r].tolist(),
        "received_at": cal.timestamps(replied_s[r]),
        "body": bodies,
    })


TOUCH_CHANNELS = ("paid_search", "organic_search", "email", "whatsapp", "social", "webinar", "referral", "direct")
TOUCH_WEIGHTS = np.array([0.2, 0.2, 0.17, 0.1, 0.15, 0.06, 0.05, 0.07])
# log-odds each channel adds to converting when it appears in a journey
TOUCH_EFFECT = np.array([0.15, 0.1, 0.3, 0.5, -0.4, 0.9, 1.1, 0.35])


def touchpoints(ctx: Context, contacts: dict[str, np.ndarray], chunk: int = 20_000) -> None:
    """Journeys of 1-6 ordered touches; conversion depends on the channel mix."""
    cal = ctx.cal
    end = cal.end_seconds
    n_contacts = len(contacts["contact_id"])
    total = ctx.scale.journeys
    email_live = _live_campaigns(ctx, "email")
    wa_live = _live_campaigns(ctx, "whatsapp")
    for unit, lo in enumerate(range(0, total, chunk)):
        rng = ctx.rng("touchpoints", unit)
        n = min(chunk, total - lo)
        length = np.minimum(rng.geometric(0.38, n), 6)
        journey_id = ctx.take_ids("journey", n)
        start_s = rng.integers(0, end - DAY, n)
        known = (rng.random(n) < 0.7) & (n_contacts > 0)
        contact = rng.integers(0, max(n_contacts, 1), n)
        known &= contacts["created_s"][contact] <= start_s if n_contacts else known
        j = np.repeat(np.arange(n), length)
        first = np.r_[0, np.cumsum(length)[:-1]]
        pos = np.arange(len(j)) - np.repeat(first, length)
        m = len(j)
        ch = rng.choice(len(TOUCH_CHANNELS), m, p=TOUCH_WEIGHTS / TOUCH_WEIGHTS.sum())
        gap = np.where(pos == 0, 0, rng.exponential(3 * DAY, m)).astype(np.int64)
        offset = np.cumsum(gap)
        offset -= np.repeat(offset[first], length)
        at = start_s[j] + offset
        keep = at < end
        present = np.zeros((n, len(TOUCH_CHANNELS)))
        np.maximum.at(present, (j[keep], ch[keep]), 1.0)
        kept_len = np.bincount(j[keep], minlength=n)
        logit = -2.6 + present @ TOUCH_EFFECT + 0.15 * kept_len
        converts = rng.random(n) < 1 / (1 + np.exp(-logit))
        last_kept = np.full(n, -1, dtype=np.int64)
        np.maximum.at(last_kept, j[keep], np.flatnonzero(keep))
        is_conversion = np.zeros(m, dtype=bool)
        hit = last_kept[converts & (last_kept >= 0)]
        is_conversion[hit] = True
        value = np.round(rng.lognormal(np.log(4_000), 0.9, m), 2)

        k = np.flatnonzero(keep)
        day = (at[k] // DAY).tolist()
        campaign = []
        pick = rng.random(len(k))
        for t, d, p in zip(ch[k].tolist(), day, pick.tolist(), strict=True):
            live = email_live[d] if t == 2 else wa_live[d] if t == 3 else ()
            campaign.append(f"CMP-{live[int(p * len(live))]:04d}" if live else "")
        known_k = known[j[k]]
        contact_k = contacts["contact_id"][contact[j[k]]] if n_contacts else np.zeros(len(k), dtype=np.int64)
        account_k = contacts["account"][contact[j[k]]] + 1 if n_contacts else np.zeros(len(k), dtype=np.int64)
        ctx.sinks["marketing/touchpoints"].write({
            "touchpoint_id": ctx.take_ids("touchpoint", len(k)).tolist(),
            "journey_id": journey_id[j[k]].tolist(),
            "contact_id": ids("contact", contact_k, ~known_k),
            "account_id": ids("account", account_k, ~known_k),
            "occurred_at": cal.timestamps(at[k]),
            "channel": np.asarray(TOUCH_CHANNELS)[ch[k]].tolist(),
            "campaign_id": campaign,
            "converted": bools(is_conversion[k]),
            "conversion_value_usd": [f"{v:.2f}" if c else "" for v, c in
                                     zip(value[k].tolist(), is_conversion[k].tolist(), strict=True)],
        })


def _live_campaigns(ctx: Context, channel: str) -> list[tuple[int, ...]]:
    c = ctx.campaigns
    out: list[tuple[int, ...]] = [() for _ in range(ctx.cal.n_days)]
    for i, ch in enumerate(c.channel):
        if ch != channel:
            continue
        for d in range(int(c.start_day[i]), min(int(c.end_day[i]), ctx.cal.n_days - 1) + 1):
            out[d] = out[d] + (i + 1,)
    return out


WEB_SOURCES = (("google", "cpc"), ("google", "organic"), ("newsletter", "email"), ("linkedin", "social"),
               ("direct", "(none)"), ("facebook", "social"), ("partner", "referral"))
WEB_WEIGHTS = np.array([0.2, 0.3, 0.12, 0.1, 0.2, 0.04, 0.04])
WEB_CONVERSION = np.array([0.045, 0.03, 0.05, 0.015, 0.035, 0.01, 0.04])
WEB_KNOWN = np.array([0.15, 0.15, 0.9, 0.25, 0.3, 0.1, 0.3])  # share of sessions tied to a known contact
WEB_HOUR_WEIGHTS = np.array([0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.4, 1.6, 1.6, 1.5, 1.3, 1.5, 1.6, 1.5,
                             1.3, 1.1, 1.0, 1.0, 0.9, 0.7, 0.5, 0.3])


def web_sessions(ctx: Context, contacts: dict[str, np.ndarray], chunk_days: int = 60) -> None:
    """Web-analytics sessions, some tied to known contacts and email campaigns."""
    cal = ctx.cal
    a = ctx.accounts
    n_days = cal.n_days
    n_contacts = len(contacts["contact_id"])
    email_live = _live_campaigns(ctx, "email")
    for unit, lo in enumerate(range(0, n_days, chunk_days)):
        rng = ctx.rng("web", unit)
        days = np.arange(lo, min(lo + chunk_days, n_days))
        rate = ctx.scale.web_sessions_per_day * np.where(cal.weekday[days] < 5, 1.0, 0.6) * (1 + 0.3 * days / n_days)
        day = np.repeat(days, rng.poisson(rate))
        n = len(day)
        started_s = day * DAY + rng.choice(24, n, p=WEB_HOUR_WEIGHTS / WEB_HOUR_WEIGHTS.sum()) * 3600 \
            + rng.integers(0, 3600, n)
        src = rng.choice(len(WEB_SOURCES), n, p=WEB_WEIGHTS / WEB_WEIGHTS.sum())
        contact = rng.integers(0, max(n_contacts, 1), n)
        known = (rng.random(n) < WEB_KNOWN[src]) & (n_contacts > 0)
        if n_contacts:
            acc = contacts["account"][contact]
            known &= (contacts["created_s"][contact] <= started_s) & (a.churn_day[acc] > day)
        pageviews = np.minimum(rng.geometric(0.3, n), 40)
        duration = np.where(pageviews == 1, rng.integers(0, 60, n),
                            np.rint(pageviews * rng.lognormal(np.log(45), 0.6, n))).astype(np.int64)
        converted = rng.random(n) < WEB_CONVERSION[src] * np.minimum(pageviews / 3, 2.0)
        pick = rng.random(n)
        campaign = []
        for s, d, p in zip(src.tolist(), day.tolist(), pick.tolist(), strict=True):
            live = email_live[d] if s == 2 else ()
            campaign.append(f"CMP-{live[int(p * len(live))]:04d}" if live else "")
        contact_ids = contacts["contact_id"][contact] if n_contacts else np.zeros(n, dtype=np.int64)
        account_ids = contacts["account"][contact] + 1 if n_contacts else np.zeros(n, dtype=np.int64)
        ctx.sinks["web/sessions"].write({
            "session_id": ctx.take_ids("web_session", n).tolist(),
            "started_at": cal.timestamps(started_s),
            "contact_id": ids("contact", contact_ids, ~known),
            "account_id": ids("account", account_ids, ~known),
            "source": [WEB_SOURCES[s][0] for s in src.tolist()],
            "medium": [WEB_SOURCES[s][1] for s in src.tolist()],
            "campaign_id": campaign,
            "pageviews": pageviews.tolist(),
            "duration_seconds": duration.tolist(),
            "converted": bools(converted),
        })

