"""Settings, read from the environment in one place.

Every environment variable the app, the jobs and the CLI read is read here (see the
Configuration table in README.md); other modules take their values from a `Settings`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from limits import parse_many

DEFAULT_SECRET_KEY = "dev-insecure-change-me"
Number = TypeVar("Number", int, float)


class SettingsError(RuntimeError):
    """Raised when the configuration is unsafe, inconsistent or not readable."""


def _env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_number(environ: Mapping[str, str], name: str, default: Number, kind: type[Number]) -> Number:
    """The variable as an int or a float, `default` when unset or blank; SettingsError names it otherwise."""
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name}={raw!r} is not {noun}.") from None


def _env_int(environ: Mapping[str, str], name: str, default: int) -> int:
    return _env_number(environ, name, default, int)


def _env_float(environ: Mapping[str, str], name: str, default: float) -> float:
    return _env_number(environ, name, default, float)


def _check_rate_limit(name: str, value: str) -> None:
    try:
        parse_many(value)
    except ValueError as exc:
        raise SettingsError(f"{name}={value!r} is not a rate limit such as '5 per 15 minutes'.") from exc


# The scheduler's tunable intervals (minutes) and nightly hours (UTC): field -> variable.
SCHEDULE_VARIABLES: dict[str, str] = {
    "etl_interval_minutes": "C360_ETL_INTERVAL_MINUTES",
    "full_rebuild_hour": "C360_FULL_REBUILD_HOUR",
    "dq_interval_minutes": "C360_DQ_INTERVAL_MINUTES",
    "churn_train_hour": "C360_CHURN_TRAIN_HOUR",
    "scoring_interval_minutes": "C360_SCORING_INTERVAL_MINUTES",
    "attribution_hour": "C360_ATTRIBUTION_HOUR",
    "text_insights_interval_minutes": "C360_TEXT_INSIGHTS_INTERVAL_MINUTES",
    "summaries_interval_minutes": "C360_SUMMARIES_INTERVAL_MINUTES",
    "forecasts_hour": "C360_FORECASTS_HOUR",
    "anomalies_interval_minutes": "C360_ANOMALIES_INTERVAL_MINUTES",
    "kpi_drivers_interval_minutes": "C360_KPI_DRIVERS_INTERVAL_MINUTES",
    "lead_scoring_interval_minutes": "C360_LEAD_SCORING_INTERVAL_MINUTES",
}


@dataclass(frozen=True)
class JobSchedule:
    """When the scheduler runs each job: intervals in minutes, nightly jobs at an hour (UTC)."""

    etl_interval_minutes: int = 5
    full_rebuild_hour: int = 2
    dq_interval_minutes: int = 60
    churn_train_hour: int = 3
    scoring_interval_minutes: int = 2
    attribution_hour: int = 4
    text_insights_interval_minutes: int = 5
    summaries_interval_minutes: int = 5
    forecasts_hour: int = 5
    anomalies_interval_minutes: int = 5
    kpi_drivers_interval_minutes: int = 5
    lead_scoring_interval_minutes: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> JobSchedule:
        return cls(**{name: _env_int(environ, variable, getattr(cls, name))
                      for name, variable in SCHEDULE_VARIABLES.items()})

    def validate(self) -> None:
        for name, variable in SCHEDULE_VARIABLES.items():
            value = getattr(self, name)
            if name.endswith("_hour") and not 0 <= value <= 23:
                raise SettingsError(f"{variable} must be an hour from 0 to 23, not {value}.")
            if name.endswith("_minutes") and value < 1:
                raise SettingsError(f"{variable} must be at least 1 minute, not {value}.")


_SOURCE_KEYS = ("salesforce_instance_url", "salesforce_token", "salesforce_api_version", "hubspot_token",
                "hubspot_base_url", "chat_export_dir", "web_export_dir", "source_attempts", "source_backoff_seconds")


@dataclass(frozen=True)
class SourceSettings:
    """How to reach each API source (etl.sources). Tokens are kept out of repr(), logs and tracebacks.

    Each value comes from C360_<KEY> (e.g. C360_HUBSPOT_TOKEN) or from the JSON file named by
    C360_SOURCES_CONFIG, which holds the same keys in lower case without the prefix; variables win.
    A source whose token or URL is missing is not configured and is skipped.
    """

    salesforce_instance_url: str | None = None
    salesforce_token: str | None = field(default=None, repr=False)
    salesforce_api_version: str = "59.0"
    hubspot_token: str | None = field(default=None, repr=False)
    hubspot_base_url: str = "https://api.hubapi.com"
    chat_export_dir: Path | None = None
    web_export_dir: Path | None = None
    attempts: int = 5
    backoff_seconds: float = 1.0

    @property
    def salesforce_configured(self) -> bool:
        return bool(self.salesforce_instance_url and self.salesforce_token)

    @property
    def hubspot_configured(self) -> bool:
        return bool(self.hubspot_token)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for tests and log scrubbing."""
        return tuple(s for s in (self.salesforce_token, self.hubspot_token) if s)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SourceSettings:
        """Read the C360_* source variables (of `environ`, default the process environment),
        falling back to the JSON file named by C360_SOURCES_CONFIG."""
        environ = os.environ if environ is None else environ
        values: dict[str, str] = {}
        if path := environ.get("C360_SOURCES_CONFIG"):
            try:
                loaded = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SettingsError(f"C360_SOURCES_CONFIG={path!r} is not a readable JSON file: {exc}") from None
            if not isinstance(loaded, dict):
                raise SettingsError(f"C360_SOURCES_CONFIG={path!r} must hold a JSON object.")
            values.update({k: str(v) for k, v in loaded.items() if k in _SOURCE_KEYS and v is not None})
        for key in _SOURCE_KEYS:
            if raw := environ.get(f"C360_{key.upper()}"):
                values[key] = raw
        named = {f"C360_{key.upper()}": value for key, value in values.items()}
        settings = cls(
            salesforce_instance_url=values.get("salesforce_instance_url"),
            salesforce_token=values.get("salesforce_token"),
            salesforce_api_version=values.get("salesforce_api_version", "59.0"),
            hubspot_token=values.get("hubspot_token"),
            hubspot_base_url=values.get("hubspot_base_url", "https://api.hubapi.com").rstrip("/"),
            chat_export_dir=Path(values["chat_export_dir"]) if values.get("chat_export_dir") else None,
            web_export_dir=Path(values["web_export_dir"]) if values.get("web_export_dir") else None,
            attempts=_env_int(named, "C360_SOURCE_ATTEMPTS", 5),
            backoff_seconds=_env_float(named, "C360_SOURCE_BACKOFF_SECONDS", 1.0),
        )
        if settings.attempts < 1 or settings.backoff_seconds < 0:
            raise SettingsError("C360_SOURCE_ATTEMPTS must be at least 1 and C360_SOURCE_BACKOFF_SECONDS 0 or more.")
        return settings


@dataclass(frozen=True)
class Settings:
    """Everything the app and the jobs need to know about their environment."""

    env: str = "development"
    # Kept out of repr(), and so out of logs and tracebacks (the URL may hold a password).
    secret_key: str = field(default=DEFAULT_SECRET_KEY, repr=False)
    database_url: str | None = field(default=None, repr=False)
    data_dir: Path = Path("./var")
    landing_dir: Path | None = None
    # Team efficiency is green at or below the first threshold, amber at or below the second.
    first_response_green_minutes: float = 60.0
    first_response_amber_minutes: float = 240.0
    # The Strategy page's support cost: each ticket a customer opens costs this much, in USD.
    support_cost_per_ticket_usd: float = 25.0
    # The Campaigns page's conversion: an opportunity won within this many days of a reply.
    conversion_window_days: int = 30
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
    # Page results cache (dashboard/cache.py): None keeps it in each process, "none" turns it off, a
    # redis:// URL shares it between gunicorn workers. Entries also expire after cache_seconds.
    cache_url: str | None = field(default=None, repr=False)
    cache_seconds: int = 600
    # A web request's SQL statement running longer than this is stopped (jobs have no limit).
    web_statement_timeout_seconds: float = 30.0
    # A web request's statement waiting this long for a lock (another session's DDL or TRUNCATE) gives up,
    # so a locked table ties up no worker thread for the whole statement timeout.
    web_lock_timeout_seconds: float = 3.0
    # PostgreSQL workers one web query may add (max_parallel_workers_per_gather). 0: a page's queries are
    # small and many run at once, and starting workers cost more than they saved on a 2-core server.
    web_parallel_workers: int = 0
    testing: bool = False
    schedule: JobSchedule = field(default_factory=JobSchedule)
    sources: SourceSettings = field(default_factory=SourceSettings)
    # The newest churn model whose validation ROC-AUC reaches this serves.
    churn_min_auc: float = 0.70
    # Next-best-action rules, editable by an admin without code; None: the rules etl.intelligence ships.
    action_rules_file: Path | None = None
    # A day without its own FX rate takes its currency's rate up to this many days older.
    fx_max_fallback_days: int = 7
    # An FX rate moving more than this (percent) from both its neighbours is quarantined.
    fx_max_daily_move_pct: float = 50.0
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
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from environment variables (`environ`, default the process environment),
        then apply explicit overrides; SettingsError names any variable that is not usable."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "env": env.get("C360_ENV", "development").strip().lower(),
            "secret_key": env.get("SECRET_KEY", DEFAULT_SECRET_KEY),
            "database_url": env.get("DATABASE_URL") or None,
            "data_dir": Path(env.get("C360_DATA_DIR") or "./var"),
            "landing_dir": Path(p) if (p := env.get("C360_LANDING_DIR")) else None,
            "first_response_green_minutes": _env_float(env, "C360_FRT_GREEN_MINUTES", 60.0),
            "first_response_amber_minutes": _env_float(env, "C360_FRT_AMBER_MINUTES", 240.0),
            "support_cost_per_ticket_usd": _env_float(env, "C360_SUPPORT_COST_PER_TICKET_USD", 25.0),
            "conversion_window_days": _env_int(env, "C360_CONVERSION_WINDOW_DAYS", 30),
            "session_hours": _env_int(env, "C360_SESSION_HOURS", 12),
            "session_idle_minutes": _env_float(env, "C360_SESSION_IDLE_MINUTES", 30.0),
            "login_limit_account": env.get("C360_LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes"),
            "login_limit_ip": env.get("C360_LOGIN_LIMIT_IP", "30 per 15 minutes"),
            "ratelimit_storage_uri": env.get("C360_RATELIMIT_STORAGE_URI", "memory://"),
            "proxy_hops": _env_int(env, "C360_PROXY_HOPS", 0),
            "cache_url": env.get("C360_CACHE_URL") or None,
            "cache_seconds": _env_int(env, "C360_CACHE_SECONDS", 600),
            "web_statement_timeout_seconds": _env_float(env, "C360_WEB_STATEMENT_TIMEOUT_SECONDS", 30.0),
            "web_lock_timeout_seconds": _env_float(env, "C360_WEB_LOCK_TIMEOUT_SECONDS", 3.0),
            "web_parallel_workers": _env_int(env, "C360_WEB_PARALLEL_WORKERS", 0),
            "testing": _env_bool(env, "C360_TESTING", False),
            "schedule": JobSchedule.from_env(env),
            "sources": SourceSettings.from_env(env),
            "churn_min_auc": _env_float(env, "C360_CHURN_MIN_AUC", 0.70),
            "action_rules_file": Path(p) if (p := env.get("C360_ACTION_RULES_FILE")) else None,
            "fx_max_fallback_days": _env_int(env, "C360_FX_MAX_FALLBACK_DAYS", 7),
            "fx_max_daily_move_pct": _env_float(env, "C360_FX_MAX_DAILY_MOVE_PCT", 50.0),
        }
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse configurations that are unsafe to serve or that no job could run with."""
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
        if self.cache_url is not None and self.cache_url != "none" and not self.cache_url.startswith(
                ("redis://", "rediss://", "unix://")):
            raise SettingsError("C360_CACHE_URL must be a redis://, rediss:// or unix:// URL, or 'none' to turn "
                                "the page cache off.")
        if not 0.1 <= self.web_statement_timeout_seconds <= 3600:
            raise SettingsError(f"C360_WEB_STATEMENT_TIMEOUT_SECONDS must be from 0.1 to 3600 seconds, not "
                                f"{self.web_statement_timeout_seconds}.")
        if not 0.1 <= self.web_lock_timeout_seconds <= self.web_statement_timeout_seconds:
            raise SettingsError(f"C360_WEB_LOCK_TIMEOUT_SECONDS must be from 0.1 seconds to the statement timeout, "
                                f"not {self.web_lock_timeout_seconds}.")
        if not 0 <= self.web_parallel_workers <= 64:
            raise SettingsError(f"C360_WEB_PARALLEL_WORKERS must be from 0 to 64, not {self.web_parallel_workers}.")
        if self.cache_seconds < 1:
            raise SettingsError(f"C360_CACHE_SECONDS must be at least 1, not {self.cache_seconds}.")
        for name, value in (("C360_LOGIN_LIMIT_ACCOUNT", self.login_limit_account),
                            ("C360_LOGIN_LIMIT_IP", self.login_limit_ip)):
            _check_rate_limit(name, value)
        if self.support_cost_per_ticket_usd < 0:
            raise SettingsError(f"C360_SUPPORT_COST_PER_TICKET_USD must be 0 or more, not "
                                f"{self.support_cost_per_ticket_usd}.")
        if not 1 <= self.conversion_window_days <= 365:
            raise SettingsError(f"C360_CONVERSION_WINDOW_DAYS must be a whole number of days from 1 to 365, not "
                                f"{self.conversion_window_days}.")
        if self.first_response_green_minutes > self.first_response_amber_minutes:
            raise SettingsError("C360_FRT_GREEN_MINUTES must not exceed C360_FRT_AMBER_MINUTES.")
        self.schedule.validate()
        if not 0.5 <= self.churn_min_auc <= 1.0:
            raise SettingsError(f"C360_CHURN_MIN_AUC must be between 0.5 and 1, not {self.churn_min_auc}.")
        if self.fx_max_fallback_days < 0:
            raise SettingsError(f"C360_FX_MAX_FALLBACK_DAYS must be 0 or more, not {self.fx_max_fallback_days}.")
        if self.fx_max_daily_move_pct <= 0:
            raise SettingsError(f"C360_FX_MAX_DAILY_MOVE_PCT must be above 0, not {self.fx_max_daily_move_pct}.")


def child_environment(settings: Settings, database_url: str) -> dict[str, str]:
    """This process's environment plus `settings` as variables, so a child process (a manual job run)
    reads the same settings and data as its parent."""
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url, "C360_DATA_DIR": str(settings.data_dir),
                "C360_ENV": settings.env, "SECRET_KEY": settings.secret_key})
    if settings.landing_dir is not None:
        env["C360_LANDING_DIR"] = str(settings.landing_dir)
    return env


def runtime_dir_default() -> None:
    """Give platformdirs a private runtime dir so embedded PostgreSQL starts without warnings."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        path = Path("/tmp") / f"c360-runtime-{os.getuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)
