"""Data grids (dash-ag-grid): sorting, filtering, a pinned key column, definitions on the
column headers, account links, score chips, and CSV/Excel export served by the server
(dashboard.export) for the page's current query string."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from dashboard.export import export_href
from dashboard.queries.glossary import definition
from dashboard.queries.grid import ACCOUNT, BAND, CHIP, COUNT, DAY, PERCENT, USD, GridColumn, GridRows
from layouts.kit.scores import chip_renderer_params

NUMERIC_KINDS = frozenset({COUNT, USD, PERCENT})
# Formatters run in the browser on the raw value; an empty value reads 'n/a', not zero.
VALUE_FORMATTERS = {
    COUNT: "params.value == null ? 'n/a' : d3.format(',')(params.value)",
    USD: "params.value == null ? '' : d3.format('$,.0f')(params.value)",
    PERCENT: "params.value == null ? 'n/a' : d3.format('.0%')(params.value)",
}
FILTERS = {COUNT: "agNumberColumnFilter", USD: "agNumberColumnFilter", PERCENT: "agNumberColumnFilter",
           DAY: "agDateColumnFilter"}
ACCOUNT_PATH = "/accounts/"
# A grid grows with its page (autoHeight), so it draws every row it holds: past a page of rows it
# pages, or a whole book of thousands of accounts would take the browser seconds to draw. A page of 25
# fills a laptop screen; pages of 50 made a page of four grids draw 2,400 cells before it settled.
PAGE_SIZE = 25
PAGE_SIZES = [25, 50, 100, 200]


def column_def(column: GridColumn) -> dict[str, Any]:
    """One ag-grid column definition from a query's `GridColumn`."""
    spec: dict[str, Any] = {"field": column.field, "headerName": column.header,
                            "headerTooltip": definition(column.field) or column.header,
                            "filter": FILTERS.get(column.kind, "agTextColumnFilter"), "sortable": True}
    if column.pinned:
        spec.update(pinned="left", lockPinned=True, minWidth=150)
    if column.kind in NUMERIC_KINDS:
        spec.update(type="rightAligned", valueFormatter={"function": VALUE_FORMATTERS[column.kind]})
    if column.kind == ACCOUNT:
        # A long name is cut to the column's width: hovering shows it whole.
        spec.update(cellRenderer="C360AccountLink", cellRendererParams={"path": ACCOUNT_PATH},
                    tooltipField=column.field)
    if column.kind == CHIP:
        spec.update(cellRenderer="C360ScoreChip", cellRendererParams=chip_renderer_params(column.score or ""),
                    filter="agTextColumnFilter", minWidth=120)
    if column.kind == BAND:
        spec.update(type="rightAligned")
    return spec


def export_buttons(grid_name: str, search: str) -> html.Div:
    """'CSV' and 'Excel' links to the server export of this grid for the current view."""
    return html.Div([
        html.Span("Export", className="small text-muted me-2"),
        dbc.Button("CSV", href=export_href(grid_name, "csv", search), external_link=True, size="sm",
                   color="secondary", outline=True, className="me-1", id=f"{grid_name}-export-csv"),
        dbc.Button("Excel", href=export_href(grid_name, "xlsx", search), external_link=True, size="sm",
                   color="secondary", outline=True, id=f"{grid_name}-export-xlsx"),
    ], className="c360-grid-export")


def data_grid(grid_id: str, grid: GridRows, *, export_name: str | None = None, search: str = "",
              totals: dict[str, Any] | None = None, row_id_field: str | None = None) -> html.Div:
    """The grid of `grid` with its export buttons (when `export_name` names an exportable grid)."""
    options: dict[str, Any] = {"tooltipShowDelay": 300, "enableCellTextSelection": True, "animateRows": False,
                               "domLayout": "autoHeight", "suppressDragLeaveHidesColumns": True,
                               "suppressColumnVirtualisation": True}
    if totals is not None:
        options["pinnedBottomRowData"] = [totals]
    if len(grid.rows) > PAGE_SIZE:
        options.update(pagination=True, paginationPageSize=PAGE_SIZE, paginationPageSizeSelector=PAGE_SIZES)
    props: dict[str, Any] = {}
    if row_id_field:
        props["getRowId"] = f"params.data.{row_id_field}"
    table = dag.AgGrid(
        id=grid_id, rowData=grid.rows, columnDefs=[column_def(c) for c in grid.columns],
        defaultColDef={"resizable": True, "sortable": True, "suppressHeaderMenuButton": False, "minWidth": 80,
                       "flex": 1},
        dashGridOptions=options, columnSize="responsiveSizeToFit", className="c360-grid",
        style={"width": "100%"}, **props)
    parts: list = [table]
    if export_name:
        parts.insert(0, export_buttons(export_name, search))
    return html.Div(parts, className="c360-grid-wrap")
