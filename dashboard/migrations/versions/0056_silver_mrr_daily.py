"""MRR in USD per day on silver's subscriptions, for the jobs that read silver alone

Revision ID: 0056
Revises: 0055

gold.subscription_mrr_daily (0016) is MRR's one definition, applied to gold's snapshot of the
subscriptions. The churn features are worked out from silver, and reading their MRR from gold made
training wait for the whole gold build. silver.subscription_mrr_daily is the same definition, from
the same text, applied to silver.subscriptions: a subscription counts on the days from its start up
to, not including, its end, which already leaves out one ending on or before its start (the rule
gold.subscription_mrr applies). Once gold is built from silver, the two views agree row for row
(tests/etl/test_mrr_daily.py).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = '0056'
down_revision = '0055'
branch_labels = None
depends_on = None


def _silver_view_text() -> str:
    """0016's view text, with silver's subscriptions and their column names in place of gold's."""
    spec = importlib.util.spec_from_file_location("mrr_0016", Path(__file__).with_name("0016_gold_mrr_daily.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.SUBSCRIPTION_MRR_DAILY
    for gold, silver in (("gold.subscription_mrr_daily", "silver.subscription_mrr_daily"),
                         ("gold.subscription_mrr m", "silver.subscriptions m"),
                         ("m.active_from", "m.start_date"), ("m.active_until", "m.end_date")):
        if gold not in text:
            raise RuntimeError(f"0016's view no longer reads {gold!r}")
        text = text.replace(gold, silver)
    return text


def upgrade() -> None:
    op.execute(_silver_view_text())
    op.execute("COMMENT ON VIEW silver.subscription_mrr_daily IS 'gold.subscription_mrr_daily''s MRR in USD per "
               "subscription and day, on silver.subscriptions: for jobs that read silver alone'")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS silver.subscription_mrr_daily")
