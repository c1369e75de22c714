"""My accounts' figures on the loaded and scored demo data, each recomputed independently with pandas:
book MRR (gold.subscription_mrr_daily, MRR's one definition), MRR at risk, renewals due, open actions,
at-risk share, product gaps against peers and upsell candidates; an account manager sees only their
CRM book; money and texts are masked by the policy."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, amount_band, mask_text
from dashboard.queries import book as q
from dashboard.scope import ACCOUNT_MANAGER, DataScope, scope_for

FULL = MaskPolicy(view_pii=True, view_financials=True)
MASKED = MaskPolicy(view_pii=False, view_financials=False)
# etl/gold/account_book.sql's definition of a product gap against peers.
PEER_SHARE, MIN_PEERS = 0.5, 5


def frame(session: Session, sql: str, **params) -> pd.DataFrame:
    result = session.execute(text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


@pytest.fixture()
def session(rolled_back: Session, insights_ran) -> Session:  # noqa: F811
    return rolled_back


@pytest.fixture()
def as_of(session: Session) -> date:
    day = q.data_as_of(session)
    assert day is not None
    return day


@pytest.fixture()
def masters(session: Session) -> pd.DataFrame:
    """Each regional account with its customer (master account)."""
    accounts = frame(session, "SELECT account_id, employee_count FROM silver.accounts")
    links = frame(session, "SELECT account_id, master_account_id FROM silver.account_master")
    merged = accounts.merge(links, on="account_id", how="left")
    merged["master_id"] = merged["master_account_id"].fillna(merged["account_id"])
    return merged


@pytest.fixture()
def customers(session: Session) -> pd.DataFrame:
    return frame(session, "SELECT account_id, account_name, segment, status, owner_user_id, risk_level, "
                          "last_interaction_at FROM gold.customer_360")


@pytest.fixture()
def mrr(session: Session, as_of: date, masters: pd.DataFrame) -> pd.Series:
    """MRR per customer on the as-of day, summed in pandas from the daily view's subscriptions."""
    daily = frame(session, "SELECT account_id, mrr_usd FROM gold.subscription_mrr_daily WHERE day = :day", day=as_of)
    daily = daily.merge(masters[["account_id", "master_id"]], on="account_id", how="left")
    daily["master_id"] = daily["master_id"].fillna(daily["account_id"])
    # gold.customer_360 keeps each customer's MRR in whole cents.
    return daily.groupby("master_id")["mrr_usd"].sum().astype(float).round(2)


@pytest.fixture()
def counting(session: Session, as_of: date, masters: pd.DataFrame) -> pd.DataFrame:
    """The subscriptions counting on the as-of day, with their customer and product line."""
    subs = frame(session, """
        SELECT s.subscription_id, s.account_id, s.start_date, s.end_date, p.product_family AS line,
               m.active_from, m.active_until
        FROM gold.subscription_mrr m JOIN silver.subscriptions s USING (subscription_id)
        LEFT JOIN silver.products p ON p.product_id = s.product_id""")
    subs = subs[(subs["active_from"] <= as_of) & (subs["active_until"].isna() | (subs["active_until"] > as_of))]
    subs = subs.merge(masters[["account_id", "master_id"]], on="account_id", how="left")
    assert len(subs) > 0
    return subs


def next_renewal(counting: pd.DataFrame, as_of: date) -> pd.Series:
    def anniversary(start: date) -> date:
        years = as_of.year - start.year - ((as_of.month, as_of.day) < (start.month, start.day)) + 1
        return (pd.Timestamp(start) + pd.DateOffset(years=years)).date()

    ends = counting["end_date"].where(counting["end_date"].notna() & (counting["end_date"] > as_of))
    nearest = [min(d for d in (anniversary(s), e) if d is not None and not pd.isna(d))
               for s, e in zip(counting["start_date"], ends, strict=True)]
    return pd.Series(nearest, index=counting["master_id"]).groupby(level=0).min()


def product_gaps(customers: pd.DataFrame, masters: pd.DataFrame, counting: pd.DataFrame) -> dict[str, set[str]]:
    employees = masters.groupby("master_id")["employee_count"].sum(min_count=1)
    people = customers.set_index("account_id")
    people["employees"] = employees.reindex(people.index)
    people["band"] = pd.cut(people["employees"], [-1, 49, 499, float("inf")], labels=["1-49", "50-499", "500+"]) \
        .astype(object).where(people["employees"].notna(), "Unknown")
    held = counting.dropna(subset=["line"]).groupby("master_id")["line"].agg(set)
    active = people[people["status"] == "active"]
    gaps: dict[str, set[str]] = {}
    for (segment, band), group in active.groupby(["segment", "band"]):
        members = list(group.index)
        for account_id in people[(people["segment"] == segment) & (people["band"] == band)].index:
            peers = [m for m in members if m != account_id]
            if len(peers) < MIN_PEERS:
                continue
            mine = held.get(account_id, set())
            counts = pd.Series([line for p in peers for line in held.get(p, set())]).value_counts()
            gaps[account_id] = {line for line, n in counts.items() if n >= PEER_SHARE * len(peers) and line not in mine}
    return {k: v for k, v in gaps.items() if v}


def test_the_whole_book_matches_pandas(session, as_of, customers, mrr, counting, masters):
    summary = q.book_summary(session, q.BookQuery(), DataScope.everything(), FULL)
    page = q.book_page(session, q.BookQuery(), DataScope.everything(), FULL)
    active = customers[customers["status"] == "active"]
    assert summary.accounts == page.book_size == page.matching == len(active) > 0
    assert summary.mrr_usd == pytest.approx(mrr.reindex(active["account_id"]).fillna(0).sum(), abs=0.05)
    at_risk = active[active["risk_level"] == "HIGH"]
    assert len(at_risk) > 0, "the scoring job rated no customer HIGH"
    assert summary.at_risk_accounts == len(at_risk)
    assert summary.at_risk_share == pytest.approx(len(at_risk) / len(active))
    assert summary.mrr_at_risk_usd == pytest.approx(mrr.reindex(at_risk["account_id"]).fillna(0).sum(), abs=0.05)

    renewals = next_renewal(counting, as_of).reindex(active["account_id"]).dropna()
    due = renewals[(renewals > as_of) & (renewals <= q.add_months(as_of, 6))]
    assert summary.renewals_due == len(due) > 0

    actions = frame(session, "SELECT customer_id, action_type FROM gold.next_best_action WHERE status = 'open'")
    in_book = actions[actions["customer_id"].isin(active["account_id"])]
    assert summary.open_actions == len(in_book) > 0


def test_renewals_and_product_gaps_per_account_match_pandas(session, as_of, customers, masters, counting):
    stored = frame(session, "SELECT account_id, next_renewal_date, gap_lines FROM gold.account_book") \
        .set_index("account_id")
    expected = next_renewal(counting, as_of)
    assert len(expected) > 0
    pd.testing.assert_series_equal(stored["next_renewal_date"].dropna().sort_index(),
                                   expected.sort_index().rename("next_renewal_date"), check_names=False,
                                   check_index_type=False)
    gaps = product_gaps(customers, masters, counting)
    assert gaps, "no customer lacks a product line most of its peers hold"
    found = {a: set(lines) for a, lines in stored["gap_lines"].items() if lines}
    assert found == gaps


def test_quick_filters_keep_what_they_say(session, as_of, customers):
    everything = DataScope.everything()
    whole = q.book_summary(session, q.BookQuery(), everything, FULL)
    at_risk = q.book_page(session, q.BookQuery("at-risk"), everything, FULL)
    assert at_risk.accounts and {a.risk_level for a in at_risk.accounts} == {"HIGH"}
    assert at_risk.matching == whole.at_risk_accounts
    assert any(a.top_reason for a in at_risk.accounts)

    for months in q.RENEWAL_MONTHS:
        renewing = q.book_page(session, q.BookQuery("renewals", months=months), everything, FULL)
        assert renewing.accounts
        assert all(as_of < a.next_renewal_date <= q.add_months(as_of, months) for a in renewing.accounts)
    three = q.book_page(session, q.BookQuery("renewals", months=3), everything, FULL)
    six = q.book_page(session, q.BookQuery("renewals", months=6), everything, FULL)
    assert three.matching <= six.matching == whole.renewals_due

    growth = frame(session, "SELECT DISTINCT customer_id FROM gold.next_best_action "
                            "WHERE status = 'open' AND action_type = 'Growth'")
    gapped = frame(session, "SELECT account_id FROM gold.account_book WHERE gap_count > 0")
    active = set(customers.loc[customers["status"] == "active", "account_id"])
    candidates = (set(growth["customer_id"]) | set(gapped["account_id"])) & active
    upsell = q.book_page(session, q.BookQuery("upsell"), everything, FULL, limit=q.EXPORT_LIMIT)
    assert {a.account_id for a in upsell.accounts} == candidates and candidates
    assert all(a.upsell_potential for a in upsell.accounts)

    days = 60
    quiet = q.book_page(session, q.BookQuery("no-contact", days=days), everything, FULL, limit=q.EXPORT_LIMIT)
    last = customers[customers["status"] == "active"].set_index("account_id")["last_interaction_at"]
    zone = session.scalar(text("SHOW TimeZone"))  # the day of a moment, as the query's cast to date sees it
    last_day = last.map(lambda t: None if pd.isna(t) else pd.Timestamp(t).tz_convert(zone).date())
    expected = {a for a, d in last_day.items() if d is None or d <= as_of - timedelta(days=days)}
    assert {a.account_id for a in quiet.accounts} == expected


def test_an_account_manager_sees_only_their_crm_book(session, customers):
    owners = customers[customers["status"] == "active"].groupby("owner_user_id")["account_id"].agg(list)
    owner = owners.map(len).idxmax()
    owned = customers.loc[customers["owner_user_id"] == owner, "account_id"]
    scope = scope_for(ACCOUNT_MANAGER, (), (), crm_user_id=owner, owned_account_ids=list(owned))
    page = q.book_page(session, q.BookQuery(), scope, FULL)
    assert page.accounts and {a.account_id for a in page.accounts} == set(owners[owner])
    assert q.book_summary(session, q.BookQuery(), scope, FULL).accounts == page.book_size == len(owners[owner])
    assert q.book_page(session, q.BookQuery(), DataScope.nothing(), FULL).empty_book
    assert q.book_summary(session, q.BookQuery(), DataScope.nothing(), FULL).accounts == 0
    feedback = q.book_feedback(session, scope, FULL)
    assert {c.account_id for c in feedback.comments} <= set(owned)
    assert {n.account_id for n in feedback.negative} <= set(owned)
    assert q.book_feedback(session, DataScope.nothing(), FULL).empty


def test_money_is_banded_and_texts_masked_without_permissions(session):
    everything = DataScope.everything()
    full = q.book_page(session, q.BookQuery(), everything, FULL)
    masked = q.book_page(session, q.BookQuery(), everything, MASKED)
    full_summary = q.book_summary(session, q.BookQuery(), everything, FULL)
    masked_summary = q.book_summary(session, q.BookQuery(), everything, MASKED)
    assert masked_summary.mrr_usd is None and masked_summary.mrr_band == amount_band(full_summary.mrr_usd)
    assert all(a.mrr_usd is None and a.clv_usd is None for a in masked.accounts)
    assert [a.mrr_band for a in masked.accounts] == [amount_band(a.mrr_usd) for a in full.accounts]
    grid = q.book_rows(masked, MASKED)
    assert grid.rows and all(isinstance(r["mrr_usd"], str) for r in grid.rows if r["mrr_usd"] is not None)

    feedback = q.book_feedback(session, everything, FULL)
    assert feedback.responses > 0 and feedback.comments and feedback.texts > 0 and feedback.negative
    hidden = q.book_feedback(session, everything, MASKED)
    assert [c.comment for c in hidden.comments] == [mask_text(c.comment, MASKED) for c in feedback.comments]


def test_feedback_figures_match_pandas(session, as_of, masters, customers):
    surveys = frame(session, "SELECT account_id, survey_type, nps_score, csat_score, responded_at FROM silver.surveys "
                             "WHERE responded_at IS NOT NULL")
    surveys = surveys.merge(masters[["account_id", "master_id"]], on="account_id", how="left")
    active = set(customers.loc[customers["status"] == "active", "account_id"])
    day = surveys["responded_at"].map(lambda t: pd.Timestamp(t).tz_convert("UTC").date())
    recent = surveys[surveys["master_id"].isin(active) & (day > as_of - timedelta(days=q.FEEDBACK_DAYS))]
    feedback = q.book_feedback(session, DataScope.everything(), FULL)
    assert feedback.responses == len(recent) > 0
    assert feedback.nps == pytest.approx(recent.loc[recent["survey_type"] == "nps", "nps_score"].mean())
    assert feedback.csat == pytest.approx(recent.loc[recent["survey_type"] == "csat", "csat_score"].mean())


def _scored_texts(session: Session, masters: pd.DataFrame) -> pd.DataFrame:
    """Every scored customer text with its customer, from silver and gold.text_score."""
    texts = frame(session, """
        SELECT 'message' AS source, m.message_id AS item_id, m.sent_at AS at, v.account_id
        FROM silver.messages m JOIN silver.conversations v USING (conversation_id)
        UNION ALL SELECT 'ticket', ticket_id, created_at, account_id FROM silver.tickets
        UNION ALL SELECT 'reply', r.reply_id, r.received_at, c.account_id
        FROM silver.replies r JOIN silver.contacts c USING (contact_id)""")
    scores = frame(session, "SELECT source, item_id, compound, label FROM gold.text_score")
    texts = texts.merge(scores, on=["source", "item_id"]).dropna(subset=["account_id", "at"])
    texts = texts.merge(masters[["account_id", "master_id"]], on="account_id", how="left")
    texts["master_id"] = texts["master_id"].fillna(texts["account_id"])
    texts["at"] = pd.to_datetime(texts["at"], utc=True)
    return texts


def test_feedback_sentiment_and_newest_texts_match_pandas(session, as_of, masters, customers):
    active = set(customers.loc[customers["status"] == "active", "account_id"])
    feedback = q.book_feedback(session, DataScope.everything(), FULL)

    texts = _scored_texts(session, masters)
    texts = texts[texts["master_id"].isin(active)]
    day = texts["at"].dt.date
    window = texts[(day > as_of - timedelta(days=q.SENTIMENT_DAYS)) & (day <= as_of)]
    assert feedback.texts == len(window) > 0
    assert feedback.average_sentiment == pytest.approx(window["compound"].mean())
    assert feedback.negative_share == pytest.approx((window["label"] == "negative").mean())

    negative = window[window["label"] == "negative"].sort_values(["at", "item_id"], ascending=[False, True])
    expected = [(r.master_id, r.source, r.at) for r in negative.head(q.NEGATIVE_TEXTS).itertuples()]
    assert [(n.account_id, n.source, pd.Timestamp(n.at)) for n in feedback.negative] == expected

    surveys = frame(session, "SELECT survey_id, account_id, survey_type, responded_at, comment FROM silver.surveys "
                             "WHERE responded_at IS NOT NULL AND btrim(COALESCE(comment, '')) <> ''")
    surveys = surveys.merge(masters[["account_id", "master_id"]], on="account_id", how="left")
    surveys = surveys[surveys["master_id"].isin(active)]
    surveys = surveys.sort_values(["responded_at", "survey_id"], ascending=[False, True])
    assert [(c.account_id, c.survey_type, c.comment) for c in feedback.comments] == \
        [(r.master_id, r.survey_type, r.comment) for r in surveys.head(q.RECENT_COMMENTS).itertuples()]


def test_the_books_copy_of_customer_columns_is_customer_360s(session):
    """gold.account_book copies the columns the book filters and orders by; scoring keeps risk in step."""
    columns = "account_id, status = 'active' AS active, account_name, territory, mrr_usd, risk_level, last_interaction_at"
    customers = frame(session, f"SELECT {columns} FROM gold.customer_360 ORDER BY account_id")
    copied = frame(session, "SELECT account_id, active, account_name, territory, mrr_usd, risk_level, "
                            "last_interaction_at FROM gold.account_book ORDER BY account_id")
    assert len(customers) > 0 and customers["risk_level"].notna().any()
    pd.testing.assert_frame_equal(copied, customers, check_dtype=False)
