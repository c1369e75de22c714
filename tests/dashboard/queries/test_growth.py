"""Growth page queries: every figure the page shows, against an independent reading.

Contacts, leads and accounts are read from the pristine landing CSVs (tests/etl/reference.py: the newest
version per id, restricted to the ids that reached silver where the generator planted malformed rows);
periods, growth rates and trends are worked out again with pandas and numpy, and each contact's country
by a separate phonenumbers pass over the landing phone numbers.
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
from dashboard.scope import DataScope
from tests.etl.reference import typed

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
