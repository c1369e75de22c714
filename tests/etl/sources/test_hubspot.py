"""HubSpot connector against a local server answering with the v3 search and marketing-email shapes."""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from werkzeug import Request, Response

from dashboard.db import Database
from etl.sources import pull_all
from etl.sources.base import SourceError, get_watermark
from etl.sources.config import SourceSettings
from etl.sources.hubspot import HubSpotSource, epoch_millis
from tests.etl.sources.conftest import HS_TOKEN

SEARCH = "/crm/v3/objects/{}/search"
EMAILS = "/marketing/v3/emails/"


def company(n: int, modified: str) -> dict:
    return {"id": str(n), "properties": {"name": f"Company {n}", "country": "za", "numberofemployees": "40",
                                         "createdate": "2025-05-01T10:00:00.000Z", "hs_lastmodifieddate": modified,
                                         "hs_object_id": str(n)},
            "createdAt": "2025-05-01T10:00:00.000Z", "updatedAt": modified, "archived": False}


def contact(n: int, modified: str) -> dict:
    return {"id": str(100 + n), "properties": {"firstname": "Thandi", "lastname": f"Nkosi{n}",
                                               "email": f" Thandi{n}@Example.COM", "phone": "+27 82 555 0123",
                                               "associatedcompanyid": "1", "lastmodifieddate": modified},
            "createdAt": modified, "updatedAt": modified, "archived": False}


def search_page(results: list[dict], after: str | None = None, total: int | None = None) -> Response:
    body: dict = {"total": total if total is not None else len(results), "results": results}
    if after:
        body["paging"] = {"next": {"after": after, "link": "?after=" + after}}
    return Response(json.dumps(body), content_type="application/json")


def empty(_request: Request) -> Response:
    return search_page([])


def landed(landing: Path, pattern: str) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(landing.glob(pattern)):
        with path.open(newline="") as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def test_search_pages_with_after_lands_mapped_rows_and_filters_on_the_watermark(
        httpserver, scratch_db: Database, tmp_path: Path, source_settings: SourceSettings, sleeps) -> None:
    bodies: list[dict] = []

    def companies(request: Request) -> Response:
        body = request.get_json()
        bodies.append(body)
        if "filterGroups" in body:
            return search_page([company(3, "2026-11-05T00:00:00.000Z")])
        if body.get("after") == "2":
            return search_page([company(2, "2026-11-02T00:00:00.000Z")], total=2)
        return search_page([company(1, "2026-11-01T00:00:00.000Z")], after="2", total=2)

    httpserver.expect_request(SEARCH.format("companies"), method="POST").respond_with_handler(companies)
    httpserver.expect_request(SEARCH.format("contacts"), method="POST").respond_with_json(
        {"total": 1, "results": [contact(1, "2026-11-03T12:00:00.000Z")]})
    httpserver.expect_request(SEARCH.format("deals"), method="POST").respond_with_handler(empty)
    httpserver.expect_request(EMAILS).respond_with_json({"total": 1, "results": [
        {"id": "9001", "name": "Black Friday", "subject": "Deals inside", "state": "PUBLISHED",
         "publishDate": "2026-11-20T08:00:00Z", "updatedAt": "2026-11-20T08:00:00Z"}]})
    settings = replace(source_settings, salesforce_token=None)

    first = pull_all(scratch_db, tmp_path, settings)

    assert first.errors == {} and first.skipped == ["salesforce", "chat", "web"]
    assert bodies[0]["sorts"] == [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    assert "filterGroups" not in bodies[0] and bodies[1]["after"] == "2"
    assert {"name", "country", "hs_lastmodifieddate"} <= set(bodies[0]["properties"])
    accounts = landed(tmp_path, "crm/accounts_hubspot_*.csv")
    assert [(r["account_id"], r["account_name"], r["country"], r["employee_count"]) for r in accounts] == [
        ("1", "Company 1", "ZA", "40"), ("2", "Company 2", "ZA", "40")]
    (person,) = landed(tmp_path, "crm/contacts_hubspot_*.csv")
    assert (person["email"], person["phone"], person["updated_at"]) == (
        "thandi1@example.com", "+27825550123", "2026-11-03T12:00:00Z")
    (campaign,) = landed(tmp_path, "marketing/campaigns_hubspot_*.csv")
    assert (campaign["campaign_id"], campaign["channel"], campaign["start_date"], campaign["status"]) == (
        "9001", "email", "2026-11-20", "published")
    with scratch_db.engine.connect() as conn:
        assert get_watermark(conn, "hubspot", "companies") == "2026-11-02T00:00:00.000Z"
        assert get_watermark(conn, "hubspot", "marketing_emails") == "2026-11-20T08:00:00Z"
    assert all(r[0].headers["Authorization"] == f"Bearer {HS_TOKEN}" for r in httpserver.log)

    pull_all(scratch_db, tmp_path, settings)

    assert bodies[-1]["filterGroups"] == [{"filters": [
        {"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": epoch_millis("2026-11-02T00:00:00.000Z")}]}]
    email_requests = [r for r, _ in httpserver.log if r.path == EMAILS]
    assert email_requests[-1].args["updatedAfter"] == "2026-11-20T08:00:00Z"
    with scratch_db.engine.connect() as conn:
        assert get_watermark(conn, "hubspot", "companies") == "2026-11-05T00:00:00.000Z"
    assert len(landed(tmp_path, "crm/accounts_hubspot_*.csv")) == 3


def test_429_with_retry_after_then_500_with_backoff(httpserver, source_settings: SourceSettings, sleeps) -> None:
    answers = iter([
        Response('{"status":"error","category":"RATE_LIMITS"}', status=429, headers={"Retry-After": "3"},
                 content_type="application/json"),
        Response('{"status":"error"}', status=500, content_type="application/json"),
        Response('{"status":"error"}', status=502, content_type="application/json"),
        search_page([contact(1, "2026-11-03T12:00:00.000Z")]),
    ])
    httpserver.expect_request(SEARCH.format("contacts"), method="POST").respond_with_handler(
        lambda request: next(answers))

    (batch,) = list(HubSpotSource(source_settings).extract("contacts", None))

    assert [r["id"] for r in batch.records] == ["101"] and batch.watermark == "2026-11-03T12:00:00.000Z"
    assert sleeps == [3.0, 2.0, 4.0]
    assert len(httpserver.log) == 4


def test_gives_up_after_bounded_attempts_without_leaking_the_token(
        httpserver, source_settings: SourceSettings, sleeps, caplog) -> None:
    httpserver.expect_request(SEARCH.format("deals"), method="POST").respond_with_json({"status": "error"}, status=503)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(SourceError, match="hubspot deals: gave up after retries") as error:
        list(HubSpotSource(source_settings).extract("deals", None))

    assert len(httpserver.log) == source_settings.attempts
    assert HS_TOKEN not in str(error.value) and HS_TOKEN not in caplog.text
    assert HS_TOKEN not in repr(source_settings)


def test_a_client_error_is_reported_with_its_status(httpserver, source_settings: SourceSettings, sleeps) -> None:
    httpserver.expect_request(SEARCH.format("companies"), method="POST").respond_with_json(
        {"status": "error", "message": "Authentication credentials not found"}, status=401)
    with pytest.raises(SourceError, match="HTTP 401") as error:
        list(HubSpotSource(source_settings).extract("companies", None))
    assert HS_TOKEN not in str(error.value)
    assert sleeps == []


def test_search_restarts_from_the_last_value_at_the_10000_result_cap(
        httpserver, source_settings: SourceSettings, sleeps) -> None:
    bodies: list[dict] = []

    def contacts(request: Request) -> Response:
        body = request.get_json()
        bodies.append(body)
        if "filterGroups" in body:
            return search_page([contact(2, "2026-11-04T00:00:00.000Z")])
        return search_page([contact(1, "2026-11-03T00:00:00.000Z")], after="10000", total=10_001)

    httpserver.expect_request(SEARCH.format("contacts"), method="POST").respond_with_handler(contacts)

    batches = list(HubSpotSource(source_settings).extract("contacts", None))

    assert [b.watermark for b in batches] == ["2026-11-03T00:00:00.000Z", "2026-11-04T00:00:00.000Z"]
    assert "after" not in bodies[1]
    assert bodies[1]["filterGroups"][0]["filters"][0]["value"] == epoch_millis("2026-11-03T00:00:00.000Z")
