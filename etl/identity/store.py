"""Running identity resolution over silver and storing the masters."""

from __future__ import annotations

from collections import Counter

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, select, text

from dashboard.tables.identity import AccountLinkOverride, AccountMaster, ContactMaster, IdentitySummary
from dashboard.tables.silver import Account, Contact
from etl.identity import normalize
from etl.identity.clusters import assign_masters
from etl.identity.company import accounts_sharing, link_companies, shared_contact_pairs

IDENTITY_TABLES = ("silver.contact_master", "silver.account_master", "silver.identity_summary")

# Counted once per build for the data-quality page (silver.identity_summary): records, masters and
# matched records, the whole percent of each link's confidence, and the link methods.
IDENTITY_SUMMARY_SQL = """
INSERT INTO silver.identity_summary (entity, kind, label, records)
WITH links AS (
    SELECT 'people' AS entity, master_contact_id AS master,
           COALESCE(CAST(floor(least(match_probability, 1.0) * 100) AS integer), -1) AS percent, method
    FROM silver.contact_master
    UNION ALL
    SELECT 'accounts', master_account_id, COALESCE(CAST(confidence AS integer), -1), method FROM silver.account_master
), sized AS (
    SELECT links.*, count(*) OVER (PARTITION BY entity, master) AS group_size FROM links
)
SELECT entity, 'figure', 'records', count(*) FROM sized GROUP BY entity
UNION ALL SELECT entity, 'figure', 'masters', count(DISTINCT master) FROM sized GROUP BY entity
UNION ALL SELECT entity, 'figure', 'matched', count(*) FILTER (WHERE group_size > 1) FROM sized GROUP BY entity
UNION ALL SELECT entity, 'confidence', CAST(percent AS text), count(*) FROM sized WHERE method <> 'single'
          GROUP BY entity, percent
UNION ALL SELECT entity, 'method', method, count(*) FROM sized GROUP BY entity, method
"""
CONTACT_THRESHOLD = 0.9  # match probability at which two contacts are one person


def build_identity(target) -> dict[str, int]:
    """Replace silver.contact_master and silver.account_master in one transaction; returns row counts.

    `target` is a Connection (used as is, inside the caller's transaction), an Engine, or a
    dashboard.db.Database.
    """
    if isinstance(target, Connection):
        return _build(target)
    engine: Engine = target if isinstance(target, Engine) else target.engine
    with engine.begin() as conn:
        return _build(conn)


def _build(conn: Connection) -> dict[str, int]:
    contacts = pd.DataFrame(conn.execute(select(
        Contact.contact_id, Contact.account_id, Contact.first_name, Contact.last_name, Contact.email,
        Contact.phone, Contact.country, Contact.created_at)).all(),
        columns=["contact_id", "account_id", "first_name", "last_name", "email", "phone", "country", "created_at"])
    accounts = pd.DataFrame(conn.execute(select(
        Account.account_id, Account.account_name, Account.country, Account.parent_account_id,
        Account.created_at)).all(),
        columns=["account_id", "account_name", "country", "parent_account_id", "created_at"])
    overrides = pd.DataFrame(conn.execute(select(
        AccountLinkOverride.account_id_a, AccountLinkOverride.account_id_b, AccountLinkOverride.action,
        AccountLinkOverride.created_at, AccountLinkOverride.id)).all(),
        columns=["account_id_a", "account_id_b", "action", "created_at", "id"])

    contact_master = resolve_contacts(contacts)
    account_master = resolve_accounts(accounts, contacts, overrides, contact_master)

    conn.execute(delete(ContactMaster))
    conn.execute(delete(AccountMaster))
    _copy_frame(conn, ContactMaster.__table__, contact_master)
    _copy_frame(conn, AccountMaster.__table__, account_master)
    conn.execute(delete(IdentitySummary))
    counted = conn.execute(text(IDENTITY_SUMMARY_SQL)).rowcount or 0
    normalize.clear_caches()
    return {"silver.contact_master": len(contact_master), "silver.account_master": len(account_master),
            "silver.identity_summary": counted}


def _copy_frame(conn: Connection, table, frame: pd.DataFrame) -> None:
    """COPY a frame's rows into `table` on the connection's own transaction (hundreds of thousands
    of masters: row-by-row INSERTs took longer than finding them)."""
    columns = [c.name for c in table.columns if c.name in frame.columns]
    values = frame[columns].astype(object).where(frame[columns].notna(), None)
    pg = conn.connection.driver_connection
    with pg.cursor() as cursor, cursor.copy(
            f'COPY {table.schema}.{table.name} ({", ".join(columns)}) FROM STDIN') as copy:
        for row in values.itertuples(index=False, name=None):
            copy.write_row(row)


def resolve_contacts(contacts: pd.DataFrame, threshold: float = CONTACT_THRESHOLD) -> pd.DataFrame:
    """contact_id, master_contact_id, match_probability, method for every contact."""
    people = contacts.rename(columns={"contact_id": "record_id"})
    from etl.identity.person import link_people  # Splink and DuckDB: loaded by the identity build only

    links = link_people(people, None, threshold)
    seniority = dict(zip(contacts["contact_id"].astype(str), contacts.get("created_at", pd.Series(
        [None] * len(contacts))), strict=True))
    masters = assign_masters(contacts["contact_id"].astype(str), links, score_column="match_probability",
                             seniority=seniority)
    return pd.DataFrame({"contact_id": masters["record_id"], "master_contact_id": masters["master_id"],
                         "match_probability": masters["score"], "method": masters["method"]})


def account_email_domains(contacts: pd.DataFrame) -> dict[str, str]:
    """Each account's most common non-personal contact email domain."""
    counts: dict[str, Counter] = {}
    for account_id, address in zip(contacts["account_id"], contacts["email"], strict=True):
        domain = normalize.email_domain(address)
        if account_id is None or domain is None or domain in normalize.PERSONAL_EMAIL_DOMAINS:
            continue
        counts.setdefault(str(account_id), Counter())[domain] += 1
    return {account: c.most_common(1)[0][0] for account, c in counts.items()}


def effective_overrides(overrides: pd.DataFrame) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(links, unlinks): the newest decision per unordered account pair."""
    latest: dict[tuple[str, str], str] = {}
    ordered = overrides.sort_values(["created_at", "id"]) if len(overrides) else overrides
    for a, b, action in ordered[["account_id_a", "account_id_b", "action"]].itertuples(index=False):
        latest[tuple(sorted((str(a), str(b))))] = action
    links = [pair for pair, action in latest.items() if action == "link"]
    unlinks = [pair for pair, action in latest.items() if action == "unlink"]
    return links, unlinks


def resolve_accounts(accounts: pd.DataFrame, contacts: pd.DataFrame, overrides: pd.DataFrame,
                     contact_master: pd.DataFrame | None = None) -> pd.DataFrame:
    """account_id, master_account_id, confidence (0-100), method for every account.

    Evidence: the company rules on names and parent ids, each account's contact email domain,
    contacts shared between accounts (the same email or phone, or the same master person), and
    the manual overrides, which always win.
    """
    domains = account_email_domains(contacts)
    companies = pd.DataFrame({
        "record_id": accounts["account_id"].astype(str),
        "company_name": accounts["account_name"],
        "country": accounts["country"],
        "parent_id": accounts["parent_account_id"],
        "email_domain": [domains.get(str(a)) for a in accounts["account_id"]],
    })
    evidence = [link_companies(companies, None), shared_contact_pairs(contacts)]
    if contact_master is not None and len(contact_master):
        members = contacts.dropna(subset=["account_id"])[["contact_id", "account_id"]].astype(str)
        same_person = members.merge(contact_master[["contact_id", "master_contact_id"]], on="contact_id")
        evidence.append(accounts_sharing(same_person, "master_contact_id"))
    links, unlinks = effective_overrides(overrides)
    evidence.append(pd.DataFrame({"left_id": [a for a, _ in links], "right_id": [b for _, b in links],
                                  "match_probability": [2.0] * len(links),  # sorts before every rule
                                  "method": ["manual"] * len(links)}))
    all_links = pd.concat([e for e in evidence if len(e)], ignore_index=True) if any(len(e) for e in evidence) \
        else pd.DataFrame(columns=["left_id", "right_id", "match_probability", "method"])
    seniority = dict(zip(accounts["account_id"].astype(str), accounts["created_at"], strict=True))
    masters = assign_masters(accounts["account_id"].astype(str), all_links, score_column="match_probability",
                             seniority=seniority, cannot_link=unlinks)
    confidence = [100 if s is None or pd.isna(s) else int(round(min(s, 1.0) * 100)) for s in masters["score"]]
    return pd.DataFrame({"account_id": masters["record_id"], "master_account_id": masters["master_id"],
                         "confidence": confidence, "method": masters["method"]})


def master_account_groups(conn_or_session) -> pd.DataFrame:
    """One row per master account: master_account_id, regional_account_ids (list), confidence, methods.

    confidence is the weakest member's, so a group is only as sure as its least certain link.
    """
    query = (select(AccountMaster.master_account_id,
                    func.array_agg(AccountMaster.account_id.op("ORDER BY")(AccountMaster.account_id))
                    .label("regional_account_ids"),
                    func.min(AccountMaster.confidence).label("confidence"),
                    func.array_agg(func.distinct(AccountMaster.method)).label("methods"))
             .group_by(AccountMaster.master_account_id).order_by(AccountMaster.master_account_id))
    rows = conn_or_session.execute(query).all()
    return pd.DataFrame(rows, columns=["master_account_id", "regional_account_ids", "confidence", "methods"])
