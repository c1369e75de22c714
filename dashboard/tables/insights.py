"""Tables of the forecast, anomaly, attribution, text and KPI-driver jobs."""

from __future__ import annotations
