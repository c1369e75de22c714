"""State shared by the generation steps: master data, random streams, id counters, sinks."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from .calendar import Calendar
from .config import DefectRates, Scale
from .defects import PlantedDefects
from .sink import Sinks
from .world import NEVER, Accounts, Agents, Campaigns, Users


def stream_rng(seed: int, stream: str, unit: int = 0) -> np.random.Generator:
    """An independent random stream per (seed, stream name, unit), stable across runs and versions."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(stream.encode()), unit]))


@dataclass
class ContactRegistry:
    """Every contact written so far, for the streams that address people (sends, journeys, web)."""

    contact_id: list[np.ndarray] = field(default_factory=list)
    account: list[np.ndarray] = field(default_factory=list)  # account index
    created_s: list[np.ndarray] = field(default_factory=list)
    has_email: list[np.ndarray] = field(default_factory=list)
    has_phone: list[np.ndarray] = field(default_factory=list)
    primary: dict[int, tuple[str, str, str, str]] = field(default_factory=dict)  # account -> names, email, phone

    def add(self, contact_id: np.ndarray, account: np.ndarray, created_s: np.ndarray, has_email: np.ndarray,
            has_phone: np.ndarray) -> None:
        """Register one batch of contacts."""
        self.contact_id.append(contact_id)
        self.account.append(account)
        self.created_s.append(created_s)
        self.has_email.append(has_email)
        self.has_phone.append(has_phone)

    def frozen(self) -> dict[str, np.ndarray]:
        """All registered contacts as flat arrays."""
        return {k: np.concatenate(getattr(self, k)) if getattr(self, k) else np.zeros(0, dtype=np.int64)
                for k in ("contact_id", "account", "created_s", "has_email", "has_phone")}


@dataclass
class Context:
    """Everything a generation step needs."""

    seed: int
    scale: Scale
    cal: Calendar
    rates: DefectRates
    planted: PlantedDefects
    sinks: Sinks
    fx: np.ndarray
    users: Users
    accounts: Accounts
    agents: Agents
    campaigns: Campaigns
    contacts: ContactRegistry = field(default_factory=ContactRegistry)
    counters: dict[str, int] = field(default_factory=dict)
    malformed: dict[str, dict[int, list[str]]] = field(default_factory=dict)
    _carried: dict[str, list[str]] = field(default_factory=dict)
    # Plant the lead-conversion signal (lead source, work email, phone); off for the control test.
    lead_signal: bool = True
    # Won USD per (owner user id, quarter's first day), gathered while deals are written, for the quotas.
    bookings: dict[tuple[int, str], float] = field(default_factory=dict)

    def rng(self, stream: str, unit: int = 0) -> np.random.Generator:
        """The random stream for one step and unit of work."""
        return stream_rng(self.seed, stream, unit)

    def malformed_kinds(self, key: str, unit: int) -> list[str]:
        """Malformed rows to plant in this unit of a file (including any a previous empty unit passed on)."""
        return self._carried.pop(key, []) + list(self.malformed.get(key, {}).get(unit, []))

    def carry_malformed(self, key: str, kinds: list[str]) -> None:
        """Pass malformed rows on to the next unit because this one wrote no rows."""
        if kinds:
            self._carried.setdefault(key, []).extend(kinds)

    def take_ids(self, kind: str, n: int) -> np.ndarray:
        """The next n integer ids of an entity (ids start at 1)."""
        start = self.counters.get(kind, 1)
        self.counters[kind] = start + n
        return np.arange(start, start + n, dtype=np.int64)


@dataclass
class Batch:
    """A slice of accounts processed together, with their day-by-day state."""

    index: int
    acc: np.ndarray  # account indexes
    active: np.ndarray  # (accounts, days): a paying customer on that day
    ramp: np.ndarray  # (accounts, days): 0 normally, rising to 1 over the decline before churn
    contact_first: np.ndarray | None = None  # per-account offset into the batch's contacts
    contact_count: np.ndarray | None = None
    contact_id: np.ndarray | None = None  # original (non-duplicate) contacts, grouped by account
    contact_name: list[str] | None = None
    subs: dict[str, np.ndarray] | None = None  # local account, product, start/end day, mrr
    one_offs: list[tuple[int, int, float]] = field(default_factory=list)  # (local account, close day, amount)
    # Price changes: subscription (index into `subs`), effective day, factor on the price before.
    price_changes: dict[str, np.ndarray] | None = None
    onboarding_delay: np.ndarray | None = None  # per local account: days go-live ran late (0: not onboarded)
    go_live_day: np.ndarray | None = None  # per local account: the day it went live (-1: not in the history)
    disputes: dict[str, np.ndarray] | None = None  # local account, opened and resolved day, upheld


def make_batch(ctx: Context, index: int, acc: np.ndarray) -> Batch:
    """Day-level activity and churn-decline ramps for a slice of accounts."""
    a = ctx.accounts
    n_days = ctx.cal.n_days
    days = np.arange(n_days)
    first = np.maximum(a.start_day[acc], 0)
    end = np.minimum(a.churn_day[acc], n_days)
    active = (days >= first[:, None]) & (days < end[:, None])
    # The decline runs up to the churn day, which may fall after as-of (an account at risk now).
    churn_day = np.minimum(a.churn_day[acc], a.upcoming_churn_day[acc])
    declining = churn_day < NEVER
    decline_start = churn_day - a.decline_days[acc]
    ramp = np.clip((days - decline_start[:, None]) / a.decline_days[acc][:, None], 0.0, 1.0)
    ramp = np.where(declining[:, None] & active, ramp, 0.0)
    return Batch(index, acc, active, ramp)
