"""Tables of the forecast, anomaly and KPI-driver jobs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, Double, Index, Integer, Numeric, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.tables.base import Base


class ForecastSeries(Base):
    """One forecast series: what it measures, its grain and the model the backtest chose."""

    __tablename__ = "forecast_series"
    __table_args__ = {"schema": "gold"}

    series_key: Mapped[str] = mapped_column(Text, primary_key=True)  # e.g. "mrr_usd:region:EMEA"
    # mrr_usd, invoiced_usd, pipeline_weighted_usd, bookings_usd, bookings_usd_last_quarter, tickets_opened, replies
    metric: Mapped[str] = mapped_column(Text)
    grain: Mapped[str] = mapped_column(Text)  # day or month
    dimension: Mapped[str] = mapped_column(Text)  # total, region or territory (bookings)
    member: Mapped[str] = mapped_column(Text)  # All, the region, or "<region>/<territory>"
    label: Mapped[str] = mapped_column(Text)  # for chart titles
    model_name: Mapped[str] = mapped_column(Text)
    backtest_mase: Mapped[float | None] = mapped_column(Double)  # empty when too short to backtest
    season_length: Mapped[int] = mapped_column(Integer)
    history_points: Mapped[int] = mapped_column(Integer)
    last_actual_period: Mapped[date] = mapped_column(Date)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Forecast(Base):
    """Forecast values with 80% and 95% intervals, one row per series and future period."""

    __tablename__ = "forecast"
    __table_args__ = {"schema": "gold"}

    series_key: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)  # the day, or the month's first day
    horizon_step: Mapped[int] = mapped_column(Integer)  # 1 = the first period after the last actual
    mean: Mapped[float] = mapped_column(Double)
    lower80: Mapped[float] = mapped_column(Double)
    upper80: Mapped[float] = mapped_column(Double)
    lower95: Mapped[float] = mapped_column(Double)
    upper95: Mapped[float] = mapped_column(Double)
    model_name: Mapped[str] = mapped_column(Text)
    backtest_mase: Mapped[float | None] = mapped_column(Double)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ForecastActual(Base):
    """The history each forecast was fitted on, so a chart shows actuals and forecast together."""

    __tablename__ = "forecast_actual"
    __table_args__ = {"schema": "gold"}

    series_key: Mapped[str] = mapped_column(Text, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    actual: Mapped[float] = mapped_column(Double)


class AccountAnomaly(Base):
    """A drop or spike in one customer's activity on one day (one row per customer, metric and day)."""

    __tablename__ = "account_anomaly"
    __table_args__ = (
        UniqueConstraint("account_id", "metric", "detected_on", name="uq_account_anomaly_account_metric_day"),
        Index("ix_account_anomaly_detected_on", "detected_on"),
        {"schema": "gold"},
    )

    anomaly_id: Mapped[str] = mapped_column(Text, primary_key=True)  # "<metric>:<account_id>:<YYYY-MM-DD>"
    account_id: Mapped[str] = mapped_column(Text)  # gold.customer_360.account_id
    metric: Mapped[str] = mapped_column(Text)  # active_users, api_calls, interactions
    kind: Mapped[str] = mapped_column(Text)  # drop or spike
    detected_on: Mapped[date] = mapped_column(Date)  # the day (or last day of the week) that moved
    observed: Mapped[float] = mapped_column(Double)
    baseline: Mapped[float] = mapped_column(Double)  # the expected value for that day
    change_pct: Mapped[float | None] = mapped_column(Double)  # empty when the baseline is 0
    severity: Mapped[str] = mapped_column(Text)  # low, medium, high
    description: Mapped[str] = mapped_column(Text)


class KpiDriver(Base):
    """One part of a KPI's change between two dates (see etl.insights.drivers for the components)."""

    __tablename__ = "kpi_driver"
    __table_args__ = {"schema": "gold"}

    kpi: Mapped[str] = mapped_column(Text, primary_key=True)  # mrr_usd, active_customers, reply_rate
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    period_end: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(Text, primary_key=True)  # total, region, segment, channel, account
    member: Mapped[str] = mapped_column(Text, primary_key=True)  # All, a region, ..., an account id
    component: Mapped[str] = mapped_column(Text, primary_key=True)  # start, new, expansion, ..., end
    # The component's figure, in the KPI's unit (USD, customers, or a 0-1 rate). Not named "value":
    # gold's data-quality gate reads such names as money that must end in _usd.
    figure: Mapped[float] = mapped_column(Double)
    rank: Mapped[int | None] = mapped_column(Integer)  # top accounts: 1 = moved most
    label: Mapped[str | None] = mapped_column(Text)  # top accounts: the account's name
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LargestAccount(Base):
    """The ten customers with the highest MRR in each region and territory on a day the KPI-driver
    job kept (the as-of day, the day before and each month end of the last year): the ten largest
    of any set of regions and territories are among them."""

    __tablename__ = "largest_account"
    __table_args__ = {"schema": "gold"}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)  # the customer's, 'Unknown' when empty
    territory: Mapped[str] = mapped_column(Text, primary_key=True)  # '' when the customer has none
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1 = the largest
    account_id: Mapped[str] = mapped_column(Text)  # gold.customer_360.account_id
    mrr_usd: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
