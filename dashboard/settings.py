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


def _check_rate_limit(name: str, value: str) -> None:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise SettingsError(f"{name}={value!r} is not a rate limit such as '5 per 15 minutes'.") from exc


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
    # Absolute lifetime of a signed-in session, and how long it may sit idle.
    session_hours: int = 12
    session_idle_minutes: float = 30.0
    # Failed sign-ins allowed per account and per client address ("N per M minutes", limits syntax).
    login_limit_account: str = "5 per 15 minutes"
    login_limit_ip: str = "30 per 15 minutes"
    # memory:// suits one process; with several gunicorn workers use a shared store, e.g. redis://host:6379.
    ratelimit_storage_uri: str = "memory://"
    # Number of reverse proxies in front of the app whose X-Forwarded-For may be trusted.
    proxy_hops: int = 0
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
            "session_idle_minutes": float(os.environ.get("C360_SESSION_IDLE_MINUTES", 30)),
            "login_limit_account": os.environ.get("C360_LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes"),
            "login_limit_ip": os.environ.get("C360_LOGIN_LIMIT_IP", "30 per 15 minutes"),
            "ratelimit_storage_uri": os.environ.get("C360_RATELIMIT_STORAGE_URI", "memory://"),
            "proxy_hops": int(os.environ.get("C360_PROXY_HOPS", 0)),
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
            if self.testing:
                raise SettingsError("C360_TESTING must not be set in production (it weakens password hashing).")
        if self.session_hours <= 0 or self.session_idle_minutes <= 0:
            raise SettingsError("C360_SESSION_HOURS and C360_SESSION_IDLE_MINUTES must be positive.")
        if self.proxy_hops < 0:
            raise SettingsError("C360_PROXY_HOPS must be 0 or more.")
        for name, value in (("C360_LOGIN_LIMIT_ACCOUNT", self.login_limit_account),
                            ("C360_LOGIN_LIMIT_IP", self.login_limit_ip)):
            _check_rate_limit(name, value)
        if self.first_response_green_minutes > self.first_response_amber_minutes:
            raise SettingsError("C360_FRT_GREEN_MINUTES must not exceed C360_FRT_AMBER_MINUTES.")
