"""Planting data-quality defects, and the record of what was planted."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .sink import Sink
from .vocab import LEGAL_SUFFIXES, NAME_VARIANTS

MALFORMED_KINDS = ("extra_field", "missing_field", "bad_date", "bad_number")


@dataclass
class PlantedDefects:
    """Which defects went into the landing files, for tests and for checking the ETL."""

    duplicate_contacts: list[tuple[str, str]] = field(default_factory=list)  # (duplicate id, original id)
    cross_region_accounts: list[tuple[str, str]] = field(default_factory=list)  # (variant id, original id)
    missing_fields: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # "file.column" -> rows
    malformed_rows: dict[str, list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list))  # file -> [(key, kind)]
    stale_versions: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # file -> keys

    def freeze(self) -> PlantedDefects:
        """A copy with plain dicts (no defaultdict surprises for readers)."""
        return PlantedDefects(list(self.duplicate_contacts), list(self.cross_region_accounts),
                              dict(self.missing_fields), {k: list(v) for k, v in self.malformed_rows.items()},
                              {k: list(v) for k, v in self.stale_versions.items()})


def misspell(name: str, rng: np.random.Generator) -> str:
    """A plausible alternative spelling: a known variant or a one-letter typo."""
    if name in NAME_VARIANTS and rng.random() < 0.8:
        return NAME_VARIANTS[name]
    letters = list(name)
    if len(letters) < 4:
        return name + name[-1]
    op = int(rng.integers(0, 3))
    i = int(rng.integers(1, len(letters) - 2))
    if op == 0 and letters[i] != letters[i + 1]:
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    elif op == 1:
        letters.insert(i, letters[i])
    else:
        del letters[i]
    return "".join(letters)


def recase_email(email: str, rng: np.random.Generator) -> str:
    """The same address with different letter case."""
    local, _, domain = email.partition("@")
    choice = int(rng.integers(0, 3))
    if choice == 0:
        return ".".join(p.capitalize() for p in local.split(".")) + "@" + domain
    if choice == 1:
        return email.upper()
    return local + "@" + domain.upper()


def company_variant(brand: str, word: str, country: str, suffix: str, rng: np.random.Generator) -> str:
    """The same company as a different regional office might have typed it."""
    suffixes = [s for s in LEGAL_SUFFIXES[country] if s != suffix] or ["Holdings " + LEGAL_SUFFIXES[country][0]]
    new_suffix = suffixes[int(rng.integers(0, len(suffixes)))]
    style = int(rng.integers(0, 4))
    if style == 0:
        brand = brand.upper()
    elif style == 1:
        brand = brand.replace(" ", "")
    elif style == 2:
        brand = "The " + brand
    else:
        word = word[:-1] if word.endswith("s") else word + "s"
    return f"{brand} {word} {new_suffix}".strip()


def malformed_row(sink: Sink, cols: dict, i: int, kind: str, key: str, as_of_year: int,
                  text_col: str, date_col: str, number_col: str | None) -> list[str]:
    """A broken copy of row i under a fresh key: one field too many or too few, a bad date or number."""
    fields = sink.render(cols, i)
    fields[0] = key
    names = list(sink.columns)
    if kind == "extra_field":
        j = names.index(text_col)
        text = fields[j]
        cut = text.find(" ") if " " in text else max(len(text) // 2, 1)
        fields[j:j + 1] = [text[:cut], text[cut:].strip()]  # an unquoted comma split the field at the source
    elif kind == "missing_field":
        fields = fields[:-1]
    elif kind == "bad_date" or number_col is None:
        fields[names.index(date_col)] = f"31/02/{as_of_year - 1}"
    else:
        fields[names.index(number_col)] = "N/A"
    return fields


def plan_malformed(rng: np.random.Generator, n_units: int, count: int) -> dict[int, list[str]]:
    """Spread `count` malformed rows over the write units (batches) of a file."""
    plan: dict[int, list[str]] = defaultdict(list)
    if n_units <= 0:
        return plan
    early = max(1, (n_units * 4) // 5)  # the last units (newest accounts) can be empty
    for k in range(count):
        plan[int(rng.integers(0, early))].append(MALFORMED_KINDS[k % len(MALFORMED_KINDS)])
    return plan
