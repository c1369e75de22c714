"""The question catalogue: persona questions from the requirements, each with a deep link to the
page element that answers it (dashboard/questions.json).

The file is validated when first read: unique ids, known personas and permissions, and a url on a
page Dash has registered. Callers get only the questions whose permissions they hold.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dash

from dashboard.permissions import ALL_PERMISSIONS, AUTHENTICATED

CATALOGUE_FILE = Path(__file__).resolve().parent.parent / "questions.json"
# The personas of requirements 003, and 004's executive ("Morning Coffee") reader.
PERSONAS: tuple[str, ...] = ("chairman", "ceo", "operations", "sales", "service", "billing",
                             "account_management", "executive")
KNOWN_PERMISSIONS = frozenset((*ALL_PERMISSIONS, AUTHENTICATED))
# What the API and the Home search show of an entry; the permissions stay server-side.
PUBLIC_FIELDS: tuple[str, ...] = ("id", "persona", "question", "url", "answer_selector")
REQUIRED_FIELDS: tuple[str, ...] = (*PUBLIC_FIELDS, "permission")


class CatalogueError(ValueError):
    """The question file is malformed: says which entry and why."""


@dataclass(frozen=True)
class Question:
    """One persona question and where it is answered."""

    id: str
    persona: str
    question: str
    url: str  # page path with its query string: a deep link
    answer_selector: str  # CSS selector of the element holding the answer
    permission: str  # what opening the page needs
    also_requires: tuple[str, ...] = ()  # what the answer itself needs (e.g. exact revenue figures)

    @property
    def page_path(self) -> str:
        return urlsplit(self.url).path

    @property
    def permissions(self) -> tuple[str, ...]:
        """Every permission the caller must hold to see the answer."""
        return (self.permission, *self.also_requires)

    def public(self) -> dict[str, str]:
        """The entry as the API returns it."""
        return {name: getattr(self, name) for name in PUBLIC_FIELDS}


def _question(entry: Any, position: int, page_paths: Collection[str]) -> Question:
    where = f"question {position + 1}"
    if not isinstance(entry, Mapping):
        raise CatalogueError(f"{where} is not an object")
    where = f"question {entry.get('id') or position + 1}"
    for name in REQUIRED_FIELDS:
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            raise CatalogueError(f"{where}: {name} must be a non-empty string")
    also = entry.get("also_requires", [])
    if not isinstance(also, list) or not all(isinstance(p, str) for p in also):
        raise CatalogueError(f"{where}: also_requires must be a list of permission names")
    question = Question(entry["id"], entry["persona"], entry["question"].strip(), entry["url"],
                        entry["answer_selector"], entry["permission"], tuple(also))
    if question.persona not in PERSONAS:
        raise CatalogueError(f"{where}: unknown persona {question.persona!r}")
    unknown = [p for p in question.permissions if p not in KNOWN_PERMISSIONS]
    if unknown:
        raise CatalogueError(f"{where}: unknown permission {unknown[0]!r}")
    parts = urlsplit(question.url)
    if parts.scheme or parts.netloc or question.page_path not in page_paths:
        raise CatalogueError(f"{where}: {question.url!r} is not on a registered page")
    return question


def parse_questions(document: Any, page_paths: Collection[str]) -> tuple[Question, ...]:
    """The validated entries of a catalogue document ({"questions": [...]})."""
    entries = document.get("questions") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise CatalogueError("the catalogue needs a 'questions' list")
    questions = tuple(_question(entry, position, page_paths) for position, entry in enumerate(entries))
    seen: set[str] = set()
    for question in questions:
        if question.id in seen:
            raise CatalogueError(f"question id {question.id!r} is used twice")
        seen.add(question.id)
    return questions


def load_questions(page_paths: Collection[str], source: Path = CATALOGUE_FILE) -> tuple[Question, ...]:
    """Read and validate the catalogue file against the given page paths."""
    with source.open(encoding="utf-8") as handle:
        return parse_questions(json.load(handle), page_paths)


def registered_page_paths() -> frozenset[str]:
    """The paths of the pages registered with Dash (the app factory registers them)."""
    return frozenset(page["path"] for page in dash.page_registry.values())


@functools.cache
def _catalogue(page_paths: frozenset[str]) -> tuple[Question, ...]:
    return load_questions(page_paths)


def questions_for(permission_check: Callable[[str], bool],
                  page_paths: Collection[str] | None = None) -> list[Question]:
    """The catalogue entries whose every permission `permission_check` grants, in file order."""
    paths = frozenset(registered_page_paths() if page_paths is None else page_paths)
    return [q for q in _catalogue(paths) if all(permission_check(p) for p in q.permissions)]


def matching_questions(questions: Iterable[Question], search: str | None) -> list[Question]:
    """The questions containing every word of `search` (case-insensitive) in their text or persona."""
    words = (search or "").casefold().split()
    return [q for q in questions
            if all(word in f"{q.question} {q.persona.replace('_', ' ')}".casefold() for word in words)]
