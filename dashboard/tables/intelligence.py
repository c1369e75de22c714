"""Tables of the churn, health, engagement, lifetime-value, next-best-action and alert jobs."""

from __future__ import annotations
