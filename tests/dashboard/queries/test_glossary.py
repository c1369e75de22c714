"""One glossary: every KPI title and grid column Morning Coffee shows has a definition."""

from __future__ import annotations

from pathlib import Path

from dashboard.masking import MaskPolicy
from dashboard.queries.executive import CAMPAIGN_COLUMNS, KPI_GOLD_TABLES, account_columns
from dashboard.queries.glossary import GLOSSARY_FILE, definition, glossary
from layouts.kit.grid import column_def
from layouts.morning_coffee import KPI_CARDS

ROOT = Path(__file__).resolve().parents[3]


def test_every_kpi_and_column_on_morning_coffee_has_a_definition():
    keys = [key for _, key in KPI_CARDS.values()] + list(KPI_GOLD_TABLES)
    columns = list(CAMPAIGN_COLUMNS) + list(account_columns(MaskPolicy(False, True)))
    keys += [c.field for c in columns]
    keys += ["mrr_trend", "revenue_by_region", "active_campaigns", "largest_accounts"]
    assert len(keys) > 20
    missing = [key for key in keys if not definition(key)]
    assert missing == []


def test_grid_headers_show_the_glossary_definition():
    spec = column_def(CAMPAIGN_COLUMNS[2])
    assert spec["headerTooltip"] == definition("sent")


def test_every_definition_is_a_sentence():
    entries = glossary()
    assert entries
    for entry in entries.values():
        assert entry.term and entry.definition.endswith("."), entry.key


def test_the_glossary_ships_with_the_package_and_the_readme_points_to_it():
    assert GLOSSARY_FILE.exists()
    assert "glossary.json" in (ROOT / "setup.cfg").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Definitions" in readme and "dashboard/glossary.json" in readme


def test_an_account_column_shows_the_whole_name_on_hover():
    from dashboard.queries.grid import ACCOUNT, GridColumn

    spec = column_def(GridColumn("account_name", "Account", ACCOUNT, pinned=True))
    assert spec["tooltipField"] == "account_name" and spec["cellRenderer"] == "C360AccountLink"
    assert "tooltipField" not in column_def(CAMPAIGN_COLUMNS[2])
