"""Mapping configs: the shipped ones are valid, bad ones fail clearly, a new field needs config only."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest

from etl.sources import land_batch
from etl.sources.base import Batch
from etl.sources.config import SourceSettings
from etl.sources.mapping import MAPPING_DIR, MappingError, RecordError, load_mapping, parse_mapping
from etl.sources.salesforce import SalesforceSource


def _config(source: str) -> dict:
    return json.loads((MAPPING_DIR / f"{source}.json").read_text())


def test_shipped_mappings_cover_the_required_objects() -> None:
    salesforce = load_mapping("salesforce")
    assert {name: t.dataset.bronze_table for name, t in salesforce.tables.items()} == {
        "Account": "crm_accounts", "Contact": "crm_contacts", "Opportunity": "crm_opportunities",
        "OpportunityLineItem": "crm_opportunity_line_items", "Case": "support_tickets"}
    hubspot = load_mapping("hubspot")
    assert {name: t.dataset.bronze_table for name, t in hubspot.tables.items()} == {
        "companies": "crm_accounts", "contacts": "crm_contacts", "deals": "crm_opportunities",
        "marketing_emails": "marketing_campaigns"}


def test_transformations_and_types() -> None:
    table = load_mapping("salesforce").tables["Opportunity"]
    row = table.map_record({"Id": "006A", "Amount": 1250.50, "CurrencyIsoCode": "zar", "IsClosed": False,
                            "IsWon": "true", "CloseDate": "2026-12-31", "Probability": 90.0,
                            "CreatedDate": "2026-01-01T12:00:00.000+0200",
                            "SystemModstamp": "2026-11-01T10:00:00.000+0000"})
    assert (row["amount"], row["currency"], row["is_closed"], row["is_won"], row["probability"]) == (
        "1250.5", "ZAR", "false", "true", "90")
    assert (row["close_date"], row["created_at"], row["updated_at"]) == (
        "2026-12-31", "2026-01-01T10:00:00Z", "2026-11-01T10:00:00Z")
    assert row["stage"] is None and set(row) == set(table.dataset.columns)

    config = _config("salesforce")
    config["tables"]["Opportunity"]["columns"][5]["transform"] = ["cents_to_units"]
    cents = parse_mapping(config).tables["Opportunity"]
    assert cents.map_record({"Id": "006A", "Amount": 125050, "SystemModstamp": "2026-11-01T10:00:00Z"})[
        "amount"] == "1250.5"

    with pytest.raises(RecordError, match="required value missing"):
        table.map_record({"Id": "006A"})  # no SystemModstamp
    with pytest.raises(RecordError, match="not a phone number"):
        load_mapping("salesforce").tables["Contact"].map_record(
            {"Id": "003A", "Phone": "call me", "SystemModstamp": "2026-11-01T10:00:00Z"})


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c["tables"]["Account"]["columns"][0].update(transform=["titlecase"]),
     r"tables/Account/columns/0/transform/0: 'titlecase' is not one of"),
    (lambda c: c["tables"]["Account"]["columns"][1].update(target="parent_id"),
     r"'parent_id' is not a column of crm\.accounts"),
    (lambda c: c["tables"]["Account"].update(target="crm.companies"), r"unknown landing dataset 'crm.companies'"),
    (lambda c: c["tables"]["Account"]["columns"].pop(0), r"key column\(s\) \['account_id'\]"),
    (lambda c: c["tables"]["Contact"]["columns"][2].pop("type"), r"'type' is a required property"),
    (lambda c: c["tables"]["Contact"]["columns"][3].update(source=None, default=None),
     r"tables/Contact/columns/3"),
    (lambda c: c.update(sources="typo"), r"Additional properties are not allowed \('sources' was unexpected\)"),
])
def test_invalid_configs_fail_with_a_clear_message(change, message: str) -> None:
    config = copy.deepcopy(_config("salesforce"))
    change(config)
    with pytest.raises(MappingError, match=message):
        parse_mapping(config, origin="salesforce.json")


def test_a_broken_file_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{ not json")
    with pytest.raises(MappingError, match="broken.json: not valid JSON"):
        load_mapping(bad)
    with pytest.raises(MappingError, match="no such mapping config"):
        load_mapping("no_such_source")


def test_a_new_field_is_queried_and_landed_by_config_alone(tmp_path: Path) -> None:
    config = _config("salesforce")
    config["tables"]["Account"]["columns"].append(
        {"source": "Region__c", "target": "region", "type": "text", "transform": ["trim"]})
    path = tmp_path / "salesforce.json"
    path.write_text(json.dumps(config))
    mapping = load_mapping(path)
    assert "region" not in {c.target for c in load_mapping("salesforce").tables["Account"].columns}

    source = SalesforceSource(SourceSettings(salesforce_instance_url="http://127.0.0.1:9",
                                             salesforce_token="t"), mapping=mapping)
    assert "Region__c" in source.soql("Account", None)
    batch = Batch(dataset="Account", records=[{"attributes": {"type": "Account"}, "Id": "001A", "Name": "Acme",
                                               "Region__c": " EMEA ", "SystemModstamp": "2026-11-01T10:00:00Z"}])
    landed, rejects = land_batch(tmp_path, "salesforce", mapping.tables["Account"], batch, sequence=1, stamp="T")
    assert rejects == [] and landed is not None
    with landed.open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["account_id"], row["region"]) == ("001A", "EMEA")


def test_records_that_cannot_be_mapped_are_rejected_not_landed(tmp_path: Path) -> None:
    table = load_mapping("hubspot").tables["companies"]
    batch = Batch(dataset="companies", records=[
        {"id": "1", "properties": {"name": "Good", "hs_lastmodifieddate": "2026-11-01T00:00:00Z"}},
        {"id": "2", "properties": {"name": "", "hs_lastmodifieddate": "2026-11-01T00:00:00Z"}},
        {"id": "3", "properties": {"name": "Bad size", "numberofemployees": "many",
                                   "hs_lastmodifieddate": "2026-11-01T00:00:00Z"}}])
    landed, rejects = land_batch(tmp_path, "hubspot", table, batch, sequence=1, stamp="T")
    assert [(n, reason.split(":")[0]) for n, _, reason in rejects] == [
        (2, "companies.properties.name"), (3, "companies.properties.numberofemployees")]
    with landed.open(newline="") as fh:
        assert [r["account_id"] for r in csv.DictReader(fh)] == ["1"]
    raw = (tmp_path / "_raw" / "hubspot" / "companies_T_0001.jsonl").read_text().splitlines()
    assert len(raw) == 3  # every record is kept as received
