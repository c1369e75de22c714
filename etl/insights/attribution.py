"""Nightly channel attribution: journeys from silver.touchpoints, credited by every model.

A journey is the touchpoints sharing a journey_id, in time order, up to the end of the as-of
day; it converted when any of its touches did, for the sum of their conversion values (USD).
Journeys count in the month (UTC) of their last touch. Results:
  gold.attribution_monthly  per month, model and channel (rule-based models, Markov order 1 and
                            Shapley);
  gold.attribution_campaign per campaign and model over all journeys, where a touch counts as
                            its campaign when it has one and as its channel otherwise.
Both tables are replaced in one transaction. The data-driven Shapley model (conversion rate per
channel set, see models.attribution) enumerates every coalition exactly, so it takes at most
MAX_SHAPLEY_CHANNELS (12) nodes. Campaign paths have more: there the 11 nodes reaching the most
journeys keep their own Shapley credit and all the others are pooled into one OTHER_CHANNELS node,
whose row is dropped with the channel rows, so the smaller campaigns have no Shapley row (every other
model still credits every campaign). A month with more than 12 channels gets the same pooling and
keeps its OTHER_CHANNELS row, so each month's Shapley credits still add up to its conversions.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, delete, insert, text

from dashboard.db import Database
from dashboard.tables.attribution_text import AttributionCampaign, AttributionMonthly
from etl.gold import data_window
from etl.runs import recorded_run
from models.attribution import OTHER_CHANNELS, attribute_all

log = logging.getLogger(__name__)
JOB_ID = "attribution"

JOURNEY_PATHS_SQL = """
WITH touches AS (
    SELECT t.journey_id, t.touchpoint_id, t.occurred_at,
           replace(btrim(t.channel), '>', '-') AS channel,
           NULLIF(btrim(t.campaign_id), '') AS campaign_id,
           COALESCE(t.converted, false) AS converted, t.conversion_value_usd
    FROM silver.touchpoints t
    WHERE t.journey_id IS NOT NULL AND NULLIF(btrim(t.channel), '') IS NOT NULL
      AND t.occurred_at < CAST(CAST(:as_of AS date) + 1 AS timestamptz)
), journeys AS (
    SELECT journey_id,
           CAST(date_trunc('month', max(occurred_at) AT TIME ZONE 'UTC') AS date) AS month,
           string_agg({node}, ' > ' ORDER BY occurred_at, touchpoint_id) AS path,
           bool_or(converted) AS converted,
           COALESCE(sum(conversion_value_usd) FILTER (WHERE converted), 0) AS value
    FROM touches
    GROUP BY journey_id
)
SELECT month, path,
       count(*) FILTER (WHERE converted) AS total_conversions,
       CAST(sum(value) AS double precision) AS total_conversion_value,
       count(*) FILTER (WHERE NOT converted) AS total_null
FROM journeys
GROUP BY month, path
"""


@dataclass(frozen=True)
class AttributionResult:
    journeys: int
    months: int
    monthly_rows: int
    campaign_rows: int
    seconds: float

    def describe(self) -> str:
        return (f"Attributed {self.journeys:,} journeys over {self.months} months: {self.monthly_rows:,} channel "
                f"rows, {self.campaign_rows:,} campaign rows in {self.seconds:.1f}s.")


def journey_paths(conn: Connection, *, by_campaign: bool = False) -> pd.DataFrame:
    """Distinct paths per month with their conversions, value and non-converting journeys.

    With by_campaign, a touch's node is its campaign when it has one, else its channel.
    """
    as_of = data_window(conn).as_of
    sql = JOURNEY_PATHS_SQL.format(node="COALESCE(campaign_id, channel)" if by_campaign else "channel")
    rows = conn.execute(text(sql), {"as_of": as_of}).mappings().all()
    return pd.DataFrame(rows, columns=["month", "path", "total_conversions", "total_conversion_value",
                                       "total_null"])


def _records(frame: pd.DataFrame, key: dict[str, object], name_column: str) -> list[dict[str, object]]:
    return [
        {**key, name_column: r.channel, "model": r.model, "journeys": int(r.journeys),
         "conversions": float(r.conversions), "conversion_value_usd": float(r.conversion_value),
         "removal_effect": None if pd.isna(r.removal_effect) else float(r.removal_effect)}
        for r in frame.itertuples(index=False)
    ]


def run_attribution(database: Database, *, triggered_by: str = "manual") -> AttributionResult:
    """Rebuild gold.attribution_monthly and gold.attribution_campaign from silver.touchpoints."""
    started = time.monotonic()
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as run, database.begin() as session:
        conn = session.connection()
        monthly_paths = journey_paths(conn)
        monthly: list[dict[str, object]] = []
        for month, paths in monthly_paths.groupby("month", sort=True):
            monthly += _records(attribute_all(paths), {"month": month}, "channel")
        campaign_paths = journey_paths(conn, by_campaign=True)  # all months: identical paths add up
        campaigns = set(conn.execute(text("SELECT campaign_id FROM silver.campaigns")).scalars())
        by_campaign = attribute_all(campaign_paths) if len(campaign_paths) else pd.DataFrame()
        campaign_rows = _records(by_campaign[by_campaign["channel"].isin(campaigns)], {}, "campaign_id") \
            if len(by_campaign) else []
        shapley_nodes = set(by_campaign.loc[by_campaign["model"] == "shapley", "channel"]) \
            if len(by_campaign) else set()
        if OTHER_CHANNELS in shapley_nodes:
            pooled = by_campaign["channel"].nunique() - len(shapley_nodes)
            log.info("attribution: the Shapley model pools %d campaign-path nodes reaching the fewest journeys "
                     "into %r; those campaigns get no Shapley row", pooled, OTHER_CHANNELS)
        session.execute(delete(AttributionMonthly))
        session.execute(delete(AttributionCampaign))
        if monthly:
            session.execute(insert(AttributionMonthly), monthly)
        if campaign_rows:
            session.execute(insert(AttributionCampaign), campaign_rows)
        run.add_rows("gold.attribution_monthly", len(monthly))
        run.add_rows("gold.attribution_campaign", len(campaign_rows))
        journeys = int((monthly_paths["total_conversions"] + monthly_paths["total_null"]).sum())
        months = monthly_paths["month"].nunique()
    seconds = time.monotonic() - started
    log.info("attribution: %d journeys over %d months in %.1fs", journeys, months, seconds)
    return AttributionResult(journeys, months, len(monthly), len(campaign_rows), seconds)
