"""Fixtures for the source connectors: settings pointing at a local HTTP server, instant retries."""

from __future__ import annotations

import pytest

from etl.sources import http
from etl.sources.config import SourceSettings

SF_TOKEN = "00Dxx0000001gPL!AQ4AQFakeSalesforceSessionToken"
HS_TOKEN = "pat-eu1-11111111-2222-3333-4444-fakehubspottoken"


@pytest.fixture()
def sleeps(monkeypatch) -> list[float]:
    """Every wait the retry policy asked for, without waiting."""
    waited: list[float] = []
    monkeypatch.setattr(http, "sleep", waited.append)
    return waited


@pytest.fixture()
def source_settings(httpserver) -> SourceSettings:
    base = httpserver.url_for("").rstrip("/")
    return SourceSettings(salesforce_instance_url=base, salesforce_token=SF_TOKEN,
                          hubspot_token=HS_TOKEN, hubspot_base_url=base, attempts=4, backoff_seconds=1.0)
