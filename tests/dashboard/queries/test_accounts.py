"""The data API's account lists and export: each customer's primary contact, the paging and the
scope, recomputed with pandas from silver on the loaded demo data."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.queries import accounts as q
from dashboard.scope import DataScope


def frame(session: Session, sql: str) -> pd.DataFrame:
    result = session.execute(text(sql))
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def primary_contacts(session: Session) -> pd.DataFrame:
    """Per customer (master account): its primary contact, else its first by id."""
    contacts = frame(session, """
        SELECT c.contact_id, c.account_id, c.first_name, c.last_name, c.email, c.phone, c.is_primary,
               m.master_account_id FROM silver.contacts c
        LEFT JOIN silver.account_master m ON m.account_id = c.account_id""")
    contacts["customer_id"] = contacts["master_account_id"].fillna(contacts["account_id"])
    contacts["rank"] = contacts["is_primary"].map({True: 0, False: 1}).fillna(2)
    first = contacts.sort_values(["customer_id", "rank", "contact_id"]).drop_duplicates("customer_id")
    first["name"] = [" ".join(p for p in (f, last) if isinstance(p, str)) for f, last in
                     zip(first["first_name"], first["last_name"], strict=True)]
    first = first.set_index("customer_id")[["name", "email", "phone"]].astype(object)
    return first.where(first.notna(), None)


def test_every_customer_comes_with_its_primary_contact(rolled_back: Session) -> None:
    expected = primary_contacts(rolled_back)
    exported = q.export_accounts(rolled_back, DataScope.everything())
    customers = frame(rolled_back, "SELECT account_id, account_name FROM gold.customer_360")
    assert [r["account_id"] for r in exported] == \
        customers.sort_values(["account_name", "account_id"])["account_id"].tolist()
    with_contact = [r for r in exported if r["account_id"] in expected.index]
    assert len(with_contact) > 0.5 * len(exported)
    for row in exported:
        if row["account_id"] in expected.index:
            want = expected.loc[row["account_id"]]
            got = (row["primary_contact_name"], row["primary_contact_email"], row["primary_contact_phone"])
            assert got == (want["name"], want["email"], want["phone"]), row["account_id"]
        else:
            assert row["primary_contact_name"] is None, row["account_id"]


def test_a_page_is_the_export_sliced_and_the_scope_holds(rolled_back: Session) -> None:
    everything = q.export_accounts(rolled_back, DataScope.everything())
    page = q.list_accounts(rolled_back, DataScope.everything(), page=3, per_page=7)
    assert page.total == len(everything) and page.rows == everything[14:21]

    territory = next(r["territory"] for r in everything if r["territory"])
    scoped = q.list_accounts(rolled_back, DataScope.restricted_to(territories=[territory]), per_page=200)
    assert scoped.total == sum(r["territory"] == territory for r in everything) > 0
    assert {r["territory"] for r in scoped.rows} == {territory}
    detail = q.account_detail(rolled_back, DataScope.everything(), scoped.rows[0]["account_id"])
    assert detail is not None and {k: detail[k] for k in scoped.rows[0]} == scoped.rows[0]
    assert q.account_detail(rolled_back, DataScope.nothing(), scoped.rows[0]["account_id"]) is None


def test_an_accounts_detail_lists_every_contact_of_the_customer(rolled_back: Session) -> None:
    contacts = frame(rolled_back, """
        SELECT c.contact_id, COALESCE(m.master_account_id, c.account_id) AS customer_id FROM silver.contacts c
        LEFT JOIN silver.account_master m ON m.account_id = c.account_id""")
    counts = contacts["customer_id"].value_counts()
    merged = frame(rolled_back, "SELECT account_id FROM gold.customer_360 WHERE cardinality(regional_account_ids) > 1")
    for customer_id in [counts.index[0], *merged["account_id"].head(3)]:
        detail = q.account_detail(rolled_back, DataScope.everything(), customer_id)
        assert detail is not None
        assert [c["contact_id"] for c in detail["contacts"]] and sorted(c["contact_id"] for c in detail["contacts"]) \
            == sorted(contacts.loc[contacts["customer_id"] == customer_id, "contact_id"])
