"""Intelligence jobs: churn training, and scoring of churn, health, engagement, lifetime value,
next-best actions and alerts, written to gold for the pages.

- `training.train_churn` (job "churn_train", nightly and `c360 models train`);
- `scoring.run_scoring` (job "scoring", after each data refresh and `c360 models score`);
- `actions.execute_action` records a person scheduling or executing a recommended action.

The maths lives in the pure `models` package; this package builds the features in PostgreSQL
(features.sql), calls the models and writes the results.
"""
