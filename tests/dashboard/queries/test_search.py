"""Account search finds exactly the customers a reader of the landing files would: by name, id or
regional id, by contact email or phone only with view_pii, always inside the caller's scope, and
through the trigram index, whatever is typed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.queries import search
from dashboard.scope import DataScope
from dashboard.tables.gold import AccountSearch, Customer360
from tests.etl.reference import typed

PII = MaskPolicy(view_pii=True, view_financials=True)
NO_PII = MaskPolicy(view_pii=False, view_financials=True)
EVERYTHING = DataScope.everything()
EVERY_MATCH = 100_000


@pytest.fixture(scope="module")
def landing(pristine_landing_dir: Path, loaded_database) -> dict[str, pd.DataFrame]:
    """The landing accounts and contacts, each with its customer (master account): the link identity
    resolution made, read from gold.customer_360's regional account ids."""
    with loaded_database.session() as session:
        customers = pd.DataFrame(session.execute(select(Customer360.account_id, Customer360.regional_account_ids))
                                 .all(), columns=["master_id", "account_id"]).explode("account_id")
    accounts = typed(pristine_landing_dir, "crm/accounts").merge(customers, on="account_id")
    contacts = typed(pristine_landing_dir, "crm/contacts").merge(customers, on="account_id")
    assert len(accounts) and len(contacts)
    masters = accounts[accounts["account_id"] == accounts["master_id"]][["master_id", "territory"]]
    return {"accounts": accounts, "contacts": contacts, "masters": masters}


def expected_ids(landing: dict[str, pd.DataFrame], fragment: str, *, territories: set[str] | None = None,
                 prefix: bool = False) -> set[str]:
    """Customers with a regional account whose name or id contains (or starts with) the fragment."""
    accounts, needle = landing["accounts"], fragment.lower()

    def hit(values: pd.Series) -> pd.Series:
        lowered = values.fillna("").str.lower()
        return lowered.str.startswith(needle) if prefix else lowered.str.contains(needle, regex=False)

    found = set(accounts.loc[hit(accounts["account_name"]) | hit(accounts["account_id"]), "master_id"])
    if territories is not None:
        masters = landing["masters"]
        found &= set(masters.loc[masters["territory"].isin(territories), "master_id"])
    return found


def found_ids(session: Session, query: str, scope: DataScope = EVERYTHING, policy: MaskPolicy = NO_PII) -> set[str]:
    result = search.search_accounts(session, query, scope, policy, limit=EVERY_MATCH)
    assert result.total == len(result.matches)
    return {m.account_id for m in result.matches}


def common_fragment(landing: dict[str, pd.DataFrame]) -> str:
    """A 4-letter piece of a name several customers share, so the comparison has rows."""
    words = landing["accounts"]["account_name"].str.lower().str.extractall(r"([a-z]{4,})")[0]
    return words.value_counts().index[0][:4]


def test_the_etl_indexes_every_customer(rolled_back: Session) -> None:
    customers = rolled_back.scalar(select(text("count(*)")).select_from(Customer360))
    indexed = rolled_back.scalar(select(text("count(DISTINCT account_id)")).select_from(AccountSearch))
    assert customers and indexed == customers
    kinds = set(rolled_back.scalars(select(AccountSearch.kind).distinct()))
    assert kinds == {"id", "regional_id", "name", "email", "phone"}


def test_a_name_fragment_finds_every_customer_whose_name_contains_it(rolled_back: Session, landing) -> None:
    fragment = common_fragment(landing)
    expected = expected_ids(landing, fragment)
    assert len(expected) > 10
    assert found_ids(rolled_back, fragment.upper()) == expected


def test_a_two_letter_fragment_matches_by_prefix(rolled_back: Session, landing) -> None:
    fragment = landing["accounts"]["account_name"].str.lower().str[:2].value_counts().index[0]
    expected = expected_ids(landing, fragment, prefix=True)
    assert expected
    assert found_ids(rolled_back, fragment) == expected


def test_an_exact_id_comes_first_then_prefixes(rolled_back: Session, landing) -> None:
    account_id = landing["masters"]["master_id"].iloc[0]
    result = search.search_accounts(rolled_back, account_id.lower(), EVERYTHING, NO_PII)
    assert result.matches[0].account_id == account_id and result.matches[0].matched_kind == "id"
    assert len(result.matches) <= search.SUGGESTION_LIMIT


def test_a_regional_id_finds_its_customer(rolled_back: Session, landing) -> None:
    accounts = landing["accounts"]
    linked = accounts[accounts["account_id"] != accounts["master_id"]]
    assert len(linked), "identity resolution linked no regional accounts in the test data"
    row = linked.iloc[0]
    result = search.search_accounts(rolled_back, row["account_id"], EVERYTHING, NO_PII)
    assert result.matches[0].account_id == row["master_id"]
    assert result.matches[0].matched_kind == "regional_id"


def test_the_scope_always_applies(rolled_back: Session, landing) -> None:
    fragment = common_fragment(landing)
    territories = set(landing["masters"]["territory"].dropna().value_counts().index[:2])
    scope = DataScope.restricted_to(territories=territories)
    expected = expected_ids(landing, fragment, territories=territories)
    assert expected and expected < expected_ids(landing, fragment)
    assert found_ids(rolled_back, fragment, scope) == expected
    assert found_ids(rolled_back, fragment, DataScope.nothing()) == set()
    one = sorted(expected)[0]
    assert found_ids(rolled_back, fragment, DataScope.restricted_to(account_ids=[one])) == {one}


def test_every_term_carries_its_customers_name_region_and_territory(rolled_back: Session, landing) -> None:
    accounts = landing["accounts"]
    masters = accounts[accounts["account_id"] == accounts["master_id"]].set_index("master_id")
    stored = pd.DataFrame(rolled_back.execute(select(AccountSearch.account_id, AccountSearch.account_name,
                                                     AccountSearch.region, AccountSearch.territory)).all(),
                          columns=["master_id", "account_name", "region", "territory"])
    assert len(stored) > len(masters) > 0
    expected = masters.loc[stored["master_id"]]
    assert stored["account_name"].tolist() == expected["account_name"].tolist()
    assert stored["region"].tolist() == expected["region"].fillna("Unknown").tolist()
    assert stored["territory"].fillna("").tolist() == expected["territory"].fillna("").tolist()


def test_a_region_or_territory_narrows_the_matches(rolled_back: Session, landing) -> None:
    fragment = common_fragment(landing)
    accounts = landing["accounts"]
    masters = accounts[accounts["account_id"] == accounts["master_id"]]
    everything = expected_ids(landing, fragment)
    region = masters.loc[masters["master_id"].isin(everything), "region"].value_counts().index[0]
    in_region = everything & set(masters.loc[masters["region"] == region, "master_id"])
    assert in_region and in_region < everything
    found = search.search_accounts(rolled_back, fragment, EVERYTHING, NO_PII, limit=EVERY_MATCH, region=region)
    assert {m.account_id for m in found.matches} == in_region and found.total == len(in_region)
    territory = masters.loc[masters["master_id"].isin(in_region), "territory"].dropna().value_counts().index[0]
    in_territory = in_region & set(masters.loc[masters["territory"] == territory, "master_id"])
    found = search.search_accounts(rolled_back, fragment, EVERYTHING, NO_PII, limit=EVERY_MATCH, region=region,
                                   territory=territory)
    assert {m.account_id for m in found.matches} == in_territory


def test_an_id_comes_first_after_many_fragment_searches(rolled_back: Session, landing) -> None:
    # The driver prepares a statement run often; the plan made then must not serve every input.
    fragment, account_id = common_fragment(landing), landing["masters"]["master_id"].iloc[-1]
    for _ in range(12):
        search.search_accounts(rolled_back, fragment, EVERYTHING, NO_PII)
    assert rolled_back.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    assert search.search_accounts(rolled_back, account_id, EVERYTHING, NO_PII).matches[0].account_id == account_id


def test_pages_add_up_to_every_match(rolled_back: Session, landing) -> None:
    fragment = common_fragment(landing)
    everything = search.search_accounts(rolled_back, fragment, EVERYTHING, NO_PII, limit=EVERY_MATCH)
    first = search.search_accounts(rolled_back, fragment, EVERYTHING, NO_PII, limit=5)
    second = search.search_accounts(rolled_back, fragment, EVERYTHING, NO_PII, limit=5, offset=5)
    assert first.total == second.total == everything.total > 10
    assert [m.account_id for m in first.matches + second.matches] == [m.account_id for m in everything.matches[:10]]
    beyond = search.search_accounts(rolled_back, fragment, EVERYTHING, NO_PII, limit=5, offset=everything.total)
    assert beyond.matches == () and beyond.total == everything.total


def _contact_with(landing, column: str) -> pd.Series:
    contacts = landing["contacts"].dropna(subset=[column])
    assert len(contacts)
    return contacts.iloc[len(contacts) // 2]


def test_an_email_finds_its_customer_only_with_view_pii(rolled_back: Session, landing) -> None:
    contact = _contact_with(landing, "email")
    email = contact["email"]
    owners = set(landing["contacts"].loc[landing["contacts"]["email"].str.lower() == email.lower(), "master_id"])
    result = search.search_accounts(rolled_back, email.upper(), EVERYTHING, PII, limit=EVERY_MATCH)
    assert {m.account_id for m in result.matches} == owners
    assert result.matches[0].matched_on == f"Contact email: {email.lower()}"
    # Without view_pii an email matches nothing, and a partial one finds only names and ids.
    assert found_ids(rolled_back, email, policy=NO_PII) == set()
    domain = email.split("@")[1]
    without = search.search_accounts(rolled_back, domain, EVERYTHING, NO_PII, limit=EVERY_MATCH)
    assert {m.matched_kind for m in without.matches} <= {"id", "regional_id", "name"}
    assert {m.account_id for m in without.matches} == expected_ids(landing, domain)


def test_a_phone_in_any_format_finds_its_customer_only_with_view_pii(rolled_back: Session, landing) -> None:
    contact = _contact_with(landing, "phone")
    digits = "".join(ch for ch in contact["phone"] if ch.isdigit())
    # As stored, in E.164, with the international prefix, spaced, and national with a trunk 0.
    for typed_in in (contact["phone"], "+" + digits, "00" + digits, f"+{digits[:2]} {digits[2:5]} {digits[5:]}",
                     f"0{digits[3:6]} {digits[6:]}"):
        result = search.search_accounts(rolled_back, typed_in, EVERYTHING, PII, limit=EVERY_MATCH)
        assert contact["master_id"] in {m.account_id for m in result.matches}, typed_in
        assert found_ids(rolled_back, typed_in, policy=NO_PII) == set(), typed_in
    matched = search.search_accounts(rolled_back, digits, EVERYTHING, PII).matches[0]
    assert matched.matched_kind == "phone" and digits in matched.matched_term


@pytest.mark.parametrize("hostile", [
    "\x00", "acme\x00corp", "a" * 5000, "%", "_", "%%%", "___", "a%b", "a_b", "\\", "\\%", ".*", "[a-z]+",
    "(((", "'; DROP TABLE gold.customer_360; --", "\u202e\u0000\ufeff", "   ", "",
])
def test_hostile_input_finds_only_literal_matches(rolled_back: Session, landing, hostile: str) -> None:
    found = found_ids(rolled_back, hostile, policy=PII)
    normalised = search.normalise_query(hostile)
    if normalised is None:
        assert found == set()
        return
    prefix = len(normalised.text) < search.MIN_CONTAINS_LENGTH
    assert found_ids(rolled_back, hostile) == expected_ids(landing, normalised.text, prefix=prefix)


def test_nothing_typed_searches_nothing(rolled_back: Session) -> None:
    for nothing in (None, "", "   ", 42, ["acme"]):
        assert search.search_accounts(rolled_back, nothing, EVERYTHING, PII).empty


def test_the_trigram_index_answers_fragments(rolled_back: Session) -> None:
    indexes = set(rolled_back.scalars(text(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'gold' AND tablename = 'account_search'")))
    assert {"ix_account_search_grams", "ix_account_search_term"} <= indexes
    # The test data is too small for the planner to prefer any index over reading the table.
    rolled_back.execute(text("SET LOCAL enable_seqscan = off"))
    rolled_back.execute(text("SET LOCAL enable_indexscan = off"))
    for fragment, index in (("tech", "ix_account_search_grams"), ("ac", "ix_account_search_term")):
        statement = search._match_statement(search.normalise_query(fragment), EVERYTHING, PII, limit=10)
        compiled = statement.compile(rolled_back.get_bind(), compile_kwargs={"literal_binds": True})
        plan = "\n".join(rolled_back.scalars(text(f"EXPLAIN {compiled}")))
        assert index in plan, plan


def test_export_and_page_read_the_url(rolled_back: Session, landing) -> None:
    fragment = common_fragment(landing)
    result, grid = search.results_page(rolled_back, {"q": fragment, "page": "2"}, EVERYTHING, NO_PII)
    assert result.offset == search.PAGE_SIZE and grid.fields[0] == "account_name"
    assert search.page_number({"page": "x"}) == search.page_number({"page": "-3"}) == 1
    exported = search.export_results(rolled_back, {"q": fragment}, EVERYTHING, NO_PII)
    assert {r["account_id"] for r in exported.rows} == expected_ids(landing, fragment)
    assert search.export_name({"q": "Acme & Co / %"}) == "acme_co"
