"""Settings, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-insecure-change-me"


class SettingsError(RuntimeError):
    """Raised when the configuration is unsafe or inconsistent."""


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything the app and the jobs need to know about their environment."""

    env: str = "development"
    secret_key: str = DEFAULT_SECRET_KEY
    database_url: str | None = None
    data_dir: Path = Path("./var")
    landing_dir: Path | None = None
    # Team efficiency is green at or below the first threshold, amber at or below the second.
    first_response_green_minutes: float = 60.0
    first_response_amber_minutes: float = 240.0
    session_hours: int = 12
    testing: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def resolved_landing_dir(self) -> Path:
        return self.landing_dir or self.data_dir / "landing"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Build settings from environment variables, then apply explicit overrides."""
        values: dict[str, object] = {
            "env": os.environ.get("C360_ENV", "development").strip().lower(),
            "secret_key": os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY),
            "database_url": os.environ.get("DATABASE_URL") or None,
            "data_dir": Path(os.environ.get("C360_DATA_DIR", "./var")),
            "landing_dir": Path(p) if (p := os.environ.get("C360_LANDING_DIR")) else None,
            "first_response_green_minutes": float(os.environ.get("C360_FRT_GREEN_MINUTES", 60)),
            "first_response_amber_minutes": float(os.environ.get("C360_FRT_AMBER_MINUTES", 240)),
            "session_hours": int(os.environ.get("C360_SESSION_HOURS", 12)),
            "testing": _env_bool("C360_TESTING", False),
        }
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse configurations that are unsafe to serve."""
        if self.env not in {"development", "production"}:
            raise SettingsError(f"C360_ENV must be 'development' or 'production', not {self.env!r}")
        if self.is_production:
            if not self.secret_key or self.secret_key == DEFAULT_SECRET_KEY:
                raise SettingsError(
                    "C360_ENV=production needs SECRET_KEY set to a long random value "
                    "(python -c 'import secrets; print(secrets.token_hex(32))')."
                )
            if len(self.secret_key) < 32:
                raise SettingsError("SECRET_KEY must be at least 32 characters in production.")
        if self.first_response_green_minutes > self.first_response_amber_minutes:
            raise SettingsError("C360_FRT_GREEN_MINUTES must not exceed C360_FRT_AMBER_MINUTES.")
