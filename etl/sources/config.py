"""Connection settings for the API sources: environment variables, or a JSON file they point at.

    C360_SALESFORCE_INSTANCE_URL   https://yourorg.my.salesforce.com (or a local test server)
    C360_SALESFORCE_TOKEN          an OAuth access token (session id)
    C360_SALESFORCE_API_VERSION    default 59.0
    C360_HUBSPOT_TOKEN             a private-app access token
    C360_HUBSPOT_BASE_URL          default https://api.hubapi.com
    C360_CHAT_EXPORT_DIR           folder of the chat/WhatsApp export files (etl.sources.chat)
    C360_WEB_EXPORT_DIR            folder of the web-analytics export files (etl.sources.web)
    C360_SOURCE_ATTEMPTS           tries per HTTP request, default 5
    C360_SOURCE_BACKOFF_SECONDS    exponential backoff factor, default 1.0
    C360_SOURCES_CONFIG            a JSON file with the same keys in lower case, without the
                                   C360_ prefix (e.g. {"hubspot_token": "..."}); variables win.

A source whose token or URL is missing is not configured and is skipped. Tokens are kept out
of repr() and therefore out of logs and tracebacks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_KEYS = ("salesforce_instance_url", "salesforce_token", "salesforce_api_version", "hubspot_token",
         "hubspot_base_url", "chat_export_dir", "web_export_dir", "source_attempts", "source_backoff_seconds")


@dataclass(frozen=True)
class SourceSettings:
    """How to reach each API source."""

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
        """Read the C360_* variables, falling back to the JSON file named by C360_SOURCES_CONFIG."""
        environ = os.environ if environ is None else environ
        values: dict[str, str] = {}
        if path := environ.get("C360_SOURCES_CONFIG"):
            loaded = json.loads(Path(path).read_text(encoding="utf-8"))
            values.update({k: str(v) for k, v in loaded.items() if k in _KEYS and v is not None})
        for key in _KEYS:
            if raw := environ.get(f"C360_{key.upper()}"):
                values[key] = raw
        return cls(
            salesforce_instance_url=values.get("salesforce_instance_url"),
            salesforce_token=values.get("salesforce_token"),
            salesforce_api_version=values.get("salesforce_api_version", "59.0"),
            hubspot_token=values.get("hubspot_token"),
            hubspot_base_url=values.get("hubspot_base_url", "https://api.hubapi.com").rstrip("/"),
            chat_export_dir=Path(values["chat_export_dir"]) if values.get("chat_export_dir") else None,
            web_export_dir=Path(values["web_export_dir"]) if values.get("web_export_dir") else None,
            attempts=int(values.get("source_attempts", 5)),
            backoff_seconds=float(values.get("source_backoff_seconds", 1.0)),
        )
