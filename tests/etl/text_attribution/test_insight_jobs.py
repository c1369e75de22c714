"""The attribution, text and summary jobs on the session's loaded demo data write the gold
tables the pages read, with figures checked against silver and gold independently."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from etl.insights.attribution import run_attribution
from etl.insights.summaries import run_account_summaries
from etl.insights.text import run_text_insights
from layouts.components import format_count, format_usd
from models.attribution import MAX_SHAPLEY_CHANNELS
from models.text import format_sentiment, format_signed_percent, summary_numbers


@pytest.fixture(scope="module")
def insights(loaded_database):
    """Run the three jobs once for this module (text first: summaries read its sentiment)."""
    return {"attribution": run_attribution(loaded_database, triggered_by="test"),
            "text": run_text_insights(loaded_database, triggered_by="test"),
            "summaries": run_account_summaries(loaded_database, triggered_by="test")}


def frame(database, sql: str, **params) -> pd.DataFrame:
    with database.session() as session:
        result = session.execute(text(sql), params)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def test_attribution_credits_every_converted_journey_in_every_model(loaded_database, insights):
    journeys = frame(loaded_database, """
        SELECT journey_id, bool_or(converted) AS converted,
               CAST(COALESCE(sum(conversion_value_usd) FILTER (WHERE converted), 0) AS double precision) AS value,
               CAST(date_trunc('month', max(occurred_at) AT TIME ZONE 'UTC') AS date) AS month
        FROM silver.touchpoints WHERE journey_id IS NOT NULL AND channel IS NOT NULL GROUP BY journey_id""")
    converted = journeys[journeys.converted].groupby("month").size()
    value = journeys[journeys.converted].groupby("month")["value"].sum()
    assert value.sum() > 0
    credited = frame(loaded_database, "SELECT month, model, sum(conversions) AS conversions, "
                                      "sum(conversion_value_usd) AS value "
                                      "FROM gold.attribution_monthly GROUP BY month, model")
    assert set(credited.model) == {"first_touch", "last_touch", "linear", "time_decay", "position_based", "markov",
                                   "shapley"}
    assert credited.groupby("month").model.nunique().eq(7).all()  # every model in every month
    for row in credited.itertuples():
        assert row.conversions == pytest.approx(converted.get(row.month, 0), abs=1e-6), (row.month, row.model)
        assert row.value == pytest.approx(value.get(row.month, 0), rel=1e-9, abs=1e-6), (row.month, row.model)
    assert insights["attribution"].journeys == len(journeys)

    gold = frame(loaded_database, "SELECT * FROM gold.attribution_monthly")
    markov = gold[gold.model == "markov"]
    assert markov.removal_effect.between(0, 1).all()
    assert gold[gold.model != "markov"].removal_effect.isna().all()
    # The demo data plants referral as a strong converter and social as a weak one.
    totals = markov.groupby("channel")[["conversions", "journeys"]].sum()
    per_journey = totals.conversions / totals.journeys
    assert per_journey["referral"] > per_journey["social"]

    campaigns = frame(loaded_database, "SELECT a.*, c.campaign_id AS known FROM gold.attribution_campaign a "
                                       "LEFT JOIN silver.campaigns c USING (campaign_id)")
    assert len(campaigns) > 0 and campaigns.known.notna().all()
    assert (campaigns.conversions >= 0).all()
    # Every model but Shapley credits every campaign. Campaign paths have more nodes than the exact
    # Shapley enumeration takes, so it keeps the MAX_SHAPLEY_CHANNELS - 1 reaching the most journeys
    # (channels among them) and pools the rest, whose pooled row is no campaign's.
    assert campaigns.campaign_id.nunique() > MAX_SHAPLEY_CHANNELS
    assert set(campaigns.model) == set(credited.model)
    others = campaigns[campaigns.model != "shapley"]
    assert others.groupby("model").campaign_id.nunique().nunique() == 1
    shapley = campaigns[campaigns.model == "shapley"]
    assert 0 < len(shapley) <= MAX_SHAPLEY_CHANNELS - 1
    assert (shapley.conversions >= 0).all()
    reach = others[others.model == "linear"].set_index("campaign_id").journeys
    assert shapley.journeys.min() >= reach.drop(shapley.campaign_id).max()  # the most-reaching ones kept


def test_text_job_scores_every_customer_text_once(loaded_database, insights):
    expected = frame(loaded_database, """
        SELECT (SELECT count(*) FROM silver.messages WHERE direction = 'inbound' AND btrim(COALESCE(body, '')) <> '')
             + (SELECT count(*) FROM silver.tickets WHERE btrim(COALESCE(subject, '')) <> '')
             + (SELECT count(*) FROM silver.replies WHERE btrim(COALESCE(body, '')) <> '') AS texts""").texts[0]
    scored = frame(loaded_database, "SELECT count(*) AS n FROM gold.text_score").n[0]
    assert scored == expected > 0
    assert frame(loaded_database, "SELECT sum(texts) AS n FROM gold.sentiment_daily").n[0] == scored

    again = run_text_insights(loaded_database, triggered_by="test")
    assert again.scored == 0  # incremental: nothing new, nothing scored

    openers = frame(loaded_database, """
        SELECT m.body, s.label FROM silver.messages m
        JOIN gold.text_score s ON s.source = 'message' AND s.item_id = m.message_id
        WHERE m.body LIKE 'No connectivity at the office%' OR m.body LIKE '%great service so far!'""")
    assert len(openers) > 0
    for body, label in openers.itertuples(index=False):
        assert label == ("negative" if body.startswith("No connectivity") else "positive"), body


def test_topic_trend_counts_match_the_scored_texts(loaded_database, insights):
    as_of = frame(loaded_database, "SELECT max(rate_date) AS d FROM silver.fx_rates").d[0]
    texts = frame(loaded_database, """
        SELECT CAST(COALESCE(m.sent_at, t.created_at, r.received_at) AS date) AS day, s.topics
        FROM gold.text_score s
        LEFT JOIN silver.messages m ON s.source = 'message' AND m.message_id = s.item_id
        LEFT JOIN silver.tickets t ON s.source = 'ticket' AND t.ticket_id = s.item_id
        LEFT JOIN silver.replies r ON s.source = 'reply' AND r.reply_id = s.item_id""")
    window = texts[(texts.day > as_of - timedelta(days=30)) & (texts.day <= as_of)]
    before = texts[(texts.day > as_of - timedelta(days=60)) & (texts.day <= as_of - timedelta(days=30))]
    trend = frame(loaded_database, "SELECT * FROM gold.topic_trend WHERE kind = 'topic' AND period_days = 30")
    assert len(trend) >= 5
    for row in trend.itertuples():
        assert row.mentions == sum(row.term in topics for topics in window.topics), row.term
        assert row.previous_mentions == sum(row.term in topics for topics in before.topics), row.term
    keywords = frame(loaded_database, "SELECT term FROM gold.topic_trend WHERE kind = 'keyword'")
    assert "invoice" in set(keywords.term) and "the" not in set(keywords.term)


def test_summary_numbers_equal_the_gold_values(loaded_database, insights):
    as_of, first_day = frame(loaded_database, "SELECT max(rate_date) AS a, min(rate_date) AS f "
                                              "FROM silver.fx_rates").iloc[0]
    sample = frame(loaded_database, """
        SELECT c.*, s.summary, s.facts FROM gold.customer_360 c JOIN gold.account_summary s USING (account_id)
        WHERE c.status = 'active' ORDER BY c.open_tickets DESC, c.overdue_usd DESC, c.account_id LIMIT 25""")
    assert len(sample) > 0
    assert insights["summaries"].accounts == frame(loaded_database, "SELECT count(*) AS n FROM gold.customer_360").n[0]
    # Facts count for the master account once gold.customer_360 has one row per master account.
    regional_rows = frame(loaded_database, """SELECT count(*) AS n FROM gold.customer_360 c JOIN silver.account_master am
                                              USING (account_id) WHERE am.master_account_id <> am.account_id""").n[0]
    members = frame(loaded_database, """SELECT a.account_id, COALESCE(am.master_account_id, a.account_id) AS customer
                                        FROM silver.accounts a LEFT JOIN silver.account_master am USING (account_id)""")
    if regional_rows:
        members["customer"] = members["account_id"]
    subs = frame(loaded_database, "SELECT account_id, start_date, end_date, mrr, currency FROM silver.subscriptions")
    subs = subs.merge(members, on="account_id")
    rates = frame(loaded_database, "SELECT day, currency, usd_per_unit FROM silver.fx_rates_daily")
    rate = {(r.day, r.currency): float(r.usd_per_unit) for r in rates.itertuples()}
    tickets = frame(loaded_database, "SELECT account_id, created_at FROM silver.tickets").merge(members, on="account_id")
    tickets["day"] = pd.to_datetime(tickets.created_at, utc=True).dt.date
    events = frame(loaded_database, "SELECT customer_id AS account_id, event_title FROM gold.timeline_events "
                                    "WHERE status = 'OPEN'").merge(members, on="account_id", how="left")
    events["customer_id"] = events.customer.fillna(events.account_id)
    events = events.groupby(["customer_id", "event_title"]).size().rename("n").reset_index()
    sentiment = frame(loaded_database, """SELECT account_id, sum(texts) AS texts, sum(negative) AS negative,
                                                 sum(compound_sum) / sum(texts) AS avg FROM gold.sentiment_daily
                                          WHERE day > CAST(:a AS date) - 30 AND day <= :a GROUP BY account_id""", a=as_of)

    def mrr_on(customer: str, days: int) -> float:
        day = as_of - timedelta(days=days)
        active = subs[(subs.customer == customer) & (subs.start_date <= day)
                      & (subs.end_date.isna() | (subs.end_date > day))]
        return round(sum(float(s.mrr) * rate[(max(day, first_day), s.currency)] for s in active.itertuples()), 2)

    for account in sample.itertuples():
        mrr = float(account.mrr_usd)
        allowed = {format_usd(mrr), format_count(account.active_services), "30", "90", "100",
                   format_count(account.open_tickets), format_usd(float(account.overdue_usd))}
        for days in (30, 90):
            before = mrr_on(account.account_id, days)
            allowed |= {format_usd(abs(mrr - before))}
            if before > 0:
                allowed.add(format_signed_percent((mrr - before) / before * 100))
        opened = tickets[tickets.customer == account.account_id]
        allowed |= {format_count(((opened.day > as_of - timedelta(days=d)) & (opened.day <= as_of)).sum())
                    for d in (30, 90)}
        mood = sentiment[sentiment.account_id == account.account_id]
        if len(mood):
            allowed |= {format_count(mood.texts.iloc[0]), format_count(mood.negative.iloc[0]),
                        format_sentiment(float(mood.avg.iloc[0]))}
        own_events = events[events.customer_id == account.account_id]
        allowed |= {format_count(n) for n in own_events.n} | {format_count(own_events.n.sum() - n)
                                                               for n in range(0, own_events.n.sum() + 1)}
        if account.churn_risk_score is not None and not pd.isna(account.churn_risk_score):
            allowed.add(format_count(account.churn_risk_score))
        summary = account.summary
        # Sentences other jobs wrote are quoted as they are; only our own numbers are checked here.
        for quoted in [*account.facts["risk_drivers"], *account.facts["anomalies"], account.facts["next_action"] or ""]:
            summary = summary.replace(quoted, "") if quoted else summary
        numbers = set(summary_numbers(summary))
        assert numbers <= allowed, (account.account_id, account.summary, numbers - allowed)
        assert format_usd(mrr) in account.summary
        if account.open_tickets:
            assert f"{format_count(account.open_tickets)} open ticket" in account.summary
        if float(account.overdue_usd) > 0:
            assert f"{format_usd(float(account.overdue_usd))} overdue" in account.summary


def test_page_queries_read_the_gold_tables(loaded_database, insights):
    from dashboard.queries.attribution_text import (
        account_summary,
        campaign_attribution,
        channel_attribution,
        sentiment_by_day,
        topic_cloud,
    )

    with loaded_database.session() as session:
        converted = session.scalar(text("SELECT sum(conversions) FROM gold.attribution_monthly WHERE model = 'last_touch'"))
        markov = channel_attribution(session, "markov")
        assert sum(c.conversions for c in markov) == pytest.approx(converted)
        assert markov == sorted(markov, key=lambda c: -c.conversions)
        assert all(c.removal_effect is not None for c in markov)
        assert campaign_attribution(session, "linear", limit=3)[0].campaign_name
        with pytest.raises(ValueError, match="unknown attribution model"):
            channel_attribution(session, "u-shaped")
        cloud = topic_cloud(session, 30)
        assert cloud[0].mentions >= cloud[-1].mentions > 0
        as_of = session.scalar(text("SELECT max(day) FROM gold.sentiment_daily"))
        days = sentiment_by_day(session, as_of - timedelta(days=6), as_of)
        assert 0 < len(days) <= 7 and all(-1 <= d.average <= 1 for d in days)
        account_id = session.scalar(text("SELECT min(account_id) FROM gold.customer_360"))
        summary = account_summary(session, account_id)
        assert summary is not None and summary.facts["account_id"] == account_id
        assert account_summary(session, "no-such-account") is None


def test_insight_jobs_are_scheduled_and_run_from_the_cli(settings, loaded_database, insights, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from dashboard.cli import main
    from etl.scheduler import jobs

    ids = {job.id for job in jobs(settings)}
    assert {"attribution", "text_insights", "account_summaries"} <= ids
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("C360_ENV", raising=False)
    account_id = frame(loaded_database, "SELECT min(account_id) AS a FROM gold.customer_360").a[0]
    result = CliRunner().invoke(main, ["insights", "summaries", "--account", account_id])
    assert result.exit_code == 0, result.output
    name = frame(loaded_database, "SELECT account_name FROM gold.customer_360 WHERE account_id = :a",
                 a=account_id).account_name[0]
    assert "Summarised" in result.output and name in result.output
