"""Per-customer features as of cut-off days, built in PostgreSQL from silver and gold (see features.sql)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

FEATURES_SQL = (Path(__file__).parent / "features.sql").read_text(encoding="utf-8")
CHURN_HORIZON_DAYS = 90
LABEL = "churned_within_90d"
CATEGORICAL_FEATURES = ("segment", "region", "industry")
# What the churn model sees: point-in-time numbers only (no ids, dates or the label).
MODEL_FEATURES = (
    "segment", "region", "industry", "employees", "member_accounts", "tenure_days",
    "usage_trend_30d", "usage_trend_90d", "tickets_90d", "escalations_90d", "sla_breaches_90d", "open_tickets",
    "csat_90d", "days_overdue", "overdue_share_of_mrr", "late_payment_share", "mrr_usd", "active_services",
    "mrr_change_90d_pct", "revenue_growth_pct", "days_to_contract_expiry", "days_since_last_interaction",
    "interactions_90d", "channels_90d", "credit_holds", "sentiment_90d", "negative_text_share_90d",
)
# Readable labels and sentence templates for the churn explanations (see models.churn.factor_sentence).
FEATURE_LABELS = {
    "usage_trend_30d": "Usage {trend} {abs_value:.0%} over the last 30 days",
    "usage_trend_90d": "Usage {trend} {abs_value:.0%} against the 90 days before",
    "tickets_90d": "{value:.0f} support tickets in the last 90 days",
    "escalations_90d": "{value:.0f} escalated tickets in the last 90 days",
    "sla_breaches_90d": "{value:.0f} SLA breaches in the last 90 days",
    "open_tickets": "{value:.0f} tickets still open",
    "csat_90d": "Average CSAT of {value:.1f} over the last 90 days",
    "days_overdue": "Oldest unpaid invoice is {value:.0f} days overdue",
    "overdue_share_of_mrr": "Overdue balance is {value:.1f} months of MRR",
    "late_payment_share": "{value:.0%} of the last year's invoices were paid late",
    "mrr_usd": "MRR of ${value:,.0f}",
    "active_services": "{value:.0f} active services",
    "mrr_change_90d_pct": "MRR changed {value:+.0f}% in 90 days",
    "revenue_growth_pct": "MRR changed {value:+.0f}% year on year",
    "days_to_contract_expiry": "Contract renews in {value:.0f} days",
    "days_since_last_interaction": "Last interaction {value:.0f} days ago",
    "interactions_90d": "{value:.0f} interactions in the last 90 days",
    "channels_90d": "Engaged on {value:.0f} channels in the last 90 days",
    "tenure_days": "Customer for {value:,.0f} days",
    "credit_holds": "{value:.0f} credit holds in place",
    "sentiment_90d": "Customer messages averaged {value:+.2f} sentiment over 90 days",
    "negative_text_share_90d": "{value:.0%} of customer messages were negative over 90 days",
    "employees": "Company size",
    "member_accounts": "Regional accounts",
    "segment": "Segment",
    "region": "Region",
    "industry": "Industry",
}


def _ratio_change(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator - 1, empty where the denominator is not positive."""
    denominator = denominator.astype(float)
    return numerator.astype(float) / denominator.where(denominator > 0) - 1.0


def build_features(conn: Connection, cutoffs: list[date]) -> pd.DataFrame:
    """One row per active customer and cut-off: raw SQL figures plus the derived model features."""
    if not cutoffs:
        raise ValueError("build_features needs at least one cut-off day")
    result = conn.execute(text(FEATURES_SQL), {"cutoffs": sorted(set(cutoffs))})
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for column in frame.columns:
        if column in ("cutoff", "account_id", "churned_at", *CATEGORICAL_FEATURES):
            continue
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["cutoff"] = pd.to_datetime(frame["cutoff"]).dt.date
    frame[LABEL] = frame[LABEL].astype(bool)
    frame["usage_trend_30d"] = _ratio_change(frame["usage_30d"], frame["usage_prev_30d"])
    frame["usage_trend_90d"] = _ratio_change(frame["usage_30d"], frame["usage_prev_90d"])
    frame["usage_change_pct"] = 100 * frame["usage_trend_90d"]
    frame["mrr_change_90d_pct"] = 100 * _ratio_change(frame["mrr_usd"], frame["mrr_90d_ago_usd"])
    frame["revenue_growth_pct"] = 100 * _ratio_change(frame["mrr_usd"], frame["mrr_year_ago_usd"])
    mrr = frame["mrr_usd"].astype(float)
    frame["overdue_share_of_mrr"] = np.where(mrr > 0, frame["overdue_usd"].astype(float) / mrr.where(mrr > 0),
                                             np.where(frame["overdue_usd"] > 0, np.nan, 0.0))
    frame["arr_usd"] = 12 * mrr
    for column in CATEGORICAL_FEATURES:
        frame[column] = frame[column].astype("category")
    return frame


def training_cutoffs(first_day: date, as_of: date, *, step_days: int = 30, max_train: int = 15,
                     n_validation: int = 3, warm_up_days: int = 180) -> tuple[list[date], list[date]]:
    """(training cut-offs, validation cut-offs), monthly, split by time.

    Validation uses the latest cut-offs whose 90-day label window has fully passed by `as_of`;
    training uses earlier ones whose label window ends by the first validation cut-off, so no
    training label looks into the validation period. The first `warm_up_days` of data are
    skipped so usage and payment windows are full.
    """
    last_validation = as_of - timedelta(days=CHURN_HORIZON_DAYS)
    validation = [last_validation - timedelta(days=step_days * k) for k in range(n_validation)]
    last_train = min(validation) - timedelta(days=CHURN_HORIZON_DAYS)
    earliest = first_day + timedelta(days=warm_up_days)
    train = [last_train - timedelta(days=step_days * k) for k in range(max_train)]
    train = [d for d in train if d >= earliest]
    if len(train) < 2:
        raise ValueError(f"not enough history to train on: data from {first_day} to {as_of} leaves "
                         f"{len(train)} training cut-off(s) before {min(validation)}")
    return sorted(train), sorted(validation)
