"""forecasts, anomalies and KPI drivers

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecast_series",
        sa.Column("series_key", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("grain", sa.Text(), nullable=False),
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.Column("member", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("model_name", sa.Text(), nullable=False),
        sa.Column("backtest_mase", sa.Double(), nullable=True),
        sa.Column("season_length", sa.Integer(), nullable=False),
        sa.Column("history_points", sa.Integer(), nullable=False),
        sa.Column("last_actual_period", sa.Date(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("series_key", name=op.f("pk_forecast_series")),
        schema="gold",
    )
    op.create_table(
        "forecast",
        sa.Column("series_key", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("horizon_step", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Double(), nullable=False),
        sa.Column("lower80", sa.Double(), nullable=False),
        sa.Column("upper80", sa.Double(), nullable=False),
        sa.Column("lower95", sa.Double(), nullable=False),
        sa.Column("upper95", sa.Double(), nullable=False),
        sa.Column("model_name", sa.Text(), nullable=False),
        sa.Column("backtest_mase", sa.Double(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("series_key", "period_start", name=op.f("pk_forecast")),
        schema="gold",
    )
    op.create_table(
        "forecast_actual",
        sa.Column("series_key", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("actual", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("series_key", "period_start", name=op.f("pk_forecast_actual")),
        schema="gold",
    )
    op.create_table(
        "account_anomaly",
        sa.Column("anomaly_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("detected_on", sa.Date(), nullable=False),
        sa.Column("observed", sa.Double(), nullable=False),
        sa.Column("baseline", sa.Double(), nullable=False),
        sa.Column("change_pct", sa.Double(), nullable=True),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.UniqueConstraint("account_id", "metric", "detected_on", name="uq_account_anomaly_account_metric_day"),
        sa.PrimaryKeyConstraint("anomaly_id", name=op.f("pk_account_anomaly")),
        schema="gold",
    )
    op.create_index("ix_account_anomaly_detected_on", "account_anomaly", ["detected_on"], schema="gold")
    op.create_table(
        "kpi_driver",
        sa.Column("kpi", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.Column("member", sa.Text(), nullable=False),
        sa.Column("component", sa.Text(), nullable=False),
        sa.Column("figure", sa.Double(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kpi", "period_start", "period_end", "dimension", "member", "component", name=op.f("pk_kpi_driver")),
        schema="gold",
    )


def downgrade() -> None:
    op.drop_table("kpi_driver", schema="gold")
    op.drop_index("ix_account_anomaly_detected_on", table_name="account_anomaly", schema="gold")
    op.drop_table("account_anomaly", schema="gold")
    op.drop_table("forecast_actual", schema="gold")
    op.drop_table("forecast", schema="gold")
    op.drop_table("forecast_series", schema="gold")
