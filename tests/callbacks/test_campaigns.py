"""Campaigns: the funnel, the A/B verdicts, the send-time heatmap, ROI (with the configured conversion
window), attribution, the high-intent list and the side by side recomputed with pandas and statsmodels
from the landing files for every period; the high-intent list masked without personal-data access; the
period and the comparison written to the URL, garbage falling back; and the page's callbacks refused
server-side to a support lead."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import text
from sqlalchemy.orm import Session
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest

from callbacks.campaigns import PANELS, build_roi, write_comparison_to_url, write_period_to_url
from dashboard.masking import MaskPolicy
from dashboard.permissions import DEFAULT_ROLES
from dashboard.queries import campaigns as q
from dashboard.queries.campaigns import CampaignsQuery, VariantRow, compare_variants
from dashboard.scope import DataScope
from layouts.campaigns import CampaignsIds as ID
from tests.callbacks.test_morning_coffee import text_of
from tests.dashboard.queries.conftest import rolled_back  # noqa: F401
from tests.dashboard.security.dash_requests import post_callback, response_outputs
from tests.etl.reference import typed

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
ROLE_POLICY = {r.name: MaskPolicy.for_permissions(r.permissions) for r in DEFAULT_ROLES}
# The periods, measured back from the newest send day: days in each (None: every send).
PERIOD_DAYS = {"30d": 30, "90d": 90, "365d": 365, "all": None}
PERIODS = list(PERIOD_DAYS)
WINDOW = 30  # the conversion window the app ships with


@pytest.fixture(scope="module")
def attributed(loaded_database):
    from etl.insights.attribution import run_attribution

    run_attribution(loaded_database, triggered_by="test")
    return loaded_database


@pytest.fixture()
def session(rolled_back: Session, attributed) -> Session:  # noqa: F811
    return rolled_back


def _silver_ids(session: Session, table: str, column: str) -> set[str]:
    return set(session.scalars(text(f"SELECT {column} FROM silver.{table}")))


@pytest.fixture()
def sends(session, pristine_landing_dir) -> pd.DataFrame:
    """The landing sends that reached silver, inside gold's window, with their channel (the send's,
    else the campaign's) and a replied day."""
    frame = typed(pristine_landing_dir, "marketing/sends")
    frame = frame[frame["send_id"].isin(_silver_ids(session, "sends", "send_id"))]
    first_day, as_of = session.execute(text("SELECT min(rate_date), max(rate_date) FROM silver.fx_rates")).one()
    day = frame["sent_at"].dt.tz_convert("UTC").dt.date
    frame = frame[(day >= first_day) & (day <= as_of)].copy()
    campaigns = pd.read_csv(pristine_landing_dir / "marketing" / "campaigns.csv", dtype=str).set_index("campaign_id")
    frame["channel"] = frame["channel"].fillna(frame["campaign_id"].map(campaigns["channel"])).fillna("Unknown")
    return frame


def _period(sends: pd.DataFrame, period: str) -> tuple[pd.DataFrame, date, date]:
    """The sends of the period (from the newest send day back), with its first and last day."""
    day = sends["sent_at"].dt.tz_convert("UTC").dt.date
    last = day.max()
    first = day.min() if PERIOD_DAYS[period] is None else last - timedelta(days=PERIOD_DAYS[period] - 1)
    return sends[(day >= first) & (day <= last)], first, last


def _replies_in(sends: pd.DataFrame, period: str) -> pd.DataFrame:
    """The replies a period counts for conversions and high intent: from its first day on, to campaigns
    with sends in it (every reply for `all`)."""
    in_period, first, _ = _period(sends, period)
    replies = sends[sends["replied_at"].notna()].copy()
    replies["replied_day"] = replies["replied_at"].dt.tz_convert("UTC").dt.date
    if PERIOD_DAYS[period] is None:
        return replies
    return replies[(replies["replied_day"] >= first) & replies["campaign_id"].isin(set(in_period["campaign_id"]))]


@pytest.mark.parametrize("period", PERIODS)
def test_the_funnel_counts_every_step_per_channel_and_sms_has_no_read_receipts(session, sends, period):
    sends, first, last = _period(sends, period)
    result = q.funnel(session, CampaignsQuery(period=period), EVERYTHING, policy=FULL)
    assert (result.resolved.first_day, result.resolved.last_day) == (first, last)
    expected = sends.groupby("channel").agg(sent=("send_id", "size"), delivered=("delivered_at", "count"),
                                            read=("read_at", "count"), replied=("replied_at", "count"))
    got = {c.channel: c for c in result.channels}
    assert set(got) == set(expected.index)
    for channel, row in expected.iterrows():
        funnel_row = got[channel]
        assert (funnel_row.sent, funnel_row.delivered, funnel_row.replied) == (row.sent, row.delivered, row.replied)
        if row.read == 0:
            assert funnel_row.read is None and funnel_row.read_rate is None  # never shown as zero
            assert funnel_row.replied_rate == pytest.approx(row.replied / row.delivered)
        else:
            assert funnel_row.read == row.read
            assert funnel_row.read_rate == pytest.approx(row.read / row.delivered)
            assert funnel_row.replied_rate == pytest.approx(row.replied / row.read)
        assert funnel_row.delivered_rate == pytest.approx(row.delivered / row.sent)
        assert dict(funnel_row.drop_offs())["delivered"] == row.sent - row.delivered
    assert "sms" in got and got["sms"].read is None
    assert result.total.sent == len(sends) and result.total.replied == sends["replied_at"].notna().sum()
    per_campaign = sends.groupby(["campaign_id", "channel"]).size()
    assert {(r.campaign_id, r.channel): r.sent for r in result.rows} == per_campaign.to_dict()
    if period != "all":
        assert set(result.resolved.campaigns) == set(sends["campaign_id"])
    shown = text_of(PANELS[ID.FUNNEL](session, {"period": period}, scope=EVERYTHING, policy=FULL))
    assert "no read receipts" in shown
    assert f"{len(sends):,}" in shown


def _holm(p_values: list[float]) -> list[float]:
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


@pytest.mark.parametrize("period", PERIODS)
def test_the_ab_verdicts_match_statsmodels_on_the_landing_counts(session, sends, period):
    sends, _, _ = _period(sends, period)
    result = q.ab_tests(session, CampaignsQuery(period=period), EVERYTHING, policy=FULL)
    counts = sends[sends["variant"].notna()].groupby(["campaign_id", "variant"]).agg(
        sends=("send_id", "size"), replies=("replied_at", "count"))
    tests = {t.campaign_id: t for t in result.tests}
    campaigns_with_variants = {c for c, n in counts.groupby(level=0).size().items() if n >= 2}
    assert set(tests) == campaigns_with_variants and tests
    for campaign_id, test in tests.items():
        rows = counts.loc[campaign_id]
        control = rows.index[0]
        raw = []
        for variant in rows.index[1:]:
            n_v, x_v, n_c, x_c = (int(rows.loc[variant, "sends"]), int(rows.loc[variant, "replies"]),
                                  int(rows.loc[control, "sends"]), int(rows.loc[control, "replies"]))
            _, p = proportions_ztest([x_v, x_c], [n_v, n_c])
            raw.append((variant, float(p), n_v, x_v, n_c, x_c))
        adjusted = _holm([p for _, p, *_ in raw])
        for comparison, (variant, p, n_v, x_v, n_c, x_c), p_adj in zip(test.comparisons, raw, adjusted, strict=True):
            assert comparison.variant == variant and comparison.control == control
            assert comparison.p_value == pytest.approx(p)
            assert comparison.p_adjusted == pytest.approx(p_adj)
            low, high = confint_proportions_2indep(x_v, n_v, x_c, n_c, method="newcomb", compare="diff")
            assert (comparison.ci_low, comparison.ci_high) == pytest.approx((low, high))
            effect = abs(proportion_effectsize(x_v / n_v, x_c / n_c))
            # Two equal groups at 5% (two-sided) and 80% power: n = 2 ((z_0.975 + z_0.8) / h)^2.
            needed = math.ceil(2 * ((1.959964 + 0.841621) / effect) ** 2) if effect else None
            if needed is None:
                assert comparison.needed_per_variant is None
            else:
                assert comparison.needed_per_variant == pytest.approx(needed, rel=1e-5, abs=1)
                needed = comparison.needed_per_variant
            if p_adj < 0.05:
                assert comparison.verdict == (f"{variant} beats {control}" if x_v / n_v > x_c / n_c
                                              else f"stop: {control} is better")
            elif needed and needed > min(n_v, n_c):
                more = max(0, needed - n_v) + max(0, needed - n_c)
                assert comparison.verdict == f"no difference yet, need about {more:,} more sends"


def test_the_verdicts_read_plainly():
    better = compare_variants([VariantRow("A", 2000, 100), VariantRow("B", 2000, 170)])[0]
    assert better.verdict == "B beats A" and better.ci_low > 0
    worse = compare_variants([VariantRow("A", 2000, 170), VariantRow("B", 2000, 100)])[0]
    assert worse.verdict == "stop: A is better" and worse.ci_high < 0
    early = compare_variants([VariantRow("A", 100, 10), VariantRow("B", 100, 12)])[0]
    needed = math.ceil(NormalIndPower().solve_power(abs(proportion_effectsize(0.12, 0.10)), alpha=0.05, power=0.8))
    assert early.verdict == f"no difference yet, need about {2 * (needed - 100):,} more sends"
    # Three variants: Holm's correction as statsmodels computes it.
    several = compare_variants([VariantRow("A", 1000, 50), VariantRow("B", 1000, 75), VariantRow("C", 1000, 70)])
    raw = [proportions_ztest([x, 50], [1000, 1000])[1] for x in (75, 70)]
    assert [c.p_adjusted for c in several] == pytest.approx(list(multipletests(raw, method="holm")[1]))
    assert [c.p_adjusted for c in several] == pytest.approx(_holm(raw))


@pytest.mark.parametrize("control", [0.002, 0.03, 0.1, 0.25, 0.5, 0.8])
def test_the_sends_needed_are_what_statsmodels_solves_for(control):
    for lift in (1.01, 1.05, 1.2, 1.5, 2.0, 0.7):
        variant = min(control * lift, 0.999)
        effect = abs(proportion_effectsize(variant, control))
        expected = math.ceil(NormalIndPower().solve_power(effect, alpha=0.05, power=0.8, ratio=1.0))
        assert q.sends_needed(control, variant) == expected
    assert q.sends_needed(control, control) is None


@pytest.mark.parametrize("period", PERIODS)
def test_the_send_time_heatmap_counts_and_recommends_only_full_cells(session, sends, period):
    sends, _, _ = _period(sends, period)
    result = q.send_time(session, CampaignsQuery(period=period), EVERYTHING, policy=FULL)
    utc = sends["sent_at"].dt.tz_convert("UTC")
    grouped = sends.assign(weekday=utc.dt.day_of_week, hour=utc.dt.hour).groupby(["weekday", "hour"]).agg(
        sends=("send_id", "size"), replies=("replied_at", "count"))
    assert {(c.weekday, c.hour): (c.sends, c.replies) for c in result.cells} == {
        key: (int(r.sends), int(r.replies)) for key, r in grouped.iterrows()}
    full = grouped[grouped["sends"] >= q.MIN_CELL_SENDS]
    shown = PANELS[ID.SEND_TIME](session, {"period": period}, scope=EVERYTHING, policy=FULL)
    figure = json.loads(json.dumps(shown, default=lambda o: o.to_plotly_json()))
    if full.empty:  # the small data's last 30 days: no cell has enough sends to be recommended
        assert result.best is None and "none yet" in text_of(shown)
    else:
        from statsmodels.stats.proportion import proportion_confint

        assert result.best is not None and result.best.sends >= q.MIN_CELL_SENDS
        lower = {key: proportion_confint(r.replies, r.sends, method="wilson")[0] for key, r in full.iterrows()}
        assert lower[(result.best.weekday, result.best.hour)] == pytest.approx(max(lower.values()))
        assert "Best time" in text_of(shown) and result.best.label in text_of(shown)
    assert period != "all" or not full.empty
    thin = grouped[grouped["sends"] < q.MIN_CELL_SENDS]
    if not thin.empty:  # a thin cell is greyed out: no colour value
        weekday, hour = thin.index[0]
        z = _find_key(figure, "z")
        assert z[weekday][hour] is None


@pytest.mark.parametrize("trials", [1, 2, 7, 30, 31, 250, 10_000])
def test_the_closed_form_wilson_interval_is_statsmodels_own(trials):
    from statsmodels.stats.proportion import proportion_confint

    for successes in sorted({0, 1, trials // 3, trials // 2, trials - 1, trials}):
        expected = proportion_confint(successes, trials, alpha=q.ALPHA, method="wilson")
        assert q.wilson_interval(successes, trials) == pytest.approx(expected, abs=1e-12)
    assert q.wilson_interval(0, 0) is None


COUNTS = [(0, 1), (1, 1), (0, 40), (3, 40), (17, 40), (40, 40), (12, 900), (450, 900), (5, 10_000), (9_000, 10_000)]


@pytest.mark.parametrize("a", COUNTS)
def test_the_closed_form_two_proportion_tests_are_statsmodels_own(a):
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        proportion_effectsize,
        proportions_ztest,
    )

    for b in COUNTS:
        (x1, n1), (x2, n2) = a, b
        expected_p = float(proportions_ztest([x1, x2], [n1, n2])[1])
        got_p = q.two_proportion_p_value(x1, n1, x2, n2)
        assert (math.isnan(got_p) and math.isnan(expected_p)) or got_p == pytest.approx(expected_p, abs=1e-12)
        expected_ci = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=q.ALPHA)
        assert q.rate_difference_interval(x1, n1, x2, n2, alpha=q.ALPHA) == pytest.approx(
            [float(v) for v in expected_ci], abs=1e-12)
        assert q.proportion_effect_size(x1 / n1, x2 / n2) == pytest.approx(
            float(proportion_effectsize(x1 / n1, x2 / n2)), abs=1e-12)


@pytest.mark.parametrize("p_values", [[0.04], [0.01, 0.04], [0.03, 0.01, 0.2, 0.04], [0.5, 0.5, 0.001],
                                      [0.9, 0.8, 0.02, 0.02, 0.3]])
def test_holm_adjustment_is_statsmodels_own(p_values):
    from statsmodels.stats.multitest import multipletests

    expected = multipletests(p_values, alpha=q.ALPHA, method="holm")[1]
    assert q.holm_adjusted(p_values) == pytest.approx(list(expected), abs=1e-12)


def test_the_web_app_does_not_load_the_statistics_and_model_libraries():
    """Each web worker would hold them in memory (about 110 MB) for a few closed-form tests and constants."""
    code = ("import importlib, sys; import dashboard.app as app; "
            "[importlib.import_module(m) for m in app.CALLBACK_MODULES]; "
            "heavy = {'statsmodels', 'lightgbm', 'splink', 'duckdb'} & {n.split('.')[0] for n in sys.modules}; "
            "print(sorted(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1:] == ["[]"], result.stdout + result.stderr


def _find_key(tree: Any, key: str) -> Any:
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        tree = list(tree.values())
    if isinstance(tree, list):
        for item in tree:
            found = _find_key(item, key)
            if found is not None:
                return found
    return None


def _conversions(session: Session, sends: pd.DataFrame, landing, period: str, window_days: int) -> pd.DataFrame:
    """(campaign, won opportunity) pairs: a deal of the replying contact's account closed won within
    `window_days` days of a reply the period counts."""
    contacts = typed(landing, "crm/contacts")
    contacts = contacts[contacts["contact_id"].isin(_silver_ids(session, "contacts", "contact_id"))]
    deals = typed(landing, "crm/opportunities")
    deals = deals[deals["opportunity_id"].isin(_silver_ids(session, "opportunities", "opportunity_id"))]
    won = deals[deals["is_closed"].fillna(False).astype(bool) & deals["is_won"].fillna(False).astype(bool)]
    replies = _replies_in(sends, period)
    replies["account_id"] = replies["contact_id"].map(contacts.set_index("contact_id")["account_id"])
    replies["replied_day"] = pd.to_datetime(replies["replied_day"])
    pairs = replies.merge(won[["opportunity_id", "account_id", "close_date"]], on="account_id")
    window = pd.Timedelta(days=window_days)
    pairs = pairs[(pairs["close_date"] >= pairs["replied_day"]) & (pairs["close_date"] <= pairs["replied_day"] + window)]
    return pairs.drop_duplicates(["campaign_id", "opportunity_id"])


@pytest.mark.parametrize(("period", "window_days"), [("all", WINDOW), ("all", 7), ("365d", WINDOW), ("365d", 7),
                                                     ("90d", WINDOW), ("30d", 7)])
def test_roi_counts_won_deals_within_the_window_after_a_reply(session, sends, pristine_landing_dir, period,
                                                              window_days):
    result = q.roi(session, CampaignsQuery(period=period), EVERYTHING, policy=FULL, window_days=window_days)
    assert result.window_days == window_days
    pairs = _conversions(session, sends, pristine_landing_dir, period, window_days)
    expected = pairs.groupby("campaign_id").size()
    got = {r.key: r.conversions for r in result.campaigns}
    assert {k: v for k, v in got.items() if v} == expected.to_dict()
    assert result.total.conversions == pairs["opportunity_id"].nunique()
    in_period, _, _ = _period(sends, period)
    if period != "all":
        assert set(got) == set(in_period["campaign_id"])
    # A campaign's cost counts in the share of its sends made in the period.
    costs = {cid: None if c is None else float(c)
             for cid, c in session.execute(text("SELECT campaign_id, cost_usd FROM gold.campaign")).all()}
    share = in_period.groupby("campaign_id").size() / sends.groupby("campaign_id").size()
    period_cost = {cid: c if period == "all" else (None if c is None else c * share.get(cid, 0.0))
                   for cid, c in costs.items() if period == "all" or cid in share.index and share[cid] > 0}
    per_campaign_replies = in_period[in_period["replied_at"].notna()].groupby("campaign_id").size()
    per_campaign_delivered = in_period.groupby("campaign_id")["delivered_at"].count()
    for row in result.campaigns:
        assert row.delivered == per_campaign_delivered.get(row.key, 0)
        assert row.replies == per_campaign_replies.get(row.key, 0)
        if period_cost[row.key] is not None:
            assert row.cost_usd == pytest.approx(period_cost[row.key], abs=0.01)
            if row.replies:
                assert row.cost_per_reply_usd == pytest.approx(period_cost[row.key] / row.replies, abs=0.01)
    total_cost = sum(c or 0 for c in period_cost.values())
    assert result.total.cost_usd == pytest.approx(total_cost, abs=0.01)
    assert result.total.cost_per_delivered_usd == pytest.approx(total_cost / in_period["delivered_at"].count(),
                                                                abs=0.01)
    if result.total.conversions:
        assert result.total.cost_per_conversion_usd == pytest.approx(total_cost / result.total.conversions, abs=0.01)
    # The funnel's cost KPI is the same period cost.
    assert q.funnel(session, CampaignsQuery(period=period), EVERYTHING, policy=FULL).cost_usd == \
        pytest.approx(total_cost, abs=0.01)
    shown = text_of(build_roi(session, {"period": period}, scope=EVERYTHING, policy=FULL, window_days=window_days))
    assert f"within {window_days} days of the reply" in shown
    # Without financials the costs are bands and ROI is hidden.
    banded = q.roi(session, CampaignsQuery(period=period), EVERYTHING,
                   policy=MaskPolicy(view_pii=False, view_financials=False), window_days=window_days)
    assert isinstance(banded.total.cost_usd, str) and banded.total.roi is None


def test_a_shorter_conversion_window_counts_fewer_deals(session):
    month = q.roi(session, CampaignsQuery(period="all"), EVERYTHING, policy=FULL, window_days=30)
    week = q.roi(session, CampaignsQuery(period="all"), EVERYTHING, policy=FULL, window_days=7)
    assert week.total.conversions < month.total.conversions, "the demo data has deals won 8 to 30 days after a reply"


@pytest.mark.parametrize("period", PERIODS)
def test_attribution_counts_the_months_of_the_period(session, sends, period):
    in_period, first, last = _period(sends, period)
    result = q.attribution(session, CampaignsQuery(period=period), EVERYTHING, policy=FULL)
    monthly = pd.read_sql(text("SELECT month, model, channel, conversions FROM gold.attribution_monthly"),
                          session.connection())
    if period != "all":  # kept by month: every month the period touches, whole
        monthly = monthly[(monthly["month"] >= first.replace(day=1)) & (monthly["month"] <= last)]
    expected = monthly.groupby(["channel", "model"])["conversions"].sum()
    assert result.conversions == pytest.approx(expected.to_dict())
    assert set(result.models) >= set(monthly["model"]) and "markov" in result.models
    credited = {cid for cid, *_ in result.campaign_rows}
    assert period == "all" or credited <= set(in_period["campaign_id"])
    shown = text_of(PANELS[ID.ATTRIBUTION](session, {"period": period}, scope=EVERYTHING, policy=FULL))
    assert "by month" in shown
    if period == "30d":
        assert f"{first:%b}" in shown and f"{last:%b %Y}" in shown


def test_attribution_shows_every_model_present_side_by_side(session):
    result = q.attribution(session, CampaignsQuery(), EVERYTHING, policy=FULL)
    present = set(session.scalars(text("SELECT DISTINCT model FROM gold.attribution_monthly")))
    assert set(result.models) == present and "markov" in present
    assert any(v is not None for v in result.removal_effect.values())
    shown = text_of(PANELS[ID.ATTRIBUTION](session, {}, scope=EVERYTHING, policy=FULL))
    assert "Markov" in shown and "First touch" in shown and "Removal effect" in shown
    # A model added later (the check constraint dropped for the test) shows up without code.
    session.execute(text("ALTER TABLE gold.attribution_monthly DROP CONSTRAINT IF EXISTS ck_attribution_monthly_model"))
    session.execute(text("INSERT INTO gold.attribution_monthly (month, model, channel, journeys, conversions, "
                         "conversion_value_usd) SELECT month, 'zz_later_model', channel, journeys, conversions, "
                         "conversion_value_usd FROM gold.attribution_monthly WHERE model = 'linear'"))
    later = q.attribution(session, CampaignsQuery(), EVERYTHING, policy=FULL)
    assert later.models[-1] == "zz_later_model"
    assert "Zz later model" in text_of(PANELS[ID.ATTRIBUTION](session, {}, scope=EVERYTHING, policy=FULL))


@pytest.mark.parametrize("period", PERIODS)
def test_the_high_intent_list_counts_the_replies_of_the_period(session, sends, period):
    result = q.high_intent(session, CampaignsQuery(period=period), EVERYTHING, policy=FULL)
    replies = _replies_in(sends, period)
    replied = replies[replies["contact_id"].notna()].groupby("contact_id").size()
    expected = replied[replied > q.HIGH_INTENT_REPLIES]
    assert {r["contact_id"]: r["replies"] for r in result.grid.rows} == expected.to_dict()
    assert result.contacts == len(expected)
    if period == "all":
        assert result.grid.rows, "the demo data has contacts who replied more than 3 times"


@pytest.mark.parametrize("role", ["marketing_manager", "executive", "billing"])
def test_the_high_intent_list_is_masked_without_view_pii(session, pristine_landing_dir, role):
    policy = ROLE_POLICY[role]
    result = q.high_intent(session, CampaignsQuery(period="all"), EVERYTHING, policy=policy)
    assert result.grid.rows, "the demo data has contacts who replied more than 3 times"
    contacts = typed(pristine_landing_dir, "crm/contacts").set_index("contact_id")
    for row in result.grid.rows:
        raw_email = contacts.loc[row["contact_id"], "email"]
        if policy.view_pii:
            assert row["email"] is None or row["email"].lower() == str(raw_email).lower()
        else:
            assert row["email"] is None or ("***" in row["email"] and row["email"] != raw_email)
            assert row["phone"] is None or "*" in row["phone"]


def test_the_high_intent_list_keeps_to_the_data_scope(session):
    every_period = CampaignsQuery(period="all")
    assert q.high_intent(session, every_period, DataScope.nothing(), policy=FULL).grid.empty
    everyone = q.high_intent(session, every_period, EVERYTHING, policy=FULL)
    territory = session.scalar(text("SELECT territory FROM gold.campaign_reply WHERE contact_id = :c LIMIT 1"),
                               {"c": everyone.grid.rows[0]["contact_id"]})
    scoped = q.high_intent(session, every_period, DataScope.restricted_to(territories=[territory]), policy=FULL)
    assert everyone.grid.rows[0]["contact_id"] in {r["contact_id"] for r in scoped.grid.rows}
    assert len(scoped.grid.rows) <= len(everyone.grid.rows)


@pytest.mark.parametrize("period", PERIODS)
def test_the_comparison_holds_two_to_four_campaigns_of_the_period(session, sends, period):
    in_period, _, _ = _period(sends, period)
    ids = sorted(set(in_period["campaign_id"]))
    result = q.compare(session, CampaignsQuery(tuple(ids[:3]), period), EVERYTHING, policy=FULL)
    assert [f.campaign_id for f in result.funnels] == ids[:3]
    sent = in_period.groupby("campaign_id").size()
    replied = in_period.groupby("campaign_id")["replied_at"].count()
    assert [f.sent for f in result.funnels] == [sent[i] for i in ids[:3]]
    assert [f.replied for f in result.funnels] == [replied[i] for i in ids[:3]]
    day = in_period["sent_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    week = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.date
    weekly = in_period[in_period["campaign_id"] == ids[0]].groupby(week).agg(
        sends=("send_id", "size"), replies=("replied_at", "count"))
    assert list(result.weekly[ids[0]]) == [(w, int(r.sends), int(r.replies)) for w, r in weekly.iterrows()]
    if len(ids) > q.COMPARE_MAX:
        too_many = q.resolve(session, CampaignsQuery(tuple(ids[:6]), period), EVERYTHING)
        assert too_many.compare == tuple(ids[:4]) and too_many.notes
    unknown = q.resolve(session, CampaignsQuery(("nope", ids[0]), period), EVERYTHING)
    assert len(unknown.compare) == 2 and ids[0] in unknown.compare and "nope" in " ".join(unknown.notes)
    default = q.resolve(session, CampaignsQuery(period=period), EVERYTHING)
    assert len(default.compare) == 2 and not default.notes
    idle = sorted(set(sends["campaign_id"]) - set(in_period["campaign_id"]))
    if idle:  # a campaign that sent nothing in the period is left out, and says so
        left_out = q.resolve(session, CampaignsQuery((idle[0], ids[0], ids[1]), period), EVERYTHING)
        assert left_out.compare == (ids[0], ids[1]) and f"{idle[0]} sent nothing in the period" in left_out.notes[0]


@pytest.mark.parametrize("raw", ["yesterday", "7d", "", "ALL ", ["90d", "30d"], 90, None])
def test_the_period_is_read_from_the_url_and_garbage_falls_back(session, raw):
    resolved = q.resolve(session, CampaignsQuery.from_args({"period": raw}), EVERYTHING)
    if raw == "ALL ":
        assert resolved.period == "all" and not resolved.notes
    elif isinstance(raw, list):
        assert resolved.period == "90d" and not resolved.notes  # the first value counts
    elif raw in ("yesterday", "7d", 90):
        assert resolved.period == q.DEFAULT_PERIOD and "The period can be" in " ".join(resolved.notes)
    else:
        assert resolved.period == q.DEFAULT_PERIOD and not resolved.notes
    newest = session.scalar(text("SELECT max(day) FROM gold.campaign_daily"))
    assert resolved.last_day == newest
    assert CampaignsQuery(("CMP-0001",), "90d").search == "?period=90d&compare=CMP-0001"
    assert q.resolve(session, CampaignsQuery(period="90d"), EVERYTHING).canonical.period == "90d"
    assert q.resolve(session, CampaignsQuery(period="365d"), EVERYTHING).canonical.period is None


@pytest.mark.parametrize("state", [None, "junk", {"compare": "x"}, {"compare": [1, None]}, {"compare": ["a" * 900]},
                                   {"period": "x" * 900}, {"period": ["30d"]}, {"period": {"a": 1}}, {"period": 3.5}])
def test_garbage_state_never_raises(session, state):
    for output, build in PANELS.items():
        assert build(session, state, scope=EVERYTHING, policy=FULL) is not None, output
    assert build_roi(session, state, scope=EVERYTHING, policy=FULL, window_days=WINDOW) is not None


def test_the_picker_writes_the_url():
    state = {"compare": ["CMP-0001", "CMP-0002"]}
    assert write_comparison_to_url(["CMP-0003", "CMP-0001"], state) == \
        "?compare=CMP-0003&compare=CMP-0001"
    with pytest.raises(PreventUpdate):
        write_comparison_to_url(["CMP-0003"], state)  # one campaign: wait for another
    with pytest.raises(PreventUpdate):
        write_comparison_to_url(["CMP-0001", "CMP-0002"], state)
    # The period stays in the URL.
    assert write_comparison_to_url(["CMP-0003", "CMP-0001"], {**state, "period": "30d"}) == \
        "?period=30d&compare=CMP-0003&compare=CMP-0001"


def test_the_period_control_writes_the_url():
    state = {"compare": ["CMP-0001", "CMP-0002"], "period": None}
    assert write_period_to_url("90d", state) == "?period=90d&compare=CMP-0001&compare=CMP-0002"
    assert write_period_to_url("all", {"period": "90d"}) == "?period=all"
    assert write_period_to_url(q.DEFAULT_PERIOD, {"period": "90d"}) == ""  # the default stays out of the URL
    for unchanged, current in ((q.DEFAULT_PERIOD, state), ("30d", {"period": "30d"}), ("nonsense", state),
                               (None, state), (["30d"], state)):
        with pytest.raises(PreventUpdate):
            write_period_to_url(unchanged, current)


@pytest.mark.parametrize("output", [*PANELS, ID.ROI])
def test_a_marketing_manager_gets_the_panels_and_a_support_lead_is_refused(login_as, attributed, output):
    client = login_as("marketing_manager")
    response = post_callback(client, client.application, f"{output}.children", {f"{ID.STATE}.data": {}})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Something went wrong" not in json.dumps(response_outputs(response))
    refused = post_callback(login_as("support_lead"), client.application, f"{output}.children",
                            {f"{ID.STATE}.data": {}})
    assert refused.status_code == 403


def test_the_roi_panel_reads_the_conversion_window_of_the_settings(login_as, attributed):
    client = login_as("marketing_manager")
    settings = client.application.extensions["c360_settings"]
    client.application.extensions["c360_settings"] = dataclasses.replace(settings, conversion_window_days=7)
    try:
        response = post_callback(client, client.application, f"{ID.ROI}.children", {f"{ID.STATE}.data": {}})
    finally:
        client.application.extensions["c360_settings"] = settings
    assert response.status_code == 200
    shown = json.dumps(response_outputs(response))
    assert "within 7 days of the reply" in shown and "won within 7 days of a reply" in shown


def test_the_high_intent_export_is_masked_and_refused_without_the_page(login_as, attributed):
    client = login_as("marketing_manager")
    response = client.get("/export/cp-high-intent.csv?period=all")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Replies" in body.splitlines()[0] and "***@" in body
    assert login_as("support_lead").get("/export/cp-high-intent.csv").status_code == 403


def test_the_page_and_the_landing_of_the_marketing_manager(login_as, attributed):
    from dashboard.landing import landing_path

    assert landing_path("marketing_manager") == "/marketing"
    assert login_as("marketing_manager").get("/marketing").status_code == 200


def test_before_gold_is_built_every_panel_says_so(session):
    from dashboard.queries.freshness import gold_status
    from layouts import campaigns as page

    status = gold_status(session)
    for output in (page.kpis_output, page.funnel_output, page.ab_output, page.send_time_output, page.roi_output,
                   page.attribution_output, page.high_intent_output, page.compare_output):
        assert "No data yet" in text_of(output(status)), output.__name__
    session.execute(text("DELETE FROM gold.campaign"))
    assert q.resolve(session, CampaignsQuery(), EVERYTHING) is None
    assert isinstance(q.funnel(session, CampaignsQuery(), EVERYTHING, policy=FULL), type(status))
