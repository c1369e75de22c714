"""Settings come from the environment; production refuses unsafe secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboard.app import create_app
from dashboard.cli import main as cli_main
from dashboard.settings import DEFAULT_SECRET_KEY, SCHEDULE_VARIABLES, Settings, SettingsError
from etl.intelligence.config import DEFAULT_RULES_FILE, IntelligenceConfig
from etl.scheduler import build_scheduler, jobs
from etl.silver import FxRules


def test_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.internal/c360")
    monkeypatch.setenv("C360_DATA_DIR", "/srv/c360")
    monkeypatch.setenv("C360_FRT_GREEN_MINUTES", "30")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql://u:p@db.internal/c360"
    assert settings.pgdata_dir == Path("/srv/c360/pgdata")
    assert settings.resolved_landing_dir == Path("/srv/c360/landing")
    assert settings.first_response_green_minutes == 30.0
    assert not settings.is_production


def test_defaults_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "C360_DATA_DIR", "C360_ENV", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.database_url is None
    assert settings.data_dir == Path("./var")
    assert settings.env == "development"


@pytest.mark.parametrize("secret", [None, DEFAULT_SECRET_KEY, "", "short-secret"])
def test_production_refuses_default_or_weak_secret(monkeypatch: pytest.MonkeyPatch, secret) -> None:
    monkeypatch.setenv("C360_ENV", "production")
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env()


def test_production_accepts_strong_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    assert Settings.from_env().is_production


def test_unknown_environment_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_ENV", "staging")
    with pytest.raises(SettingsError, match="C360_ENV"):
        Settings.from_env()


def test_production_app_factory_refuses_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(SettingsError):
        create_app()


# --- Every variable the jobs read comes through Settings --------------------------------------


def test_schedule_intervals_and_hours_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {variable: str(index + 1) for index, variable in enumerate(SCHEDULE_VARIABLES.values())}
    for variable, value in values.items():
        monkeypatch.setenv(variable, value)
    schedule = Settings.from_env().schedule
    assert {variable: getattr(schedule, name) for name, variable in SCHEDULE_VARIABLES.items()} == {
        variable: int(value) for variable, value in values.items()}


def test_schedule_defaults_when_unset() -> None:
    schedule = Settings.from_env({}).schedule
    assert (schedule.etl_interval_minutes, schedule.full_rebuild_hour, schedule.dq_interval_minutes,
            schedule.churn_train_hour, schedule.scoring_interval_minutes) == (5, 2, 60, 3, 2)
    assert (schedule.attribution_hour, schedule.forecasts_hour) == (4, 5)


def test_the_scheduler_uses_the_schedule_of_its_settings() -> None:
    settings = Settings.from_env({"C360_ETL_INTERVAL_MINUTES": "7", "C360_FULL_REBUILD_HOUR": "23",
                                  "C360_SCORING_INTERVAL_MINUTES": "11", "C360_FORECASTS_HOUR": "0",
                                  "C360_KPI_DRIVERS_INTERVAL_MINUTES": "13"})
    scheduled = {job.id: job for job in jobs(settings)}
    assert scheduled["etl"].trigger_args == {"minutes": 7}
    assert scheduled["etl_full_rebuild"].trigger_args == {"hour": 23, "minute": 0}
    assert scheduled["scoring"].trigger_args == {"minutes": 11}
    assert scheduled["forecasts"].trigger_args == {"hour": 0, "minute": 0}
    assert scheduled["kpi_drivers"].trigger_args == {"minutes": 13}
    scheduler = build_scheduler(settings, blocking=False)
    assert scheduler.get_job("etl").trigger.interval.total_seconds() == 7 * 60
    assert "hour='23'" in str(scheduler.get_job("etl_full_rebuild").trigger)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("C360_ETL_INTERVAL_MINUTES", "five", "C360_ETL_INTERVAL_MINUTES='five' is not a whole number"),
    ("C360_ETL_INTERVAL_MINUTES", "0", "C360_ETL_INTERVAL_MINUTES must be at least 1 minute"),
    ("C360_FULL_REBUILD_HOUR", "24", "C360_FULL_REBUILD_HOUR must be an hour from 0 to 23"),
    ("C360_CHURN_TRAIN_HOUR", "-1", "C360_CHURN_TRAIN_HOUR must be an hour from 0 to 23"),
    ("C360_CHURN_MIN_AUC", "0.4", "C360_CHURN_MIN_AUC must be between 0.5 and 1"),
    ("C360_CHURN_MIN_AUC", "high", "C360_CHURN_MIN_AUC='high' is not a number"),
    ("C360_FX_MAX_FALLBACK_DAYS", "-1", "C360_FX_MAX_FALLBACK_DAYS must be 0 or more"),
    ("C360_FX_MAX_FALLBACK_DAYS", "7.5", "C360_FX_MAX_FALLBACK_DAYS='7.5' is not a whole number"),
    ("C360_FX_MAX_DAILY_MOVE_PCT", "0", "C360_FX_MAX_DAILY_MOVE_PCT must be above 0"),
    ("C360_SOURCE_ATTEMPTS", "0", "C360_SOURCE_ATTEMPTS must be at least 1"),
    ("C360_SOURCE_BACKOFF_SECONDS", "soon", "C360_SOURCE_BACKOFF_SECONDS='soon' is not a number"),
    ("C360_SESSION_HOURS", "twelve", "C360_SESSION_HOURS='twelve' is not a whole number"),
    ("C360_PROXY_HOPS", "1.5", "C360_PROXY_HOPS='1.5' is not a whole number"),
    ("C360_CONVERSION_WINDOW_DAYS", "a month", "C360_CONVERSION_WINDOW_DAYS='a month' is not a whole number"),
    ("C360_CONVERSION_WINDOW_DAYS", "7.5", "C360_CONVERSION_WINDOW_DAYS='7.5' is not a whole number"),
    ("C360_CONVERSION_WINDOW_DAYS", "0", "C360_CONVERSION_WINDOW_DAYS must be a whole number of days from 1 to 365"),
    ("C360_CONVERSION_WINDOW_DAYS", "366", "C360_CONVERSION_WINDOW_DAYS must be a whole number of days from 1 to 365"),
])
def test_an_unusable_value_is_a_settings_error_naming_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value})
    assert message in str(raised.value)


def test_an_unusable_value_stops_the_cli_with_the_message_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_DQ_INTERVAL_MINUTES", "hourly")
    result = CliRunner().invoke(cli_main, ["scheduler"])
    assert result.exit_code != 0
    assert "C360_DQ_INTERVAL_MINUTES='hourly' is not a whole number" in result.output
    assert "Traceback" not in result.output


def test_intelligence_and_fx_knobs_come_from_settings(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    settings = Settings.from_env({"C360_CHURN_MIN_AUC": "0.8", "C360_ACTION_RULES_FILE": str(rules),
                                  "C360_FX_MAX_FALLBACK_DAYS": "3", "C360_FX_MAX_DAILY_MOVE_PCT": "12.5"})
    config = IntelligenceConfig.from_settings(settings)
    assert (config.churn_min_auc, config.rules_file) == (0.8, rules)
    assert IntelligenceConfig.from_settings(Settings.from_env({})).rules_file == DEFAULT_RULES_FILE
    assert (settings.fx_max_fallback_days, settings.fx_max_daily_move_pct) == (3, 12.5)


def test_the_conversion_window_comes_from_settings() -> None:
    assert Settings.from_env({}).conversion_window_days == 30
    assert Settings.from_env({"C360_CONVERSION_WINDOW_DAYS": " 7 "}).conversion_window_days == 7
    assert Settings.from_env({"C360_CONVERSION_WINDOW_DAYS": "365"}).conversion_window_days == 365
    assert Settings.from_env({"C360_CONVERSION_WINDOW_DAYS": "1"}).conversion_window_days == 1


def test_silver_reads_its_fx_rules_through_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_FX_MAX_FALLBACK_DAYS", "2")
    monkeypatch.setenv("C360_FX_MAX_DAILY_MOVE_PCT", "30")
    assert FxRules.from_environment() == FxRules(2, 30.0)
    monkeypatch.setenv("C360_FX_MAX_DAILY_MOVE_PCT", "-5")
    with pytest.raises(SettingsError, match="C360_FX_MAX_DAILY_MOVE_PCT"):
        FxRules.from_environment()


def test_source_settings_come_with_the_others(tmp_path: Path) -> None:
    config = tmp_path / "sources.json"
    config.write_text(json.dumps({"hubspot_token": "file-secret", "source_attempts": 2}), encoding="utf-8")
    settings = Settings.from_env({"C360_SOURCES_CONFIG": str(config), "C360_SALESFORCE_TOKEN": "env-secret",
                                  "C360_SALESFORCE_INSTANCE_URL": "https://example.my.salesforce.com",
                                  "C360_SOURCE_BACKOFF_SECONDS": "0.5"})
    assert settings.sources.salesforce_configured and settings.sources.hubspot_configured
    assert (settings.sources.attempts, settings.sources.backoff_seconds) == (2, 0.5)
    assert "file-secret" not in repr(settings) and "env-secret" not in repr(settings)
    config.write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingsError, match="C360_SOURCES_CONFIG"):
        Settings.from_env({"C360_SOURCES_CONFIG": str(config)})


def test_every_variable_read_is_in_the_readme_configuration_table() -> None:
    root = Path(__file__).resolve().parents[2]
    source = (root / "dashboard" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'"((?:C360|DATABASE|SECRET)_[A-Z0-9_]+)"', source))
    read |= {f"C360_{key.upper()}" for key in re.findall(r'"([a-z_]+)"', source.split("_SOURCE_KEYS = (")[1]
                                                                             .split(")")[0])}
    assert {"C360_ETL_INTERVAL_MINUTES", "C360_FX_MAX_FALLBACK_DAYS", "C360_HUBSPOT_TOKEN"} <= read
    readme = (root / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration"):readme.index("## Production")]
    assert sorted(name for name in read if f"`{name}`" not in table) == []


def test_only_the_settings_module_reads_the_environment() -> None:
    root = Path(__file__).resolve().parents[2]
    touching = sorted(path.relative_to(root).as_posix()
                      for package in ("dashboard", "callbacks", "layouts", "models", "etl")
                      for path in (root / package).rglob("*.py")
                      if re.search(r"\bos\.environ\b|\bos\.getenv\b|\bgetenv\(", path.read_text(encoding="utf-8")))
    assert touching == [
        "dashboard/settings.py",
        "models/churn.py",  # sets LightGBM's OpenMP wait policy before it loads
    ]
