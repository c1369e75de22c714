"""Each contact's country, from its phone number's country calling code (the phonenumbers library).

Parsing numbers is Python work, so this gold step is a small class rather than a SQL file: it reads
silver.contacts, parses each distinct number once and writes gold.contact_country (country per
contact, no number). It runs in the gold stage, so no page ever parses a number while it waits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
import pycountry
from sqlalchemy import Connection, Table, insert, text

from dashboard.tables import gold

UNKNOWN_ISO3 = "---"
UNKNOWN_NAME = "Unknown"
BATCH = 5000


@lru_cache(maxsize=4096)
def _country_of_region(iso2: str) -> tuple[str, str]:
    """ISO-3 code and short name of an ISO-2 region code (phonenumbers' regions are ISO 3166-1)."""
    country = pycountry.countries.get(alpha_2=iso2)
    if country is None:  # a non-geographic region such as 001 (satellite, international numbers)
        return UNKNOWN_ISO3, UNKNOWN_NAME
    return country.alpha_3, getattr(country, "common_name", None) or country.name


def phone_country(phone: str | None) -> tuple[str | None, str, str]:
    """(ISO-2, ISO-3, name) of the country a phone number belongs to; unknown when the number is
    empty, cannot be parsed, or is not a valid number (its country is then a guess)."""
    if not phone or not phone.strip():
        return None, UNKNOWN_ISO3, UNKNOWN_NAME
    try:
        number = phonenumbers.parse(phone.strip(), None)  # international form: "+<code>..."
    except phonenumbers.NumberParseException:
        return None, UNKNOWN_ISO3, UNKNOWN_NAME
    if not phonenumbers.is_valid_number(number):
        return None, UNKNOWN_ISO3, UNKNOWN_NAME
    iso2 = phonenumbers.region_code_for_number(number)
    if not iso2 or iso2 == "ZZ":
        return None, UNKNOWN_ISO3, UNKNOWN_NAME
    iso3, name = _country_of_region(iso2)
    return (iso2 if iso3 != UNKNOWN_ISO3 else None), iso3, name


@dataclass(frozen=True)
class ContactCountryStep:
    """Fills gold.contact_country (emptied by the stage beforehand) from silver.contacts."""

    model: Any = gold.ContactCountry
    code_file: Path = Path(__file__)  # what the lineage names as the code building the table

    @property
    def table(self) -> Table:
        return self.model.__table__

    def inputs(self) -> frozenset[str]:
        """The silver tables it reads: refreshed only when one of them changed."""
        return frozenset({"silver.contacts", "silver.accounts"})

    def reads_as_of(self) -> bool:
        return False

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        rows = conn.execute(text("""
            SELECT c.contact_id, c.account_id, COALESCE(a.region, 'Unknown'), COALESCE(a.territory, 'Unknown'),
                   c.phone
            FROM silver.contacts c LEFT JOIN silver.accounts a ON a.account_id = c.account_id""")).all()
        parsed: dict[str | None, tuple[str | None, str, str]] = {}
        batch: list[dict[str, Any]] = []
        for contact_id, account_id, region, territory, phone in rows:
            if phone not in parsed:
                parsed[phone] = phone_country(phone)
            iso2, iso3, name = parsed[phone]
            batch.append({"contact_id": contact_id, "account_id": account_id, "region": region,
                          "territory": territory, "country_iso2": iso2, "country_iso3": iso3, "country_name": name})
            if len(batch) >= BATCH:
                conn.execute(insert(self.table), batch)
                batch = []
        if batch:
            conn.execute(insert(self.table), batch)
