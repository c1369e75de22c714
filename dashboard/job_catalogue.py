"""The data jobs by stable id, and what each does.

The scheduler (etl.scheduler) gives each of these a function and a trigger; the admin page lists
them and the manual runner accepts only these ids, without importing the jobs themselves (which
load the models and the source clients).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobDescription:
    """One data job as people see it: its stable id and what it does."""

    id: str
    description: str


# In the order the admin page lists them (the data refresh first).
JOB_CATALOGUE: tuple[JobDescription, ...] = (
    JobDescription("etl", "Refresh bronze, silver and gold from the landing folder."),
    JobDescription("etl_full_rebuild", "Nightly: rebuild every silver and gold table from bronze."),
    JobDescription("data_quality", "Run every data-quality check against the current tables."),
    JobDescription("churn_train", "Nightly: retrain the churn model and register it."),
    JobDescription("scoring",
                   "After each data refresh: churn, health, engagement, lifetime value, actions and alerts."),
    JobDescription("attribution",
                   "Nightly: channel and campaign attribution (rule-based and Markov) from the journeys."),
    JobDescription("text_insights", "After each data refresh: sentiment of new customer texts, topics and keywords."),
    JobDescription("account_summaries",
                   "After a refresh, text insights or scoring: the plain-English summary of every customer."),
    JobDescription("forecasts", "Nightly: forecasts of MRR, revenue, pipeline, won bookings, tickets and replies with intervals."),
    JobDescription("anomalies", "After each data refresh: usage spikes and drops, engagement drops per customer."),
    JobDescription("kpi_drivers", "After each data refresh: why MRR, active customers and reply rate moved."),
    JobDescription("lead_scoring", "After each data refresh and scoring: lead propensity to convert, "
                   "repeat-purchase propensity (BG/NBD) and customers buying less."),
)

JOB_IDS: tuple[str, ...] = tuple(job.id for job in JOB_CATALOGUE)
