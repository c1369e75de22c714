"""Growth page queries: every figure the page shows, against an independent reading.

Contacts, leads and accounts are read from the pristine landing CSVs (tests/etl/reference.py: the newest
version per id, restricted to the ids that reached silver where the generator planted malformed rows);
periods, growth rates and trends are worked out again with pandas and numpy, each contact's country
by a separate phonenumbers pass over the landing phone numbers, and each contact's segments from the
landing contacts, accounts and leads (the VIPs from the customers' MRR in gold.customer_360, checked by
its own tests, and their 90th percentile worked out here).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import phonenumbers
import pycountry
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.queries import growth as q
from dashboard.queries.growth import GrowthQuery
from dashboard.queries.support_insights import VIP_SHARE
from dashboard.scope import DataScope
from tests.etl.reference import contact_segments, segment_counts, typed

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
PERIOD_CODES = {"day": "D", "week": "W-SUN", "month": "M"}
MONTHLY = {"day": 365.25 / 12, "week": 365.25 / 12 / 7, "month": 1.0}


@pytest.fixture()
def session(rolled_back: Session) -> Session:
    return rolled_back


def _silver_ids(loaded_database, table: str, column: str) -> set[str]:
    with loaded_database.session() as s:
        return set(s.scalars(text(f"SELECT {column} FROM silver.{table}")))


@pytest.fixture(scope="module")
def contacts(pristine_landing_dir, loaded_database) -> pd.DataFrame:
    frame = typed(pristine_landing_dir, "crm/contacts")
    return frame[frame["contact_id"].isin(_silver_ids(loaded_database, "contacts", "contact_id"))]


@pytest.fixture(scope="module")
def leads(pristine_landing_dir, loaded_database) -> pd.DataFrame:
    frame = typed(pristine_landing_dir, "crm/leads")
    return frame[frame["lead_id"].isin(_silver_ids(loaded_database, "leads", "lead_id"))]


@pytest.fixture(scope="module")
def accounts(pristine_landing_dir) -> pd.DataFrame:
    return typed(pristine_landing_dir, "crm/accounts").set_index("account_id")


def _per_period(created: pd.Series, grain: str, first: pd.Timestamp, as_of: pd.Timestamp) -> pd.Series:
    """New records per period (start day -> count) from creation timestamps, with empty periods as 0."""
    days = created.dropna().dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    days = days[(days >= first) & (days <= as_of)]
    starts = days.dt.to_period(PERIOD_CODES[grain]).dt.start_time
    every = pd.period_range(first, as_of, freq=PERIOD_CODES[grain]).start_time
    return starts.value_counts().reindex(every, fill_value=0).sort_index()


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_velocity_counts_rates_and_trend_match_the_landing_files(session, contacts, leads, grain):
    result = q.velocity(session, GrowthQuery(grain), EVERYTHING, policy=FULL)
    assert result.resolved.grain == grain
    first, as_of = pd.Timestamp(result.periods[0]), pd.Timestamp(result.resolved.as_of)
    assert len(result.periods) == q.PERIODS_SHOWN[grain]
    for series, frame in ((result.contacts, contacts), (result.leads, leads)):
        expected = _per_period(frame["created_at"], grain, first, as_of)
        assert [p.isoformat() for p in result.periods] == [d.date().isoformat() for d in expected.index]
        assert list(series.counts) == expected.tolist(), series.label
        assert series.total > 0
        period_end = expected.index[-1].to_period(PERIOD_CODES[grain]).end_time.normalize()
        assert result.last_is_partial == (period_end != as_of)
        complete = expected.iloc[:-1] if result.last_is_partial else expected
        assert series.latest == complete.iloc[-1]
        assert series.previous == complete.iloc[-2]
        if complete.iloc[-2]:
            assert series.growth_rate == pytest.approx(complete.iloc[-1] / complete.iloc[-2] - 1)
        slope = np.polyfit(np.arange(len(complete)), complete.to_numpy(dtype=float), 1)[0]
        assert series.slope_per_month == pytest.approx(slope * MONTHLY[grain])
        rolling = complete.rolling(q.ROLLING[grain]).mean()
        assert series.rolling_mean[len(complete) - 1] == pytest.approx(rolling.iloc[-1])


def test_a_bad_grain_falls_back_to_weeks_with_a_note(session):
    resolved = q.resolve(session, GrowthQuery("fortnight<script>"), EVERYTHING)
    assert resolved.grain == "week" and resolved.notes
    assert q.resolve(session, GrowthQuery("MONTH"), EVERYTHING).grain == "month"


def test_contacts_growth_is_limited_to_the_callers_territories(session, contacts, accounts):
    territory = accounts["territory"].dropna().value_counts().index[0]
    everything = q.velocity(session, GrowthQuery("month"), EVERYTHING, policy=FULL)
    scoped = q.velocity(session, GrowthQuery("month"), DataScope.restricted_to([territory]), policy=FULL)
    first, as_of = pd.Timestamp(scoped.periods[0]), pd.Timestamp(scoped.resolved.as_of)
    in_territory = contacts[contacts["account_id"].map(accounts["territory"]) == territory]
    assert list(scoped.contacts.counts) == _per_period(in_territory["created_at"], "month", first, as_of).tolist()
    assert 0 < scoped.contacts.total < everything.contacts.total
    nothing = q.velocity(session, GrowthQuery("month"), DataScope.nothing(), policy=FULL)
    assert nothing.contacts.total == 0 and nothing.leads.total == 0


def _independent_country(phone: object) -> str:
    """ISO-3 of a phone number's country, worked out here on its own; '---' when unknown."""
    if not isinstance(phone, str):
        return "---"
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return "---"
    region = phonenumbers.region_code_for_number(number) if phonenumbers.is_valid_number(number) else None
    country = pycountry.countries.get(alpha_2=region) if region else None
    return country.alpha_3 if country else "---"


def test_country_counts_match_a_separate_phonenumbers_pass(session, contacts):
    result = q.geography(session, GrowthQuery(), EVERYTHING, policy=FULL)
    expected = contacts["phone"].map(_independent_country).value_counts()
    assert {r.iso3: r.contacts for r in result.rows} == expected.drop("---", errors="ignore").to_dict()
    assert result.unknown == int(expected.get("---", 0))
    assert result.total == len(contacts)
    assert len(result.rows) >= 5  # the demo data spans several continents
    assert [r.contacts for r in result.rows] == sorted((r.contacts for r in result.rows), reverse=True)
    assert all(len(r.iso3) == 3 and r.iso3.isupper() for r in result.rows)


def test_country_counts_follow_the_scope(session, contacts, accounts):
    territory = accounts["territory"].dropna().value_counts().index[0]
    in_territory = contacts[contacts["account_id"].map(accounts["territory"]) == territory]
    expected = in_territory["phone"].map(_independent_country).value_counts()
    scoped = q.geography(session, GrowthQuery(), DataScope.restricted_to([territory]), policy=FULL)
    assert {r.iso3: r.contacts for r in scoped.rows} == expected.drop("---", errors="ignore").to_dict()
    # An account assigned by name: counted contact by contact.
    account = in_territory["account_id"].value_counts().index[0]
    one = contacts[contacts["account_id"] == account]["phone"].map(_independent_country).value_counts()
    by_name = q.geography(session, GrowthQuery(), DataScope.restricted_to((), [account]), policy=FULL)
    assert {r.iso3: r.contacts for r in by_name.rows} == one.drop("---", errors="ignore").to_dict()
    assert by_name.resolved.notes  # new contacts per day count per territory only: said on the page
    assert q.geography(session, GrowthQuery(), DataScope.nothing(), policy=FULL).total == 0


def test_gold_never_keeps_a_phone_number(session):
    columns = set(session.scalars(text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'gold' "
        "AND table_name IN ('contact_country', 'contact_country_territory', 'contact_daily')")))
    assert columns and not any("phone" in c for c in columns)


# --- Segments ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def memberships(pristine_landing_dir, loaded_database) -> pd.DataFrame:
    with loaded_database.session() as s:
        mrr = pd.DataFrame(s.execute(text("SELECT account_id, CAST(mrr_usd AS float8) FROM gold.customer_360 "
                                          "WHERE mrr_usd > 0")).all(), columns=["customer", "mrr"])
        masters = dict(s.execute(text("SELECT account_id, master_account_id FROM silver.account_master")).all())
    vip_customers = set(mrr.loc[mrr["mrr"] >= np.percentile(mrr["mrr"], 100 * (1 - VIP_SHARE)), "customer"])
    accounts = typed(pristine_landing_dir, "crm/accounts")["account_id"]
    vip_accounts = {a for a in accounts if masters.get(a, a) in vip_customers}
    return contact_segments(pristine_landing_dir, vip_accounts, _silver_ids(loaded_database, "contacts", "contact_id"))


def _segment_figures(result) -> dict:
    figures = {("segment", r.key, ""): (r.contacts, r.new_latest, r.new_previous) for r in result.segments}
    figures.update({("attribute", r.key, r.value): (r.contacts, r.new_latest, r.new_previous) for r in result.values})
    return figures


@pytest.mark.parametrize("scoped", [False, True], ids=["company", "one-territory"])
def test_segments_match_the_landing_files_for_every_attribute(session, memberships, scoped):
    territories = {memberships.loc[memberships["kind"] == "all", "territory"].value_counts().index[0]} if scoped \
        else None
    scope = DataScope.restricted_to(territories) if scoped else EVERYTHING
    first = q.segments(session, GrowthQuery(), scope, policy=FULL)
    expected = segment_counts(memberships, first.latest_month, first.previous_month, territories)
    total = expected[("all", "", "")][0]
    assert first.total == total > 0
    key_counts = {}
    for (kind, key, _), (contacts, _, _) in expected.items():
        if kind == "attribute":
            key_counts[key] = key_counts.get(key, 0) + contacts
    assert dict(first.keys) == key_counts and len(key_counts) >= 4
    assert first.key == min(key_counts, key=lambda k: (-key_counts[k], k))  # the commonest by default
    for key in key_counts:
        result = q.segments(session, GrowthQuery(segment=key), scope, policy=FULL)
        wanted = {k: expected.get(k, (0, 0, 0)) for k in [("segment", n, "") for n in q.BUILT_IN_SEGMENTS]}
        wanted.update({k: v for k, v in expected.items() if k[0] == "attribute" and k[1] == key})
        assert _segment_figures(result) == wanted, key
        for row in (*result.segments, *result.values):
            assert row.share == pytest.approx(row.contacts / total)
            if row.new_previous:
                assert row.growth == pytest.approx(row.new_latest / row.new_previous - 1)
        assert [r.contacts for r in result.values if r.value != q.OTHER_VALUES] == sorted(
            (r.contacts for r in result.values if r.value != q.OTHER_VALUES), reverse=True)
        assert result.grid.rows[0]["contact_segment"] == "VIP" and len(result.grid.rows) == 3 + len(result.values)
    segments = {r.key: r.contacts for r in first.segments}
    assert all(segments.values()), segments  # the demo data has VIPs, leads and churned contacts


def test_a_free_text_attribute_is_capped_to_its_top_values(session):
    result = q.segments(session, GrowthQuery(segment="event"), EVERYTHING, policy=FULL)
    assert result.key == "event" and len(result.values) == q.TOP_VALUES + 1
    assert result.values[-1].value == q.OTHER_VALUES and result.values[-1].contacts > 0


def test_an_unknown_attribute_falls_back_with_a_note_and_the_scope_limits_segments(session):
    result = q.segments(session, GrowthQuery(segment="nope<script>"), EVERYTHING, policy=FULL)
    assert result.key == result.keys[0][0] and "nope<script>" in result.notes[0]
    assert q.segments(session, GrowthQuery(segment="TIER"), EVERYTHING, policy=FULL).key == "tier"
    nothing = q.segments(session, GrowthQuery(), DataScope.nothing(), policy=FULL)
    assert nothing.total == 0 and nothing.key is None and nothing.grid.empty
