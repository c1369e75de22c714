"""Engagement radar queries: every figure the page shows, recomputed independently with pandas.

The engagement scores are the scoring job's model output (gold.account_engagement,
gold.contact_engagement, gold.engagement_history): the tiers, the distribution, the drops' parts
and the peer comparison are recomputed from those outputs, with the documented thresholds and
weights typed here, not imported. The contacts' names, titles and emails come from the landing
files, through identity resolution's master contact (silver.contact_master).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.queries import engagement as q
from dashboard.queries.engagement import EngagementQuery
from dashboard.queries.freshness import GoldStatus
from dashboard.scope import DataScope
from tests.dashboard.queries.conftest import rolled_back  # noqa: F401
from tests.etl.reference import raw_rows

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
NO_PII = MaskPolicy(view_pii=False, view_financials=True)
# As documented in models/engagement.py's docstring.
POTENTIAL_MIN, WATCH_MIN = 0.60, 0.30
WEIGHTS = {"recency": 0.40, "frequency": 0.35, "depth": 0.25}


@pytest.fixture()
def session(rolled_back: Session, scored) -> Session:  # noqa: F811
    return rolled_back


def frame(session: Session, sql: str, **params) -> pd.DataFrame:
    result = session.execute(text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _outputs(session: Session) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    accounts = frame(session, "SELECT * FROM gold.account_engagement")
    accounts.index = accounts["account_id"].to_numpy()
    contacts = frame(session, "SELECT * FROM gold.contact_engagement")
    contacts.index = contacts["contact_id"].to_numpy()
    book = frame(session, "SELECT account_id, account_name, territory, active, peer_group FROM gold.account_book")
    return accounts, contacts, book.set_index("account_id")


def _territory_scope(book: pd.DataFrame) -> tuple[DataScope, set[str]]:
    """A sales manager's scope: the territory with the most customers."""
    territory = book["territory"].value_counts().index[0]
    return DataScope.restricted_to(territories=[territory]), set(book.index[book["territory"] == territory])


def _tier(score: float) -> str:
    return "Potential" if score >= POTENTIAL_MIN else "Watch List" if score >= WATCH_MIN else "Alert"


def test_the_job_writes_contact_details_previous_scores_and_history(session, pristine_landing_dir):
    accounts, contacts, _ = _outputs(session)
    assert len(accounts) > 50 and len(contacts) > 50
    # Tiers follow the documented thresholds, for customers and contacts alike.
    for rows in (accounts, contacts):
        assert (rows["engagement_score"].map(_tier) == rows["tier"]).all()
        assert rows["engagement_score"].between(0, 1).all()
    assert contacts["previous_engagement_score"].notna().mean() > 0.9
    # Name, title and email: the master contact's own landing row.
    landing = raw_rows(pristine_landing_dir, "crm/contacts").drop_duplicates("contact_id", keep="last")
    landing = landing.set_index("contact_id")
    sample = contacts[contacts["contact_id"].isin(landing.index)].head(200)
    assert len(sample) > 20
    for contact_id, row in sample.iterrows():
        source = landing.loc[contact_id]
        name = " ".join(p for p in (source["first_name"], source["last_name"]) if isinstance(p, str) and p)
        assert row["contact_name"] == (name or None)
        email = source["email"].strip().lower() if isinstance(source["email"], str) else None
        assert (row["email"] if isinstance(row["email"], str) else None) == email
    # The history keeps the as-of day's scores and parts, and the day drops are measured from.
    history = frame(session, "SELECT * FROM gold.engagement_history")
    as_of = history["as_of"].max()
    today = history[history["as_of"] == as_of].set_index("account_id")
    assert set(today.index) == set(accounts.index)
    for column in ("engagement_score", "recency", "frequency", "depth", "tier"):
        assert (today[column] == accounts[column].reindex(today.index)).all(), column
    before = history[history["as_of"] == as_of - timedelta(days=30)].set_index("account_id")
    previous = accounts["previous_engagement_score"].dropna()
    assert len(before) == len(previous) > 0
    assert np.allclose(before["engagement_score"].reindex(previous.index), previous)


@pytest.mark.parametrize("scoped", [False, True])
def test_tiers_count_customers_and_contacts_of_the_scope(session, scoped):
    accounts, contacts, book = _outputs(session)
    scope, members = _territory_scope(book) if scoped else (EVERYTHING, set(book.index))
    result = q.tiers(session, EngagementQuery(), scope, policy=FULL)
    assert not isinstance(result, GoldStatus)
    mine = accounts[accounts["account_id"].isin(members)]
    people = contacts[contacts["account_id"].isin(members)]
    expected = pd.DataFrame({"accounts": mine["engagement_score"].map(_tier).value_counts(),
                             "contacts": people["engagement_score"].map(_tier).value_counts()})
    expected = expected.reindex(["Potential", "Watch List", "Alert"]).fillna(0).astype(int)
    assert result.rows.set_index("tier")[["accounts", "contacts"]].equals(expected)
    assert result.accounts == len(mine) > 0 and result.contacts == len(people) > 0
    assert result.rows["account_share"].sum() == pytest.approx(1.0)
    # The rules on hover say the thresholds of the model.
    words = " ".join(rule for _, rule in result.rules)
    assert "0.60" in words and "0.30" in words and [t for t, _ in result.rules] == ["Potential", "Watch List", "Alert"]
    assert "40%" in result.score_rule and "0.20" in result.drop_rule


@pytest.mark.parametrize("scoped", [False, True])
def test_the_distribution_is_a_histogram_of_the_scores(session, scoped):
    accounts, contacts, book = _outputs(session)
    scope, members = _territory_scope(book) if scoped else (EVERYTHING, set(book.index))
    result = q.distribution(session, EngagementQuery(), scope, policy=FULL)
    for name, rows in (("accounts", accounts), ("contacts", contacts)):
        scores = rows.loc[rows["account_id"].isin(members), "engagement_score"].astype(float)
        band = np.minimum(np.floor(scores * 20), 19).astype(int)
        expected = band.value_counts().reindex(range(20), fill_value=0).to_numpy()
        assert result.bins[name].tolist() == expected.tolist(), name
        low, high = result.median_account if name == "accounts" else result.median_contact
        middle = scores.sort_values().iloc[(len(scores) + 1) // 2 - 1]  # the lower middle value
        assert high - low == pytest.approx(0.01) and low - 1e-9 <= middle <= high + 1e-9
    assert result.bins["bin_start"].iloc[0] == 0 and result.bins["bin_end"].iloc[-1] == 1
    assert result.thresholds == (WATCH_MIN, POTENTIAL_MIN)


@pytest.mark.parametrize("scoped", [False, True])
def test_sharp_drops_say_what_fell_and_since_when(session, scoped):
    accounts, _, book = _outputs(session)
    scope, members = _territory_scope(book) if scoped else (EVERYTHING, set(book.index))
    result = q.drops(session, EngagementQuery(), scope, policy=FULL)
    # A sharp drop: at least 0.20 and 30 % below the score 30 days before.
    fall = accounts["previous_engagement_score"] - accounts["engagement_score"]
    sharp = accounts[(fall >= 0.2 - 1e-9) & (fall >= 0.3 * accounts["previous_engagement_score"] - 1e-9)
                     & accounts["account_id"].isin(members)]
    assert set(sharp.index) == set(accounts.index[accounts["sharp_drop"] & accounts["account_id"].isin(members)])
    assert result.count == len(sharp)
    if not scoped:
        assert result.count > 0
    ranked = sharp.assign(fall=fall).sort_values(["fall", "account_id"], ascending=[False, True])
    rows = result.grid.rows
    assert [r["account_id"] for r in rows] == list(ranked.index[:q.DROP_LIMIT])
    history = frame(session, "SELECT * FROM gold.engagement_history")
    as_of = history["as_of"].max()
    before = history[history["as_of"] == as_of - timedelta(days=30)].set_index("account_id")
    for row in rows:
        account = ranked.loc[row["account_id"]]
        assert row["engagement_score"] == round(float(account["engagement_score"]), 2)
        assert row["engagement_fall"] == round(float(account["fall"]), 2)
        parts = {p: before.loc[row["account_id"], p] - account[p] for p in WEIGHTS}
        main = max(parts, key=lambda p: WEIGHTS[p] * parts[p])
        assert row["main_part"] == f"{main.title()} (\u2212{parts[main]:.2f})"
        # Only the two days are kept in a fresh history: the fall came after the day measured from.
        assert row["drop_since"] == as_of - timedelta(days=30)
        assert row["engagement_tier"] == _tier(account["engagement_score"])


def test_the_drop_starts_after_the_last_day_still_at_the_earlier_level(session):
    """With a daily history, 'since' is the last day the score was still at its level 30 days before."""
    accounts, _, _ = _outputs(session)
    dropped = accounts[accounts["sharp_drop"]].iloc[0]
    as_of = session.scalar(text("SELECT max(as_of) FROM gold.engagement_history"))
    level = float(dropped["previous_engagement_score"])
    for days, score in ((20, level + 0.01), (10, level - 0.05), (5, level)):
        session.execute(text("INSERT INTO gold.engagement_history VALUES (:a, :d, :s, 'Alert', 0, 0, 0)"),
                        {"a": dropped["account_id"], "d": as_of - timedelta(days=days), "s": score})
    result = q.drops(session, EngagementQuery(), EVERYTHING, policy=FULL)
    row = next(r for r in result.grid.rows if r["account_id"] == dropped["account_id"])
    assert row["drop_since"] == as_of - timedelta(days=5)


@pytest.mark.parametrize("scoped", [False, True])
def test_an_account_against_its_segment_and_size_band(session, scoped):
    accounts, _, book = _outputs(session)
    scope, members = _territory_scope(book) if scoped else (EVERYTHING, set(book.index))
    result = q.peers(session, EngagementQuery(), scope, policy=FULL)
    # The default account: the sharpest drop of the scope, else its lowest score.
    mine = accounts[accounts["account_id"].isin(members)].assign(
        fall=accounts["previous_engagement_score"] - accounts["engagement_score"])
    dropped = mine[mine["sharp_drop"]].sort_values(["fall", "account_id"], ascending=[False, True])
    default = dropped.index[0] if len(dropped) else \
        mine.sort_values(["engagement_score", "account_id"]).index[0]
    assert result.account_id == default
    group = book.loc[default, "peer_group"]
    assert result.peer_group == group
    others = book[(book["peer_group"] == group) & book["active"] & (book.index != default)].index
    peers = accounts.reindex(others).dropna(subset=["engagement_score"])
    assert result.peers == len(peers) > 0
    for column in ("engagement_score", "recency", "frequency", "depth"):
        assert result.peer_medians[column] == pytest.approx(peers[column].median(), abs=1e-4)
        assert result.peer_quartiles[column] == pytest.approx(
            (peers[column].quantile(0.25), peers[column].quantile(0.75)), abs=1e-4)
        assert result.account[column] == pytest.approx(accounts.loc[default, column])
    own = accounts.loc[default, "engagement_score"]
    expected = 100 * ((peers["engagement_score"] < own).sum() + 0.5 * (peers["engagement_score"] == own).sum()) \
        / len(peers)
    assert result.percentile == pytest.approx(round(expected, 1))
    # Another account of the scope, picked in the URL.
    other = sorted(members & set(accounts.index) - {default})[0]
    assert q.peers(session, EngagementQuery(account=other), scope, policy=FULL).account_id == other


def test_an_account_outside_the_scope_is_not_compared(session):
    _, _, book = _outputs(session)
    scope, members = _territory_scope(book)
    outside = sorted(set(book.index) - members)[0]
    result = q.peers(session, EngagementQuery(account=outside), scope, policy=FULL)
    assert result.account_id != outside and result.account_id in members
    assert any("not" in note.lower() or "no engagement" in note.lower() for note in result.resolved.notes)


@pytest.mark.parametrize("tier", [None, "Watch List"])
def test_the_customers_grid_holds_the_scope_s_customers_of_the_tier(session, tier):
    accounts, _, book = _outputs(session)
    scope, members = _territory_scope(book)
    result = q.accounts(session, EngagementQuery(tier=tier), scope, policy=FULL)
    mine = accounts[accounts["account_id"].isin(members)]
    if tier:
        mine = mine[mine["engagement_score"].map(_tier) == tier]
    ranked = mine.sort_values(["engagement_score", "account_id"], ascending=[False, True])
    assert result.total == len(ranked) > 0
    rows = result.grid.rows
    assert [r["account_id"] for r in rows] == list(ranked.index[:q.ACCOUNT_LIMIT])
    for row in rows:
        account = ranked.loc[row["account_id"]]
        change = account["engagement_score"] - account["previous_engagement_score"]
        assert row["engagement_change"] == (None if pd.isna(change) else round(float(change), 2))
        assert row["engagement_tier"] == _tier(account["engagement_score"])
        assert row["peer_percentile"] == round(float(account["peer_percentile"]), 0)


@pytest.mark.parametrize("tier", [None, "Potential", "Alert"])
def test_the_contacts_grid_holds_the_scope_s_contacts_with_their_trend(session, tier):
    _, contacts, book = _outputs(session)
    scope, members = _territory_scope(book)
    result = q.contacts(session, EngagementQuery(tier=tier), scope, policy=FULL)
    mine = contacts[contacts["account_id"].isin(members)]
    if tier:
        mine = mine[mine["engagement_score"].map(_tier) == tier]
    ranked = mine.sort_values(["engagement_score", "contact_id"], ascending=[False, True])
    assert result.total == len(ranked) > 0
    rows = result.grid.rows
    assert [r["contact_id"] for r in rows] == list(ranked.index[:q.CONTACT_LIMIT])
    for row in rows:
        contact = ranked.loc[row["contact_id"]]
        change = contact["engagement_score"] - contact["previous_engagement_score"]
        assert row["engagement_change"] == (None if pd.isna(change) else round(float(change), 2))
        word = ("new" if pd.isna(change) else "rising" if change >= 0.05 - 1e-9 else "falling"
                if change <= -0.05 + 1e-9 else "steady")
        assert row["engagement_trend"].endswith(word)
        assert row["email"] == (contact["email"] if isinstance(contact["email"], str) else None)
        assert row["account_id"] in members
        assert row["contact_tier"] == _tier(contact["engagement_score"])


def test_a_scope_with_named_accounts_counts_their_contacts_too(session):
    """Territory scopes count from the per-territory bands; a named account is not in them, so its
    contacts must still be counted row by row."""
    accounts, contacts, book = _outputs(session)
    scope, members = _territory_scope(book)
    outsider = contacts[~contacts["account_id"].isin(members)]["account_id"].iloc[0]
    scope = DataScope.restricted_to(territories=scope.territories, account_ids=[outsider])
    assert q.contacts(session, EngagementQuery(), scope, policy=FULL).total == contacts["account_id"].isin(
        members | {outsider}).sum()
    assert q.accounts(session, EngagementQuery(), scope, policy=FULL).total == accounts["account_id"].isin(
        members | {outsider}).sum()


def test_emails_and_phones_are_masked_without_view_pii(session):
    _, contacts, _ = _outputs(session)
    masked = q.contacts(session, EngagementQuery(), EVERYTHING, policy=NO_PII).grid.rows
    emails = set(contacts["email"].dropna())
    phones = set(contacts["phone"].dropna())
    assert masked and not any(r["email"] in emails for r in masked if r["email"])
    assert not any(r["phone"] in phones for r in masked if r["phone"])
    assert any("***@" in (r["email"] or "") for r in masked)
    campaign = q.export_campaign_list(session, {}, EVERYTHING, NO_PII)
    assert campaign.rows and not any(r["email"] in emails for r in campaign.rows if r["email"])


def test_the_campaign_list_holds_every_potential_contact_of_the_scope(session):
    _, contacts, book = _outputs(session)
    scope, members = _territory_scope(book)
    campaign = q.export_campaign_list(session, {"tier": ["Alert"]}, scope, FULL)
    expected = contacts[contacts["account_id"].isin(members) & (contacts["engagement_score"] >= POTENTIAL_MIN)]
    assert {r["contact_id"] for r in campaign.rows} == set(expected.index)
    assert {r["contact_tier"] for r in campaign.rows} == {"Potential"}


def test_the_exports_are_scoped_masked_and_need_view_sales(login_as, login_email, scoped_users, scope_facts,
                                                           scored):
    executive = login_as("executive")  # view_sales without view_pii
    response = executive.get("/export/eg-campaign-list.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and all("***" in row["Email"] for row in rows if row["Email"])
    assert login_as("support_lead").get("/export/eg-campaign-list.csv").status_code == 403
    sales = login_email(scoped_users["sales"])
    grid = sales.get("/export/eg-contacts.xlsx?tier=Potential")
    assert grid.status_code == 200 and "eg-contacts_potential.xlsx" in grid.headers["Content-Disposition"]
    listed = list(csv.DictReader(io.StringIO(sales.get("/export/eg-campaign-list.csv").get_data(as_text=True))))
    from dashboard.extensions import db

    with db.session() as db_session:
        allowed = set(db_session.scalars(text("SELECT account_name FROM gold.account_book WHERE account_id = ANY(:ids)"),
                                         {"ids": sorted(scope_facts.territory_accounts)}))
    assert listed and {row["Account"] for row in listed} <= allowed
    assert any("***" not in row["Email"] for row in listed if row["Email"])  # the sales manager has view_pii


def test_garbage_and_empty_states(session):
    for state in ({"tier": "nonsense"}, {"tier": ["x"], "account": {"y": 1}}, {"account": "x" * 10_000}):
        query = EngagementQuery.from_state(state)
        for panel in (q.tiers, q.distribution, q.drops, q.peers, q.accounts, q.contacts):
            assert not isinstance(panel(session, query, EVERYTHING, policy=FULL), GoldStatus)
    nothing = DataScope.nothing()
    assert q.tiers(session, EngagementQuery(), nothing, policy=FULL).accounts == 0
    assert q.contacts(session, EngagementQuery(), nothing, policy=FULL).grid.empty
    assert q.peers(session, EngagementQuery(), nothing, policy=FULL).account_id is None
    unknown = q.resolve(session, EngagementQuery(tier="nonsense"), EVERYTHING)
    assert unknown.tier is None and "Unknown tier" in unknown.notes[0]
