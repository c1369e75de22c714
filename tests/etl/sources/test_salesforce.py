"""Salesforce connector against a local server answering with the REST API's JSON shapes."""

from __future__ import annotations

import csv
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from werkzeug import Request, Response

from dashboard.db import Database
from etl.sources import pull_all
from etl.sources.base import SourceError, get_watermark
from etl.sources.config import SourceSettings
from etl.sources.salesforce import SalesforceSource, soql_datetime
from tests.etl.sources.conftest import SF_TOKEN

QUERY = "/services/data/v59.0/query/"


def account(n: int, stamp: str) -> dict:
    return {"attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/001{n:012d}"},
            "Id": f"001{n:012d}", "ParentId": None, "Name": f"  Acme {n} GmbH ", "Type": "Customer",
            "Industry": "Retail", "BillingCountry": "de", "OwnerId": "005000000000001",
            "CurrencyIsoCode": "eur", "NumberOfEmployees": 120, "CreatedDate": "2025-01-02T03:04:05.000+0000",
            "SystemModstamp": stamp}


def page(records: list[dict], next_url: str | None = None, total: int | None = None) -> dict:
    body = {"totalSize": total if total is not None else len(records), "done": next_url is None, "records": records}
    if next_url:
        body["nextRecordsUrl"] = next_url
    return body


def only_accounts(soql: str) -> bool:
    return " FROM Account " in soql


def empty_unless_accounts(handler):
    """Answer the other objects' queries with no records, so a test can look at Account alone."""

    def wrapped(request: Request) -> Response:
        soql = request.args.get("q", "")
        if "nextRecordsUrl" not in request.path and not only_accounts(soql) and request.path == QUERY:
            return Response('{"totalSize": 0, "done": true, "records": []}', content_type="application/json")
        return handler(request)

    return wrapped


def json_response(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    import json

    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def landed_rows(landing: Path, pattern: str) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(landing.glob(pattern)):
        with path.open(newline="") as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def test_soql_is_incremental_on_system_modstamp(source_settings: SourceSettings) -> None:
    source = SalesforceSource(source_settings)
    assert source.soql("Account", None).endswith("FROM Account ORDER BY SystemModstamp")
    query = source.soql("Contact", "2026-11-01T10:00:00.250+0000")
    assert query.startswith("SELECT Id, AccountId, FirstName, LastName, Email, Phone")
    assert query.endswith("FROM Contact WHERE SystemModstamp > 2026-11-01T10:00:00Z ORDER BY SystemModstamp")
    assert soql_datetime("2026-11-01T12:00:00.000+0200") == "2026-11-01T10:00:00Z"


def test_pages_are_followed_mapped_landed_and_the_watermark_advances(
        httpserver, scratch_db: Database, tmp_path: Path, source_settings: SourceSettings, sleeps) -> None:
    landing = tmp_path / "landing"
    queries: list[str] = []

    def handler(request: Request) -> Response:
        if request.path.endswith("/01gNEXT-2000"):
            return json_response(page([account(3, "2026-11-02T09:00:00.000+0000")], total=3))
        queries.append(request.args["q"])
        if "WHERE" not in request.args["q"]:
            return json_response(page([account(1, "2026-11-01T08:00:00.000+0000"),
                                       account(2, "2026-11-01T09:30:00.000+0000")],
                                      next_url="/services/data/v59.0/query/01gNEXT-2000", total=3))
        return json_response(page([account(2, "2026-11-03T10:00:00.000+0000")]))

    httpserver.expect_request("/services/data/v59.0/query/01gNEXT-2000").respond_with_handler(handler)
    httpserver.expect_request(QUERY).respond_with_handler(empty_unless_accounts(handler))

    source_settings = replace(source_settings, hubspot_token=None)
    first = pull_all(scratch_db, landing, source_settings)

    assert first.errors == {}
    (accounts,) = [d for d in first.datasets if d.dataset == "Account"]
    assert (accounts.records, accounts.watermark, len(accounts.files)) == (3, "2026-11-02T09:00:00.000+0000", 2)
    rows = landed_rows(landing, "crm/accounts_salesforce_*.csv")
    assert [r["account_id"] for r in rows] == ["001000000000001", "001000000000002", "001000000000003"]
    assert rows[0]["account_name"] == "Acme 1 GmbH"
    assert (rows[0]["country"], rows[0]["currency"], rows[0]["status"]) == ("DE", "EUR", "active")
    assert rows[0]["updated_at"] == "2026-11-01T08:00:00Z"
    assert list(rows[0]) == ["account_id", "parent_account_id", "account_name", "account_type", "industry",
                             "region", "country", "territory", "owner_user_id", "currency", "employee_count",
                             "created_at", "status", "churned_at", "updated_at"]
    assert (landing / "_raw" / "salesforce").is_dir()
    with scratch_db.engine.connect() as conn:
        assert get_watermark(conn, "salesforce", "Account") == "2026-11-02T09:00:00.000+0000"

    second = pull_all(scratch_db, landing, source_settings)
    account_queries = [q for q in queries if only_accounts(q)]
    assert "WHERE SystemModstamp > 2026-11-02T09:00:00Z" in account_queries[-1]
    (again,) = [d for d in second.datasets if d.dataset == "Account"]
    assert (again.records, again.watermark) == (1, "2026-11-03T10:00:00.000+0000")
    assert len(landed_rows(landing, "crm/accounts_salesforce_*.csv")) == 4
    assert sleeps == []


def test_429_waits_for_retry_after_and_500_backs_off(httpserver, source_settings: SourceSettings, sleeps) -> None:
    answers = iter([
        json_response([{"errorCode": "REQUEST_LIMIT_EXCEEDED"}], 429, {"Retry-After": "7"}),
        json_response([{"errorCode": "SERVER_ERROR"}], 500),
        json_response([{"errorCode": "SERVER_ERROR"}], 503),
        json_response(page([account(1, "2026-11-01T08:00:00.000+0000")])),
    ])
    httpserver.expect_request(QUERY).respond_with_handler(lambda request: next(answers))

    (batch,) = list(SalesforceSource(source_settings).extract("Account", None))

    assert [r["Id"] for r in batch.records] == ["001000000000001"]
    # Retry-After honoured, then exponential backoff (urllib3 does not wait before the first retry
    # after a 429 it already waited for; the second consecutive error waits 2 s, the third 4 s).
    assert sleeps == [7.0, 2.0, 4.0]
    assert len(httpserver.log) == 4


def test_gives_up_after_bounded_attempts_with_a_clear_error_and_no_token(
        httpserver, source_settings: SourceSettings, sleeps, caplog) -> None:
    httpserver.expect_request(QUERY).respond_with_json([{"errorCode": "SERVER_ERROR"}], status=500)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(SourceError, match="salesforce Account: gave up after retries") as error:
        list(SalesforceSource(source_settings).extract("Account", None))

    assert len(httpserver.log) == source_settings.attempts
    assert len(sleeps) == source_settings.attempts - 2  # no wait before the first retry
    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {SF_TOKEN}"
    assert SF_TOKEN not in str(error.value)
    assert SF_TOKEN not in caplog.text and SF_TOKEN not in repr(source_settings)


def test_pull_all_skips_unconfigured_sources_and_reports_failures(
        httpserver, scratch_db: Database, tmp_path: Path, sleeps, caplog) -> None:
    httpserver.expect_request(QUERY).respond_with_json([{"errorCode": "INVALID_SESSION_ID"}], status=401)
    settings = SourceSettings(salesforce_instance_url=httpserver.url_for("").rstrip("/"), salesforce_token=SF_TOKEN)
    caplog.set_level(logging.DEBUG)

    result = pull_all(scratch_db, tmp_path / "landing", settings)

    assert result.skipped == ["hubspot", "chat", "web"]
    assert "HTTP 401" in result.errors["salesforce"]
    assert SF_TOKEN not in caplog.text and SF_TOKEN not in result.errors["salesforce"]
    with scratch_db.engine.connect() as conn:
        assert get_watermark(conn, "salesforce", "Account") is None
