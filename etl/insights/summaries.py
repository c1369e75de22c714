"""A plain-English summary per customer, rebuilt after each refresh from its gold facts.

Facts per gold.customer_360 account (the master account), as of the last day of data:
  MRR now, active services, open tickets and overdue amount: gold.customer_360, as the pages show them;
  MRR 30 and 90 days before as-of: gold.subscription_mrr_daily on that day (at that day's rate,
    as customer_360's MRR and year-ago MRR), over the customer's regional accounts;
  tickets opened in the 30 and 90 days ending on as-of (silver.tickets);
  customer texts, negative ones and average sentiment over 30 days: gold.sentiment_daily;
  open timeline events per title: gold.timeline_events;
  churn risk: customer_360's score and level, drivers from gold.churn_prediction;
  anomalies of the last 30 days: gold.account_anomaly when that table exists;
  next action: the most urgent open gold.next_best_action, else churn_prediction's recommendation.
Numbers are formatted with the page formatters (layouts.components), so the summary reads
exactly what the dashboard shows. gold.account_summary is replaced in one transaction.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, delete, insert, text

from dashboard.db import Database
from dashboard.formatting import format_count, format_usd
from dashboard.tables.attribution_text import AccountSummary
from etl.gold import data_window
from etl.runs import recorded_run
from models.text import AccountFacts, NumberFormats, summarise_account

log = logging.getLogger(__name__)
JOB_ID = "account_summaries"
# Summaries quote the refreshed gold tables, the sentiment, churn scores, actions and anomalies.
INPUT_JOBS = ("etl", "etl_full_rebuild", "text_insights", "scoring", "anomalies")
PAGE_FORMATS = NumberFormats(usd=format_usd, count=format_count)
MAX_EVENT_TITLES = 3
MAX_DRIVERS = 3
MAX_ANOMALIES = 2
RECENT_DAYS = 30  # anomalies older than this are no longer news

# Each regional account and the customer its facts count for: its master account, unless
# gold.customer_360 still has a row per regional account (then the account itself).
MEMBERS = """
    SELECT a.account_id,
           CASE WHEN CAST(:by_master AS boolean) THEN COALESCE(am.master_account_id, a.account_id)
                ELSE a.account_id END AS customer_id
    FROM silver.accounts a LEFT JOIN silver.account_master am ON am.account_id = a.account_id
"""
KEYED_BY_MASTER_SQL = """
SELECT NOT EXISTS (SELECT 1 FROM gold.customer_360 c JOIN silver.account_master am ON am.account_id = c.account_id
                   WHERE am.master_account_id <> am.account_id)
"""

FACTS_SQL = f"""
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of
), members AS ({MEMBERS}
), mrr_then AS (
    SELECT m.customer_id, d.days, round(sum(v.mrr_usd), 2) AS mrr_usd
    FROM params p
    CROSS JOIN (VALUES (30), (90)) AS d(days)
    CROSS JOIN LATERAL (  -- one day of the view at a time, never all of it
        SELECT v.account_id, v.mrr_usd FROM gold.subscription_mrr_daily v WHERE v.day = p.as_of - d.days
    ) v
    JOIN members m ON m.account_id = v.account_id
    GROUP BY m.customer_id, d.days
), tickets AS (
    SELECT m.customer_id,
           count(*) FILTER (WHERE CAST(t.created_at AS date) > p.as_of - 30) AS opened_30d,
           count(*) AS opened_90d
    FROM silver.tickets t
    JOIN members m ON m.account_id = t.account_id
    CROSS JOIN params p
    WHERE CAST(t.created_at AS date) > p.as_of - 90 AND CAST(t.created_at AS date) <= p.as_of
    GROUP BY m.customer_id
), sentiment AS (
    SELECT sd.account_id, sum(sd.texts) AS texts, sum(sd.negative) AS negative,
           sum(sd.compound_sum) / NULLIF(sum(sd.texts), 0) AS avg_compound
    FROM gold.sentiment_daily sd CROSS JOIN params p
    WHERE sd.day > p.as_of - 30 AND sd.day <= p.as_of
    GROUP BY sd.account_id
)
SELECT c.account_id, c.account_name, c.status, CAST(c.mrr_usd AS double precision) AS mrr_usd,
       CAST(COALESCE(m30.mrr_usd, 0) AS double precision) AS mrr_usd_30d_ago,
       CAST(COALESCE(m90.mrr_usd, 0) AS double precision) AS mrr_usd_90d_ago,
       c.active_services, COALESCE(t.opened_30d, 0) AS tickets_opened_30d,
       COALESCE(t.opened_90d, 0) AS tickets_opened_90d, c.open_tickets,
       CAST(c.overdue_usd AS double precision) AS overdue_usd,
       COALESCE(se.texts, 0) AS messages_30d, COALESCE(se.negative, 0) AS negative_messages_30d,
       se.avg_compound AS avg_sentiment_30d, c.risk_level, c.churn_risk_score
FROM gold.customer_360 c
LEFT JOIN mrr_then m30 ON m30.customer_id = c.account_id AND m30.days = 30
LEFT JOIN mrr_then m90 ON m90.customer_id = c.account_id AND m90.days = 90
LEFT JOIN tickets t ON t.customer_id = c.account_id
LEFT JOIN sentiment se ON se.account_id = c.account_id
ORDER BY c.account_id
"""

OPEN_EVENTS_SQL = f"""
SELECT COALESCE(m.customer_id, e.customer_id) AS customer_id, e.event_title, count(*) AS events
FROM gold.timeline_events e
LEFT JOIN ({MEMBERS}) m ON m.account_id = e.customer_id
WHERE e.status = 'OPEN'
GROUP BY 1, 2
ORDER BY 1, 3 DESC, 2
"""


@dataclass(frozen=True)
class SummariesResult:
    accounts: int
    risk_available: bool
    anomalies_available: bool
    next_action_available: bool
    seconds: float


def _table_exists(conn: Connection, name: str) -> bool:
    return conn.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name})


def _columns(conn: Connection, schema: str, table: str) -> set[str]:
    return set(conn.scalars(text("SELECT column_name FROM information_schema.columns "
                                 "WHERE table_schema = :s AND table_name = :t"), {"s": schema, "t": table}))


def _risk(conn: Connection) -> tuple[bool, dict[str, list[str]], dict[str, str]]:
    """(has the churn model scored anyone, driver sentences and recommended action per customer)."""
    if not _table_exists(conn, "gold.churn_prediction"):
        return False, {}, {}
    rows = conn.execute(text(
        "SELECT account_id, contributing_factors, recommended_action FROM gold.churn_prediction")).all()
    drivers = {
        r.account_id: [f["sentence"] for f in (r.contributing_factors or [])
                       if isinstance(f, dict) and f.get("sentence")][:MAX_DRIVERS]
        for r in rows
    }
    actions = {r.account_id: r.recommended_action for r in rows if r.recommended_action}
    return bool(rows), drivers, actions


def _next_actions(conn: Connection) -> tuple[bool, dict[str, str]]:
    """(has the next-best-action job run, the most urgent open action title per customer)."""
    if not _table_exists(conn, "gold.next_best_action"):
        return False, {}
    if not {"customer_id", "action_title", "status", "priority", "recommendation_id"} <= _columns(
            conn, "gold", "next_best_action"):
        log.warning("gold.next_best_action lacks the expected columns; summaries leave its actions out")
        return False, {}
    ran = conn.scalar(text("SELECT EXISTS (SELECT 1 FROM gold.next_best_action)"))
    rows = conn.execute(text("""
        SELECT DISTINCT ON (customer_id) customer_id, action_title
        FROM gold.next_best_action
        WHERE status IN ('open', 'scheduled')
        ORDER BY customer_id, CASE priority WHEN 'HIGH' THEN 0 WHEN 'MEDIUM' THEN 1 ELSE 2 END,
                 recommendation_id
    """)).all()
    return bool(ran), {r.customer_id: r.action_title for r in rows}


def _anomalies(conn: Connection, as_of: date) -> tuple[bool, dict[str, list[str]]]:
    """(does the anomaly table exist, the newest sentences per customer from the last 30 days).

    The table's columns are looked up rather than assumed; only known column names are used.
    """
    if not _table_exists(conn, "gold.account_anomaly"):
        return False, {}
    columns = _columns(conn, "gold", "account_anomaly")
    account = next((c for c in ("account_id", "customer_id") if c in columns), None)
    sentence = next((c for c in ("description", "sentence", "message") if c in columns), None)
    if account is None or sentence is None:
        return True, {}
    day = next((c for c in ("detected_on", "day", "anomaly_date") if c in columns), None)
    recent = f'WHERE "{day}" > CAST(:as_of AS date) - {RECENT_DAYS} AND "{day}" <= :as_of' if day else ""
    order_by = f'"{day}" DESC, "{sentence}"' if day else f'"{sentence}"'
    found: dict[str, list[str]] = defaultdict(list)
    for customer, said in conn.execute(text(
            f'SELECT "{account}", "{sentence}" FROM gold.account_anomaly {recent} ORDER BY "{account}", {order_by}'),
            {"as_of": as_of}):
        if said and len(found[customer]) < MAX_ANOMALIES:
            found[customer].append(said)
    return True, found


def account_facts(conn: Connection) -> list[AccountFacts]:
    """The facts of every gold.customer_360 customer, as of the last day of data."""
    window = data_window(conn)
    by_master = bool(conn.scalar(text(KEYED_BY_MASTER_SQL)))
    events: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for customer_id, title, count in conn.execute(text(OPEN_EVENTS_SQL), {"by_master": by_master}):
        events[customer_id].append((title, int(count)))
    risk_available, drivers, recommended = _risk(conn)
    action_available, actions = _next_actions(conn)
    anomalies_available, anomalies = _anomalies(conn, window.as_of)
    facts = []
    params = {"as_of": window.as_of, "by_master": by_master}
    for row in conn.execute(text(FACTS_SQL), params).mappings():
        account_id = row["account_id"]
        open_events = events.get(account_id, [])
        facts.append(AccountFacts(
            account_id=account_id, account_name=row["account_name"], as_of=window.as_of, status=row["status"],
            mrr_usd=row["mrr_usd"], mrr_usd_30d_ago=row["mrr_usd_30d_ago"], mrr_usd_90d_ago=row["mrr_usd_90d_ago"],
            active_services=row["active_services"], tickets_opened_30d=row["tickets_opened_30d"],
            tickets_opened_90d=row["tickets_opened_90d"], open_tickets=row["open_tickets"],
            overdue_usd=row["overdue_usd"], messages_30d=row["messages_30d"],
            negative_messages_30d=row["negative_messages_30d"], avg_sentiment_30d=row["avg_sentiment_30d"],
            open_events=open_events[:MAX_EVENT_TITLES], open_events_total=sum(n for _, n in open_events),
            risk_available=risk_available or row["risk_level"] is not None, risk_level=row["risk_level"],
            churn_risk_score=row["churn_risk_score"], risk_drivers=drivers.get(account_id, []),
            anomalies_available=anomalies_available, anomalies=anomalies.get(account_id, []),
            next_action_available=action_available,
            next_action=actions.get(account_id) or recommended.get(account_id),
        ))
    return facts


def run_account_summaries(database: Database, *, triggered_by: str = "manual") -> SummariesResult:
    """Rebuild gold.account_summary for every customer."""
    started = time.monotonic()
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as run, database.begin() as session:
        conn = session.connection()
        facts = account_facts(conn)
        now = datetime.now(UTC)
        rows = [{"account_id": f.account_id, "summary": summarise_account(f, PAGE_FORMATS), "facts": f.to_json(),
                 "generated_at": now} for f in facts]
        session.execute(delete(AccountSummary))
        if rows:
            session.execute(insert(AccountSummary), rows)
        run.add_rows("gold.account_summary", len(rows))
    seconds = time.monotonic() - started
    first = facts[0] if facts else None
    log.info("account summaries: %d in %.1fs", len(rows), seconds)
    return SummariesResult(len(rows), bool(first and first.risk_available), bool(first and first.anomalies_available),
                           bool(first and first.next_action_available), seconds)
