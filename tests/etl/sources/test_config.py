"""Source settings: environment variables over a JSON file; secrets stay out of repr."""

from __future__ import annotations

import json
from pathlib import Path

from etl.sources import configured_sources
from etl.sources.config import SourceSettings


def test_environment_wins_over_the_config_file_and_tokens_are_hidden(tmp_path: Path) -> None:
    config = tmp_path / "sources.json"
    config.write_text(json.dumps({"salesforce_instance_url": "https://file.my.salesforce.com",
                                  "salesforce_token": "file-secret", "hubspot_token": "hs-file-secret",
                                  "source_attempts": 3}))
    settings = SourceSettings.from_env({"C360_SOURCES_CONFIG": str(config),
                                        "C360_SALESFORCE_TOKEN": "env-secret",
                                        "C360_HUBSPOT_BASE_URL": "http://127.0.0.1:8080/"})
    assert (settings.salesforce_instance_url, settings.salesforce_token, settings.hubspot_token) == (
        "https://file.my.salesforce.com", "env-secret", "hs-file-secret")
    assert (settings.hubspot_base_url, settings.attempts) == ("http://127.0.0.1:8080", 3)
    assert settings.salesforce_configured and settings.hubspot_configured
    for secret in settings.secrets:
        assert secret not in repr(settings) and secret not in str(settings)


def test_nothing_configured_means_every_source_is_skipped() -> None:
    sources, skipped = configured_sources(SourceSettings.from_env({}))
    assert sources == [] and skipped == ["salesforce", "hubspot", "chat", "web"]
