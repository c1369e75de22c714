"""Settings come from the environment; production refuses unsafe secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.settings import DEFAULT_SECRET_KEY, Settings, SettingsError


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
    from dashboard import create_app

    monkeypatch.setenv("C360_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(SettingsError):
        create_app()
