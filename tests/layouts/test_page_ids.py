"""Every page's component ids are its own: Dash serves all pages' callbacks on one route, so an id
shared by two pages would give one of them the other's outputs (or refuse to start)."""

from __future__ import annotations

import importlib
from collections import defaultdict

from layouts.pages import PAGES


def _page_ids(module_name: str) -> set[str]:
    module = importlib.import_module(module_name)
    ids: set[str] = set()
    for name, holder in vars(module).items():
        if isinstance(holder, type) and name.endswith("Ids") and holder.__module__ == module_name:
            ids |= {value for key, value in vars(holder).items() if not key.startswith("_") and isinstance(value, str)}
    return ids


def test_no_two_pages_share_a_component_id():
    owners: dict[str, set[str]] = defaultdict(set)
    counted = 0
    for page in PAGES:
        ids = _page_ids(page.module)
        counted += bool(ids)
        for component_id in ids:
            owners[component_id].add(page.module)
    assert counted >= 8  # the check reads the pages' id classes, not nothing
    shared = {component_id: sorted(modules) for component_id, modules in owners.items() if len(modules) > 1}
    assert shared == {}
