"""Churn-risk levels by score, on their own so that pages can use them without loading the model's
libraries (LightGBM, SciPy)."""

HIGH_RISK_MIN_SCORE = 70.0
MEDIUM_RISK_MIN_SCORE = 40.0
