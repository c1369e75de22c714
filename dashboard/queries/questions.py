"""The question catalogue: persona questions from the requirements, each with a deep link to the
page element that answers it (dashboard/questions.json).

The file is validated when first read: unique ids, known personas and permissions, and a url on a
page Dash has registered. Callers get only the questions whose permissions they hold.

A question about one customer ("the complete history of a specific customer") links to a page
about one customer: its url holds `{account}`, which each caller's link fills with the largest
active customer of their own scope. A caller with no customer in scope does not get it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import dash
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.permissions import ALL_PERMISSIONS, AUTHENTICATED
from dashboard.scope import DataScope
from dashboard.tables.gold import Customer360

CATALOGUE_FILE = Path(__file__).resolve().parent.parent / "questions.json"
# The personas of requirements 003, and 004's executive ("Morning Coffee") reader.
PERSONAS: tuple[str, ...] = ("chairman", "ceo", "operations", "sales", "service", "billing",
                             "account_management", "executive", "marketing")
KNOWN_PERMISSIONS = frozenset((*ALL_PERMISSIONS, AUTHENTICATED))
# What the API and the Home search show of an entry; the permissions stay server-side.
PUBLIC_FIELDS: tuple[str, ...] = ("id", "persona", "question", "url", "answer_selector")
REQUIRED_FIELDS: tuple[str, ...] = (*PUBLIC_FIELDS, "permission")
# In a url: one customer of the caller's scope; the page's path template names it <account_id>.
ACCOUNT_PLACEHOLDER = "{account}"
ACCOUNT_TEMPLATE_VARIABLE = "<account_id>"


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
    def needs_account(self) -> bool:
        """Whether the url names one customer, filled in for each caller."""
        return ACCOUNT_PLACEHOLDER in self.url

    def for_account(self, account_id: str) -> Question:
        """The question with its url naming `account_id`."""
        return replace(self, url=self.url.replace(ACCOUNT_PLACEHOLDER, quote(account_id, safe="")))

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
    path = question.page_path.replace(ACCOUNT_PLACEHOLDER, ACCOUNT_TEMPLATE_VARIABLE)
    if parts.scheme or parts.netloc or path not in page_paths or ACCOUNT_PLACEHOLDER in parts.query:
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
    """The paths and path templates of the pages registered with Dash (the app factory registers them)."""
    pages = dash.page_registry.values()
    return frozenset([page["path"] for page in pages] + [page["path_template"] for page in pages
                                                          if page.get("path_template")])


@functools.cache
def _catalogue(page_paths: frozenset[str]) -> tuple[Question, ...]:
    return load_questions(page_paths)


def questions_for(permission_check: Callable[[str], bool],
                  page_paths: Collection[str] | None = None) -> list[Question]:
    """The catalogue entries whose every permission `permission_check` grants, in file order."""
    paths = frozenset(registered_page_paths() if page_paths is None else page_paths)
    return [q for q in _catalogue(paths) if all(permission_check(p) for p in q.permissions)]


def example_account(session: Session, scope: DataScope) -> str | None:
    """The caller's largest active customer by MRR: the one a question about one customer opens."""
    if scope.sees_nothing:
        return None
    return session.scalar(select(Customer360.account_id)
                          .where(Customer360.status == "active", scope.customer_filter())
                          .order_by(Customer360.mrr_usd.desc(), Customer360.account_id).limit(1))


def questions_with_accounts(questions: Iterable[Question], session: Session, scope: DataScope) -> list[Question]:
    """`questions` with each one-customer url naming the caller's example customer; without one,
    those questions are left out."""
    questions = list(questions)
    account = example_account(session, scope) if any(q.needs_account for q in questions) else None
    return [q.for_account(account) if q.needs_account else q for q in questions
            if account is not None or not q.needs_account]


def caller_questions(permission_check: Callable[[str], bool], session: Session, scope: DataScope) -> list[Question]:
    """The questions a caller may open, one-customer links naming a customer of their scope."""
    return questions_with_accounts(questions_for(permission_check), session, scope)


def matching_questions(questions: Iterable[Question], search: str | None) -> list[Question]:
    """The questions containing every word of `search` (case-insensitive) in their text or persona."""
    words = (search or "").casefold().split()
    return [q for q in questions
            if all(word in f"{q.question} {q.persona.replace('_', ' ')}".casefold() for word in words)]
