"""The page kit: the pieces every page is built from, so pages look and behave alike.

- `page`: URL state (every filter, drill level and tab in the query string) and breadcrumbs;
  the page header with its "copy link" button is `layouts.components.page_header`.
- `kpi`: KPI cards with change, sparkline, freshness, "Why did it move?" and "Where from?".
- `grid`: ag-grid tables with a pinned key column, header definitions, account links, score
  chips and server-side CSV/Excel export (`dashboard.export`).
- `charts`: PNG download names and chart clicks for drill-downs (figures use `layouts.theme`).
- `scores`: churn, health and engagement chips in one colour code, and their explanation.
- `states`: loading skeletons, empty states that say why, error cards with a reference.

The wiring that goes with them (URL writer, error wrapper, copy link, chip explanations) is
in `callbacks.kit`; the data in `dashboard.queries` (grid, glossary, lineage, scores).
"""
