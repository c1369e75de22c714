"""Identity resolution: one person per set of duplicate contacts, one master per regional account set.

`link_records` is the public entry point on DataFrames; `build_identity` runs it over silver and
stores silver.contact_master and silver.account_master.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text

from etl.identity.company import link_companies
from etl.identity.store import build_identity
from etl.watermarks import get_watermark, set_watermark

DEFAULT_PERSON_THRESHOLD = 0.9


def link_records(left: pd.DataFrame, right: pd.DataFrame | None = None, *, entity: str = "person",
                 threshold: float | None = None) -> pd.DataFrame:
    """Pairs of records that are the same person or company: left_id, right_id, match_probability, method.

    `right=None` de-duplicates within `left`, reporting each pair once with the smaller id on the
    left. People are scored by Splink (match_probability from the Fellegi-Sunter model, trained on
    the records given when there are enough; pairs below `threshold`, default 0.9, are dropped).
    Person records have record_id and any of first_name, last_name, email, phone, country, street,
    city, postcode, state and date_of_birth; a missing column counts as empty. Companies are
    linked by rules (see etl.identity.company);
    match_probability is the rule's confidence / 100 and `threshold` defaults to 0.
    """
    if entity == "person":
        from etl.identity.person import link_people  # Splink and DuckDB, loaded only to link people

        return link_people(left, right, DEFAULT_PERSON_THRESHOLD if threshold is None else threshold)
    if entity == "company":
        links = link_companies(left, right)
        return links[links["match_probability"] >= (threshold or 0.0)].reset_index(drop=True)
    raise ValueError(f"entity must be 'person' or 'company', not {entity!r}")


def identity_inputs_changed(conn, build, *, full: bool = False) -> bool:
    """Whether the master ids must be worked out again: the accounts, the contacts or the manual
    overrides changed since they were (the overrides' fingerprint is stored as it is read)."""
    overrides = conn.execute(text("SELECT count(*) || '/' || COALESCE(max(id), 0) FROM app.account_link_override")
                             ).scalar_one()
    stored = get_watermark(conn, "identity", "app.account_link_override")
    set_watermark(conn, "identity", "app.account_link_override", overrides)
    return (full or stored != overrides or bool({"silver.accounts", "silver.contacts"} & build.changed)
            or conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM silver.account_master)")).scalar_one())


__all__ = ["link_records", "build_identity", "identity_inputs_changed"]
