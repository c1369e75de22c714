"""The data API tests' fixtures (dashboard/api tokens, the OpenAPI document, test alerts)."""

from tests.dashboard.api.api_support import admin_token, api_facts, document  # noqa: F401
