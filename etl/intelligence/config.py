"""Settings of the intelligence jobs: the configurable ones come from dashboard.settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard.settings import Settings

DEFAULT_RULES_FILE = Path(__file__).parent / "action_rules.json"


@dataclass(frozen=True)
class IntelligenceConfig:
    """Knobs of the churn, scoring, action and alert jobs."""

    # The newest churn model whose validation ROC-AUC reaches this serves (C360_CHURN_MIN_AUC).
    churn_min_auc: float = 0.70
    # Next-best-action rules, editable by an admin without code (C360_ACTION_RULES_FILE).
    rules_file: Path = DEFAULT_RULES_FILE
    # A churn risk score this many points above the one 30 days earlier raises a churn_risk_jump alert.
    churn_jump_points: float = 20.0
    # Payments overdue by more than this many days raise a payment_overdue alert.
    overdue_alert_days: int = 15
    # Renewals within this many days raise a renewal_due alert.
    renewal_alert_days: int = 90
    # Event alerts (engagement drop, churn-risk jump) nobody closed resolve after this many quiet days.
    event_alert_days: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> IntelligenceConfig:
        """The configurable knobs as `settings` has them (validated there)."""
        return cls(churn_min_auc=settings.churn_min_auc, rules_file=settings.action_rules_file or DEFAULT_RULES_FILE)

    @classmethod
    def from_env(cls) -> IntelligenceConfig:
        """The knobs as the environment sets them; SettingsError when a value is not usable."""
        return cls.from_settings(Settings.from_env())
