"""A page's state in the URL query string: read from Dash's layout kwargs or Flask's request
args alike, written back as one canonical search string.

Dash hands a page layout its query arguments as keyword arguments (a string, or a list when
a name repeats); Flask's export route has a MultiDict. Both read through `values`/`first`, so
a deep link and its export recompute from the same arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode

# Hand-written URLs may repeat a name any number of times or carry huge values.
MAX_VALUES = 100
MAX_LENGTH = 200


def parse_search(search: str | None) -> dict[str, list[str]]:
    """'?start=2026-10-01&region=A&region=B' -> {'start': [...], 'region': ['A', 'B']}."""
    if not search:
        return {}
    return parse_qs(search.lstrip("?"), keep_blank_values=False)


def values(args: Mapping[str, Any] | None, name: str) -> list[str]:
    """Every value of `name` (strings only, bounded in count and length)."""
    if args is None:
        return []
    getlist = getattr(args, "getlist", None)
    raw: Any = getlist(name) if callable(getlist) else args.get(name)
    if raw is None:
        return []
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    return [str(v)[:MAX_LENGTH] for v in items[:MAX_VALUES] if isinstance(v, (str, int, float)) and str(v) != ""]


def first(args: Mapping[str, Any] | None, name: str) -> str | None:
    """The first value of `name`, or None."""
    found = values(args, name)
    return found[0] if found else None


def to_search(pairs: Iterable[tuple[str, str | Iterable[str] | None]]) -> str:
    """'?a=1&b=x&b=y' from (name, value or values) pairs; empty values are left out, and no
    pairs at all give ''."""
    flat: list[tuple[str, str]] = []
    for name, value in pairs:
        if value is None or value == "":
            continue
        if isinstance(value, str):
            flat.append((name, value))
        else:
            flat.extend((name, str(v)) for v in value if v not in (None, ""))
    return "?" + urlencode(flat) if flat else ""
