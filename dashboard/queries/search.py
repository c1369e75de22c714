"""Account search: the navbar's suggestions and the /search results grid.

A customer is found by a fragment of its name, its master id or a regional account id; roles
holding `view_pii` also find it by a contact's email or phone number. The caller's data scope
always applies. Matching reads gold.account_search (one row per term, built by the ETL):
  * a fragment of 3 characters or more matches every term containing it: the GIN index on the
    terms' trigrams finds the candidates (`grams @> the fragment's trigrams`), `strpos` confirms;
  * a shorter fragment matches the terms starting with it (the pattern index on `term`).
Ranking: an exact id match first, then an exact name, email or phone, then terms starting with
the fragment, then the rest by how much of the term the fragment covers (a trigram-style
similarity: for a contained fragment, its length over the term's), then by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, Float, Select, Text, case, cast, func, literal, select, text, union_all
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, mask_value
from dashboard.queries.grid import ACCOUNT, CHIP, TEXT, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.gold import PII_SEARCH_KINDS, AccountSearch, Customer360
from dashboard.url_state import first

SUGGESTION_LIMIT = 10
PAGE_SIZE = 50
# Longer input is cut: no account name or email is longer, and every trigram is an index probe.
MAX_QUERY_LENGTH = 100
MIN_CONTAINS_LENGTH = 3  # a trigram: shorter fragments match by prefix only
MIN_PHONE_DIGITS = 6
ID_KINDS = ("id", "regional_id")
KIND_LABELS = {"id": "Account id", "regional_id": "Regional id", "name": "Name", "email": "Contact email",
               "phone": "Contact phone"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PHONE_LIKE = re.compile(r"\+?[0-9 ().\-/]+")
_LIKE_SPECIAL = re.compile(r"([\\%_])")


@dataclass(frozen=True)
class SearchTerms:
    """A query as searched: lower case text, and its digits when it reads like a phone number."""

    text: str
    phone_digits: str | None = None


def normalise_query(raw: Any) -> SearchTerms | None:
    """The searchable form of what was typed; None for nothing to search (empty, blank, not text)."""
    if not isinstance(raw, str):
        return None
    text = " ".join(_CONTROL.sub(" ", raw[:MAX_QUERY_LENGTH * 2]).split()).lower()[:MAX_QUERY_LENGTH]
    if not text:
        return None
    digits = None
    if _PHONE_LIKE.fullmatch(text):
        digits = re.sub(r"\D", "", text)
        # An international prefix 00 or a national trunk 0 is not part of the stored E.164 digits.
        if digits.startswith("00"):
            digits = digits[2:]
        elif not text.startswith("+"):
            digits = digits.lstrip("0")
        if len(digits) < MIN_PHONE_DIGITS:
            digits = None
    return SearchTerms(text, digits)


@dataclass(frozen=True)
class AccountMatch:
    """One customer found: what the suggestion and the grid row show."""

    account_id: str
    account_name: str
    region: str | None
    territory: str | None
    segment: str | None
    risk_level: str | None
    matched_kind: str
    matched_term: str  # masked by the caller's policy where it is an email or a phone

    @property
    def matched_on(self) -> str:
        return f"{KIND_LABELS.get(self.matched_kind, self.matched_kind)}: {self.matched_term}"


@dataclass(frozen=True)
class SearchResult:
    """A page of matches, best first, and how many there are in all."""

    query: str
    matches: tuple[AccountMatch, ...]
    total: int
    offset: int = 0

    @property
    def empty(self) -> bool:
        return not self.matches


def _like_prefix(value: str) -> str:
    return _LIKE_SPECIAL.sub(r"\\\1", value) + "%"


def _hits(needle: str, kinds: Any, *, exact_rank: Any, narrowing: list[Any]) -> Select:
    """The terms matching `needle` whose kind passes `kinds` and whose customer passes `narrowing`,
    each with its rank and closeness."""
    search = AccountSearch
    prefix = _like_prefix(needle)
    if len(needle) >= MIN_CONTAINS_LENGTH:
        grams = func.gold.search_grams(literal(needle, Text), type_=ARRAY(Text))
        matches = [search.grams.contains(grams), func.strpos(search.term, needle) > 0]
    else:
        matches = [search.term.like(prefix, escape="\\")]
    rank = case((search.term == needle, exact_rank), (search.term.like(prefix, escape="\\"), 2), else_=3)
    closeness = cast(len(needle), Float) / func.greatest(func.length(search.term), 1)
    return (select(search.account_id, search.kind, search.term, search.account_name, rank.label("rank"),
                   closeness.label("closeness"))
            .where(kinds, *matches, *narrowing))


def _ranked_matches(terms: SearchTerms, scope: DataScope, policy: MaskPolicy, *, region: str = "",
                    territory: str = "") -> Select:
    """Each matching customer once, by its best term, best first, with the count of them all.

    Scoped, narrowed and ranked in gold.account_search alone (each term carries its customer's name,
    region and territory): a common fragment matches thousands of customers, and joining each to
    customer_360 cost more than the match itself."""
    search = AccountSearch
    narrowing = [scope.account_filter(search.territory, search.account_id),
                 *(column == value for column, value in ((search.region, region), (search.territory, territory))
                   if value)]
    # Kinds are left out rather than listed: a condition the term indexes answer better than the
    # primary key (whose second column is the kind) would.
    skipped = ["phone"] if policy.view_pii else sorted(PII_SEARCH_KINDS)
    branches = [_hits(terms.text, search.kind.not_in(skipped), narrowing=narrowing,
                      exact_rank=case((search.kind.in_(ID_KINDS), 0), else_=1))]
    if policy.view_pii and terms.phone_digits:
        branches.append(_hits(terms.phone_digits, search.kind == "phone", exact_rank=1, narrowing=narrowing))
    hits = union_all(*branches).subquery("hits")
    best = (select(hits).ext(distinct_on(hits.c.account_id))
            .order_by(hits.c.account_id, hits.c.rank, hits.c.closeness.desc(), hits.c.kind, hits.c.term)
            .subquery("best"))
    return (select(best, func.count().over().label("total"))
            .order_by(best.c.rank, best.c.closeness.desc(), best.c.account_name, best.c.account_id))


def _match_statement(terms: SearchTerms, scope: DataScope, policy: MaskPolicy, *, limit: int, offset: int = 0,
                     region: str = "", territory: str = "") -> Select:
    """The page of matches from `offset`, `limit` of them, with what customer_360 shows of each."""
    page = (_ranked_matches(terms, scope, policy, region=region, territory=territory)
            .limit(limit).offset(max(offset, 0)).subquery("page"))
    customer = Customer360
    return (select(customer.account_id, customer.account_name, customer.region, customer.territory,
                   customer.segment, customer.risk_level, page.c.kind, page.c.term, page.c.total)
            .join(page, page.c.account_id == customer.account_id)
            .order_by(page.c.rank, page.c.closeness.desc(), page.c.account_name, page.c.account_id))


def search_accounts(session: Session, query: Any, scope: DataScope, policy: MaskPolicy, *,
                    limit: int = SUGGESTION_LIMIT, offset: int = 0, region: str = "",
                    territory: str = "") -> SearchResult:
    """The customers in `scope` (and in `region` and `territory` when given) matching `query`, best
    first: `limit` of them from `offset`. Emails and phones are matched only when `policy` holds view_pii."""
    terms = normalise_query(query)
    if terms is None or scope.sees_nothing or limit <= 0:
        return SearchResult(terms.text if terms else "", (), 0, offset)
    narrowed = {"region": region, "territory": territory}
    # One statement serves every kind of input, and a plan made for a fragment matching thousands
    # of names is a poor one for an exact id. The driver prepares a statement run often, and the
    # server would then settle on one generic plan for all inputs: plan each search for its input.
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows = session.execute(_match_statement(terms, scope, policy, limit=limit, offset=offset, **narrowed)).all()
    if not rows and offset > 0:  # past the last page: the count still says how many there are
        total = session.scalar(select(func.count()).select_from(
            _ranked_matches(terms, scope, policy, **narrowed).subquery()))
    else:
        total = rows[0].total if rows else 0
    matches = tuple(AccountMatch(r.account_id, r.account_name, r.region, r.territory, r.segment, r.risk_level,
                                 r.kind, mask_value(r.kind, r.term, policy)) for r in rows)
    return SearchResult(terms.text, matches, int(total or 0), offset)


# --- The results grid (the /search page and its export) ----------------------------------

RESULT_COLUMNS: tuple[GridColumn, ...] = (
    GridColumn("account_name", "Account", ACCOUNT, pinned=True),
    GridColumn("account_id", "Account id"),
    GridColumn("region", "Region"),
    GridColumn("territory", "Territory"),
    GridColumn("segment", "Segment"),
    GridColumn("churn_risk", "Churn risk", CHIP, score="churn"),
    GridColumn("matched_on", "Matched on", TEXT),
)
# An export holds at most this many matches (the grid pages through them PAGE_SIZE at a time).
EXPORT_LIMIT = 5_000


def page_number(args: Mapping[str, Any] | None) -> int:
    """The 1-based results page of the URL (`page`), 1 when missing or not a number."""
    raw = first(args, "page") or "1"
    return max(int(raw), 1) if raw.isdigit() and len(raw) < 7 else 1


def result_rows(result: SearchResult) -> GridRows:
    rows = [{"account_name": m.account_name, "account_id": m.account_id, "region": m.region,
             "territory": m.territory, "segment": m.segment, "churn_risk": m.risk_level,
             "matched_on": m.matched_on} for m in result.matches]
    return GridRows(RESULT_COLUMNS, rows, key_field="account_name")


def results_page(session: Session, args: Mapping[str, Any] | None, scope: DataScope,
                 policy: MaskPolicy) -> tuple[SearchResult, GridRows]:
    """The results page the URL asks for (`q`, `page`): the matches and their grid."""
    result = search_accounts(session, first(args, "q"), scope, policy, limit=PAGE_SIZE,
                             offset=(page_number(args) - 1) * PAGE_SIZE)
    return result, result_rows(result)


def export_results(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    """Every match of the URL's query (up to EXPORT_LIMIT), as the results grid shows them."""
    return result_rows(search_accounts(session, first(args, "q"), scope, policy, limit=EXPORT_LIMIT))


def export_name(args: Mapping[str, Any]) -> str:
    """A file-name-safe stem from the query, e.g. 'acme_corp'."""
    terms = normalise_query(first(args, "q"))
    stem = re.sub(r"[^a-z0-9]+", "_", terms.text if terms else "").strip("_")[:40]
    return stem or "all"
