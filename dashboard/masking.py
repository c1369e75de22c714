"""Masking of personal and financial data on the server, and spreadsheet-safe exports.

Everything a role without `view_pii` or `view_financials` receives (callback responses,
`dcc.Store` contents, API JSON, CSV exports) passes through this module first.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dashboard.permissions import VIEW_FINANCIALS, VIEW_PII, has_permission

HIDDEN = "hidden"
# Field names holding personal contact details.
PII_FIELDS: frozenset[str] = frozenset({
    "email", "phone", "mobile", "contact_email", "contact_phone",
    "primary_contact_email", "primary_contact_phone",
})
# Money figures besides every `*_usd` column; shares and growth rates of money are hidden too.
FINANCIAL_FIELDS: frozenset[str] = frozenset({"amount", "related_amount", "mrr_yoy_growth_pct"})
RATIO_FINANCIAL_FIELDS: frozenset[str] = frozenset({"mrr_yoy_growth_pct"})
# Upper bounds of the bands amounts are shown in without `view_financials`.
AMOUNT_BAND_EDGES: tuple[int, ...] = (1_000, 10_000, 50_000, 100_000, 500_000, 1_000_000, 10_000_000)
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class MaskPolicy:
    """What a user may see unmasked."""

    view_pii: bool
    view_financials: bool

    @classmethod
    def for_current_user(cls) -> MaskPolicy:
        return cls(view_pii=has_permission(VIEW_PII), view_financials=has_permission(VIEW_FINANCIALS))

    @classmethod
    def for_permissions(cls, permissions: Iterable[str]) -> MaskPolicy:
        held = set(permissions)
        return cls(view_pii=VIEW_PII in held, view_financials=VIEW_FINANCIALS in held)


def mask_email(value: str | None) -> str | None:
    """'jane.doe@example.com' -> 'j***@example.com'; text without '@' is masked whole."""
    if value is None or value == "":
        return value
    local, at, domain = str(value).partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str | None) -> str | None:
    """'+27 82 123 4567' -> '+27 ** *** 4567': the country code and last four digits stay."""
    if value is None or value == "":
        return value
    text = str(value)
    digit_positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    keep = set(digit_positions[-4:])
    if text.lstrip().startswith("+"):
        country = re.match(r"\s*\+(\d{1,3})", text)
        if country and len(digit_positions) > len(country.group(1)) + 4:
            keep.update(range(country.start(1), country.end(1)))
    return "".join("*" if ch.isdigit() and i not in keep else ch for i, ch in enumerate(text))


def _as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return None if math.isnan(number) else number
    return None


def _short_usd(amount: int) -> str:
    if amount >= 1_000_000:
        return f"${amount // 1_000_000}M"
    if amount >= 1_000:
        return f"${amount // 1_000}k"
    return f"${amount}"


def amount_band(value: Any) -> str | None:
    """An amount as a band, e.g. 12 345.67 -> '$10k-$50k'; None stays None."""
    number = _as_float(value)
    if number is None:
        return None
    if number < 0:
        return "below $0"
    lower = 0
    for upper in AMOUNT_BAND_EDGES:
        if number < upper:
            return f"{_short_usd(lower)}\u2013{_short_usd(upper)}"
        lower = upper
    return f"{_short_usd(lower)}+"


def is_financial_field(name: str) -> bool:
    return name.endswith("_usd") or name in FINANCIAL_FIELDS


def masks_field(name: str, policy: MaskPolicy) -> bool:
    """Whether `mask_value` can change this field's values under this policy."""
    return ((name in PII_FIELDS and not policy.view_pii)
            or (is_financial_field(name) and not policy.view_financials))


def mask_value(name: str, value: Any, policy: MaskPolicy) -> Any:
    """One field's value as this policy may see it."""
    if name in PII_FIELDS and not policy.view_pii:
        return mask_phone(value) if "phone" in name or name == "mobile" else mask_email(value)
    if is_financial_field(name) and not policy.view_financials:
        return None if name in RATIO_FINANCIAL_FIELDS or value is None else amount_band(value)
    return value


def mask_record(record: Mapping[str, Any], policy: MaskPolicy) -> dict[str, Any]:
    """A copy of the record with every PII and financial field masked as the policy requires."""
    return {name: mask_value(name, value, policy) for name, value in record.items()}


def mask_records(records: Iterable[Mapping[str, Any]], policy: MaskPolicy) -> list[dict[str, Any]]:
    return [mask_record(record, policy) for record in records]


EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE_CANDIDATE = re.compile(r"\+?\d[\d ().-]{6,}\d")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MIN_PHONE_DIGITS = 9  # fewer digits is a date, an amount or an id, not a phone number
# 13 to 19 digits, in groups separated by single spaces or dashes, not part of a longer number.
CARD_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")


def luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn check that payment card numbers carry."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def mask_card(match: re.Match[str]) -> str:
    """A card-like number as '[card •••• 1234]'; other long numbers (ids, amounts) stay."""
    candidate = match.group(0)
    digits = "".join(ch for ch in candidate if ch.isdigit())
    if not 13 <= len(digits) <= 19 or not luhn_valid(digits):
        return candidate
    return f"[card \u2022\u2022\u2022\u2022 {digits[-4:]}]"


def mask_text(text: str | None, policy: MaskPolicy) -> str | None:
    """Free text (e.g. a raw quarantined line, a support message) with every email, card-like number
    and phone-like number masked. Cards go before phones: a card's digits look like a phone's."""
    if text is None or policy.view_pii:
        return text
    masked = EMAIL_PATTERN.sub(lambda m: mask_email(m.group(0)) or "", text)
    masked = CARD_CANDIDATE.sub(mask_card, masked)

    def phone(match: re.Match[str]) -> str:
        candidate = match.group(0)
        digits = sum(ch.isdigit() for ch in candidate)
        if digits < MIN_PHONE_DIGITS or ISO_DAY.search(candidate):
            return candidate
        return mask_phone(candidate) or ""

    return PHONE_CANDIDATE.sub(phone, masked)


def neutralise_formula(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV text with every text cell formula-neutralised; rows must already be masked."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise_formula(c) for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c) is None else neutralise_formula(row.get(c)) for c in columns])
    return buffer.getvalue()
