"""Identity-resolution timings: link two files of 5,000 people (and companies) each.

Run: python bench/identity.py [--n 5000]. Prints wall time per step and the pairs found. Builds
its own synthetic records: the right file holds noisy copies (typos, swapped names, recased
emails, reformatted or missing phones) of a fifth of the left file's people, plus strangers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.identity import link_records  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    n = parser.parse_args().n
    rng = np.random.default_rng(42)
    left = people(n, rng, "L")
    k = n // 5
    right = pd.concat([noisy_copies(left.iloc[:k], rng), people(n - k, rng, "S")], ignore_index=True)
    right["country"] = "ZA"

    started = time.perf_counter()
    pairs = link_records(left, right, entity="person")
    person_seconds = time.perf_counter() - started
    true = {(f"L{i:06d}", f"R{i:06d}") for i in range(k)}
    found = set(zip(pairs["left_id"], pairs["right_id"], strict=True))
    tp = len(found & true)
    print(f"person link {n:,} x {n:,}: {person_seconds:.1f} s, {len(pairs):,} pairs >= 0.9, "
          f"precision {tp / max(len(found), 1):.3f}, recall {tp / k:.3f}")

    started = time.perf_counter()
    pairs = link_records(left, None, entity="person")
    print(f"person dedupe {n:,}: {time.perf_counter() - started:.1f} s, {len(pairs):,} pairs")

    names = [f"{rng.choice(BRANDS)} {rng.choice(BRANDS)} {rng.choice(WORDS)} {i}" for i in range(n)]
    companies = pd.DataFrame({"record_id": [f"A{i:06d}" for i in range(n)], "company_name": names,
                              "country": rng.choice(["ZA", "KE", "GB", "DE"], n)})
    variants = companies.assign(record_id="B" + companies["record_id"].str[1:],
                                company_name=[s.upper() + " Ltd" for s in names])
    started = time.perf_counter()
    pairs = link_records(companies, variants, entity="company")
    print(f"company link {n:,} x {n:,}: {time.perf_counter() - started:.1f} s, {len(pairs):,} pairs")


if __name__ == "__main__":
    main()
