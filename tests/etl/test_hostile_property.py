"""A bad row harms only itself: Hypothesis draws hostile variants of a small, clean landing folder
(etl.demo_data.hostile), runs bronze, silver and gold on a fresh database per example, and checks:

  (a) no good row is lost or altered: every key of an uncorrupted row (not a child of a
      quarantined parent) is in silver, its text values as sent (hostile text byte for byte),
      the right version of a duplicated key won, and nothing else sits in quarantine;
  (b) every bad row is quarantined, with a reason naming its column (a truncated line: saying
      it is truncated), and every child of a bad parent with "parent <column> '<key>' quarantined";
  (c) gold is promoted (status 'success') whenever the failure rates stay under the critical
      thresholds of the data-quality registry, and a run never fails;
  (d) every amount in silver is in an ISO currency of the FX feed, converted at its own
      currency's rate of its transaction day or of an earlier day within the fallback window,
      never at a quarantined rate; gold's MRR and invoiced figures add up from those amounts.

The landing folder is a filtered subset of the small demo data (a dozen accounts and what hangs
off them, the last FX_DAYS days of rates), so each example runs in seconds. Shrinking is off
(each example is a whole pipeline run); a failure prints the example's seed, rate and kinds,
which `corrupt_landing` turns back into the same corpus.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import text

from dashboard.db import Database
from dashboard.tables.landing import DATASETS, Dataset
from etl.demo_data.hostile import (
    ALL_KINDS,
    FAMILIES,
    FX_DATASET,
    HostileManifest,
    column_kinds,
    corpus_rows,
    corrupt_landing,
    iso_currencies,
    record_key,
    row_problems,
)
from etl.pipeline import PipelineResult, run_pipeline
from tests.etl.dbutil import cloned_database

FX_DAYS = 120  # days of FX rates kept; every amount's transaction day falls inside them
ACCOUNTS = 12
MAX_EXAMPLES = int(os.environ.get("C360_HOSTILE_EXAMPLES", "10"))
MAX_FALLBACK_DAYS = int(os.environ.get("C360_FX_MAX_FALLBACK_DAYS", "7"))
SHOWN = 8  # examples per failed property in the message
NEVER = datetime.min.replace(tzinfo=UTC)

# The silver table of each dataset, and the transaction day of its amounts (SQL over `t` and `opp`).
SILVER = {ds.bronze_table: ("web_sessions" if ds.bronze_table == "web_sessions" else ds.name) for ds in DATASETS}
AS_OF_SQL = "(SELECT max(rate_date) FROM silver.fx_rates)"
DEAL_DAY = "COALESCE(opp.close_date, CAST(opp.created_at AS date))"
MONEY: dict[str, tuple[str, dict[str, str], str]] = {  # table -> (day, usd column -> amount, extra join)
    "subscriptions": (AS_OF_SQL, {"mrr_usd": "t.mrr"}, ""),
    "invoices": ("t.issue_date", {"amount_usd": "t.amount"}, ""),
    "payments": ("CAST(t.paid_at AS date)", {"amount_usd": "t.amount"}, ""),
    "campaigns": ("t.start_date", {"cost_usd": "t.cost"}, ""),
    "opportunities": ("COALESCE(t.close_date, CAST(t.created_at AS date))", {"amount_usd": "t.amount"}, ""),
    "opportunity_line_items": (DEAL_DAY, {"unit_price_usd": "t.unit_price",
                                          "amount_usd": "t.quantity * t.unit_price"},
                               "LEFT JOIN silver.opportunities opp ON opp.opportunity_id = t.opportunity_id"),
    "price_changes": ("t.effective_date", {"old_mrr_usd": "t.old_mrr", "new_mrr_usd": "t.new_mrr"}, ""),
    "disputes": ("CAST(t.opened_at AS date)", {"amount_usd": "t.amount"}, ""),
    "adjustments": ("CAST(t.created_at AS date)", {"amount_usd": "t.amount"}, ""),
}


# --- A small, clean landing folder ------------------------------------------------------------------


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _day(value: str) -> str:
    return value[:10]


def build_small_landing(pristine: Path, out: Path) -> Path:
    """A referentially closed subset of the demo landing: clean rows only (by the landing
    contract), unique keys, every amount's day inside the FX window."""
    data = {ds.bronze_table: _read(pristine / ds.system / f"{ds.name}.csv") for ds in DATASETS}
    rows = {name: body for name, (_, body) in data.items()}
    headers = {name: header for name, (header, _) in data.items()}
    fx_last = max(r["rate_date"] for r in rows[FX_DATASET])
    fx_first = (date.fromisoformat(fx_last) - timedelta(days=FX_DAYS - 1)).isoformat()

    def in_window(value: str) -> bool:
        return bool(value) and fx_first <= _day(value) <= fx_last

    def deal_day(o: dict[str, str]) -> str:
        return o["close_date"] or _day(o["created_at"])

    opps = [o for o in rows["crm_opportunities"] if in_window(deal_day(o))]
    with_items = {i["opportunity_id"] for i in rows["crm_opportunity_line_items"]}
    with_chats = {c["account_id"] for c in rows["support_conversations"]}
    with_bills = {i["account_id"] for i in rows["billing_invoices"] if in_window(i["issue_date"])}
    candidates = sorted({o["account_id"] for o in opps if o["opportunity_id"] in with_items}
                        & with_chats & with_bills)
    # and a customer onboarded inside the history, and one with an invoice adjusted, as both are rare
    onboarded = sorted({m["account_id"] for m in rows["crm_onboarding_milestones"]} & with_bills)
    window_bills = {i["invoice_id"] for i in rows["billing_invoices"] if in_window(i["issue_date"])}
    adjusted = sorted({a["account_id"] for a in rows["billing_adjustments"]
                       if a["invoice_id"] in window_bills and in_window(a["created_at"])})
    chosen = set(candidates[:ACCOUNTS]) | set(onboarded[:1]) | set(adjusted[:1])
    by_id = {a["account_id"]: a for a in rows["crm_accounts"]}
    accounts = chosen | {by_id[a]["parent_account_id"] for a in chosen
                         if by_id.get(a, {}).get("parent_account_id") in by_id}

    def capped(items: list[dict[str, str]], per: str, n: int) -> list[dict[str, str]]:
        seen: dict[str, int] = defaultdict(int)
        kept = []
        for item in items:
            seen[item[per]] += 1
            if seen[item[per]] <= n:
                kept.append(item)
        return kept

    keep: dict[str, list[dict[str, str]]] = {}
    keep[FX_DATASET] = [r for r in rows[FX_DATASET] if r["rate_date"] >= fx_first]
    for name in ("crm_users", "support_agents", "crm_products"):
        keep[name] = rows[name]
    keep["crm_accounts"] = [a for a in rows["crm_accounts"] if a["account_id"] in accounts]
    keep["crm_contacts"] = [c for c in rows["crm_contacts"] if c["account_id"] in accounts]
    contacts = {c["contact_id"] for c in keep["crm_contacts"]}
    keep["crm_leads"] = [le for le in rows["crm_leads"] if in_window(le["created_at"])
                         and le["converted_account_id"] in ("", *accounts)][:40]
    keep["crm_opportunities"] = [o for o in opps if o["account_id"] in accounts]
    deals = {o["opportunity_id"] for o in keep["crm_opportunities"]}
    keep["crm_opportunity_line_items"] = [i for i in rows["crm_opportunity_line_items"] if i["opportunity_id"] in deals]
    keep["crm_subscriptions"] = [s for s in rows["crm_subscriptions"] if s["account_id"] in accounts]
    keep["crm_meetings"] = capped([m for m in rows["crm_meetings"] if m["account_id"] in accounts], "account_id", 5)
    keep["crm_emails"] = capped([e for e in rows["crm_emails"] if e["account_id"] in accounts
                                 and in_window(e["sent_at"])], "account_id", 5)
    keep["crm_quotas"] = [q for q in rows["crm_quotas"] if in_window(q["quarter_start"])]
    keep["support_tickets"] = capped([t for t in rows["support_tickets"] if t["account_id"] in accounts
                                      and t["contact_id"] in ("", *contacts)], "account_id", 8)
    keep["support_conversations"] = capped(
        [c for c in rows["support_conversations"] if c["account_id"] in accounts
         and c["contact_id"] in ("", *contacts) and in_window(c["started_at"])], "account_id", 6)
    chats = {c["conversation_id"] for c in keep["support_conversations"]}
    keep["support_messages"] = [m for m in rows["support_messages"] if m["conversation_id"] in chats]
    keep["billing_invoices"] = [i for i in rows["billing_invoices"] if i["account_id"] in accounts
                                and in_window(i["issue_date"])]
    bills = {i["invoice_id"] for i in keep["billing_invoices"]}
    keep["billing_payments"] = [p for p in rows["billing_payments"] if p["invoice_id"] in bills
                                and in_window(p["paid_at"])]
    subscriptions = {s["subscription_id"] for s in keep["crm_subscriptions"]}
    keep["crm_price_changes"] = [p for p in rows["crm_price_changes"] if p["subscription_id"] in subscriptions
                                 and in_window(p["effective_date"])]
    keep["crm_onboarding_milestones"] = [m for m in rows["crm_onboarding_milestones"] if m["account_id"] in accounts]
    keep["support_surveys"] = capped([s for s in rows["support_surveys"] if s["account_id"] in accounts
                                      and s["contact_id"] in contacts], "account_id", 4)
    keep["billing_disputes"] = [d for d in rows["billing_disputes"] if d["invoice_id"] in bills
                                and in_window(d["opened_at"])]
    keep["billing_adjustments"] = [a for a in rows["billing_adjustments"] if a["invoice_id"] in bills
                                   and in_window(a["created_at"])]
    keep["billing_credit_holds"] = [h for h in rows["billing_credit_holds"] if h["account_id"] in accounts]
    keep["marketing_campaigns"] = [c for c in rows["marketing_campaigns"] if in_window(c["start_date"])]
    campaigns = {c["campaign_id"] for c in keep["marketing_campaigns"]}
    keep["marketing_campaign_variants"] = [v for v in rows["marketing_campaign_variants"]
                                           if v["campaign_id"] in campaigns]
    keep["marketing_sends"] = [s for s in rows["marketing_sends"] if s["campaign_id"] in campaigns
                               and s["contact_id"] in contacts][:200]
    sends = {s["send_id"] for s in keep["marketing_sends"]}
    keep["marketing_replies"] = [r for r in rows["marketing_replies"] if r["send_id"] in sends]
    keep["marketing_touchpoints"] = [t for t in rows["marketing_touchpoints"] if t["contact_id"] in contacts
                                     and t["account_id"] in ("", *accounts)
                                     and t["campaign_id"] in ("", *campaigns)][:120]
    recent = (date.fromisoformat(fx_last) - timedelta(days=30)).isoformat()
    keep["product_usage_daily"] = [u for u in rows["product_usage_daily"] if u["account_id"] in accounts
                                   and u["usage_date"] >= recent]
    sessions = [s for s in rows["web_sessions"] if in_window(s["started_at"]) and s["campaign_id"] in ("", *campaigns)]
    keep["web_sessions"] = ([s for s in sessions if s["contact_id"] in contacts and s["account_id"] in ("", *accounts)]
                            + [s for s in sessions if not s["contact_id"] and not s["account_id"]][:40])

    iso = iso_currencies()
    written: dict[str, set[str]] = {}  # dataset -> its keys in the subset (single-column keys)
    for ds in DATASETS:  # parents come before their children in the contract
        header = headers[ds.bronze_table]
        records = [[r[c] for c in header] for r in keep[ds.bronze_table]]
        keys = defaultdict(int)
        for fields in records:
            keys[record_key(ds, header, fields)] += 1
        clean = [f for f in records if keys[record_key(ds, header, f)] == 1
                 and not row_problems(ds, header, f, iso=iso)]
        if ds.bronze_table in FAMILIES:  # a parent left out (a repeated key) takes its children along
            column, parent = FAMILIES[ds.bronze_table]
            clean = [f for f in clean if f[header.index(column)] in written[parent]]
        written[ds.bronze_table] = {f[header.index(ds.key[0])] for f in clean}
        path = out / ds.system / f"{ds.name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(clean)
    return out


@dataclass(frozen=True)
class Source:
    """The clean landing folder and its FX feed's published rates ((day, currency) -> USD per unit)."""

    landing: Path
    fx: dict[tuple[date, str], Decimal]

    def __repr__(self) -> str:  # Hypothesis prints the arguments of a failing example
        return f"Source({self.landing})"


@pytest.fixture(scope="module")
def small_landing(pristine_landing_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Source:
    landing = build_small_landing(pristine_landing_dir, tmp_path_factory.mktemp("hostile-source") / "landing")
    ds = next(d for d in DATASETS if d.bronze_table == FX_DATASET)
    fx = {(date.fromisoformat(f[h.index("rate_date")]), f[h.index("currency")]): Decimal(f[h.index("usd_per_unit")])
          for _, _, h, f in corpus_rows(landing, ds)}
    return Source(landing, fx)


# --- What the database holds after a run --------------------------------------------------------------


def _silver_rows(database: Database, ds: Dataset) -> dict[tuple[str, ...], dict[str, Any]]:
    with database.engine.connect() as conn:
        result = conn.execute(text(f'SELECT * FROM silver."{SILVER[ds.bronze_table]}"'))
        return {tuple(str(row[k]) for k in ds.key): dict(row) for row in result.mappings()}


def _quarantine(database: Database) -> dict[tuple[str, int], list[tuple[str, str, str]]]:
    """(source file, row number) -> [(dataset, stage, reason)]."""
    out: dict[tuple[str, int], list[tuple[str, str, str]]] = defaultdict(list)
    with database.engine.connect() as conn:
        for dataset, stage, source_file, row_number, reason in conn.execute(text(
                "SELECT dataset, stage, source_file, row_number, reason FROM bronze.quarantine ORDER BY id")):
            out[(source_file, row_number)].append((dataset, stage, reason))
    return out


def _derived_columns() -> dict[str, set[str]]:
    """Silver columns computed from others (lower-cased emails...), per silver table name."""
    from etl.silver import SILVER_STEPS, CleanTable

    return {step.table.name: set(step.derived) for step in SILVER_STEPS if isinstance(step, CleanTable)}


# --- The expectations ------------------------------------------------------------------------------


def _load_order(landing: Path) -> dict[str, int]:
    from etl.bronze import landing_files

    return {path.relative_to(landing).as_posix(): i for i, (_, path) in enumerate(landing_files(landing))}


def _stamp(value: str) -> datetime | None:
    """An updated_at as silver reads it (no zone: UTC), None when empty."""
    try:
        stamp = datetime.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None
    return stamp.replace(tzinfo=UTC) if stamp is not None and stamp.tzinfo is None else stamp


def expected_silver(landing: Path, manifest: HostileManifest, ds: Dataset) -> dict[tuple[str, ...], dict[str, str]]:
    """key -> the version of each good row that silver must hold: bad rows and children left out;
    of several versions the newest updated_at, then the later load, then the later row."""
    excluded = manifest.excluded_rows()
    order = _load_order(landing)
    versions: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for rel, number, header, fields in corpus_rows(landing, ds):
        if number in excluded.get(rel, ()):
            continue
        key = record_key(ds, header, fields)
        assert key is not None, f"{rel} row {number}: a malformed row the manifest does not list"
        row = dict(zip(header, fields, strict=True))
        stamp = _stamp(row.get("updated_at", ""))
        versions[key].append(((stamp is not None, stamp or NEVER), order[rel], number, row))
    return {key: max(found, key=lambda v: v[:3])[3] for key, found in versions.items()}


def _silver_text(value: str) -> str | None:
    """What silver makes of a landing text value: spaces trimmed, empty is NULL."""
    value = value.strip(" ")
    return value or None


def _predicted_blocks(manifest: HostileManifest, expected: dict[str, dict[tuple[str, ...], dict[str, str]]]) -> list[str]:
    """The critical checks the corpus should fail by their declared thresholds: the share of a
    dataset's rows quarantined, and orphans left in silver by quarantined parents."""
    from etl.quality.registry import checks_for

    dataset_of = {f"silver.{SILVER[name]}": name for name in SILVER}
    blocks = []
    for check in checks_for("silver"):
        if check.fail_above is None:
            continue
        if check.kind == "quarantine":
            name = check.params["dataset"]
            rows = manifest.data_rows.get(name, 0)
            quarantined = (sum(1 for r in manifest.bad_rows() if r.dataset == name)
                           + len(manifest.children.get(name, ())))
            pct = 100.0 * quarantined / rows if rows else 0.0
            if pct > check.fail_above:
                blocks.append(f"{check.id}: {pct:.2f} % > {check.fail_above}")
        elif check.kind == "orphans":
            child, parent = dataset_of.get(check.table), dataset_of.get(check.params["parent"])
            if child is None or parent is None:
                continue
            parent_values = {row.get(check.params["parent_column"]) for row in expected[parent].values()}
            values = [row.get(check.column or "", "").strip(" ") for row in expected[child].values()]
            present = [v for v in values if v]
            orphans = sum(1 for v in present if v not in parent_values)
            pct = 100.0 * orphans / len(present) if present else 0.0
            if (pct > check.fail_above and len(present) >= check.params.get("critical_min_rows", 0)
                    and parent_values):
                blocks.append(f"{check.id}: {pct:.2f} % orphans > {check.fail_above}")
    return blocks


# --- The four properties --------------------------------------------------------------------------------


def check_good_rows(database: Database, landing: Path, manifest: HostileManifest,
                    expected: dict[str, dict[tuple[str, ...], dict[str, str]]],
                    quarantine: dict[tuple[str, int], list[tuple[str, str, str]]]) -> list[str]:
    """(a) every good key in silver with its text values as sent; the right version won; nothing
    else quarantined."""
    failures = []
    derived = _derived_columns()
    for ds in DATASETS:
        silver = _silver_rows(database, ds)
        kinds = column_kinds(ds)
        texts = [c for c in ds.columns if kinds[c] == "text" and c not in derived.get(SILVER[ds.bronze_table], ())]
        for key, row in expected[ds.bronze_table].items():
            got = silver.get(key)
            if got is None:
                failures.append(f"{ds.bronze_table} {key}: good row missing from silver")
                continue
            for column in texts:
                if got[column] != _silver_text(row[column]):
                    failures.append(f"{ds.bronze_table} {key}.{column}: silver has {got[column]!r:.80}, "
                                    f"sent {_silver_text(row[column])!r:.80}")
            for column in (c for c in ds.columns if kinds[c] == "json"):
                sent = json.loads(row[column]) if row[column].strip() else None
                if got[column] != sent:
                    failures.append(f"{ds.bronze_table} {key}.{column}: silver has {got[column]!r:.80}, "
                                    f"sent {row[column]!r:.80}")
    for record in manifest.good_oddities():
        row = expected[record.dataset].get(record.key)
        if row is None or record.column is None:
            continue
        if _silver_text(row[record.column]) != record.expected_value:  # the oracle agrees with the manifest
            failures.append(f"test oracle: {record.dataset} {record.key} {record.kind} expects "
                            f"{record.expected_value!r:.60}, the rule gives {row[record.column]!r:.60}")
    bad = {(r.source_file, r.row_number) for r in manifest.bad_rows()}
    bad |= {(c.source_file, c.row_number) for c in manifest.all_children()}
    for (source_file, row_number), entries in sorted(quarantine.items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or 0)):
        if (source_file, row_number) not in bad:
            for dataset, stage, reason in entries:
                failures.append(f"good row quarantined: {dataset} {source_file} row {row_number} ({stage}): {reason:.160}")
    return failures


def check_bad_rows(database: Database, manifest: HostileManifest,
                   quarantine: dict[tuple[str, int], list[tuple[str, str, str]]]) -> list[str]:
    """(b) every bad row and child quarantined with its reason; none of their keys in silver."""
    failures = []
    silver_keys = {ds.bronze_table: set(_silver_rows(database, ds)) for ds in DATASETS}
    for record in manifest.bad_rows():
        where = f"{record.dataset} {record.source_file} row {record.row_number} {record.kind}"
        entries = quarantine.get((record.source_file, record.row_number), [])
        reasons = [reason for dataset, _, reason in entries if dataset == record.dataset]
        shown = f"{record.value!r:.50}" if record.value is not None else record.detail
        if not reasons:
            failures.append(f"{where} ({record.column}={shown}): not quarantined")
        elif record.kind == "truncated":
            if not any("truncat" in r.lower() for r in reasons):
                failures.append(f"{where}: reason does not say the line is truncated: {reasons}")
        elif not any(re.search(rf"\bcolumn {re.escape(record.column or '')}\b", r) for r in reasons):
            failures.append(f"{where} ({record.column}={shown}): reason does not name column "
                            f"{record.column}: {[r[:140] for r in reasons]}")
        if record.key in silver_keys[record.dataset]:
            failures.append(f"{where}: key {record.key} is in silver")
    for child in manifest.all_children():
        where = f"{child.dataset} {child.source_file} row {child.row_number} (child of {child.parent_kind} parent)"
        reasons = [reason for dataset, _, reason in quarantine.get((child.source_file, child.row_number), [])
                   if dataset == child.dataset]
        if not reasons:
            failures.append(f"{where}: not quarantined (expected {child.reason!r})")
        elif not any(child.reason in r for r in reasons):
            failures.append(f"{where}: reason {reasons} is not {child.reason!r}")
        if child.key in silver_keys[child.dataset]:
            failures.append(f"{where}: key {child.key} is in silver")
    return failures


def check_promotion(database: Database, result: PipelineResult, predicted: list[str]) -> list[str]:
    """(c) success and gold promoted unless a declared threshold is passed; never 'failed'."""
    failures = []
    if result.status not in ("success", "blocked"):
        failures.append(f"status {result.status}: {(result.error or '')[:300]}")
    if not predicted:
        if result.status != "success":
            failures.append(f"status {result.status} although no failure rate passes its threshold: "
                            f"{result.checks_failed[:5] or (result.error or '')[:300]}")
        else:
            with database.engine.connect() as conn:
                if not conn.scalar(text("SELECT count(*) FROM gold.daily_kpi")) or result.as_of is None:
                    failures.append("status success but gold.daily_kpi is empty")
    return failures


def check_currencies(database: Database, manifest: HostileManifest,
                     source_fx: dict[tuple[date, str], Decimal]) -> list[str]:
    """(d) ISO currencies of the feed, each amount at its own currency's rate of its day (or an
    earlier one within the fallback window), never a quarantined rate; gold adds up."""
    failures = []
    iso = sorted(iso_currencies())
    bad_fx = {(date.fromisoformat(r.key[0]), r.key[1]) for r in manifest.bad_rows()
              if r.dataset == FX_DATASET and len(r.key) == 2 and r.kind != "unknown_currency"}
    with database.engine.connect() as conn:
        conn.execute(text("SET TimeZone = 'UTC'"))
        for currency, in conn.execute(text("SELECT DISTINCT currency FROM silver.fx_rates")):
            if currency not in iso:
                failures.append(f"silver.fx_rates holds currency {currency!r}")
        daily_rates = conn.execute(text(
            "SELECT day, currency, usd_per_unit, rate_date FROM silver.fx_rates_daily ORDER BY 1, 2")).all()
        if not daily_rates:
            failures.append("silver.fx_rates_daily is empty: no conversion to check")
        for day, currency, rate, rate_date in daily_rates:
            where = f"silver.fx_rates_daily {day} {currency}"
            if currency not in iso:
                failures.append(f"{where}: not an ISO currency")
                continue
            if not (day - timedelta(days=MAX_FALLBACK_DAYS) <= rate_date <= day):
                failures.append(f"{where}: rate of {rate_date}, not within {MAX_FALLBACK_DAYS} days before")
            if (rate_date, currency) in bad_fx:
                failures.append(f"{where}: uses the quarantined rate of {rate_date} ({rate})")
            published = source_fx.get((rate_date, currency))
            if published is None and currency == "USD":
                published = Decimal(1)
            if published is None or Decimal(rate) != published:
                failures.append(f"{where}: rate {rate}, the feed published {published} on {rate_date}")
        for table, (day, amounts, join) in MONEY.items():
            same = " AND ".join(f"t.{usd} IS NOT DISTINCT FROM ({amount}) * t.fx_rate" for usd, amount in amounts.items())
            key = ", ".join(f"t.{k}" for k in _key_of(table))
            rows = conn.execute(text(f"""
                SELECT {key}, t.currency, t.fx_rate, t.fx_rate_date, d.usd_per_unit, d.rate_date, {day} AS tday,
                       {', '.join(f't.{usd}' for usd in amounts)}
                FROM silver.{table} t {join}
                LEFT JOIN silver.fx_rates_daily d ON d.currency = t.currency AND d.day = {day}
                WHERE t.currency IS NOT NULL AND NOT COALESCE(
                      t.currency = ANY(CAST(:iso AS text[])) AND t.currency IN (SELECT currency FROM silver.fx_rates)
                      AND t.fx_rate = d.usd_per_unit AND t.fx_rate_date = d.rate_date
                      AND d.rate_date BETWEEN {day} - :fallback AND {day} AND {same}, false)
                LIMIT 20"""), {"iso": iso, "fallback": MAX_FALLBACK_DAYS}).all()
            failures += [f"silver.{table} {tuple(r)}: not converted at its currency's rate of its day" for r in rows]
        failures += _gold_adds_up(conn, iso)
    return failures


def _key_of(table: str) -> tuple[str, ...]:
    return next(ds.key for ds in DATASETS if SILVER[ds.bronze_table] == table)


def _gold_adds_up(conn: Any, iso: list[str]) -> list[str]:
    failures = []
    as_of = conn.scalar(text("SELECT max(day) FROM gold.daily_kpi"))
    if as_of is None:
        return failures
    gold_mrr, groups = conn.execute(text(
        "SELECT sum(mrr_usd), count(*) FROM gold.daily_kpi_territory WHERE day = :d"), {"d": as_of}).one()
    silver_mrr = conn.scalar(text("""
        SELECT COALESCE(sum(s.mrr * fx.usd_per_unit), 0) FROM silver.subscriptions s
        LEFT JOIN silver.fx_rates_daily fx ON fx.day = :d AND fx.currency = s.currency
        WHERE s.start_date <= :d AND (s.end_date IS NULL OR s.end_date > :d)"""), {"d": as_of})
    if abs(Decimal(gold_mrr or 0) - Decimal(silver_mrr)) > Decimal("0.005") * (groups or 1) + Decimal("0.01"):
        failures.append(f"gold.daily_kpi MRR on {as_of}: {gold_mrr}, silver's subscriptions at the day's rates "
                        f"give {round(silver_mrr, 2)}")
    first = conn.scalar(text("SELECT min(day) FROM gold.daily_kpi"))
    gold_invoiced, cells = conn.execute(text(
        "SELECT sum(invoiced_usd), count(*) FILTER (WHERE invoiced_usd <> 0) FROM gold.daily_kpi_territory")).one()
    silver_invoiced = conn.scalar(text("""
        SELECT COALESCE(sum(amount_usd), 0) FROM silver.invoices
        WHERE status IS DISTINCT FROM 'void' AND issue_date BETWEEN :a AND :b"""), {"a": first, "b": as_of})
    if abs(Decimal(gold_invoiced or 0) - Decimal(silver_invoiced)) > Decimal("0.005") * (cells or 1) + Decimal("0.01"):
        failures.append(f"gold.daily_kpi invoiced {first}..{as_of}: {gold_invoiced}, silver's invoices give "
                        f"{round(silver_invoiced, 2)}")
    for table, in conn.execute(text("""SELECT table_name FROM information_schema.columns
                                       WHERE table_schema = 'gold' AND column_name = 'currency'""")):
        for currency, in conn.execute(text(f"SELECT DISTINCT currency FROM gold.{table} WHERE currency IS NOT NULL")):
            if currency not in iso:
                failures.append(f"gold.{table} holds currency {currency!r}")
    return failures


# --- The tests ----------------------------------------------------------------------------------------


def test_small_landing_is_clean_and_loads_whole(small_landing: Source, scratch_db: Database) -> None:
    """The oracle's premise: without corruption the subset loads whole, nothing quarantined, gold promoted."""
    result = run_pipeline(scratch_db, small_landing.landing, triggered_by="test")
    assert result.status == "success", result.error
    quarantine = _quarantine(scratch_db)
    assert not quarantine, [(k, v) for k, v in list(quarantine.items())[:10]]
    empty = HostileManifest(str(small_landing.landing), str(small_landing.landing), 0.0, 0, ())
    for ds in DATASETS:
        keys = set(_silver_rows(scratch_db, ds))
        expected = expected_silver(small_landing.landing, empty, ds)
        assert expected, f"the subset has no {ds.bronze_table} rows"
        assert set(expected) == keys, f"{ds.bronze_table}: {sorted(set(expected) ^ keys)[:10]}"


kinds_strategy = st.sets(st.sampled_from(ALL_KINDS), min_size=1).map(lambda s: tuple(sorted(s)))


@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.too_slow])
@example(kinds=ALL_KINDS, rate=0.01, seed=0)
@given(kinds=kinds_strategy, rate=st.floats(min_value=0.003, max_value=0.03), seed=st.integers(0, 2**20))
def test_hostile_rows_harm_only_themselves(small_landing: Source, pg_admin_url: str, template_url: str,
                                           tmp_path_factory: pytest.TempPathFactory,
                                           kinds: tuple[str, ...], rate: float, seed: int) -> None:
    corpus = tmp_path_factory.mktemp("hostile") / "landing"
    manifest = corrupt_landing(small_landing.landing, corpus, rate=rate, seed=seed, kinds=kinds)
    note(f"corrupt_landing(rate={rate!r}, seed={seed}, kinds={kinds}): {manifest.counts()} "
         f"of {manifest.total_rows} rows")
    expected = {ds.bronze_table: expected_silver(corpus, manifest, ds) for ds in DATASETS}
    predicted = _predicted_blocks(manifest, expected)
    note(f"thresholds passed by the corpus: {predicted or 'none'}")
    with cloned_database(pg_admin_url, template_url) as database:
        result = run_pipeline(database, corpus, triggered_by="test")
        note(f"pipeline: {result.status} in {result.seconds:.1f}s, {result.quarantined} quarantined; "
             f"critical: {result.checks_failed[:5]}")
        quarantine = _quarantine(database)
        failures = {
            "(a) good rows kept as sent": check_good_rows(database, corpus, manifest, expected, quarantine),
            "(b) bad rows quarantined with their column": check_bad_rows(database, manifest, quarantine),
            "(c) gold promoted under the thresholds": check_promotion(database, result, predicted),
            "(d) amounts at their own currency's rate": check_currencies(database, manifest, small_landing.fx),
        }
    message = [f"{name}: {len(found)} failure(s)\n    " + "\n    ".join(found[:SHOWN])
               for name, found in failures.items() if found]
    assert not message, (f"rate={rate} seed={seed} kinds={kinds} {manifest.counts()}\n" + "\n".join(message))
