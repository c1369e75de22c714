"""Normalising the fields that identity matching compares: names, emails, phones, companies."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pandas as pd
import phonenumbers

# Gmail ignores dots and "+tags" in the local part; other providers differ, so only these.
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
PERSONAL_EMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
    "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "web.de", "mail.com", "yandex.ru",
})
# Legal forms and filler words that regional offices add, drop or swap; matched as whole tokens
# after folding, so "(Pty) Ltd" -> "pty ltd" and "B.V." -> "b v" -> "bv" are all caught.
LEGAL_TOKENS = frozenset({
    "ltd", "limited", "pty", "plc", "inc", "incorporated", "corp", "corporation", "co", "company",
    "llc", "llp", "lp", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "dac",
    "oy", "ab", "as", "aps", "holding", "holdings", "group", "the", "and",
})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")


def is_blank(value: object) -> bool:
    """True for None, NaN, pd.NA/NaT and empty or all-space strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return value != value
    return isinstance(value, str) and not value.strip()


@lru_cache(maxsize=262_144)
def fold(text: str) -> str:
    """Unicode-fold to lower-case ASCII words separated by single spaces."""
    text = text.replace("ß", "ss").replace("ø", "o").replace("Ø", "o").replace("æ", "ae").replace("Æ", "ae")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _SPACES.sub(" ", _NON_ALNUM.sub(" ", plain)).strip()


def person_name(value: object) -> str | None:
    """A name folded to lower-case letters with no spaces or punctuation ("O'Brien" -> "obrien")."""
    if is_blank(value):
        return None
    out = fold(str(value)).replace(" ", "")
    return out or None


def email(value: object, *, gmail_dots: bool = True) -> str | None:
    """Lower-case, trimmed email; for Gmail, dots and +tags dropped from the local part."""
    if is_blank(value):
        return None
    address = str(value).strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain:
        return None
    if gmail_dots and domain in _GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def email_domain(value: object) -> str | None:
    """The domain of an email address, lower case, or None."""
    address = email(value, gmail_dots=False)
    return address.rpartition("@")[2] if address else None


# Large enough for every contact of a big tenant: identity normalises each phone twice per build.
@lru_cache(maxsize=1_048_576)
def _e164(raw: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone(value: object, default_region: object = None) -> str | None:
    """The number in E.164 ("+27821234567"), using `default_region` (ISO country) for national formats."""
    if is_blank(value):
        return None
    region = None if is_blank(default_region) else str(default_region).strip().upper()[:2]
    raw = str(value).strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    return _e164(raw, region if region and len(region) == 2 else None)


_SOUNDEX_CODES = {letter: code for letters, code in (("bfpv", "1"), ("cgjkqsxz", "2"), ("dt", "3"), ("l", "4"),
                                                    ("mn", "5"), ("r", "6")) for letter in letters}


@lru_cache(maxsize=262_144)
def soundex(name: str) -> str | None:
    """American Soundex of a folded name ("robert" and "rupert" -> "r163"): names that sound alike
    share it, so a typo that keeps the sound keeps the code."""
    letters = [c for c in name if "a" <= c <= "z"]
    if not letters:
        return None
    out, previous = letters[0], _SOUNDEX_CODES.get(letters[0], "")
    for letter in letters[1:]:
        if letter in "hw":  # neither coded nor separating
            continue
        code = _SOUNDEX_CODES.get(letter, "")
        if code and code != previous:
            out += code
        previous = code
    return (out + "000")[:4]


_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[ T])")


def birth_date(value: object) -> str | None:
    """A date as "YYYY-MM-DD". Year-first text keeps its digits even when they are no valid date
    ("1908-11-31"): a typo in a birth date is still evidence when compared digit by digit."""
    if is_blank(value):
        return None
    if hasattr(value, "strftime"):
        return None if pd.isna(value) else value.strftime("%Y-%m-%d")
    text = str(value).strip()
    if text.isdigit():  # YYYYMMDD
        return f"{text[:4]}-{text[4:6]}-{text[6:]}" if len(text) == 8 else None
    found = _ISO_DATE.match(text)
    if found:
        year, month, day = found.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    parsed = pd.to_datetime(text, errors="coerce")
    return None if pd.isna(parsed) else parsed.strftime("%Y-%m-%d")


_STREET_NUMBER = re.compile(r"^(\d+)[a-z]?\b\s*(.*)$")


def street_parts(value: object) -> tuple[str | None, str | None]:
    """(house number, street name) of an address line, folded: "12A Moi Ave." -> ("12", "moi ave")."""
    if is_blank(value):
        return None, None
    folded = fold(str(value))
    found = _STREET_NUMBER.match(folded)
    if found is None:
        return None, folded or None
    return found.group(1), found.group(2) or None


@lru_cache(maxsize=262_144)
def company_name(value: str) -> str:
    """A company name folded, without legal forms or filler words, and without spaces.

    Dropping the spaces makes "BlueSky Traders" and "Blue Sky Traders (Pty) Ltd" equal.
    """
    tokens = fold(value).split()
    # Single letters come from dotted forms ("B.V." -> "b v"); join them before the lookup.
    merged: list[str] = []
    for token in tokens:
        if len(token) == 1 and merged and len(merged[-1]) <= 2 and merged[-1].isalpha() and merged[-1] != "&":
            merged[-1] += token
        else:
            merged.append(token)
    kept = [t for t in merged if t not in LEGAL_TOKENS]
    return "".join(kept or merged)


@lru_cache(maxsize=262_144)
def company_words(value: str) -> str:
    """Like `company_name` but keeping word boundaries, for token-based fuzzy comparison."""
    tokens = fold(value).split()
    kept = [t for t in tokens if t not in LEGAL_TOKENS and len(t) > 1]
    return " ".join(kept or tokens)


def clear_caches() -> None:
    """Free the memoised normalisations once a build is done with them."""
    for cached in (_e164, fold, soundex, company_name, company_words):
        cached.cache_clear()
