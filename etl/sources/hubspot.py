"""HubSpot connector: CRM v3 search for companies, contacts and deals, plus marketing emails.

CRM objects use the search API, sorted ascending on the last-modified property and filtered
`GT` the watermark (epoch milliseconds), following `paging.next.after`. The search API stops
at 10,000 results per query, so at that point the query is restarted from the last value seen.
Marketing emails use GET /marketing/v3/emails with `updatedAfter` and the same `after` paging.
Responses are read as raw JSON (`_preload_content=False`), so records land exactly as received.
The shared urllib3 retry policy is handed to the client (429 with Retry-After, 5xx backoff).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from hubspot import HubSpot
from urllib3.exceptions import HTTPError as Urllib3Error

from etl.sources.base import Batch, SourceError
from etl.sources.config import SourceSettings
from etl.sources.http import retry_policy
from etl.sources.mapping import SourceMapping, load_mapping

log = logging.getLogger(__name__)

SEARCH_OBJECTS = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}
SEARCH_RESULT_LIMIT = 10_000  # HubSpot's cap on one search query's results
PAGE_SIZE = 100


def epoch_millis(value: str) -> str:
    """An ISO timestamp (or epoch millis) as the epoch-millisecond string the search filter wants."""
    if value.strip().isdigit():
        return value.strip()
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return str(int(parsed.timestamp() * 1000))


class HubSpotSource:
    """Companies, contacts, deals and marketing emails."""

    name = "hubspot"

    def __init__(self, settings: SourceSettings, mapping: SourceMapping | None = None, page_size: int = PAGE_SIZE):
        if not settings.hubspot_configured:
            raise SourceError("hubspot: C360_HUBSPOT_TOKEN is required")
        self.mapping = mapping or load_mapping("hubspot")
        self.page_size = page_size
        self.client = HubSpot(access_token=settings.hubspot_token, host=settings.hubspot_base_url,
                              retry=retry_policy(settings.attempts, settings.backoff_seconds))

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(self.mapping.tables)

    def extract(self, dataset: str, watermark: str | None) -> Iterator[Batch]:
        """Yield one batch per page of changes after `watermark`."""
        try:
            if dataset in SEARCH_OBJECTS:
                yield from self._search(dataset, watermark)
            elif dataset == "marketing_emails":
                yield from self._marketing_emails(watermark)
            else:
                raise SourceError(f"hubspot: no extractor for {dataset!r}")
        except Urllib3Error as exc:  # MaxRetryError after the last attempt, or a connection error
            raise SourceError(f"hubspot {dataset}: gave up after retries: {getattr(exc, 'reason', exc)}") from None
        except SourceError:
            raise
        except Exception as exc:
            status = getattr(exc, "status", None)
            if status is None:
                raise
            # hubspot's ApiException: report the status and body, never its request headers.
            body = (getattr(exc, "body", "") or "")[:300]
            raise SourceError(f"hubspot {dataset}: HTTP {status}: {body}") from None

    def _search(self, dataset: str, watermark: str | None) -> Iterator[Batch]:
        modified = SEARCH_OBJECTS[dataset]
        table = self.mapping.tables[dataset]
        properties = [f.removeprefix("properties.") for f in table.source_fields if f.startswith("properties.")]
        if modified not in properties:
            properties.append(modified)
        api = getattr(self.client.crm, dataset).search_api
        after: str | None = None
        since = watermark  # the filter stays fixed while paging: `after` is an offset into its results
        while True:
            request: dict[str, Any] = {
                "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
                "properties": properties, "limit": self.page_size,
            }
            if since:
                request["filterGroups"] = [{"filters": [
                    {"propertyName": modified, "operator": "GT", "value": epoch_millis(since)}]}]
            if after:
                request["after"] = after
            response = api.do_search(public_object_search_request=request, _preload_content=False)
            page = json.loads(response.data)
            records = page.get("results", [])
            for record in records:
                watermark = (record.get("properties") or {}).get(modified) or watermark
            yield Batch(dataset=dataset, records=records, watermark=watermark)
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after or not records:
                return
            if int(after) >= SEARCH_RESULT_LIMIT:
                log.info("hubspot: %s search reached %d results; restarting after %s", dataset,
                         SEARCH_RESULT_LIMIT, watermark)
                after, since = None, watermark

    def _marketing_emails(self, watermark: str | None) -> Iterator[Batch]:
        api = self.client.marketing.emails.marketing_emails_api
        after: str | None = None
        since = watermark
        while True:
            params: dict[str, Any] = {"limit": self.page_size, "sort": ["updatedAt"]}
            if since:
                params["updated_after"] = since
            if after:
                params["after"] = after
            response = api.get_page(_preload_content=False, **params)
            page = json.loads(response.data)
            records = page.get("results", [])
            for record in records:
                watermark = record.get("updatedAt") or watermark
            yield Batch(dataset="marketing_emails", records=records, watermark=watermark)
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after or not records:
                return
