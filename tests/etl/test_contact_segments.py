"""Contacts' custom attributes from landing to the Growth page's segments, on the tiny landing folder:
the optional `attributes` column (a file may leave it out), a malformed value quarantined with its
reason and the whole row kept there, and every segment count worked out again with pandas from the
landing files, for the whole company and for a role limited to one territory."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from dashboard.db import Database
from dashboard.masking import MaskPolicy
from dashboard.queries import growth as q
from dashboard.queries.growth import GrowthQuery
from dashboard.scope import DataScope
from dashboard.tables.landing import dataset
from etl.pipeline import run_pipeline
from tests.etl.dbutil import cloned_database
from tests.etl.reference import contact_segments, segment_counts
from tests.etl.tiny_landing import EUR, write_csv, write_tiny_landing

COLUMNS = dataset("crm", "contacts").columns
MASK = MaskPolicy(view_pii=False, view_financials=True)
# contact_id account_id first last email phone country job_title is_primary created_at updated_at attributes
MORE_CONTACTS = [
    ["CON-4", "ACC-1", "Dora", "D", "dora@example.com", "", "DE", "CEO", "false",
     "2025-02-10T08:00:00Z", "2025-02-10T08:00:00Z", "tier=gold"],  # not JSON
    ["CON-5", "ACC-1", "Emil", "E", "emil@example.com", "", "DE", "COO", "false",
     "2025-02-11T08:00:00Z", "2025-02-11T08:00:00Z", '["vip"]'],  # JSON, not an object
    ["CON-6", "ACC-3", "Fay", "F", "fay@example.com", "", "US", "CMO", "false",
     "2025-02-12T08:00:00Z", "2025-02-12T08:00:00Z", '{"tier": {"level": 1}}'],  # a value that is not scalar
    ["CON-7", "ACC-3", "Gus", "G", "gus@nowhere.io", "", "US", "CTO", "true",  # LEAD-3's email
     "2025-02-13T08:00:00Z", "2025-02-13T08:00:00Z", '{"tier": "gold", "note": null, "": "x", "score": 7}'],
]
MALFORMED = {"CON-4": "tier=gold", "CON-5": '["vip"]', "CON-6": '{"tier": {"level": 1}}'}
# lead_id created_at first last company email phone country region lead_source status owner converted updated_at
MORE_LEADS = [["LEAD-3", "2025-03-01T08:00:00Z", "Gus", "G", "Nowhere Inc", "Gus@Nowhere.io", "", "US", "",
               "web", "working", "USR-1", "", "2025-03-01T08:00:00Z"],
              ["LEAD-4", "2025-03-01T09:00:00Z", "Dan", "D", "D Co", "bob@example.com", "", "DE", "Europe",
               "web", "disqualified", "USR-1", "", "2025-03-01T09:00:00Z"]]  # closed: Bob is no lead by it
# An older export without the column: its contacts load with no attributes.
OLD_EXPORT = [["CON-8", "ACC-2", "Hal", "H", "hal@example.co.za", "", "ZA", "Buyer", "false",
               "2025-02-14T08:00:00Z", "2025-02-14T08:00:00Z"]]


def _write(landing: Path) -> Path:
    write_tiny_landing(landing)
    write_csv(landing / "crm" / "contacts_more.csv", COLUMNS, MORE_CONTACTS)
    write_csv(landing / "crm" / "contacts_old.csv", [c for c in COLUMNS if c != "attributes"], OLD_EXPORT)
    write_csv(landing / "crm" / "leads_more.csv", dataset("crm", "leads").columns, MORE_LEADS)
    return landing


@pytest.fixture(scope="module")
def tiny(pg_admin_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Database, Path]]:
    root = tmp_path_factory.mktemp("segments")
    pristine = _write(root / "pristine")
    landing = root / "landing"
    shutil.copytree(pristine, landing)
    with cloned_database(pg_admin_url, template_url) as database:
        result = run_pipeline(database, landing, triggered_by="test")
        assert result.status == "success", result.error
        yield database, pristine


def _rows(database: Database, sql: str) -> list:
    with database.engine.connect() as conn:
        return list(conn.execute(text(sql)))


def test_a_malformed_attributes_value_is_quarantined_with_its_reason_and_the_whole_row(tiny):
    database, _ = tiny
    quarantined = {key: (reason, json.loads(raw)) for key, reason, raw in _rows(database, (
        "SELECT record_key, reason, raw FROM bronze.quarantine WHERE dataset = 'crm_contacts' AND stage = 'silver'"))}
    assert set(quarantined) == set(MALFORMED)
    for contact_id, value in MALFORMED.items():
        reason, raw = quarantined[contact_id]
        assert "invalid JSON object of scalar values" in reason and "in column attributes" in reason, reason
        assert value in reason
        row = next(r for r in MORE_CONTACTS if r[0] == contact_id)
        assert raw == {c: v or None for c, v in zip(COLUMNS, row, strict=True)}  # every field kept, to come back
    silver = dict(_rows(database, "SELECT contact_id, attributes FROM silver.contacts"))
    assert not set(MALFORMED) & set(silver)
    assert silver["CON-7"] == {"tier": "gold", "note": None, "": "x", "score": 7}
    assert silver["CON-1"] == {"tier": "gold", "newsletter": True, "lifecycle_stage": "customer"}  # newest version
    assert silver["CON-3"] is None and silver["CON-8"] is None  # empty, and a file without the column


def _vip_accounts() -> set[str]:
    """By hand: the paying customers on the as-of day are ACC-1 (SUB-1, 100 EUR at that day's 1.20) and
    ACC-3 (SUB-4, 10 USD); the top 10% starts at their 90th percentile (linear, as percentile_cont)."""
    mrr = {"ACC-1": 100 * float(EUR["2025-03-10"]), "ACC-3": 10.0}
    threshold = np.percentile(list(mrr.values()), 90)
    return {account for account, value in mrr.items() if value >= threshold}


@pytest.mark.parametrize("territories", [None, {"EU-DACH"}], ids=["company", "one-territory"])
def test_segment_counts_match_the_landing_files(tiny, territories):
    database, pristine = tiny
    memberships = contact_segments(pristine, _vip_accounts())
    scope = DataScope.everything() if territories is None else DataScope.restricted_to(territories)
    with database.session() as session:
        result = q.segments(session, GrowthQuery(segment="tier"), scope, policy=MASK)
    latest, previous = result.latest_month, result.previous_month
    assert (latest.isoformat(), previous.isoformat()) == ("2025-02-01", "2025-01-01")  # the data ends in March
    expected = segment_counts(memberships, latest, previous, territories)
    total = expected[("all", "", "")][0]
    assert result.total == total
    got = {("segment", r.key, ""): (r.contacts, r.new_latest, r.new_previous) for r in result.segments}
    got.update({("attribute", r.key, r.value): (r.contacts, r.new_latest, r.new_previous) for r in result.values})
    wanted = {k: expected.get(k, (0, 0, 0)) for k in [("segment", name, "") for name in q.BUILT_IN_SEGMENTS]}
    wanted.update({k: v for k, v in expected.items() if k[0] == "attribute" and k[1] == "tier"})
    assert got == wanted
    assert all(r.share == pytest.approx(r.contacts / total) for r in (*result.segments, *result.values))
    if territories is None:
        # CON-1 and CON-2 (ACC-1, the VIP); CON-2 a lead by its lifecycle stage, CON-7 by LEAD-3; CON-3 and
        # CON-8 of churned ACC-2.
        assert got[("segment", "VIP", "")][0] == 2 and got[("segment", "Lead", "")][0] == 2
        assert got[("segment", "Churned", "")][0] == 2
        assert {r.value: r.contacts for r in result.values} == {"gold": 2, "silver": 1}  # " silver " trimmed
        assert [k for k, _ in result.keys] == ["tier", "lifecycle_stage", "newsletter", "persona", "score"]
    else:
        assert result.total == 2 and {r.value for r in result.values} == {"gold", "silver"}
