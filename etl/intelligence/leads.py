"""The lead and repeat-purchase job ("lead_scoring"): accounts and leads for sales to act on.

After each data refresh (and scoring, whose engagement tiers and churn factors it reads):
- trains the lead propensity model on the leads old enough to have an outcome, earlier leads for
  training and later ones for validation (models.leads), and scores every open lead;
- fits BG/NBD on every customer's purchases (won deals and new subscriptions, counted per week)
  and writes P(alive), expected purchases in the next 13 weeks and the last expansion;
- lists the customers whose MRR fell over the last 90 days, or who stopped buying, with the
  reasons in words (the churn model's factors, price rises, support tickets, overdue payments).

Everything is written to gold in one transaction (gold.lead_score, gold.repeat_purchase,
gold.buying_decline, gold.sales_model_run); the page only reads those.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from dashboard.db import Database
from dashboard.tables import sales as tables
from etl.gold import data_window
from etl.insights.drivers import REVALUED_SQL
from etl.intelligence.scoring import frame_records, replace_rows
from etl.runs import recorded_run
from models import leads as model

log = logging.getLogger(__name__)
JOB_ID = "lead_scoring"
# A data refresh brings new leads and purchases; scoring brings the engagement tiers and churn factors.
INPUT_JOBS = ("etl", "etl_full_rebuild", "scoring")
HORIZON_WEEKS = 13.0
DECLINE_WINDOW_DAYS = 90
PRICE_RISE_WINDOW_DAYS = 180
STOPPED_P_ALIVE = 0.3  # customers with several purchases and less than this chance of still buying
STOPPED_MIN_PURCHASES = 3

LEADS_SQL = """
    SELECT l.lead_id, l.created_at, l.first_name, l.last_name, l.company, l.email, l.phone, l.region,
           l.lead_source, l.status, l.owner_user_id, l.converted_account_id,
           u.full_name AS owner_name, u.territory
    FROM silver.leads l
    LEFT JOIN silver.users u ON u.user_id = l.owner_user_id
    WHERE l.created_at < CAST(:as_of AS date) + 1
"""

# The earliest customer (master account) whose contacts use the lead's work-email domain and that
# was a customer before the lead arrived, with its engagement tier now.
LEAD_COMPANY_SQL = """
    WITH domains AS (
        SELECT DISTINCT ON (split_part(c.email, '@', 2))
               split_part(c.email, '@', 2) AS domain,
               COALESCE(am.master_account_id, c.account_id) AS account_id, a.created_at
        FROM silver.contacts c
        JOIN silver.accounts a ON a.account_id = c.account_id
        LEFT JOIN silver.account_master am ON am.account_id = c.account_id
        WHERE c.email LIKE '%@%' AND a.created_at IS NOT NULL
        ORDER BY split_part(c.email, '@', 2), a.created_at
    )
    SELECT l.lead_id, d.account_id, e.tier
    FROM silver.leads l
    JOIN domains d ON d.domain = split_part(l.email, '@', 2) AND d.created_at < l.created_at
    LEFT JOIN gold.account_engagement e ON e.account_id = d.account_id
    WHERE l.email LIKE '%@%' AND NOT (split_part(l.email, '@', 2) = ANY(:personal))
"""

# Purchases: won deals by close day and new subscriptions by start day, per customer (master account).
PURCHASES_SQL = """
    SELECT COALESCE(am.master_account_id, o.account_id) AS account_id, o.close_date AS purchased_at,
           'won deal' AS kind
    FROM silver.opportunities o
    LEFT JOIN silver.account_master am ON am.account_id = o.account_id
    WHERE o.account_id IS NOT NULL AND o.is_closed AND o.is_won AND o.close_date <= :as_of
    UNION ALL
    SELECT COALESCE(am.master_account_id, s.account_id), s.start_date, 'new subscription'
    FROM silver.subscriptions s
    LEFT JOIN silver.account_master am ON am.account_id = s.account_id
    WHERE s.start_date <= :as_of
"""

CUSTOMERS_SQL = """
    SELECT c.account_id, c.account_name, c.region, c.territory, c.mrr_usd, c.overdue_usd,
           p.churn_risk_score, p.contributing_factors
    FROM gold.customer_360 c
    LEFT JOIN gold.churn_prediction p ON p.account_id = c.account_id
"""

# The subscriptions that counted on :before and no longer count on :as_of, per customer. MRR itself
# comes from gold.subscription_mrr_daily (MRR's one definition), revalued at the as-of day's rates
# (REVALUED_SQL), so a change is what the customer buys, not the exchange rate.
ENDED_SQL = """
    SELECT COALESCE(am.master_account_id, b.account_id) AS account_id, count(*) AS ended_subscriptions
    FROM gold.subscription_mrr_daily b
    LEFT JOIN gold.subscription_mrr_daily n ON n.subscription_id = b.subscription_id AND n.day = :as_of
    LEFT JOIN silver.account_master am ON am.account_id = b.account_id
    WHERE b.day = :before AND n.subscription_id IS NULL
    GROUP BY 1
"""

PRICE_RISES_SQL = """
    SELECT COALESCE(am.master_account_id, p.account_id) AS account_id, count(*) AS price_rises
    FROM silver.price_changes p
    LEFT JOIN silver.account_master am ON am.account_id = p.account_id
    WHERE p.new_mrr > p.old_mrr AND p.effective_date > CAST(:as_of AS date) - :days AND p.effective_date <= :as_of
    GROUP BY 1
"""

TICKETS_SQL = """
    SELECT COALESCE(am.master_account_id, t.account_id) AS account_id, count(*) AS tickets
    FROM silver.tickets t
    LEFT JOIN silver.account_master am ON am.account_id = t.account_id
    WHERE t.account_id IS NOT NULL AND t.created_at >= CAST(:as_of AS date) - :days
          AND t.created_at < CAST(:as_of AS date) + 1
    GROUP BY 1
"""


@dataclass
class LeadScoringResult:
    as_of: date
    open_leads: int
    customers: int
    declines: int
    validation_auc: float | None
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        auc = f"{self.validation_auc:.3f}" if self.validation_auc is not None else "n/a"
        return (f"{self.open_leads:,} open leads scored (validation AUC {auc}), {self.customers:,} customers' "
                f"repeat-purchase propensity, {self.declines:,} declining customers, in {self.seconds:.1f}s.")


def _frame(conn: Connection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    result = conn.execute(text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def read_leads(conn: Connection, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every lead up to the as-of day (index lead_id) and the customer its company already is, if any."""
    leads = _frame(conn, LEADS_SQL, {"as_of": as_of}).set_index("lead_id", drop=False)
    companies = _frame(conn, LEAD_COMPANY_SQL, {"personal": sorted(model.PERSONAL_EMAIL_DOMAINS)})
    companies = companies.drop_duplicates("lead_id").set_index("lead_id")
    return leads, companies


def score_leads(leads: pd.DataFrame, companies: pd.DataFrame, as_of: date) -> tuple[pd.DataFrame, model.LeadModel]:
    """Train on the decided leads (earlier ones, validated on later ones) and score the open ones."""
    tiers = companies["tier"].fillna(model.NO_TIER) if not companies.empty else pd.Series(dtype=object)
    features = model.lead_features(leads, engagement_tier=tiers.reindex(leads.index))
    decided = model.decided_leads(leads, as_of)
    fitted = model.train_lead_model(features[decided], model.is_converted(leads[decided]),
                                    leads.loc[decided, "created_at"])
    open_leads = leads[leads["status"].fillna("").str.lower().isin(model.OPEN_STATUSES)
                       & ~model.is_converted(leads)]
    scores = fitted.score(features.loc[open_leads.index])
    out = open_leads[["lead_id", "created_at", "company", "email", "phone", "region", "territory", "owner_user_id",
                      "owner_name", "lead_source", "status"]].copy()
    out["lead_name"] = (open_leads["first_name"].fillna("") + " " + open_leads["last_name"].fillna("")).str.strip()
    out["engagement_tier"] = features.loc[open_leads.index, "engagement_tier"]
    out["matched_account_id"] = companies["account_id"].reindex(open_leads.index) if not companies.empty else None
    return out.join(scores), fitted


def purchase_events(conn: Connection, as_of: date) -> pd.DataFrame:
    frame = _frame(conn, PURCHASES_SQL, {"as_of": as_of})
    frame["purchased_at"] = pd.to_datetime(frame["purchased_at"])
    return frame


def repeat_purchases(purchases: pd.DataFrame, customers: pd.DataFrame, as_of: date
                     ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per customer of gold.customer_360 with a purchase: BG/NBD propensity and last expansion."""
    purchases = purchases[purchases["account_id"].isin(customers.index)]
    if purchases.empty:
        return pd.DataFrame(), {}
    summary = model.purchase_summary(purchases, as_of)
    scores, fitted = model.repeat_purchase_scores(summary, HORIZON_WEEKS)
    out = summary.join(scores)
    out["first_purchase"] = purchases.groupby("account_id")["purchased_at"].min().reindex(out.index).dt.date
    expansion = model.expansions(purchases)
    out = out.join(expansion)
    out["last_expansion"] = out["last_expansion"].astype(object).where(out["last_expansion"].notna(), None)
    out["days_since_expansion"] = [(as_of - d).days if d is not None else None for d in out["last_expansion"]]
    out = out.join(customers[["account_name", "region", "territory", "mrr_usd"]])
    params = dict(model.bgnbd_parameters(fitted))
    params.update(customers=int(len(summary)), log_likelihood=float(fitted.log_likelihood),
                  converged=bool(fitted.converged), horizon_weeks=HORIZON_WEEKS)
    return out, params


def buying_declines(conn: Connection, customers: pd.DataFrame, repeat: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Customers whose MRR fell over the window, or who stopped buying, with the reasons in words."""
    before = as_of - timedelta(days=DECLINE_WINDOW_DAYS)
    def revalued(day: date) -> pd.Series:
        found = _frame(conn, REVALUED_SQL, {"day": day, "rate_day": as_of}).set_index("account_id")
        return found["mrr_usd_at_end_rates"]

    ended = _frame(conn, ENDED_SQL, {"before": before, "as_of": as_of}).set_index("account_id")
    mrr = pd.DataFrame({"mrr_before_usd": revalued(before), "mrr_now_usd": revalued(as_of)})
    mrr = mrr.join(ended, how="outer")
    price = _frame(conn, PRICE_RISES_SQL, {"as_of": as_of, "days": PRICE_RISE_WINDOW_DAYS}).set_index("account_id")
    tickets = _frame(conn, TICKETS_SQL, {"as_of": as_of, "days": DECLINE_WINDOW_DAYS}).set_index("account_id")
    frame = customers.join(mrr, how="left")
    frame["price_rises"] = price["price_rises"].reindex(frame.index).fillna(0).astype(int)
    frame["tickets"] = tickets["tickets"].reindex(frame.index).fillna(0).astype(int)
    if not repeat.empty:
        frame = frame.join(repeat[["p_alive", "purchases", "last_purchase"]])
    else:
        frame = frame.assign(p_alive=np.nan, purchases=np.nan, last_purchase=None)
    declines = model.decline_table(frame, stopped_p_alive=STOPPED_P_ALIVE,
                                   stopped_min_purchases=STOPPED_MIN_PURCHASES)
    return declines


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def run_lead_scoring(database: Database, *, triggered_by: str = "manual") -> LeadScoringResult:
    """Train and score leads, fit repeat purchases, list declining customers; replace the gold tables."""
    started = time.monotonic()
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as run, database.begin() as session:
        now = datetime.now(UTC)
        conn = session.connection()
        as_of = data_window(conn).as_of
        customers = _frame(conn, CUSTOMERS_SQL, {}).set_index("account_id", drop=False)
        rows = run.rows

        leads, companies = read_leads(conn, as_of)
        auc: float | None = None
        lead_metrics: dict[str, Any] = {}
        train_rows = validation_rows = 0
        split_at = None
        scored = pd.DataFrame()
        try:
            scored, fitted = score_leads(leads, companies, as_of)
            auc = _finite(fitted.validation_auc)
            train_rows, validation_rows, split_at = fitted.train_rows, fitted.validation_rows, fitted.split_at
            lead_metrics = {
                "validation_auc": auc, "train_auc": _finite(fitted.train_auc),
                "train_conversion_rate": fitted.train_conversion_rate,
                "validation_conversion_rate": _finite(fitted.validation_conversion_rate),
                "coefficients": {c: round(float(v), 4) for c, v in zip(fitted.columns, fitted.coefficients,
                                                                       strict=True)},
            }
        except model.LeadModelError as exc:
            run.warn(f"lead model not trained: {exc}")
        rows["gold.lead_score"] = replace_rows(session, tables.LeadScore, frame_records(scored.assign(scored_at=now), [
            "lead_id", "created_at", "lead_name", "company", "email", "phone", "region", "territory",
            "owner_user_id", "owner_name", "lead_source", "status", "engagement_tier", "matched_account_id",
            "conversion_probability", "lead_score", "reason", "scored_at"])) if not scored.empty else replace_rows(
            session, tables.LeadScore, [])

        repeat, bgnbd = pd.DataFrame(), {}
        try:
            repeat, bgnbd = repeat_purchases(purchase_events(conn, as_of), customers, as_of)
        except (ValueError, FloatingPointError) as exc:
            run.warn(f"repeat purchases: BG/NBD not usable: {exc}")
        if not repeat.empty:
            repeat = repeat.assign(account_id=repeat.index, scored_at=now, recency_weeks=repeat["recency"],
                                   age_weeks=repeat["T"], purchase_rank=repeat["rank"])
            repeat["purchases"] = repeat["purchases"].astype(int)
        rows["gold.repeat_purchase"] = replace_rows(session, tables.RepeatPurchase, frame_records(repeat, [
            "account_id", "account_name", "region", "territory", "purchases", "first_purchase", "last_purchase",
            "frequency", "recency_weeks", "age_weeks", "p_alive", "expected_purchases", "purchase_rank",
            "last_expansion", "last_expansion_kind", "days_since_expansion", "mrr_usd", "scored_at"])
            if not repeat.empty else [])

        declines = buying_declines(conn, customers, repeat, as_of)
        rows["gold.buying_decline"] = replace_rows(session, tables.BuyingDecline, frame_records(
            declines.assign(scored_at=now), [
                "account_id", "account_name", "region", "territory", "decline_kind", "mrr_before_usd", "mrr_now_usd",
                "mrr_change_usd", "last_purchase", "price_rises", "tickets", "churn_risk_score", "reasons",
                "scored_at"]) if not declines.empty else [])
        session.add(tables.SalesModelRun(
            as_of=as_of, scored_at=now, lead_validation_auc=auc, lead_train_rows=train_rows,
            lead_validation_rows=validation_rows, lead_split_at=split_at.to_pydatetime().replace(tzinfo=UTC)
            if split_at is not None else None, lead_metrics=lead_metrics, bgnbd=bgnbd,
            decline_window_days=DECLINE_WINDOW_DAYS))
        rows["gold.sales_model_run"] = 1
        result = LeadScoringResult(as_of, len(scored), len(repeat), len(declines), auc, 0.0, dict(rows))
    result.seconds = time.monotonic() - started
    log.info("lead scoring: %s", result.describe())
    return result
