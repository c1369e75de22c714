"""The glossary: every KPI and column name with its definition, from one data file
(dashboard/glossary.json) that pages show on hover and the README points to."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

GLOSSARY_FILE = Path(__file__).resolve().parent.parent / "glossary.json"


@dataclass(frozen=True)
class Definition:
    """A term as pages name it, and what it means."""

    key: str
    term: str
    definition: str


@cache
def glossary() -> dict[str, Definition]:
    """Every definition by key (a KPI key or a column's field name)."""
    raw = json.loads(GLOSSARY_FILE.read_text(encoding="utf-8"))
    return {key: Definition(key, entry["term"], entry["definition"]) for key, entry in raw["terms"].items()}


def definition(key: str) -> str | None:
    """The definition of `key`, or None when the glossary has none."""
    found = glossary().get(key)
    return found.definition if found else None


def term(key: str) -> str:
    """The name pages show for `key` (the key itself when the glossary has no entry)."""
    found = glossary().get(key)
    return found.term if found else key
