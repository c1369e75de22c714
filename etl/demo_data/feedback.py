"""Customer feedback streams per account batch: onboarding milestones and NPS and CSAT surveys.

Planted signals: onboarding runs late more often for customers who leave within their first
year, and field work (site survey, installation) causes the longest delays, more so in Africa;
NPS falls in the decline before churn and after a dispute or a price rise; CSAT after onboarding
falls with its delay, and after a dispute depends on whether it was upheld.
"""

from __future__ import annotations

import numpy as np

from .calendar import DAY, NO_TIME
from .config import MILESTONES
from .context import Batch, Context
from .sink import ids
from .vocab import COMPETITORS, SURVEY_COMMENTS
from .world import NEVER

NPS_EVERY_DAYS = 182  # relationship surveys twice a year
RECENT_DAYS = 180  # how long a dispute or a price rise weighs on the next survey
AFRICAN_REGIONS = 3  # region indexes below this are in Africa


def onboarding(ctx: Context, batch: Batch) -> None:
    """Milestones from kickoff to go-live for the customers that started during the history."""
    a = ctx.accounts
    cal = ctx.cal
    n_days = cal.n_days
    rng = ctx.rng("onboarding", batch.index)
    acc = batch.acc
    n_acc = len(acc)
    start = a.start_day[acc]
    batch.onboarding_delay = np.zeros(n_acc)
    batch.go_live_day = np.full(n_acc, -1, dtype=np.int64)
    local = np.flatnonzero((start >= 0) & (start < n_days))
    n = len(local)
    if n == 0:
        return
    ai = acc[local]
    stop_day = np.minimum(a.churn_day[ai], n_days)
    early_churn = a.churn_day[ai] - start[local] < 400
    slowness = rng.lognormal(0.0, 0.5, n) * np.where(early_churn, 1.8, 1.0)
    plan_scale = np.where(a.account_type[ai] == 0, 1.0, 1.5)  # larger customers get longer plans
    african = a.region[ai] < AFRICAN_REGIONS
    done_before = start[local].astype(np.float64)
    rows: dict[str, list] = {k: [] for k in ("local", "step", "planned", "completed_s")}
    for step, milestone in enumerate(MILESTONES):
        planned = start[local] + np.rint(milestone.planned_day * plan_scale).astype(np.int64)
        delay = (milestone.typical_delay_days * np.where(african, milestone.africa_factor, 1.0) * slowness
                 * rng.lognormal(0.0, 0.7, n))
        done = np.maximum(planned, done_before) + delay
        completed_s = (done * DAY).astype(np.int64) + rng.integers(9 * 3600, 17 * 3600, n)
        finished = completed_s < stop_day * DAY
        rows["local"].append(local)
        rows["step"].append(np.full(n, step))
        rows["planned"].append(planned)
        rows["completed_s"].append(np.where(finished, completed_s, NO_TIME))
        done_before = np.where(finished, done, float(NEVER))  # later steps wait for ever
        if milestone.name == "go_live":
            live = np.flatnonzero(finished)
            batch.go_live_day[local[live]] = completed_s[live] // DAY
            batch.onboarding_delay[local] = np.where(finished, np.maximum(done - planned, 0.0),
                                                     np.maximum(np.minimum(stop_day, n_days) - planned, 0.0))
    # only the milestones that were due to start: an account churned before its plan has fewer
    row_local, step, planned, completed_s = (np.concatenate(rows[k]) for k in ("local", "step", "planned",
                                                                                "completed_s"))
    keep = planned < np.minimum(a.churn_day[acc[row_local]], n_days) + 30
    order = np.flatnonzero(keep)[np.lexsort((step[keep], row_local[keep]))]
    m = len(order)
    ctx.sinks["crm/onboarding_milestones"].write({
        "milestone_id": ctx.take_ids("milestone", m).tolist(),
        "account_id": (acc[row_local[order]] + 1).tolist(),
        "milestone": [MILESTONES[s].name for s in step[order].tolist()],
        "sequence": (step[order] + 1).tolist(),
        "owner_team": [MILESTONES[s].owner_team for s in step[order].tolist()],
        "planned_date": cal.dates(planned[order]),
        "completed_at": cal.timestamps(completed_s[order]),
    })


def _recent(keys_acc: np.ndarray, keys_day: np.ndarray, acc: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether each (account, day) had an event of the given (account, day) list in the RECENT_DAYS before."""
    if len(keys_acc) == 0:
        return np.zeros(len(acc), dtype=bool)
    span = NEVER * 4
    keys = np.sort(keys_acc * span + keys_day)
    upto = np.searchsorted(keys, acc * span + day, side="right")
    since = np.searchsorted(keys, acc * span + day - RECENT_DAYS, side="left")
    return upto > since


def _comments(rng: np.random.Generator, band: np.ndarray, wanted: np.ndarray) -> list[str]:
    pick = rng.random(len(band))
    competitor = rng.integers(0, len(COMPETITORS), len(band))
    out = []
    for b, w, p, c in zip(band.tolist(), wanted.tolist(), pick.tolist(), competitor.tolist(), strict=True):
        if not w:
            out.append("")
            continue
        options = SURVEY_COMMENTS[b]
        out.append(options[int(p * len(options))].format(competitor=COMPETITORS[c]))
    return out


def surveys(ctx: Context, batch: Batch) -> None:
    """Twice-yearly NPS surveys, and CSAT surveys after go-live and after a settled dispute."""
    cal = ctx.cal
    end = cal.end_seconds
    n_days = cal.n_days
    rng = ctx.rng("surveys", batch.index)
    n_acc = len(batch.acc)

    # relationship NPS while a customer
    phase = rng.integers(0, NPS_EVERY_DAYS, n_acc)
    rounds = n_days // NPS_EVERY_DAYS + 1
    la = np.repeat(np.arange(n_acc), rounds)
    day = phase[la] + NPS_EVERY_DAYS * np.tile(np.arange(rounds), n_acc)
    inside = day < n_days
    la, day = la[inside], day[inside]
    active = batch.active[la, day]
    la, day = la[active], day[active]
    ramp = batch.ramp[la, day]
    disputes = batch.disputes or {"acc": np.zeros(0, np.int64), "opened_day": np.zeros(0, np.int64),
                                  "resolved_day": np.zeros(0, np.int64), "upheld": np.zeros(0, bool)}
    changes = batch.price_changes
    rise_acc = batch.subs["acc"][changes["sub"]] if changes is not None else np.zeros(0, np.int64)
    rise_day = changes["day"] if changes is not None else np.zeros(0, np.int64)
    disputed = _recent(disputes["acc"], disputes["opened_day"], la, day)
    repriced = _recent(rise_acc, rise_day, la, day)
    onboarding_year = (batch.go_live_day[la] >= 0) & (day < batch.go_live_day[la] + 365)
    mood = rng.normal(8.0, 0.9, n_acc)
    latent = (mood[la] - 4.5 * ramp - 1.6 * disputed - 1.2 * repriced
              - 0.08 * np.minimum(batch.onboarding_delay[la], 30) * onboarding_year + rng.normal(0, 1.3, len(la)))
    nps = np.clip(np.rint(latent), 0, 10).astype(np.int64)
    nps_respond = rng.random(len(la)) < 0.38 - 0.15 * ramp
    nps_band = np.where(nps >= 9, "promoter", np.where(nps >= 7, "passive", "detractor"))

    # CSAT after go-live
    live = np.flatnonzero(batch.go_live_day >= 0)
    live_day = batch.go_live_day[live] + 1
    onboard_csat = np.clip(np.rint(4.6 - 0.07 * batch.onboarding_delay[live] + rng.normal(0, 0.6, len(live))), 1, 5)
    onboard_respond = rng.random(len(live)) < 0.55

    # CSAT after a dispute was settled
    settled = np.flatnonzero(disputes["resolved_day"] >= 0)
    settled_acc = disputes["acc"][settled]
    settled_day = disputes["resolved_day"][settled] + 1
    upheld = disputes["upheld"][settled]
    dispute_csat = np.clip(np.rint(np.where(upheld, 3.9, 2.3) + rng.normal(0, 0.8, len(settled))), 1, 5)
    dispute_respond = rng.random(len(settled)) < 0.4

    acc_all = np.r_[la, live, settled_acc]
    day_all = np.r_[day, live_day, settled_day]
    kind = np.r_[np.full(len(la), "nps"), np.full(len(live) + len(settled), "csat")]
    touchpoint = np.r_[np.full(len(la), "relationship"), np.full(len(live), "onboarding"),
                       np.full(len(settled), "billing_dispute")]
    score = np.r_[nps, onboard_csat, dispute_csat].astype(np.int64)
    respond = np.r_[nps_respond, onboard_respond, dispute_respond]
    csat_band = np.where(score >= 4, "promoter", np.where(score == 3, "passive", "detractor"))
    band = np.where(kind == "nps", np.r_[nps_band, csat_band[len(la):]], csat_band)
    n = len(acc_all)
    sent_s = day_all * DAY + rng.integers(8 * 3600, 11 * 3600, n)
    responded_s = sent_s + (rng.lognormal(np.log(1.2), 0.9, n) * DAY).astype(np.int64)
    keep = sent_s < end
    answered = respond & (responded_s < end)
    primary = rng.random(n) < 0.6
    contact_pos = batch.contact_first[acc_all] + np.where(
        primary, 0, (rng.random(n) * batch.contact_count[acc_all]).astype(np.int64))
    comment = _comments(rng, band, answered & (rng.random(n) < 0.35))
    order = np.flatnonzero(keep)[np.argsort(sent_s[keep], kind="stable")]
    is_nps = kind[order] == "nps"
    shown = answered[order]
    scores = score[order].astype(str)
    survey_id = ctx.take_ids("survey", len(order))
    cols = {
        "survey_id": survey_id.tolist(),
        "account_id": (batch.acc[acc_all[order]] + 1).tolist(),
        "contact_id": batch.contact_id[contact_pos[order]].tolist(),
        "survey_type": kind[order].tolist(),
        "touchpoint": touchpoint[order].tolist(),
        "sent_at": cal.timestamps(sent_s[order]),
        "responded_at": cal.timestamps(np.where(shown, responded_s[order], NO_TIME)),
        "nps_score": np.where(shown & is_nps, scores, "").tolist(),
        "csat_score": np.where(shown & ~is_nps, scores, "").tolist(),
        "comment": [comment[i] for i in order.tolist()],
    }
    sink = ctx.sinks["support/surveys"]
    # the survey tool exported a few sends before their answer came in: an unanswered version of
    # the survey first (there is no updated_at, so the later row is the current one)
    resent = np.flatnonzero(shown & (rng.random(len(order)) < ctx.rates.stale_versions))
    if len(resent):
        early = {k: [v[i] for i in resent.tolist()] for k, v in cols.items()}
        for column in ("responded_at", "nps_score", "csat_score", "comment"):
            early[column] = [""] * len(resent)
        sink.write(early)
        ctx.planted.stale_versions["support/surveys"].extend(ids("survey", survey_id[resent]))
    sink.write(cols)
