"""Per-customer anomalies (job "anomalies"): usage spikes and drops, engagement drops.

Inputs are prepared in SQL per customer (master account, see silver.account_master) and day:
- usage (silver.usage_daily, last 90 days): daily active users (drops and spikes) and API calls
  (spikes), 28-day baselines, the last 7 days evaluated;
- engagement: the customer's interactions per day (tickets opened, inbound chat messages,
  meetings, campaign replies), last 12 weeks, in 7-day blocks ending on the as-of day; the
  latest block is compared with the 8 before it (drops only).
`models.anomalies.detect_anomalies` finds them. Each run replaces the rows of the evaluated
days for these metrics in gold.account_anomaly (one row per customer, metric and day, id
"<metric>:<account_id>:<day>", so alerts raised from it can de-duplicate) and keeps older ones.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import delete, insert, text

from dashboard.db import Database
from dashboard.tables.insights import AccountAnomaly
from etl.gold import data_window
from etl.runs import recorded_run
from models.anomalies import MetricSpec, detect_anomalies

log = logging.getLogger(__name__)
JOB_ID = "anomalies"
INPUT_JOBS = ("etl", "etl_full_rebuild")  # new usage and interactions arrive with a data refresh
USAGE_DAYS = 90
RECENT_DAYS = 7
ENGAGEMENT_WEEKS = 12

# The customer of a regional account: its master account, or itself when it has none.
_MASTER = "COALESCE(am.master_account_id, {fact}.account_id)"

USAGE_SQL = f"""
    SELECT {_MASTER.format(fact='u')} AS account_id, u.usage_date AS day,
           sum(COALESCE(u.active_users, 0)) AS active_users, sum(COALESCE(u.api_calls, 0)) AS api_calls
    FROM silver.usage_daily u
    LEFT JOIN silver.account_master am ON am.account_id = u.account_id
    WHERE u.usage_date > CAST(:as_of AS date) - {USAGE_DAYS} AND u.usage_date <= CAST(:as_of AS date)
    GROUP BY 1, 2
"""

ENGAGEMENT_SQL = f"""
    WITH params AS (
        SELECT CAST(:as_of AS date) - {ENGAGEMENT_WEEKS * 7 - 1} AS first_day, CAST(:as_of AS date) AS as_of
    ), touches AS (
        SELECT t.account_id, CAST(t.created_at AS date) AS day FROM silver.tickets t
        UNION ALL
        SELECT c.account_id, CAST(m.sent_at AS date)
        FROM silver.messages m JOIN silver.conversations c ON c.conversation_id = m.conversation_id
        WHERE m.direction = 'inbound'
        UNION ALL
        SELECT mt.account_id, CAST(mt.scheduled_at AS date) FROM silver.meetings mt
        UNION ALL
        SELECT ct.account_id, CAST(r.received_at AS date)
        FROM silver.replies r JOIN silver.contacts ct ON ct.contact_id = r.contact_id
    ), per_day AS (
        SELECT {_MASTER.format(fact='x')} AS account_id, x.day, count(*) AS interactions
        FROM touches x
        LEFT JOIN silver.account_master am ON am.account_id = x.account_id
        CROSS JOIN params p
        WHERE x.account_id IS NOT NULL AND x.day BETWEEN p.first_day AND p.as_of
        GROUP BY 1, 2
    )
    -- Every customer active in the window gets its first day, so weeks without touches count as 0.
    SELECT account_id, day, interactions FROM per_day
    UNION ALL
    SELECT DISTINCT account_id, p.first_day, 0 FROM per_day CROSS JOIN params p
"""

USAGE_METRICS = (
    MetricSpec("active_users", "Daily active users", kinds=("drop", "spike")),
    MetricSpec("api_calls", "API calls", kinds=("spike",), min_change_pct=50.0),
)
ENGAGEMENT_METRIC = MetricSpec("interactions", "Weekly interactions", kinds=("drop",), min_change_pct=50.0)
STORED_COLUMNS = ["account_id", "metric", "kind", "detected_on", "observed", "baseline", "change_pct",
                  "severity", "description"]


@dataclass(frozen=True)
class AnomalyRunResult:
    as_of: date
    anomalies: int
    by_metric: dict[str, int]
    seconds: float

    def describe(self) -> str:
        parts = ", ".join(f"{count:,} {metric}" for metric, count in sorted(self.by_metric.items())) or "none"
        return f"Found {self.anomalies:,} anomalies as of {self.as_of} ({parts}) in {self.seconds:.1f}s."


def find_anomalies(database: Database) -> tuple[date, pd.DataFrame]:
    """(as-of day, every anomaly found over the evaluated days) from silver usage and interactions."""
    with database.engine.connect() as conn:
        as_of = data_window(conn).as_of
        usage = pd.DataFrame(conn.execute(text(USAGE_SQL), {"as_of": as_of}).all(),
                             columns=["account_id", "day", "active_users", "api_calls"])
        touches = pd.DataFrame(conn.execute(text(ENGAGEMENT_SQL), {"as_of": as_of}).all(),
                               columns=["account_id", "day", "value"])
    found = []
    for spec in USAGE_METRICS:
        observations = usage[["account_id", "day", spec.metric]].rename(columns={spec.metric: "value"})
        found.append(detect_anomalies(observations, spec, freq="D", baseline_periods=28,
                                      recent_periods=RECENT_DAYS, as_of=as_of))
    found.append(detect_anomalies(touches, ENGAGEMENT_METRIC, freq="W", baseline_periods=8,
                                  recent_periods=1, as_of=as_of))
    found = [frame for frame in found if not frame.empty]
    anomalies = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=STORED_COLUMNS)
    return as_of, anomalies


def run_anomalies(database: Database, *, triggered_by: str = "manual") -> AnomalyRunResult:
    """Detect anomalies and replace the evaluated days' rows in gold.account_anomaly."""
    started = time.monotonic()
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as recorder:
        as_of, anomalies = find_anomalies(database)
        rows = [
            {"anomaly_id": f"{row.metric}:{row.account_id}:{row.detected_on.isoformat()}",
             **{column: getattr(row, column) for column in STORED_COLUMNS},
             "observed": float(row.observed), "baseline": float(row.baseline),
             "change_pct": None if pd.isna(row.change_pct) else float(row.change_pct)}
            for row in anomalies.itertuples(index=False)
        ]
        first_evaluated = {spec.metric: as_of - timedelta(days=RECENT_DAYS - 1) for spec in USAGE_METRICS}
        first_evaluated[ENGAGEMENT_METRIC.metric] = as_of
        with database.begin() as session:
            for metric, first_day in first_evaluated.items():
                session.execute(delete(AccountAnomaly).where(AccountAnomaly.metric == metric,
                                                             AccountAnomaly.detected_on >= first_day))
            if rows:
                session.execute(insert(AccountAnomaly), rows)
        recorder.add_rows("gold.account_anomaly", len(rows))
    by_metric = anomalies["metric"].value_counts().to_dict() if len(anomalies) else {}
    return AnomalyRunResult(as_of, len(rows), {str(k): int(v) for k, v in by_metric.items()},
                            time.monotonic() - started)
