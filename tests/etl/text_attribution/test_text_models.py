"""Sentiment, topics, keywords and summary templates on texts with known answers."""

from __future__ import annotations

from datetime import date

import pytest

from layouts.components import format_count, format_usd
from models.text import (
    AccountFacts,
    NumberFormats,
    TextInputError,
    detect_topics,
    extract_keywords,
    keyword_counts,
    score_sentiment,
    summarise_account,
    summary_numbers,
)

PAGE_FORMATS = NumberFormats(usd=format_usd, count=format_count)


def test_sentiment_of_clearly_positive_and_negative_sentences():
    texts = ["Thank you so much, the new router is great and support was wonderful!",
             "Terrible service. Our internet is down again and nobody helps, this is unacceptable.",
             "The meeting is on Tuesday at 10.", None]
    scores = score_sentiment(texts)
    assert scores["label"].tolist() == ["positive", "negative", "neutral", "neutral"]
    assert scores["compound"][0] > 0.5
    assert scores["compound"][1] < -0.5
    assert scores["compound"][3] == 0.0


def test_identical_texts_score_the_same_and_one_string_is_refused():
    scores = score_sentiment(["Great, thanks!"] * 3 + ["Awful."])
    assert scores["compound"].nunique() == 2
    with pytest.raises(TextInputError, match="one string"):
        score_sentiment("Great, thanks!")


def test_topics_of_known_messages():
    topics = detect_topics([
        "I was charged twice, I want a refund for the duplicate payment.",
        "The portal keeps showing error ERR-5031 when I log in.",
        "Why did the price go up? We are considering cancelling the contract.",
        "When will the technician arrive for the installation?",
        "Good morning!",
    ])
    assert topics[0][:1] == ["refund"]
    assert {"error/bug", "login"} <= set(topics[1])
    assert {"pricing", "cancel"} <= set(topics[2])
    assert topics[3] == ["delivery/installation"]
    assert topics[4] == []


def test_keywords_drop_stop_words_codes_and_possessives():
    assert extract_keywords(["Hi, the customer's portal shows ERR-5031 on invoice INV1234 again"]) == [
        ["customer", "portal", "shows", "invoice"]]  # "again" is a stop word
    counts = keyword_counts(["refund please", "Refund now!", "invoice wrong"], top_n=2)
    assert counts.to_dict("records") == [{"keyword": "refund", "texts": 2}, {"keyword": "invoice", "texts": 1}]


def facts(**changes) -> AccountFacts:
    base = dict(account_id="ACC-1", account_name="Acme Ltd", as_of=date(2026, 11, 23), status="active",
                mrr_usd=12_345.0, mrr_usd_30d_ago=10_000.0, mrr_usd_90d_ago=12_345.0, active_services=3,
                tickets_opened_30d=4, tickets_opened_90d=9, open_tickets=2, overdue_usd=1_500.0,
                messages_30d=6, negative_messages_30d=2, avg_sentiment_30d=-0.125,
                open_events=[("Invoice overdue", 2), ("P1 ticket", 1)], open_events_total=4)
    base.update(changes)
    return AccountFacts(**base)


def test_summary_uses_the_page_formats_for_every_number():
    text = summarise_account(facts(), PAGE_FORMATS)
    assert "Acme Ltd pays $12.3K MRR over 3 active services" in text
    assert "up $2,345 (+23.4%) over 30 days" in text
    assert "unchanged over 90 days" in text
    assert "4 tickets in the last 30 days (9 in 90)" in text
    assert "6 messages in 30 days average -0.12 sentiment (2 negative)" in text
    assert "2 open tickets, $1,500 overdue, open events: Invoice overdue (2); P1 ticket (1); 1 more" in text
    assert "no churn-risk model has run yet" in text
    assert "Suggested next action: chase the $1,500 overdue." in text
    assert summary_numbers(text) == ["$12.3K", "3", "$2,345", "+23.4%", "30", "90", "4", "30", "9", "90",
                                     "6", "30", "-0.12", "2", "2", "$1,500", "2", "1", "1",
                                     "$1,500"]


def test_summary_with_risk_drivers_and_a_next_action():
    text = summarise_account(facts(risk_available=True, risk_level="HIGH", churn_risk_score=81.6,
                                   risk_drivers=["usage fell 40% in 30 days"], next_action_available=True,
                                   next_action="Book a retention call."), PAGE_FORMATS)
    assert "Risk: HIGH churn risk (score 82 of 100), driven by: usage fell 40% in 30 days." in text
    assert text.endswith("Suggested next action: Book a retention call.")


def test_summary_of_a_customer_without_services_or_tickets():
    text = summarise_account(facts(active_services=0, mrr_usd=0.0, mrr_usd_30d_ago=0.0, mrr_usd_90d_ago=900.0,
                                   tickets_opened_30d=0, tickets_opened_90d=0, open_tickets=0, overdue_usd=0.0,
                                   messages_30d=0, open_events=[], open_events_total=0,
                                   next_action_available=True), PAGE_FORMATS)
    assert text.startswith("Acme Ltd has no active services (MRR now $0): down $900 (-100.0%) over 90 days.")
    assert "It opened no tickets in the last 90 days." in text
    assert "No open issues." in text and text.endswith("Suggested next action: none needed right now.")
