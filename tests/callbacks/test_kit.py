"""The kit's wiring: errors become a friendly card with a reference (never a traceback), URL
writers wait for a complete period, drill-downs go one level down, grid clicks route."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from dash import Output, no_update
from dash.exceptions import PreventUpdate
from plotly.utils import PlotlyJSONEncoder

from callbacks.kit import friendly_errors, search_or_wait
from dashboard.queries.executive import PageQuery, drill_into, query_from_controls
from layouts.kit.charts import clicked_label, png_filename

OUTPUTS = dict(card=Output("x-card", "children"), url=Output("x-url", "search"))


def test_an_exception_becomes_an_error_card_with_a_reference(caplog):
    @friendly_errors(OUTPUTS)
    def broken() -> dict:
        raise RuntimeError("secret table gold.x exploded at /srv/app.py line 3")

    with caplog.at_level(logging.ERROR):
        outputs = broken()
    assert outputs["url"] is no_update
    rendered = json.dumps(outputs["card"], cls=PlotlyJSONEncoder)
    assert "Something went wrong" in rendered
    assert "secret table" not in rendered and "Traceback" not in rendered
    reference = outputs["card"].children[1].children[1].children
    assert len(reference) == 8
    assert reference in caplog.text and "secret table" in caplog.text  # the log keeps the detail


def test_prevent_update_passes_through():
    @friendly_errors(Output("x", "children"))
    def waiting() -> None:
        raise PreventUpdate

    with pytest.raises(PreventUpdate):
        waiting()


def test_the_url_waits_for_the_end_date():
    current = PageQuery("2026-10-01", "2026-10-31", ("Europe",), "Europe")
    # The date picker clears the end date when a start is picked: nothing is written, no warning.
    assert query_from_controls("2026-10-05", None, ["Europe"], current) is None
    with pytest.raises(PreventUpdate):
        search_or_wait(None)
    complete = query_from_controls("2026-10-05", "2026-10-20T00:00:00", ["Europe"], current)
    assert complete == PageQuery("2026-10-05", "2026-10-20", ("Europe",), "Europe")
    assert search_or_wait(complete.search) == "?start=2026-10-05&end=2026-10-20&region=Europe&drill=Europe"
    # Deselecting the drilled region drops the drill-down.
    assert query_from_controls("2026-10-05", "2026-10-20", ["Asia"], current).drill_region is None


def test_page_query_round_trips_through_the_url_and_the_store():
    query = PageQuery("2026-10-01", "2026-10-31", ("North America", "Europe"), None)
    assert PageQuery.from_args({"start": "2026-10-01", "end": "2026-10-31",
                                "region": ["North America", "Europe"]}) == query
    assert PageQuery.from_state(query.as_state()) == query
    assert query.href == "/executive?start=2026-10-01&end=2026-10-31&region=North+America&region=Europe"
    for hostile in (None, [], "x", {"start": {"a": 1}, "region": [[1]], "drill": 5}):
        assert PageQuery.from_state(hostile).regions == ()


def test_drill_goes_one_level_down_at_a_time():
    top = PageQuery("2026-10-01", "2026-10-31")
    click = {"points": [{"y": "Europe", "x": 1200.0}]}
    down = drill_into(top, clicked_label(click))
    assert down is not None and down.drill_region == "Europe" and down.drill_territory is None
    territory = drill_into(down, "EU-France")
    assert territory is not None and (territory.drill_region, territory.drill_territory) == ("Europe", "EU-France")
    assert drill_into(territory, "ACC-1") is None  # the accounts are the lowest level
    assert drill_into(top, clicked_label(None)) is None
    assert down.without_drill() == top and territory.without_drill() == top
    assert territory.without_territory() == down


def test_png_names_say_page_filters_and_date():
    name = png_filename("morning-coffee", ["revenue", "2026-10-01", "2026-10-31", "North America", None],
                        today=date(2026, 12, 4))
    assert name == "morning-coffee_revenue_2026-10-01_2026-10-31_North-America_2026-12-04"


def test_a_grid_past_one_page_of_rows_pages_and_a_short_one_does_not():
    from dashboard.queries.grid import ACCOUNT, GridColumn, GridRows
    from layouts.kit.grid import PAGE_SIZE, data_grid

    columns = (GridColumn("account_id", "Account", ACCOUNT, pinned=True),)

    def options(count: int) -> dict:
        rows = [{"account_id": f"ACC-{n:06d}"} for n in range(count)]
        return data_grid("g", GridRows(columns=columns, rows=rows)).children[0].dashGridOptions

    assert "pagination" not in options(PAGE_SIZE)
    paged = options(PAGE_SIZE + 1)
    assert paged["pagination"] is True and paged["paginationPageSize"] == PAGE_SIZE
    assert PAGE_SIZE in paged["paginationPageSizeSelector"]
