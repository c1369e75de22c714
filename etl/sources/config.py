"""Connection settings for the API sources; they are read with the other settings, in dashboard.settings.

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

from dashboard.settings import SourceSettings

__all__ = ["SourceSettings"]
