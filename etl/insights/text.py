"""Text insights after each refresh: sentiment, topics and keywords of customer texts.

Customer texts are inbound chat/WhatsApp messages (silver.messages), ticket subjects (the
tickets' only text: the sources carry no comment threads) and campaign replies
(silver.replies). Each is scored once into gold.text_score and scored again only when its
text changes (md5), so a refresh costs the new texts only. The aggregates are then rebuilt
set-based in PostgreSQL:
  gold.sentiment_daily  texts, positive/neutral/negative and the compound sum per day (of the
                        text), customer (master account), agent and source;
  gold.sentiment_period each customer's texts and compound sum in the last 7, 30 and 90 days to
                        the Support pages' last day and the period before;
  gold.topic_trend      topic and keyword mentions in the last 7, 30 and 90 days to the as-of
                        day against the period before, with their average sentiment;
  gold.feedback_summary survey and text sums per customer over the book's windows, and
  gold.feedback_item    each customer's newest survey comments and negative texts, so My accounts
                        reads a large book's feedback without touching silver.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Connection, text

from dashboard.db import Database
from dashboard.tables.attribution_text import (
    FEEDBACK_ITEMS_PER_CUSTOMER,
    FEEDBACK_SURVEY_DAYS,
    FEEDBACK_TEXT_DAYS,
)
from etl.gold import data_window
from etl.runs import recorded_run
from models.text import detect_topics, extract_keywords, score_sentiment

log = logging.getLogger(__name__)
JOB_ID = "text_insights"
INPUT_JOBS = ("etl", "etl_full_rebuild")  # new texts arrive with a data refresh
TREND_PERIODS = (7, 30, 90)
TOP_KEYWORDS = 100

# Every customer text with its time, regional account and agent.
CUSTOMER_TEXTS = """
    SELECT 'message' AS source, m.message_id AS item_id, m.body AS body, m.sent_at AS at,
           conv.account_id, conv.assigned_agent_id AS agent_id
    FROM silver.messages m LEFT JOIN silver.conversations conv ON conv.conversation_id = m.conversation_id
    WHERE m.direction = 'inbound' AND btrim(COALESCE(m.body, '')) <> ''
    UNION ALL
    SELECT 'ticket', t.ticket_id, t.subject, t.created_at, t.account_id, t.agent_id
    FROM silver.tickets t
    WHERE btrim(COALESCE(t.subject, '')) <> ''
    UNION ALL
    SELECT 'reply', r.reply_id, r.body, r.received_at, c.account_id, NULL
    FROM silver.replies r LEFT JOIN silver.contacts c ON c.contact_id = r.contact_id
    WHERE btrim(COALESCE(r.body, '')) <> ''
"""

# The texts to score: new, or changed since they were scored. Kept on the server; only each
# distinct text travels to Python, once (customer texts repeat a lot).
UNSCORED_SQL = f"""
CREATE TEMP TABLE text_unscored ON COMMIT DROP AS
SELECT src.source, src.item_id, src.body, md5(src.body) AS text_md5
FROM ({CUSTOMER_TEXTS}) src
LEFT JOIN gold.text_score s ON s.source = src.source AND s.item_id = src.item_id
WHERE s.item_id IS NULL OR s.text_md5 <> md5(src.body)
"""

DROP_GONE_SQL = f"""
DELETE FROM gold.text_score s
WHERE NOT EXISTS (SELECT 1 FROM ({CUSTOMER_TEXTS}) src WHERE src.source = s.source AND src.item_id = s.item_id)
RETURNING s.source, s.item_id
"""

# gold.support_case keeps each ticket's negative subject for the complaints panel: set for the tickets just
# scored again or dropped (the gold build sets it for the cases it writes).
MARK_NEGATIVE_SQL = """
UPDATE gold.support_case sc SET subject_negative = COALESCE(s.label = 'negative', false)
FROM (SELECT DISTINCT item_id FROM unnest(CAST(:dropped AS text[])) AS d(item_id)
      UNION SELECT item_id FROM text_unscored WHERE source = 'ticket') changed
LEFT JOIN gold.text_score s ON s.source = 'ticket' AND s.item_id = changed.item_id
WHERE sc.kind = 'ticket' AND sc.case_id = changed.item_id
  AND sc.subject_negative IS DISTINCT FROM COALESCE(s.label = 'negative', false)
"""

SENTIMENT_DAILY_SQL = f"""
INSERT INTO gold.sentiment_daily (day, account_id, agent_id, source, texts, positive, neutral, negative,
                                  compound_sum)
SELECT CAST(src.at AS date), COALESCE(am.master_account_id, src.account_id, 'Unknown'),
       COALESCE(src.agent_id, 'Unassigned'), src.source, count(*),
       count(*) FILTER (WHERE s.label = 'positive'), count(*) FILTER (WHERE s.label = 'neutral'),
       count(*) FILTER (WHERE s.label = 'negative'), sum(s.compound)
FROM ({CUSTOMER_TEXTS}) src
JOIN gold.text_score s ON s.source = src.source AND s.item_id = src.item_id
LEFT JOIN silver.account_master am ON am.account_id = src.account_id
WHERE src.at IS NOT NULL
GROUP BY 1, 2, 3, 4
"""

TOPIC_TREND_SQL = f"""
INSERT INTO gold.topic_trend (kind, term, period_days, period_end, mentions, previous_mentions, change_pct,
                              avg_sentiment, negative_share)
WITH periods AS (
    SELECT unnest(CAST(:periods AS integer[])) AS period_days
), scored AS MATERIALIZED (
    SELECT CAST(src.at AS date) AS day, s.topics, s.keywords, s.compound, s.label
    FROM ({CUSTOMER_TEXTS}) src
    JOIN gold.text_score s ON s.source = src.source AND s.item_id = src.item_id
    WHERE CAST(src.at AS date) > CAST(:as_of AS date) - 2 * (SELECT max(period_days) FROM periods)
      AND CAST(src.at AS date) <= CAST(:as_of AS date)
), mentions AS (
    SELECT p.period_days, terms.kind, terms.term, sc.day > CAST(:as_of AS date) - p.period_days AS current,
           sc.compound, sc.label
    FROM periods p
    JOIN scored sc ON sc.day > CAST(:as_of AS date) - 2 * p.period_days
    CROSS JOIN LATERAL (SELECT 'topic' AS kind, t AS term FROM unnest(sc.topics) t
                        UNION ALL SELECT 'keyword', k FROM unnest(sc.keywords) k) terms
), counted AS (
    SELECT kind, term, period_days,
           count(*) FILTER (WHERE current) AS mentions, count(*) FILTER (WHERE NOT current) AS previous,
           avg(compound) FILTER (WHERE current) AS avg_sentiment,
           avg(CASE WHEN label = 'negative' THEN 1.0 ELSE 0.0 END) FILTER (WHERE current) AS negative_share
    FROM mentions
    GROUP BY kind, term, period_days
), ranked AS (
    SELECT c.*, row_number() OVER (PARTITION BY kind, period_days ORDER BY mentions DESC, term) AS rank
    FROM counted c
)
SELECT kind, term, period_days, CAST(:as_of AS date), mentions, previous,
       CASE WHEN previous > 0 THEN 100.0 * (mentions - previous) / previous END,
       avg_sentiment, negative_share
FROM ranked
WHERE kind = 'topic' OR (rank <= :top_keywords AND mentions > 0)
"""

# Each customer's texts in the last 7, 30 and 90 days to the Support pages' last day (that of
# gold.support_case) and in the period before: the Operations page's VIPs read a row each.
SENTIMENT_PERIOD_SQL = """
INSERT INTO gold.sentiment_period (period_days, account_id, period_end, texts, compound_sum, previous_texts,
                                   previous_compound_sum)
WITH as_of AS (
    SELECT max(opened_day) AS day FROM gold.support_case
), periods AS (
    SELECT unnest(CAST(:periods AS integer[])) AS period_days
)
SELECT p.period_days, sd.account_id, a.day,
       sum(sd.texts) FILTER (WHERE sd.day > a.day - p.period_days),
       sum(sd.compound_sum) FILTER (WHERE sd.day > a.day - p.period_days),
       sum(sd.texts) FILTER (WHERE sd.day <= a.day - p.period_days),
       sum(sd.compound_sum) FILTER (WHERE sd.day <= a.day - p.period_days)
FROM periods p
CROSS JOIN as_of a
JOIN gold.sentiment_daily sd ON sd.day > a.day - 2 * p.period_days AND sd.day <= a.day
GROUP BY p.period_days, sd.account_id, a.day
"""

# Survey and text sums per customer (master account). Sums, not averages, so a book of any size adds
# them up to its exact averages.
FEEDBACK_SUMMARY_SQL = """
INSERT INTO gold.feedback_summary (account_id, as_of, responses, nps_sum, nps_responses, csat_sum, csat_responses,
                                   texts, compound_sum, negative_texts)
WITH surveys AS (
    SELECT COALESCE(am.master_account_id, s.account_id) AS account_id, count(*) AS responses,
           COALESCE(sum(s.nps_score) FILTER (WHERE s.survey_type = 'nps'), 0) AS nps_sum,
           count(s.nps_score) FILTER (WHERE s.survey_type = 'nps') AS nps_responses,
           COALESCE(sum(s.csat_score) FILTER (WHERE s.survey_type = 'csat'), 0) AS csat_sum,
           count(s.csat_score) FILTER (WHERE s.survey_type = 'csat') AS csat_responses
    FROM silver.surveys s LEFT JOIN silver.account_master am ON am.account_id = s.account_id
    WHERE s.account_id IS NOT NULL AND s.responded_at IS NOT NULL
      AND CAST(s.responded_at AT TIME ZONE 'UTC' AS date) > CAST(:as_of AS date) - :survey_days
    GROUP BY 1
), texts AS (
    SELECT account_id, sum(texts) AS texts, sum(compound_sum) AS compound_sum, sum(negative) AS negative_texts
    FROM gold.sentiment_daily
    WHERE day > CAST(:as_of AS date) - :text_days AND day <= :as_of
    GROUP BY account_id
)
SELECT COALESCE(s.account_id, t.account_id), :as_of, COALESCE(s.responses, 0), COALESCE(s.nps_sum, 0),
       COALESCE(s.nps_responses, 0), COALESCE(s.csat_sum, 0), COALESCE(s.csat_responses, 0),
       COALESCE(t.texts, 0), COALESCE(t.compound_sum, 0), COALESCE(t.negative_texts, 0)
FROM surveys s FULL JOIN texts t ON t.account_id = s.account_id
"""

# Each customer's newest survey comments (any age) and newest negative texts of the text window; a
# book's newest are among the union of its customers' newest.
FEEDBACK_ITEM_SQL = f"""
INSERT INTO gold.feedback_item (account_id, kind, source, item_id, at, body, score)
WITH items AS (
    SELECT COALESCE(am.master_account_id, s.account_id) AS account_id, 'comment' AS kind, s.survey_type AS source,
           s.survey_id AS item_id, s.responded_at AS at, s.comment AS body,
           CAST(COALESCE(s.nps_score, s.csat_score) AS double precision) AS score
    FROM silver.surveys s LEFT JOIN silver.account_master am ON am.account_id = s.account_id
    WHERE s.account_id IS NOT NULL AND s.responded_at IS NOT NULL AND btrim(COALESCE(s.comment, '')) <> ''
    UNION ALL
    SELECT COALESCE(am.master_account_id, src.account_id), 'negative', src.source, src.item_id, src.at, src.body,
           ts.compound
    FROM ({CUSTOMER_TEXTS}) src
    JOIN gold.text_score ts ON ts.source = src.source AND ts.item_id = src.item_id
    LEFT JOIN silver.account_master am ON am.account_id = src.account_id
    WHERE src.account_id IS NOT NULL AND ts.label = 'negative'
      AND src.at >= CAST(:as_of AS date) - (:text_days - 1) AND src.at < CAST(:as_of AS date) + 1
), ranked AS (
    SELECT items.*, row_number() OVER (PARTITION BY account_id, kind ORDER BY at DESC, item_id) AS rank
    FROM items
)
SELECT account_id, kind, source, item_id, at, body, score FROM ranked WHERE rank <= :per_customer
"""


def is_due(database: Database, job_id: str, inputs: tuple[str, ...], *, input_started: bool = False) -> bool:
    """True if one of `inputs` succeeded after the last successful run of `job_id` started (or it never ran).

    With `input_started`, only an input run that also started after it counts: for a job started
    once the part of the input run it reads had committed (the demo scores texts beside gold).
    """
    input_time = "started_at" if input_started else "finished_at"
    with database.session() as session:
        return bool(session.scalar(text(f"""
            SELECT coalesce(
                (SELECT max({input_time}) FROM app.job_run WHERE status = 'success' AND job_id = ANY(:inputs))
                > (SELECT max(started_at) FROM app.job_run WHERE status = 'success' AND job_id = :job),
                true)
        """), {"inputs": list(inputs), "job": job_id}))


@dataclass(frozen=True)
class TextInsightsResult:
    scored: int
    removed: int
    sentiment_rows: int
    topic_rows: int
    seconds: float

    def describe(self) -> str:
        return (f"Scored {self.scored:,} new or changed texts ({self.removed:,} gone); {self.sentiment_rows:,} "
                f"sentiment rows, {self.topic_rows:,} topic rows in {self.seconds:.1f}s.")


def score_distinct_texts(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """(text_md5, compound, label, topics, keywords) for a frame of distinct texts (text_md5, body)."""
    bodies = frame["body"].tolist()
    sentiment = score_sentiment(bodies)
    return list(zip(frame["text_md5"], sentiment["compound"].astype(float), sentiment["label"],
                    detect_topics(bodies), extract_keywords(bodies), strict=True))


def _score_unscored(conn: Connection, scored_at: datetime) -> int:
    """Score each distinct unscored text once, then upsert a score row per text item in one statement."""
    conn.execute(text(UNSCORED_SQL))
    distinct = pd.DataFrame(conn.execute(text(
        "SELECT text_md5, min(body) AS body FROM text_unscored GROUP BY text_md5")).all(),
        columns=["text_md5", "body"])
    if distinct.empty:
        return 0
    conn.execute(text("CREATE TEMP TABLE text_scored (text_md5 text PRIMARY KEY, compound double precision, "
                      "label text, topics text[], keywords text[]) ON COMMIT DROP"))
    with conn.connection.driver_connection.cursor() as cur, \
            cur.copy("COPY text_scored (text_md5, compound, label, topics, keywords) FROM STDIN") as copy:
        for row in score_distinct_texts(distinct):
            copy.write_row(row)
    return conn.execute(text("""
        INSERT INTO gold.text_score (source, item_id, text_md5, compound, label, topics, keywords, scored_at)
        SELECT u.source, u.item_id, u.text_md5, s.compound, s.label, s.topics, s.keywords, :scored_at
        FROM text_unscored u JOIN text_scored s ON s.text_md5 = u.text_md5
        ON CONFLICT (source, item_id) DO UPDATE SET
            text_md5 = EXCLUDED.text_md5, compound = EXCLUDED.compound, label = EXCLUDED.label,
            topics = EXCLUDED.topics, keywords = EXCLUDED.keywords, scored_at = EXCLUDED.scored_at
    """), {"scored_at": scored_at}).rowcount or 0


def run_text_insights(database: Database, *, triggered_by: str = "manual") -> TextInsightsResult:
    """Score new or changed customer texts, then rebuild gold.sentiment_daily and gold.topic_trend."""
    started = time.monotonic()
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as run, database.begin() as session:
        conn = session.connection()
        as_of = data_window(conn).as_of
        dropped = conn.execute(text(DROP_GONE_SQL)).all()
        removed = len(dropped)
        scored = _score_unscored(conn, datetime.now(UTC))
        run.add_rows("gold.support_case", conn.execute(text(MARK_NEGATIVE_SQL), {
            "dropped": [item_id for source, item_id in dropped if source == "ticket"]}).rowcount or 0)
        conn.execute(text("ANALYZE gold.text_score"))  # fresh statistics, or the joins below can plan badly
        conn.execute(text("DELETE FROM gold.sentiment_daily"))
        sentiment_rows = conn.execute(text(SENTIMENT_DAILY_SQL)).rowcount or 0
        conn.execute(text("DELETE FROM gold.sentiment_period"))
        run.add_rows("gold.sentiment_period", conn.execute(text(SENTIMENT_PERIOD_SQL),
                                                           {"periods": list(TREND_PERIODS)}).rowcount or 0)
        conn.execute(text("DELETE FROM gold.topic_trend"))
        topic_rows = conn.execute(text(TOPIC_TREND_SQL), {"as_of": as_of, "periods": list(TREND_PERIODS),
                                                          "top_keywords": TOP_KEYWORDS}).rowcount or 0
        window = {"as_of": as_of, "survey_days": FEEDBACK_SURVEY_DAYS, "text_days": FEEDBACK_TEXT_DAYS,
                  "per_customer": FEEDBACK_ITEMS_PER_CUSTOMER}
        conn.execute(text("DELETE FROM gold.feedback_summary"))
        run.add_rows("gold.feedback_summary", conn.execute(text(FEEDBACK_SUMMARY_SQL), window).rowcount or 0)
        conn.execute(text("DELETE FROM gold.feedback_item"))
        run.add_rows("gold.feedback_item", conn.execute(text(FEEDBACK_ITEM_SQL), window).rowcount or 0)
        run.add_rows("gold.text_score", scored)
        run.add_rows("gold.sentiment_daily", sentiment_rows)
        run.add_rows("gold.topic_trend", topic_rows)
    seconds = time.monotonic() - started
    log.info("text insights: %d texts scored, %d removed in %.1fs", scored, removed, seconds)
    return TextInsightsResult(scored, removed, sentiment_rows, topic_rows, seconds)
