"""The scoring job: churn, health, engagement, lifetime value, next-best actions and alerts.

Runs after each data refresh (and on demand): features as of the data's as-of day and 30 days
earlier, then every score is computed by the pure functions in `models/` and written to gold
in one transaction, together with gold.account_scores and the score columns of
gold.customer_360 (and its risk level's copy in gold.account_book), so pages never see half a refresh.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, insert, or_, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from dashboard.db import Database
from dashboard.tables import intelligence as tables
from dashboard.tables.gold import AccountScores
from etl.gold import SCORE_SUMMARY_STEPS, data_window
from etl.intelligence.actions import write_recommendations
from etl.intelligence.alerts import alert_candidates, write_alerts
from etl.intelligence.config import IntelligenceConfig
from etl.intelligence.features import build_features
from etl.intelligence.registry import ServingModel, has_any_model, serving_model
from etl.intelligence.training import train_churn
from etl.runs import recorded_run
from etl.steps import DIFF, qualified_name, run_steps
from models import clv as clv_model
from models.actions import load_rules, recommend
from models.churn import MEDIUM_RISK_MIN_SCORE, churn_risk_score, risk_level
from models.engagement import (
    CONTACT_SCALE,
    DROP_LOOKBACK_DAYS,
    detect_drops,
    engagement_scores,
    peer_percentiles,
    size_band,
)
from models.health import health_scores

log = logging.getLogger(__name__)
JOB_ID = "scoring"
# gold.engagement_history keeps each customer's daily engagement this long: the drop window and a
# little more, so the table stays small (100k customers: about 4.5 million rows with a run a day).
HISTORY_DAYS = 45
CONTACT_DETAILS = ["contact_id", "account_id", "contact_name", "job_title", "email", "phone"]
CONTACT_SQL = (Path(__file__).parent / "contact_engagement.sql").read_text(encoding="utf-8")
DEFAULT_ACTION = {"HIGH": "Schedule Retention Call", "MEDIUM": "Check in with the customer", "LOW": "Keep in touch"}


@dataclass
class ScoringResult:
    as_of: date
    accounts: int
    model_version: int | None
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ChurnScores:
    """Per-account churn output; empty frame when no model serves yet."""

    frame: pd.DataFrame  # churn_probability, churn_risk_score, previous_churn_risk_score, risk_level
    factors: dict[str, list[dict[str, Any]]]
    version: int | None


def score_churn(serving: ServingModel | None, current: pd.DataFrame, earlier: pd.DataFrame) -> ChurnScores:
    """Probabilities, 0-100 scores (now and 30 days ago, same model), levels and top-3 factors."""
    columns = ["churn_probability", "churn_risk_score", "previous_churn_risk_score", "risk_level"]
    if serving is None or current.empty:
        return ChurnScores(pd.DataFrame(columns=columns, index=current.index), {}, None)
    model = serving.model
    probability = model.predict_proba(current[model.feature_names])
    out = pd.DataFrame(index=current.index)
    out["churn_probability"] = probability
    out["churn_risk_score"] = churn_risk_score(probability)
    previous = pd.Series(np.nan, index=current.index)
    if not earlier.empty:
        earlier_scores = pd.Series(churn_risk_score(model.predict_proba(earlier[model.feature_names])),
                                   index=earlier.index)
        previous = earlier_scores.reindex(current.index)
    out["previous_churn_risk_score"] = previous
    out["risk_level"] = [risk_level(s) for s in out["churn_risk_score"]]
    explanations = model.explain(current[model.feature_names], top_n=3)
    factors = {account: [factor.as_dict() for factor in row]
               for account, row in zip(current.index, explanations, strict=True)}
    return ChurnScores(out, factors, serving.version)


def _payments(conn: Connection, as_of: date) -> pd.DataFrame:
    """Payments in USD per customer and week, up to the end of the as-of day."""
    result = conn.execute(text("""
        SELECT COALESCE(am.master_account_id, p.account_id) AS account_id,
               CAST(date_trunc('week', p.paid_at) AS date) AS week, sum(p.amount_usd) AS amount_usd
        FROM silver.payments p
        LEFT JOIN silver.account_master am ON am.account_id = p.account_id
        WHERE p.account_id IS NOT NULL AND p.amount_usd > 0 AND p.paid_at < CAST(:as_of AS date) + 1
        GROUP BY 1, 2
    """), {"as_of": as_of})
    frame = pd.DataFrame(result.fetchall(), columns=["account_id", "week", "amount_usd"])
    frame["amount_usd"] = frame["amount_usd"].astype(float)
    frame["week"] = pd.to_datetime(frame["week"])
    return frame


def lifetime_values(conn: Connection, current: pd.DataFrame, churn_probability: pd.Series,
                    as_of: date) -> pd.DataFrame:
    """Historical revenue, projected 12/36-month value and P(alive) per customer in `current`.

    BG/NBD and gamma-gamma are fitted on every customer that ever paid (the dead ones teach the
    model how customers leave). Where they give no finite projection (subscription customers who
    all pay like clockwork leave BG/NBD without heterogeneity to fit), the value is contractual:
    MRR for each future month, weighted by the chance of still being a customer, from the churn
    model's 90-day probability (or P(alive) alone without a churn model).
    """
    accounts = current.index
    out = pd.DataFrame(index=accounts)
    payments = _payments(conn, as_of)
    out["historical_revenue_usd"] = payments.groupby("account_id")["amount_usd"].sum().reindex(accounts).fillna(0.0)
    out["projected_12m_usd"] = np.nan
    out["projected_36m_usd"] = np.nan
    out["p_alive"] = np.nan
    if not payments.empty:
        value = _btyd_values(payments, as_of)
        if value is not None:
            value = value.reindex(accounts)
            out["projected_12m_usd"] = value["clv_12m"]
            out["projected_36m_usd"] = value["clv_36m"]
            out["p_alive"] = value["probability_alive"]
    monthly_churn = 1.0 - np.power(1.0 - churn_probability.reindex(accounts).astype(float).fillna(0.0), 1 / 3)
    mrr = current["mrr_usd"].astype(float).fillna(0.0)
    alive = out["p_alive"].fillna(1.0)
    for months, column in ((12, "projected_12m_usd"), (36, "projected_36m_usd")):
        survival = np.power.outer(1.0 - monthly_churn.to_numpy(), np.arange(1, months + 1)).sum(axis=1)
        contractual = pd.Series(mrr.to_numpy() * alive.to_numpy() * survival, index=accounts)
        finite = np.isfinite(out[column].astype(float))
        out[column] = out[column].where(finite, contractual)
    return out


def _btyd_values(payments: pd.DataFrame, as_of: date) -> pd.DataFrame | None:
    """BG/NBD x gamma-gamma values per customer (clv_12m, clv_36m, probability_alive), or None."""
    try:
        summary = clv_model.summarise_transactions(payments, "account_id", "week", "amount_usd", freq="W",
                                                   observation_end=as_of)
        purchases = clv_model.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    except (clv_model.ClvModelError, ValueError, FloatingPointError) as exc:
        log.warning("lifetime value: BG/NBD not usable: %s", exc)
        return None
    try:
        spend = clv_model.fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
        return clv_model.customer_lifetime_value(purchases, spend, summary, freq="W", horizons_months=(12, 36))
    except (clv_model.ClvModelError, ValueError, FloatingPointError) as exc:
        # Spend too uneven for gamma-gamma (a few very large customers): each customer's own mean.
        log.info("lifetime value: gamma-gamma not usable (%s); using each customer's mean payment", exc)
        return _projection_at_own_mean(purchases, summary, payments)


def _projection_at_own_mean(purchases: clv_model.BetaGeoModel, summary: pd.DataFrame,
                            payments: pd.DataFrame) -> pd.DataFrame:
    """BG/NBD expected purchases times the customer's mean weekly payment, for 12 and 36 months."""
    mean_payment = payments.groupby("account_id")["amount_usd"].mean().reindex(summary.index)
    average_value = summary["monetary_value"].where(summary["monetary_value"] > 0, mean_payment)
    value = pd.DataFrame(index=summary.index)
    value["probability_alive"] = purchases.probability_alive(summary["frequency"], summary["recency"], summary["T"])
    for months in (12, 36):
        weeks = months * clv_model.PERIODS_PER_MONTH["W"]
        expected = purchases.expected_purchases(weeks, summary["frequency"], summary["recency"], summary["T"])
        value[f"clv_{months}m"] = np.asarray(expected) * average_value.to_numpy()
    return value


def contact_engagement(conn: Connection, as_of: date, accounts: pd.DataFrame, *, peers: bool = True) -> pd.DataFrame:
    """Engagement per contact (master person) of the scored customers, with their master contact
    row's name, title, email and phone, and (unless `peers` is false) a peer percentile."""
    result = conn.execute(text(CONTACT_SQL), {"as_of": as_of})
    people = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    people = people[people["account_id"].isin(accounts.index)]
    if people.empty:
        return people[CONTACT_DETAILS].assign(engagement_score=[], tier=[], recency=[], frequency=[], depth=[],
                                              peer_percentile=[])
    scores = engagement_scores(people, CONTACT_SCALE)
    people = pd.concat([people[CONTACT_DETAILS], scores], axis=1)
    if not peers:
        return people
    groups = accounts[["segment", "region", "size_band"]].astype(str)
    people = people.join(groups, on="account_id")
    people["peer_percentile"] = peer_percentiles(people)["peer_percentile"]
    return people


def frame_records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts with NaN turned into None, for executemany inserts."""
    subset = frame[columns].astype(object).where(frame[columns].notna(), None)
    return subset.to_dict("records")


def replace_rows(session: Session, table: type, rows: list[dict[str, Any]]) -> int:
    session.execute(delete(table))
    if rows:
        session.execute(insert(table), rows)
    return len(rows)


def _write_history(session: Session, as_of: date, current: pd.DataFrame, earlier_day: date,
                   earlier: pd.DataFrame) -> int:
    """Keep each customer's score and parts for the as-of day (replacing a run's of the same day), and
    for the day the drops are measured from when no run kept it; drop what is older than HISTORY_DAYS."""
    history = tables.EngagementHistory
    columns = ["account_id", "as_of", "engagement_score", "tier", "recency", "frequency", "depth"]
    now_rows = frame_records(current.assign(account_id=current.index, as_of=as_of), columns)
    earlier = earlier.dropna(subset=["engagement_score"])
    before_rows = frame_records(earlier.assign(account_id=earlier.index, as_of=earlier_day), columns)
    session.execute(delete(history).where(or_(history.as_of == as_of,
                                              history.as_of < as_of - timedelta(days=HISTORY_DAYS))))
    if now_rows:
        session.execute(insert(history), now_rows)
    if before_rows:
        session.execute(pg_insert(history).on_conflict_do_nothing(), before_rows)
    return len(now_rows)


BANDS_SQL = """
INSERT INTO gold.engagement_band (territory, kind, band, tier, members)
SELECT COALESCE(b.territory, 'Unknown'), s.kind, LEAST(width_bucket(s.engagement_score, 0.0, 1.0, 100), 100), s.tier,
       count(*)
FROM (SELECT 'account' AS kind, account_id, engagement_score, tier FROM gold.account_engagement
      UNION ALL
      SELECT 'contact', account_id, engagement_score, tier FROM gold.contact_engagement) s
LEFT JOIN gold.account_book b ON b.account_id = s.account_id
GROUP BY 1, 2, 3, 4
"""


def _write_bands(session: Session) -> int:
    """Rebuild gold.engagement_band from the engagement rows just written (same transaction)."""
    session.execute(delete(tables.EngagementBand))
    return session.execute(text(BANDS_SQL)).rowcount


def _rule_frame(current: pd.DataFrame, churn: ChurnScores) -> pd.DataFrame:
    frame = current.copy()
    frame["customer_id"] = frame["account_id"]
    frame["churn_risk_score"] = churn.frame["churn_risk_score"].astype(float)
    frame["churn_probability"] = churn.frame["churn_probability"].astype(float)
    for column in ("segment", "region", "industry"):
        frame[column] = frame[column].astype(str)
    return frame.reset_index(drop=True)


def run_scoring(database: Database, *, triggered_by: str = "manual", config: IntelligenceConfig | None = None,
                train_if_missing: bool = True) -> ScoringResult:
    """Score every active customer and write the gold intelligence tables; see the module docstring."""
    config = config or IntelligenceConfig.from_env()
    rules = load_rules(config.rules_file)
    started = time.monotonic()
    if train_if_missing:
        _train_first_model(database, triggered_by)
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as run, database.begin() as session:
        now = datetime.now(UTC)
        conn = session.connection()
        as_of = data_window(conn).as_of
        earlier_day = as_of - timedelta(days=DROP_LOOKBACK_DAYS)
        features = build_features(conn, [earlier_day, as_of])
        current = features[features["cutoff"] == as_of].set_index("account_id", drop=False)
        earlier = features[features["cutoff"] == earlier_day].set_index("account_id", drop=False)

        engagement = engagement_scores(current)
        earlier_engagement = engagement_scores(earlier)
        previous_engagement = earlier_engagement["engagement_score"].reindex(current.index)
        engagement["previous_engagement_score"] = previous_engagement
        engagement["sharp_drop"] = detect_drops(engagement["engagement_score"], previous_engagement)
        current = current.assign(engagement_score=engagement["engagement_score"],
                                 size_band=size_band(current["employees"]))
        engagement = engagement.join(peer_percentiles(current))
        health = health_scores(current)
        churn = score_churn(serving_model(session, config.churn_min_auc), current, earlier)
        value = lifetime_values(conn, current, churn.frame["churn_probability"], as_of)
        value["clv_usd"] = value["historical_revenue_usd"] + value["projected_36m_usd"].fillna(0.0)
        people = contact_engagement(conn, as_of, current)
        earlier_people = contact_engagement(conn, earlier_day, current, peers=False)
        people["previous_engagement_score"] = people["contact_id"].map(
            earlier_people.set_index("contact_id")["engagement_score"])

        at_risk = churn.frame.index[churn.frame["churn_risk_score"].astype(float) >= MEDIUM_RISK_MIN_SCORE]
        recommendations = recommend(rules, _rule_frame(current, churn),
                                    {a: churn.factors.get(a, []) for a in at_risk})
        first_action = recommendations.drop_duplicates("customer_id").set_index("customer_id")["action_title"]

        rows = run.rows
        accounts = current.index
        if churn.version is not None:
            prediction = churn.frame.assign(account_id=accounts, model_version=churn.version, scored_at=now)
            prediction["contributing_factors"] = [churn.factors.get(a, []) for a in accounts]
            prediction["recommended_action"] = [first_action.get(a, DEFAULT_ACTION[level])
                                                for a, level in zip(accounts, prediction["risk_level"], strict=True)]
            rows["gold.churn_prediction"] = replace_rows(session, tables.ChurnPrediction, frame_records(prediction, [
                "account_id", "churn_probability", "churn_risk_score", "previous_churn_risk_score", "risk_level",
                "contributing_factors", "recommended_action", "model_version", "scored_at"]))
        else:
            run.warn(f"no churn model reaches ROC-AUC {config.churn_min_auc}: churn scores left as they were")
        rows["gold.account_health"] = replace_rows(session, tables.AccountHealth, frame_records(
            health.assign(account_id=accounts, scored_at=now),
            ["account_id", "health_score", "health_band", "payment_score", "support_score", "usage_score",
             "engagement_component", "scored_at"]))
        rows["gold.account_engagement"] = replace_rows(session, tables.AccountEngagement, frame_records(
            engagement.assign(account_id=accounts, scored_at=now),
            ["account_id", "engagement_score", "previous_engagement_score", "tier", "recency", "frequency", "depth",
             "sharp_drop", "peer_group", "peer_percentile", "peer_median", "scored_at"]))
        rows["gold.contact_engagement"] = replace_rows(session, tables.ContactEngagement, frame_records(
            people.assign(scored_at=now),
            ["contact_id", "account_id", "engagement_score", "previous_engagement_score", "tier", "recency",
             "frequency", "depth", "peer_percentile", "contact_name", "job_title", "email", "phone", "scored_at"]))
        rows["gold.engagement_history"] = _write_history(
            session, as_of, engagement, earlier_day, earlier_engagement.reindex(current.index))
        rows["gold.engagement_band"] = _write_bands(session)
        rows["gold.clv"] = replace_rows(session, tables.CustomerLifetimeValue, frame_records(
            value.round(2).assign(account_id=accounts, scored_at=now),
            ["account_id", "historical_revenue_usd", "projected_12m_usd", "projected_36m_usd", "clv_usd",
             "p_alive", "scored_at"]))
        rows["gold.next_best_action"] = write_recommendations(session, recommendations, now=now)
        alerts = alert_candidates(current, churn.frame, engagement, config)
        rows["gold.alert"] = write_alerts(session, alerts, as_of=as_of, now=now, config=config)
        rows["gold.account_scores"] = _write_account_scores(session, current, churn, health, engagement, value, now)
        # The gold sums of the scores just copied into customer_360, and of the predictions.
        session.flush()
        rows.update(run_steps(conn, SCORE_SUMMARY_STEPS, {"as_of": as_of}, stage="scoring", truncate=False,
                              plan={qualified_name(step.table): DIFF for step in SCORE_SUMMARY_STEPS}))
        result = ScoringResult(as_of, len(current), churn.version, 0.0, dict(rows))
    result.seconds = time.monotonic() - started
    log.info("scoring: %d customers as of %s in %.1fs", result.accounts, as_of, result.seconds)
    return result


# Runs whose success changes what scoring would write.
INPUT_JOBS = ("etl", "etl_full_rebuild", "churn_train")


def scoring_is_due(database: Database) -> bool:
    """True if data or a model landed after the last successful scoring run started.

    False before any data refresh has succeeded: there is nothing to score yet.
    """
    with database.session() as session:
        return bool(session.scalar(text("""
            SELECT coalesce(
                (SELECT max(finished_at) FROM app.job_run WHERE status = 'success' AND job_id = ANY(:inputs))
                > coalesce((SELECT max(started_at) FROM app.job_run WHERE status = 'success' AND job_id = :job),
                           '-infinity'),
                false)
        """), {"inputs": list(INPUT_JOBS), "job": JOB_ID}))


def _write_account_scores(session: Session, current: pd.DataFrame, churn: ChurnScores, health: pd.DataFrame,
                          engagement: pd.DataFrame, value: pd.DataFrame, now: datetime) -> int:
    """Replace gold.account_scores and copy it into gold.customer_360 in the caller's transaction."""
    scores = pd.DataFrame(index=current.index)
    scores["account_id"] = current.index
    scores["churn_risk_score"] = churn.frame["churn_risk_score"].astype(float)
    scores["risk_level"] = churn.frame["risk_level"]
    scores["health_score"] = health["health_score"]
    scores["engagement_score"] = engagement["engagement_score"]
    scores["clv_usd"] = value["clv_usd"].round(2)
    scores["scored_at"] = now
    count = replace_rows(session, AccountScores, frame_records(scores, list(scores.columns)))
    if churn.version is None:  # no model serves: keep the last churn scores written
        session.execute(text("""
            UPDATE gold.account_scores s SET churn_risk_score = p.churn_risk_score, risk_level = p.risk_level
            FROM gold.churn_prediction p WHERE p.account_id = s.account_id
        """))
    session.execute(text("""
        UPDATE gold.customer_360 c
        SET churn_risk_score = s.churn_risk_score, risk_level = s.risk_level, health_score = s.health_score,
            engagement_score = s.engagement_score, clv_usd = s.clv_usd
        FROM (SELECT c2.account_id, s2.churn_risk_score, s2.risk_level, s2.health_score, s2.engagement_score,
                     s2.clv_usd
              FROM gold.customer_360 c2
              LEFT JOIN gold.account_scores s2 ON s2.account_id = c2.account_id) s
        WHERE s.account_id = c.account_id
    """))
    session.execute(text("""
        UPDATE gold.account_book b SET risk_level = c.risk_level
        FROM gold.customer_360 c
        WHERE c.account_id = b.account_id AND b.risk_level IS DISTINCT FROM c.risk_level
    """))
    return count


def _train_first_model(database: Database, triggered_by: str) -> None:
    """Train once when the registry is empty, so a new installation gets churn scores at once."""
    with database.session() as session:
        if has_any_model(session):
            return
    try:
        train_churn(database, triggered_by=triggered_by)
    except ValueError as exc:  # too little history or a single class: score without churn for now
        log.warning("scoring: could not train a first churn model: %s", exc)
