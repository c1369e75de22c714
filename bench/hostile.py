"""A bad row harms only itself, in figures: the demo landing with about 1 % of its rows made
hostile (etl/demo_data/hostile.py), through the whole pipeline on a fresh database.

    python bench/hostile.py [--scale small|medium] [--rate 0.01] [--seed 0] [--kinds bad_type,...]
                            [--database-url URL] [--keep] [-v]

The demo landing of the scale is generated once and cached under var/bench/ (by scale, seed, as-of
day and a fingerprint of the generator's code). Prints the rows in the corpus; the good rows and
how many were lost; the bad rows, how many were quarantined (and with a reason naming their
column, or for a cut line saying so) and how many were not; the children quarantined with their
parent; whether the run was blocked; its status and seconds. Then a second run, over the
reference corpus (the hostile one without the bad rows and their families, hostile text and
second versions kept), and the gold figures of both: they must be equal, as must every silver
and gold table. A good row is lost when its key is in the reference run's silver but not in the
hostile run's (the demo data's own planted defects are quarantined in both runs).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from dashboard.db import Database, runtime_dir_default, start_embedded_server, to_sqlalchemy_url, upgrade  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
SHOWN = 5

# Gold figures compared between the hostile and the reference run: label -> SQL (one value).
GOLD_FIGURES = {
    "daily_kpi MRR on the as-of day": "SELECT sum(mrr_usd) FROM gold.daily_kpi WHERE day = (SELECT max(day) FROM gold.daily_kpi)",
    "daily_kpi active customers on the as-of day":
        "SELECT sum(active_customers) FROM gold.daily_kpi WHERE day = (SELECT max(day) FROM gold.daily_kpi)",
    "daily_kpi invoiced, all days": "SELECT sum(invoiced_usd) FROM gold.daily_kpi",
    "daily_kpi collected, all days": "SELECT sum(collected_usd) FROM gold.daily_kpi",
    "customer_360 customers": "SELECT count(*) FROM gold.customer_360",
    "customer_360 MRR": "SELECT sum(mrr_usd) FROM gold.customer_360",
    "customer_360 overdue": "SELECT sum(overdue_usd) FROM gold.customer_360",
    "billing_ageing invoices": "SELECT sum(invoices) FROM gold.billing_ageing",
    "campaign cost": "SELECT sum(cost_usd) FROM gold.campaign",
    "silver invoices, USD": "SELECT sum(amount_usd) FROM silver.invoices",
    "silver opportunities, USD": "SELECT sum(amount_usd) FROM silver.opportunities",
    "silver line items, USD": "SELECT sum(amount_usd) FROM silver.opportunity_line_items",
}


def _generator_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "etl" / "demo_data").glob("*.py")):
        if path.name != "hostile.py":
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def demo_landing(scale: str, seed: int, as_of: date) -> Path:
    """The demo landing of a scale, generated once per generator version and cached."""
    from etl.demo_data import generate

    target = CACHE / f"landing-{scale}-s{seed}-{as_of.isoformat()}-{_generator_fingerprint()}"
    if target.is_dir():
        print(f"demo landing: reusing {target.relative_to(ROOT)}")
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob(f"landing-{scale}-s{seed}-*"):  # another day's or generator's
        shutil.rmtree(stale, ignore_errors=True)
    started = time.perf_counter()
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=CACHE))
    summary = generate(partial, scale=scale, seed=seed, as_of=as_of, progress=False)
    partial.rename(target)
    print(f"demo landing: generated {summary.total_rows:,} rows in {time.perf_counter() - started:.1f}s "
          f"into {target.relative_to(ROOT)}")
    return target


def _new_database(admin_url: str, prefix: str) -> str:
    name = f"{prefix}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def _drop_database(admin_url: str, url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _quarantine(database: Database) -> dict[tuple[str, int], list[tuple[str, str, str]]]:
    out: dict[tuple[str, int], list[tuple[str, str, str]]] = defaultdict(list)
    with database.engine.connect() as conn:
        for dataset, stage, source_file, row_number, reason in conn.execute(text(
                "SELECT dataset, stage, source_file, row_number, reason FROM bronze.quarantine")):
            out[(source_file, row_number)].append((dataset, stage, reason))
    return out


def _silver_keys(database: Database) -> dict[str, set[tuple[str, ...]]]:
    from dashboard.tables.landing import DATASETS

    keys = {}
    with database.engine.connect() as conn:
        for ds in DATASETS:
            table = "web_sessions" if ds.bronze_table == "web_sessions" else ds.name
            columns = ", ".join(f'CAST("{k}" AS text)' for k in ds.key)
            keys[ds.bronze_table] = {tuple(r) for r in conn.execute(text(f'SELECT {columns} FROM silver."{table}"'))}
    return keys


def _checksums(database: Database, schemas: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    from dashboard.tables import Base

    out = {}
    with database.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.schema in schemas:
                name = f'{table.schema}."{table.name}"'
                count, digest = conn.execute(text(
                    f"SELECT count(*), md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {name} t"
                )).one()
                out[f"{table.schema}.{table.name}"] = (int(count), str(digest))
    return out


def _figures(database: Database) -> dict[str, object]:
    with database.engine.connect() as conn:
        return {label: conn.scalar(text(sql)) for label, sql in GOLD_FIGURES.items()}


def _names_its_defect(kind: str, column: str | None, reasons: list[str]) -> bool:
    if kind == "truncated":
        return any("truncat" in r.lower() for r in reasons)
    return any(re.search(rf"\bcolumn {re.escape(column or '')}\b", r) for r in reasons)


def _stages(result) -> str:
    return ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in result.stage_seconds.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="small", choices=["small", "medium"])
    parser.add_argument("--rate", type=float, default=0.01, help="share of each file's rows to corrupt")
    parser.add_argument("--seed", type=int, default=0, help="seed of the demo data and of the corruption")
    parser.add_argument("--kinds", default=None, help="comma-separated kinds (default: all)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="demo as-of day (default today)")
    parser.add_argument("--database-url", default=None, help="admin URL of a server to use")
    parser.add_argument("--keep", action="store_true", help="keep the databases and the corpora")
    parser.add_argument("-v", "--verbose", action="store_true", help="log the pipeline's steps")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR,
                        format="%(asctime)s %(name)s %(message)s")

    from etl.demo_data.hostile import ALL_KINDS, corrupt_landing, write_reference_landing
    from etl.pipeline import run_pipeline

    kinds = tuple(args.kinds.split(",")) if args.kinds else ALL_KINDS
    as_of = args.as_of or datetime.now(UTC).date()
    source = demo_landing(args.scale, args.seed, as_of)
    work = Path(tempfile.mkdtemp(prefix=f"hostile-{args.scale}-", dir=CACHE))
    started = time.perf_counter()
    manifest = corrupt_landing(source, work / "corpus", rate=args.rate, seed=args.seed, kinds=kinds)
    reference = write_reference_landing(manifest, work / "reference")
    print(f"hostile corpus: rate {args.rate:.2%}, seed {args.seed}, made in {time.perf_counter() - started:.1f}s: "
          + ", ".join(f"{kind} {n:,}" for kind, n in manifest.counts().items()))
    (work / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")

    runtime_dir_default()
    admin_url = to_sqlalchemy_url(args.database_url) if args.database_url else \
        start_embedded_server(Path(tempfile.gettempdir()) / "c360-bench")
    urls = [_new_database(admin_url, "c360_hostile"), _new_database(admin_url, "c360_reference")]
    hostile_db, reference_db = Database().bind(urls[0]), Database().bind(urls[1])
    try:
        result = run_pipeline(hostile_db, Path(manifest.out_dir), triggered_by="bench")
        ref_result = run_pipeline(reference_db, reference, triggered_by="bench")

        quarantine = _quarantine(hostile_db)
        ref_quarantine = _quarantine(reference_db)
        keys, ref_keys = _silver_keys(hostile_db), _silver_keys(reference_db)
        bad = manifest.bad_rows()
        children = manifest.all_children()
        expected_places = {(r.source_file, r.row_number) for r in bad} | {(c.source_file, c.row_number) for c in children}

        not_quarantined, unnamed, leaked = [], [], []
        for record in bad:
            reasons = [reason for dataset, _, reason in quarantine.get((record.source_file, record.row_number), [])
                       if dataset == record.dataset]
            where = f"{record.dataset} {record.source_file}:{record.row_number} {record.kind} {record.column}"
            if not reasons:
                not_quarantined.append(where)
            elif not _names_its_defect(record.kind, record.column, reasons):
                unnamed.append(f"{where}: {reasons[0][:120]}")
            if record.key in keys[record.dataset]:
                leaked.append(where)
        with_parent, children_other, children_missed = 0, [], []
        for child in children:
            reasons = [reason for dataset, _, reason in quarantine.get((child.source_file, child.row_number), [])
                       if dataset == child.dataset]
            if any(child.reason in r for r in reasons):
                with_parent += 1
            elif reasons:
                children_other.append(f"{child.dataset} {child.source_file}:{child.row_number}: {reasons[0][:100]}")
            else:
                children_missed.append(f"{child.dataset} {child.source_file}:{child.row_number} "
                                       f"(parent {child.parent_key}, {child.parent_kind})")
        lost = [f"{name} {key}" for name in ref_keys for key in sorted(ref_keys[name] - keys[name])]
        extra_quarantined = sum(len(v) for place, v in quarantine.items() if place not in expected_places)
        good_rows = manifest.total_rows - len(bad) - len(children)

        rows = [
            ("rows in the corpus", f"{manifest.total_rows:,}"),
            ("good rows", f"{good_rows:,}"),
            ("good rows lost", f"{len(lost):,}"),
            ("bad rows", f"{len(bad):,}"),
            ("bad rows quarantined", f"{len(bad) - len(not_quarantined):,}"
             f"   (reason naming the column, or saying the line is cut: {len(bad) - len(not_quarantined) - len(unnamed):,})"),
            ("bad rows not quarantined", f"{len(not_quarantined):,}   (their key in silver: {len(leaked):,})"),
            ("children quarantined with their parent", f"{with_parent:,} of {len(children):,}"
             f"   (quarantined for another reason: {len(children_other):,})"),
            ("runs blocked", "1" if result.status == "blocked" else "0"),
            ("status", result.status),
            ("seconds", f"{result.seconds:.1f}   ({_stages(result)})"),
        ]
        width = max(len(label) for label, _ in rows)
        print()
        for label, value in rows:
            print(f"{label:<{width}}  {value}")
        if result.checks_failed:
            print("critical checks failed:\n  " + "\n  ".join(result.checks_failed[:10]))
        if result.error and result.status != "success":
            print(f"error: {result.error[:400]}")
        print(f"\nother quarantined rows: hostile run {extra_quarantined:,} (outside the manifest), "
              f"reference run {sum(len(v) for v in ref_quarantine.values()):,} (the demo data's own defects)")
        for title, found in (("good rows lost", lost), ("bad rows not quarantined", not_quarantined),
                             ("bad rows whose reason names neither column nor cut line", unnamed),
                             ("bad rows with their key in silver", leaked),
                             ("children not quarantined", children_missed),
                             ("children quarantined for another reason", children_other)):
            if found:
                print(f"{title} ({len(found):,}), e.g.:\n  " + "\n  ".join(found[:SHOWN]))

        print(f"\nreference run (bad rows and their families removed): {ref_result.status} in "
              f"{ref_result.seconds:.1f}s ({_stages(ref_result)})")
        if result.status != "success" or ref_result.status != "success":
            print("gold was not promoted in both runs: figures compared as they stand")
        figures, ref_figures = _figures(hostile_db), _figures(reference_db)
        width = max(len(label) for label in GOLD_FIGURES)
        print(f"{'figure':<{width}}  {'hostile':>20}  {'reference':>20}")
        for label in GOLD_FIGURES:
            mark = "" if figures[label] == ref_figures[label] else "   DIFFERENT"
            print(f"{label:<{width}}  {_fmt(figures[label]):>20}  {_fmt(ref_figures[label]):>20}{mark}")
        sums, ref_sums = _checksums(hostile_db, ("silver", "gold")), _checksums(reference_db, ("silver", "gold"))
        differing = [f"{name} ({sums[name][0]:,} vs {ref_sums[name][0]:,} rows)" for name in sums
                     if sums[name] != ref_sums.get(name)]
        print("silver and gold tables differing from the reference run: "
              + (", ".join(differing) if differing else "none"))
    finally:
        hostile_db.dispose()
        reference_db.dispose()
        if args.keep:
            print(f"kept: databases {', '.join(make_url(u).database for u in urls)}; corpora in {work}")
        else:
            for url in urls:
                _drop_database(admin_url, url)
            shutil.rmtree(work, ignore_errors=True)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    try:
        return f"{float(value):,.2f}"
    except (TypeError, ValueError):
        return str(value)


if __name__ == "__main__":
    main()
