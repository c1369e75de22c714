"""Tables of the forecast, anomaly and KPI-driver jobs."""

from __future__ import annotations
