"""Salesforce REST connector: SOQL via simple-salesforce, incremental on SystemModstamp.

    SELECT <mapped fields> FROM Account WHERE SystemModstamp > 2026-11-01T10:00:00Z
    ORDER BY SystemModstamp

Each page of the answer (Salesforce returns up to 2,000 records and a `nextRecordsUrl`) is one
batch, followed with `query_more`. The fields queried are the mapping config's source fields
(etl/mapping/salesforce.json), so mapping a new field queries it too. Requests go through a
requests session with the shared retry policy (429 honours Retry-After, 5xx backs off).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from etl.sources.base import Batch, SourceError
from etl.sources.config import SourceSettings
from etl.sources.http import retry_policy
from etl.sources.mapping import SourceMapping, load_mapping

log = logging.getLogger(__name__)

WATERMARK_FIELD = "SystemModstamp"


class _PlainHttpSession(requests.Session):
    """simple-salesforce always builds https:// URLs; an http:// instance (a local test server or
    an internal proxy) is honoured by rewriting the scheme for that one host."""

    def __init__(self, netloc: str):
        super().__init__()
        self._https_prefix = f"https://{netloc}"
        self._http_prefix = f"http://{netloc}"

    def request(self, method, url, *args, **kwargs):  # noqa: D102 - requests' own signature
        if isinstance(url, str) and url.startswith(self._https_prefix):
            url = self._http_prefix + url[len(self._https_prefix):]
        return super().request(method, url, *args, **kwargs)


def soql_datetime(watermark: str) -> str:
    """A SystemModstamp as received ('2026-11-01T10:00:00.000+0000') as a SOQL literal.

    Floored to the second: records of that same second come again (harmless: silver keeps the
    latest version), none is ever skipped.
    """
    parsed = datetime.fromisoformat(watermark.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SalesforceSource:
    """Account, Contact, Opportunity, OpportunityLineItem and Case, as the mapping lists them."""

    name = "salesforce"

    def __init__(self, settings: SourceSettings, mapping: SourceMapping | None = None):
        if not settings.salesforce_configured:
            raise SourceError("salesforce: C360_SALESFORCE_INSTANCE_URL and C360_SALESFORCE_TOKEN are required")
        self.mapping = mapping or load_mapping("salesforce")
        url = urlsplit(settings.salesforce_instance_url or "")
        session = _PlainHttpSession(url.netloc) if url.scheme == "http" else requests.Session()
        adapter = requests.adapters.HTTPAdapter(max_retries=retry_policy(settings.attempts, settings.backoff_seconds))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self.client = Salesforce(instance_url=settings.salesforce_instance_url, session_id=settings.salesforce_token,
                                 version=settings.salesforce_api_version, session=session)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(self.mapping.tables)

    def soql(self, dataset: str, watermark: str | None) -> str:
        """The incremental query for one object."""
        fields = self.mapping.tables[dataset].source_fields
        if WATERMARK_FIELD not in fields:
            fields.append(WATERMARK_FIELD)
        where = f" WHERE {WATERMARK_FIELD} > {soql_datetime(watermark)}" if watermark else ""
        return f"SELECT {', '.join(fields)} FROM {dataset}{where} ORDER BY {WATERMARK_FIELD}"

    def extract(self, dataset: str, watermark: str | None) -> Iterator[Batch]:
        """Yield one batch per result page, each with the highest SystemModstamp seen so far."""
        query = self.soql(dataset, watermark)
        log.info("salesforce: %s", query)
        try:
            page = self.client.query(query)
            while True:
                records = page.get("records", [])
                for record in records:
                    watermark = record.get(WATERMARK_FIELD) or watermark
                yield Batch(dataset=dataset, records=records, watermark=watermark)
                next_url = page.get("nextRecordsUrl")
                if page.get("done", True) or not next_url:
                    return
                page = self.client.query_more(next_url, identifier_is_url=True)
        except requests.exceptions.RetryError as exc:
            raise SourceError(f"salesforce {dataset}: gave up after retries: {_reason(exc)}") from None
        except requests.exceptions.ConnectionError as exc:
            raise SourceError(f"salesforce {dataset}: cannot connect: {_reason(exc)}") from None
        except SalesforceError as exc:
            status = getattr(exc, "status", "?")
            raise SourceError(f"salesforce {dataset}: HTTP {status} from {getattr(exc, 'resource_name', '')}: "
                              f"{str(getattr(exc, 'content', ''))[:300]}") from None


def _reason(exc: BaseException) -> str:
    """The innermost cause (e.g. 'too many 500 error responses'), never the request headers."""
    inner = exc.args[0] if exc.args else exc
    reason = getattr(inner, "reason", inner)
    return str(reason)[:300]
