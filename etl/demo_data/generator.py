"""The entry point: build the world, then stream every landing file."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import billing, crm, feedback, marketing, masters, support, usage
from .calendar import Calendar
from .config import SCALES, DefectRates
from .context import Context, make_batch, stream_rng
from .defects import PlantedDefects, plan_malformed
from .sink import Sinks
from .world import fx_table, make_accounts, make_agents, make_campaigns, make_users


@dataclass
class GenerationSummary:
    """What a generation run wrote, and the defects it planted."""

    out_dir: Path
    scale: str
    seed: int
    as_of: date
    rows: dict[str, int]  # keyed "system/name"
    seconds: float
    defects: PlantedDefects = field(default_factory=PlantedDefects)

    @property
    def total_rows(self) -> int:
        """Data rows over all files (headers excluded)."""
        return sum(self.rows.values())


def generate(out_dir: Path, *, scale: str = "medium", seed: int = 0, as_of: date | None = None,
             defects: DefectRates | None = None, progress: bool | None = None,
             lead_signal: bool = True) -> GenerationSummary:
    """Write the demo landing files under out_dir/<system>/<name>.csv and report what was written.

    `lead_signal=False` leaves out the planted lead-conversion signal (see crm.leads).
    """
    started = time.perf_counter()
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    spec = SCALES[scale]
    as_of = as_of or datetime.now(UTC).date()
    rates = defects if defects is not None else DefectRates()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if progress is None:
        progress = sys.stderr.isatty()

    cal = Calendar(as_of)
    planted = PlantedDefects()

    def rng(stream: str) -> np.random.Generator:
        return stream_rng(seed, stream)

    fx = fx_table(rng("fx"), cal.n_days)
    users = make_users(rng("users"), spec, cal)
    accounts, cross_pairs = make_accounts(rng("accounts"), spec, cal, users, rates.cross_region_accounts,
                                          rates.missing_account_industry)
    planted.cross_region_accounts.extend((f"ACC-{t:06d}", f"ACC-{o:06d}") for t, o in cross_pairs)
    agents = make_agents(rng("agents"), spec)
    campaigns = make_campaigns(rng("campaigns"), spec, cal, fx)

    batches = [(i, lo) for i, lo in enumerate(range(0, accounts.n, spec.batch_accounts))]
    n_campaigns = len(campaigns.name)
    plan_rng = rng("malformed")
    per_file = rates.malformed_rows_per_file
    malformed = {
        "crm/accounts": plan_malformed(plan_rng, 1, per_file),
        "crm/contacts": plan_malformed(plan_rng, len(batches), per_file),
        "support/tickets": plan_malformed(plan_rng, len(batches), per_file),
        "billing/invoices": plan_malformed(plan_rng, len(batches), per_file),
        "marketing/sends": plan_malformed(plan_rng, n_campaigns, per_file),
    }

    sinks = Sinks(out_dir)
    ctx = Context(seed, spec, cal, rates, planted, sinks, fx, users, accounts, agents, campaigns,
                  counters={"account": accounts.n + 1}, malformed=malformed, lead_signal=lead_signal)
    bar = tqdm(total=len(batches) + n_campaigns + 4, desc=f"demo-data {scale}", unit="step",
               disable=not progress, file=sys.stderr)
    try:
        masters.write_fx(ctx)
        masters.write_products(ctx)
        masters.write_users(ctx)
        masters.write_agents(ctx)
        masters.write_accounts(ctx)
        masters.write_campaigns(ctx)
        bar.update(1)
        for index, lo in batches:
            batch = make_batch(ctx, index, np.arange(lo, min(lo + spec.batch_accounts, accounts.n)))
            crm.contacts(ctx, batch)
            crm.deals(ctx, batch)
            feedback.onboarding(ctx, batch)
            crm.meetings(ctx, batch)
            crm.emails(ctx, batch)
            usage.usage_daily(ctx, batch)
            support.tickets(ctx, batch)
            support.conversations(ctx, batch)
            billing.invoices(ctx, batch)
            feedback.surveys(ctx, batch)
            bar.update(1)
        crm.leads(ctx)
        crm.quotas(ctx)
        bar.update(1)
        everyone = ctx.contacts.frozen()
        for campaign in range(n_campaigns):
            marketing.sends(ctx, campaign, everyone)
            bar.update(1)
        marketing.touchpoints(ctx, everyone)
        bar.update(1)
        marketing.web_sessions(ctx, everyone)
        bar.update(1)
    finally:
        sinks.close()
        bar.close()
    return GenerationSummary(out_dir=out_dir, scale=scale, seed=seed, as_of=as_of, rows=sinks.row_counts(),
                             seconds=time.perf_counter() - started, defects=planted.freeze())
