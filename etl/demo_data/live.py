"""A live demo feed: every tick drops a few new source records into the landing folder.

`c360 demo --live` calls `drop_batch` once a minute and then refreshes the data, so the
dashboard visibly moves on its own. New records reference accounts, contacts, agents and
campaigns that are already in silver, so every key resolves.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import text

from dashboard.db import Database
from dashboard.tables.landing import dataset
from etl.demo_data.vocab import CHAT_OPENERS, CHAT_TOPICS, TICKET_CATEGORIES, TICKET_SUBJECTS

# Values for the placeholders in the generator's message templates.
TEMPLATE_VALUES = {"product": "Fibre 1 Gbps", "amount": "$120.00", "invoice": "INV-LIVE", "error": "E-503",
                   "first_name": "there", "name": "there"}
SLA_MINUTES = {"P1": 15, "P2": 60, "P3": 240, "P4": 480}
LEAD_SOURCES = ("web", "campaign", "referral", "event", "partner")


@dataclass(frozen=True)
class LiveBatch:
    """What one tick wrote: rows per dataset, and the files."""

    at: datetime
    rows: dict[str, int]
    files: tuple[Path, ...]


@dataclass(frozen=True)
class _World:
    accounts: list[tuple[str, str, str]]  # account_id, region, country
    contacts: list[tuple[str, str]]  # contact_id, account_id
    agents: list[str]
    campaigns: list[tuple[str, str]]  # campaign_id, channel
    fx: list[tuple[str, str, date]]  # currency, latest usd_per_unit, its day
    products: dict[str, list[str]]  # account_id -> the products of its running subscriptions


def _load_world(database: Database, today: date) -> _World:
    with database.engine.connect() as conn:
        def rows(sql: str) -> list[tuple]:
            return [tuple(r) for r in conn.execute(text(sql), {"today": today})]

        return _World(
            accounts=rows("SELECT account_id, coalesce(region, ''), coalesce(country, '') "
                          "FROM silver.accounts WHERE status = 'active' ORDER BY account_id"),
            contacts=rows("SELECT c.contact_id, c.account_id FROM silver.contacts c "
                          "JOIN silver.accounts a USING (account_id) WHERE a.status = 'active' "
                          "ORDER BY c.contact_id"),
            agents=[r[0] for r in rows("SELECT DISTINCT agent_id FROM bronze.support_agents "
                                       "WHERE agent_id <> '' ORDER BY 1")],
            campaigns=rows("SELECT campaign_id, channel FROM silver.campaigns "
                           "WHERE status = 'active' ORDER BY campaign_id"),
            fx=rows("SELECT DISTINCT ON (currency) currency, usd_per_unit::text, rate_date FROM silver.fx_rates "
                    "ORDER BY currency, rate_date DESC"),
            products={account_id: list(products) for account_id, products in rows(
                "SELECT account_id, array_agg(DISTINCT product_id ORDER BY product_id) FROM silver.subscriptions "
                "WHERE end_date IS NULL OR end_date > :today GROUP BY account_id")},
        )


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(landing: Path, system: str, name: str, stamp: str, rows: list[list[str]]) -> Path | None:
    if not rows:
        return None
    folder = landing / system
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}_live_{stamp}.csv"
    partial = path.with_suffix(".csv.part")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(dataset(system, name).columns)
        writer.writerows(rows)
    # Rename last, so the loader never sees a half-written file.
    partial.rename(path)
    return path


def drop_batch(database: Database, landing: Path, *, now: datetime | None = None,
               seed: int | None = None, volume: float = 1.0) -> LiveBatch:
    """Write one minute's worth of new leads, tickets, NPS answers, chats and campaign sends.

    `volume` multiplies the record counts: about 30 gives a medium-scale day of these events.
    """
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    world = _load_world(database, now.date())
    if not world.accounts or not world.contacts:
        raise RuntimeError("The live feed needs loaded demo data: run `c360 demo` first.")
    rng = np.random.default_rng(seed if seed is not None else int(now.timestamp()))
    stamp = now.strftime("%Y%m%d%H%M%S")
    key = f"L{stamp}"
    files: dict[tuple[str, str], list[list[str]]] = {}

    def pick(seq: list, size: int) -> list:
        return [seq[i] for i in rng.integers(0, len(seq), size)]

    def how_many(low: int, high: int) -> int:
        return max(1, round(int(rng.integers(low, high)) * volume))

    leads = []
    for i, (_, region, country) in enumerate(pick(world.accounts, how_many(1, 4))):
        leads.append([f"LEAD-{key}-{i}", _ts(now - timedelta(seconds=int(rng.integers(0, 60)))),
                      "Live", f"Prospect {i}", f"Prospect Co {stamp[-4:]}{i}",
                      f"prospect{i}.{stamp}@example.com", "", country, region,
                      str(rng.choice(LEAD_SOURCES)), "new", "", "", _ts(now)])
    files[("crm", "leads")] = leads

    contact_account = dict(world.contacts)
    tickets = []
    for i, contact_id in enumerate(pick([c for c, _ in world.contacts], how_many(1, 5))):
        category = str(rng.choice(TICKET_CATEGORIES))
        severity = str(rng.choice(["P1", "P2", "P3", "P4"], p=[0.05, 0.2, 0.45, 0.3]))
        created = now - timedelta(minutes=int(rng.integers(1, 30)))
        responded = rng.random() < 0.6
        subject = TICKET_SUBJECTS[category][0].format(**TEMPLATE_VALUES)
        products = world.products.get(contact_account[contact_id], []) if category != "account_change" else []
        tickets.append([f"TCK-{key}-{i}", contact_account[contact_id], contact_id, _ts(created),
                        str(rng.choice(["email", "chat", "whatsapp", "phone"])), severity, category,
                        subject, str(SLA_MINUTES[severity]),
                        _ts(created + timedelta(minutes=int(rng.integers(2, 25)))) if responded else "",
                        "", "pending" if responded else "open", "",
                        pick(world.agents, 1)[0] if responded and world.agents else "", "false", _ts(now),
                        pick(products, 1)[0] if products else "", "0"])
    files[("support", "tickets")] = tickets

    # NPS answers trickle in from the latest survey wave
    surveys = []
    for i, contact_id in enumerate(pick([c for c, _ in world.contacts], how_many(0, 3))):
        sent = now - timedelta(hours=int(rng.integers(2, 72)))
        score = int(np.clip(np.rint(rng.normal(7.6, 1.8)), 0, 10))
        surveys.append([f"SRV-{key}-{i}", contact_account[contact_id], contact_id, "nps", "relationship",
                        _ts(sent), _ts(now - timedelta(seconds=int(rng.integers(0, 60)))), str(score), "", ""])
    files[("support", "surveys")] = surveys

    conversations, messages = [], []
    for i, contact_id in enumerate(pick([c for c, _ in world.contacts], how_many(1, 4))):
        conversation_id = f"CONV-{key}-{i}"
        started = now - timedelta(seconds=int(rng.integers(0, 60)))
        assigned = pick(world.agents, 1)[0] if world.agents and rng.random() < 0.7 else ""
        conversations.append([conversation_id, contact_account[contact_id], contact_id,
                              str(rng.choice(["chat", "whatsapp"])), _ts(started), assigned, "open", ""])
        topic = str(rng.choice(CHAT_TOPICS))
        opener = CHAT_OPENERS[(topic, int(rng.integers(0, 2)))][0]
        messages.append([f"MSG-{key}-{i}-0", conversation_id, _ts(started), "inbound", contact_id,
                         opener.format(**TEMPLATE_VALUES)])
        if assigned:
            messages.append([f"MSG-{key}-{i}-1", conversation_id, _ts(started + timedelta(seconds=40)),
                             "outbound", assigned, "Thanks for reaching out, I'm looking into this now."])
    files[("support", "conversations")] = conversations
    files[("support", "messages")] = messages

    sends = []
    if world.campaigns:
        campaign_id, channel = pick(world.campaigns, 1)[0]
        for i, contact_id in enumerate(pick([c for c, _ in world.contacts], how_many(10, 30))):
            delivered = rng.random() < 0.93
            read = delivered and channel != "sms" and rng.random() < 0.5
            replied = delivered and rng.random() < 0.06
            sent_at = now - timedelta(seconds=int(rng.integers(0, 60)))
            status = "replied" if replied else "read" if read else "delivered" if delivered else "sent"
            sends.append([f"SND-{key}-{i}", campaign_id, str(rng.choice(["A", "B"])), contact_id, channel,
                          _ts(sent_at), _ts(sent_at + timedelta(seconds=5)) if delivered else "",
                          _ts(sent_at + timedelta(seconds=30)) if read else "",
                          _ts(sent_at + timedelta(seconds=50)) if replied else "", status])
    files[("marketing", "sends")] = sends

    # Keep today's FX rates present, so the data's as-of date follows the clock. A new day's rate
    # moves a little, as real rates do; later batches of the same day repeat it.
    files[("billing", "fx_rates")] = [
        [now.date().isoformat(), currency,
         rate if day >= now.date() or currency == "USD" else f"{float(rate) * (1 + rng.normal(0, 0.003)):.10f}"]
        for currency, rate, day in world.fx]

    written = [p for (system, name), rows in files.items() if (p := _write(landing, system, name, stamp, rows))]
    return LiveBatch(at=now, rows={f"{s}/{n}": len(r) for (s, n), r in files.items()}, files=tuple(written))
