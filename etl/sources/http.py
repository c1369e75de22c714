"""HTTP retry policy shared by the API connectors: urllib3's Retry, with a sleep tests can patch.

429 waits for Retry-After (capped), 5xx and connection errors back off exponentially, and after
`attempts` tries the connector raises SourceError naming the source and the last status.
Both simple-salesforce (through requests) and hubspot-api-client (through urllib3) accept it.
"""

from __future__ import annotations

import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_AFTER_SECONDS = 300.0


def sleep(seconds: float) -> None:
    """Wait between attempts; tests replace this to run instantly and to see the waits."""
    time.sleep(seconds)


class BoundedRetry(Retry):
    """Retry that sleeps through `sleep()` above and never waits longer than the cap."""

    def sleep(self, response=None) -> None:  # noqa: D102 - urllib3's hook
        seconds = None
        if response is not None and self.respect_retry_after_header:
            seconds = self.get_retry_after(response)
        if seconds is None:
            seconds = self.get_backoff_time()
        if seconds and seconds > 0:
            sleep(min(seconds, MAX_RETRY_AFTER_SECONDS))


def retry_policy(attempts: int = 5, backoff_factor: float = 1.0) -> BoundedRetry:
    """At most `attempts` tries in all; POST included, as the search endpoints only read."""
    return BoundedRetry(
        total=attempts - 1, connect=attempts - 1, read=attempts - 1, status=attempts - 1,
        status_forcelist=RETRY_STATUSES, allowed_methods=None, backoff_factor=backoff_factor,
        respect_retry_after_header=True, raise_on_status=True)


def retrying_session(attempts: int = 5, backoff_factor: float = 1.0) -> requests.Session:
    """A requests session that retries every request with `retry_policy`."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry_policy(attempts, backoff_factor))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
