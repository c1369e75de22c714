"""Receivables: ageing of overdue invoices with the invoices behind each bucket, receivables by customer
segment and account manager, disputes and adjustments, and credit holds, for billing (and executives).

The URL holds the page's state (`?bucket=<1-30|31-60|61-90|90+>`, the bucket whose invoices are listed):
`layout(**query)` builds the page from it, and the panel helpers below turn the queries' typed results
(dashboard/queries/receivables.py) into cards and grids. A click on a bucket is a link to the same page
with that bucket. Callbacks (callbacks/receivables.py) only wire the two together.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_percent, format_usd
from dashboard.masking import MaskPolicy
from dashboard.permissions import EXPORT_DATA, has_permission
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.receivables import (
    ACCURACY_MONTHS,
    BUCKET_LABELS,
    CHURN_DAYS,
    FORECAST_WINDOWS,
    FREQUENT_EVENTS,
    GRID_LIMIT,
    RECEIVABLE_DIMENSIONS,
    AccuracyResult,
    AgeingResult,
    CollectionsResult,
    DisputesResult,
    DsoResult,
    HoldsResult,
    ReceivablesQuery,
    ReceivablesResult,
    ResolvedQuery,
    resolve,
)
from dashboard.scope import current_scope
from layouts import theme
from layouts.components import chart_card, empty_state, gold_empty_detail, no_selection_state, page_header
from layouts.kit import kpi
from layouts.kit.grid import data_grid
from layouts.kit.page import url_state
from layouts.kit.states import empty_reason, loading, skeleton

TITLE = "Receivables"
NO_DATA = "No data yet"
HIDDEN = "hidden"  # a money figure without view_financials


class ReceivablesIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "rv-page"
    URL = "rv-url"
    STATE = "rv-state"
    NO_DATA = "rv-no-data"
    NOTE = "rv-note"
    AGEING = "rv-ageing"
    BUCKETS = "rv-buckets"
    INVOICES_GRID = "rv-invoices-grid"
    OVERDUE_GRID = "rv-overdue-grid"
    RECEIVABLES = "rv-receivables"
    RECEIVABLES_TABS = "rv-receivables-tabs"
    RECEIVABLES_GRID = "rv-receivables-grid"  # + "-segment", "-account_manager"
    DISPUTES = "rv-disputes"
    DISPUTES_GRID = "rv-disputes-grid"
    HOLDS = "rv-holds"
    HOLDS_GRID = "rv-holds-grid"
    DSO = "rv-dso"
    DSO_GRAPH = "rv-dso-graph"
    ACCURACY = "rv-accuracy"
    ACCURACY_GRAPH = "rv-accuracy-graph"
    COLLECTIONS = "rv-collections"


ID = ReceivablesIds
PANELS = (ID.AGEING, ID.RECEIVABLES, ID.DISPUTES, ID.HOLDS, ID.DSO, ID.ACCURACY, ID.COLLECTIONS)
TITLES = {"ageing": "Ageing of overdue invoices", "receivables": "Receivables by segment and account manager",
          "disputes": "Disputes and adjustments", "holds": "Credit holds", "dso": "Days sales outstanding",
          "accuracy": "Billing accuracy", "collections": "Collections forecast"}


def bucket_id(bucket: str) -> str:
    """A bucket tile's id: `rv-bucket-1-30`, ..., `rv-bucket-90-plus`."""
    return f"{ID.BUCKETS}-{bucket.replace('+', '-plus')}"


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    return empty_state(NO_DATA, gold_empty_detail(status), state_id=ID.NO_DATA)


def layout(**query: Any) -> html.Div:
    """One panel per question, each filled by its own callback from the URL's state."""
    requested = ReceivablesQuery.from_args(query)
    with db.session() as session:
        resolved = resolve(session, requested, current_scope())
        status = gold_status(session) if resolved is None else None
    header_text = "Overdue invoices by age, receivables by segment and account manager, disputes and credit holds"
    if resolved is None:
        return html.Div([page_header(TITLE, header_text), no_data_panel(status)], id=ID.PAGE)

    def panel(component_id: str, kind: str = "card", **widths: int) -> dbc.Col:
        return dbc.Col(loading(component_id, skeleton(kind, 5), kind), xs=12, className="mb-3", **widths)

    notes = (html.Div(" ".join(resolved.notes), className="alert alert-warning py-2 px-3 small mb-3", role="status")
             if resolved.notes else None)
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        page_header(TITLE, header_text),
        html.Div(notes, id=ID.NOTE),
        dbc.Row([panel(ID.AGEING, "grid"), panel(ID.RECEIVABLES, "grid"), panel(ID.DISPUTES, "grid"),
                 panel(ID.HOLDS, "grid"), panel(ID.DSO, "chart"), panel(ID.ACCURACY, "chart"),
                 panel(ID.COLLECTIONS, "card")], className="g-3"),
    ], id=ID.PAGE, className="c360-receivables")


# --- Shared pieces ----------------------------------------------------------------------------------


def _money(value: float | None, policy: MaskPolicy) -> str:
    return format_usd(value) if policy.view_financials else HIDDEN




def _export(grid_name: str, resolved: ResolvedQuery) -> dict[str, Any]:
    """The grid's server export for the view shown, for the roles that may export."""
    if not has_permission(EXPORT_DATA):
        return {}
    return {"export_name": grid_name, "search": resolved.canonical.search}


# Said on every customer-level panel: a territory's figures count its customers' every invoice and account.
TERRITORY_RULE = (" A customer counts in its own territory (its master account's, as on its Customer 360 page) with "
                  "all its invoices and accounts, so territories add up.")


def _as_of_words(resolved: ResolvedQuery) -> str:
    return f"on {format_day(resolved.as_of)}"


# --- 1. Ageing --------------------------------------------------------------------------------------------


AGEING_DEFINITION = ("Overdue: an invoice not paid (nor void) and past its due day; days overdue count from the due "
                     "day. Amounts in USD at the rate of the as-of day; each invoice's own currency is kept beside it."
                     + TERRITORY_RULE)


def _bucket_tile(bucket: Any, chosen: str | None, policy: MaskPolicy) -> html.Div:
    currencies = ", ".join(f"{c} {a:,.0f}" if policy.view_financials else c for c, a in bucket.currencies[:3])
    if len(bucket.currencies) > 3:
        currencies += f" +{len(bucket.currencies) - 3}"
    selected = bucket.bucket == chosen
    href = ReceivablesQuery(None if selected else bucket.bucket).href
    return dcc.Link(html.Div([
        html.Div(BUCKET_LABELS[bucket.bucket], className="c360-kpi-title"),
        html.Div(_money(bucket.amount_usd, policy), className="c360-kpi-value"),
        html.Div(f"{format_count(bucket.invoices)} invoices, {format_count(bucket.customers)} customers",
                 className="small text-muted"),
        html.Div(currencies or "\u2014", className="small text-muted text-truncate", title=currencies),
    ], className="border rounded p-2 h-100" + (" border-primary bg-light" if selected else "")),
        href=href, id=bucket_id(bucket.bucket), className="text-reset text-decoration-none d-block h-100",
        title="Show every overdue invoice" if selected else f"List the invoices {BUCKET_LABELS[bucket.bucket]} overdue")


def ageing_output(result: AgeingResult | GoldStatus, policy: MaskPolicy) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    headlines = kpi.headlines(
        kpi.headline("Overdue", _money(result.overdue_usd, policy),
                  f"{format_count(result.overdue_invoices)} invoices", title=AGEING_DEFINITION),
        kpi.headline("Customers overdue", format_count(result.overdue_customers)))
    tiles = dbc.Row([dbc.Col(_bucket_tile(b, resolved.bucket, policy), xs=6, md=3, className="mb-2")
                     for b in result.buckets], className="g-2", id=ID.BUCKETS)
    if not result.overdue_invoices:
        return chart_card(TITLES["ageing"], [headlines, no_selection_state(
            empty_reason(resolved.scope, "No invoice is overdue."))], definition=AGEING_DEFINITION)
    shown = len(result.invoices.rows)
    which = (f"Invoices {BUCKET_LABELS[resolved.bucket]} overdue" if resolved.bucket
             else "Every overdue invoice") + (f" (the {shown} most overdue of {format_count(result.invoices_in_view)})"
                                              if result.invoices_in_view > shown else "")
    clear = dcc.Link("show every bucket", href=ReceivablesQuery().href, className="ms-2") if resolved.bucket else None
    body = [headlines, html.Div("Click a bucket to list its invoices", className="small text-muted mb-1"), tiles,
            html.H6([which, clear], className="mt-2 mb-1 small fw-semibold"),
            data_grid(ID.INVOICES_GRID, result.invoices, row_id_field="invoice_id", **_export(ID.AGEING, resolved)),
            html.H6("Customers overdue, longest first \u00b7 click a row for the customer",
                    className="mt-3 mb-1 small fw-semibold"),
            data_grid(ID.OVERDUE_GRID, result.accounts, row_id_field="account_id"),
            html.Div(AGEING_DEFINITION + f" The grid lists up to {GRID_LIMIT} invoices.", className="small text-muted mt-1")]
    return chart_card(TITLES["ageing"], body, definition=AGEING_DEFINITION,
                      subtitle=f"Unpaid invoices past their due day {_as_of_words(resolved)}, by days overdue")


# --- 2. Receivables by segment and account manager -----------------------------------------------------


RECEIVABLES_DEFINITION = ("Receivables: every invoice issued and not yet paid (nor void), due or not, in USD at the "
                          "as-of rate. Segment: the account type; account manager: the account's owner." + TERRITORY_RULE)


def receivables_output(result: ReceivablesResult | GoldStatus, policy: MaskPolicy) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if not result.invoices:
        return chart_card(TITLES["receivables"], no_selection_state(empty_reason(resolved.scope, "Nothing is owed.")),
                          definition=RECEIVABLES_DEFINITION)
    headlines = kpi.headlines(
        kpi.headline("Outstanding", _money(result.outstanding_usd, policy),
                  f"{format_count(result.invoices)} unpaid invoices", title=RECEIVABLES_DEFINITION),
        kpi.headline("Overdue share", format_percent(result.overdue_share) if policy.view_financials else HIDDEN,
                  f"{_money(result.overdue_usd, policy)} past due"))
    tabs = dbc.Tabs([dbc.Tab(data_grid(f"{ID.RECEIVABLES_GRID}-{dimension}", result.grids[dimension]),
                             label=f"By {label.lower()}", tab_id=dimension)
                     for dimension, label in RECEIVABLE_DIMENSIONS.items()],
                    id=ID.RECEIVABLES_TABS, active_tab="segment", className="mb-2")
    return chart_card(TITLES["receivables"], [headlines, tabs, html.Div(RECEIVABLES_DEFINITION,
                                                                         className="small text-muted")],
                      definition=RECEIVABLES_DEFINITION,
                      subtitle=f"Unpaid invoices {_as_of_words(resolved)}, largest outstanding first")


# --- 3. Disputes and adjustments --------------------------------------------------------------------------


DISPUTES_DEFINITION = (f"Every invoice dispute, credit note and debit note up to the as-of day, per customer. A frequent "
                       f"disputer has {FREQUENT_EVENTS} or more in all. Disputed invoices: disputes over invoices issued. "
                       "USD at the rate of the day each was opened or created." + TERRITORY_RULE)


def disputes_output(result: DisputesResult | GoldStatus, policy: MaskPolicy) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    headlines = kpi.headlines(
        kpi.headline("Frequent disputers", format_count(result.frequent_customers),
                  f"of {format_count(result.customers_disputing)} customers disputing", title=DISPUTES_DEFINITION),
        kpi.headline("Disputes", format_count(result.disputes),
                  f"{format_count(result.open_disputes)} open, {_money(result.disputed_usd, policy)} disputed"),
        kpi.headline("Credit notes", format_count(result.credit_notes),
                  f"{_money(result.credit_usd, policy)} credited, {format_count(result.debit_notes)} debit notes"))
    if result.grid.empty:
        body: list = [headlines, no_selection_state(empty_reason(resolved.scope, "No dispute or adjustment yet."))]
    else:
        body = [headlines, html.Div("Most disputes and notes first \u00b7 click a row for the customer",
                                    className="small text-muted mb-1"),
                data_grid(ID.DISPUTES_GRID, result.grid, row_id_field="account_id", **_export(ID.DISPUTES, resolved))]
    body.append(html.Div(DISPUTES_DEFINITION, className="small text-muted mt-1"))
    return chart_card(TITLES["disputes"], body, definition=DISPUTES_DEFINITION,
                      subtitle=f"Customers disputing invoices or getting credit and debit notes, up to "
                               f"{format_day(resolved.as_of)}")


# --- 4. Credit holds -------------------------------------------------------------------------------------


HOLDS_DEFINITION = ("On credit hold: a hold placed and not released by the end of the as-of day. MRR: the customer's "
                    "subscriptions counting that day, in USD at that day's rate; open pipeline: its deals not closed."
                    + TERRITORY_RULE)


def holds_output(result: HoldsResult | GoldStatus, policy: MaskPolicy) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    share = (f"{format_percent(result.mrr_share)} of all MRR" if policy.view_financials and result.mrr_share is not None
             else "")
    headlines = kpi.headlines(
        kpi.headline("Customers on hold", format_count(result.customers_on_hold), _as_of_words(resolved),
                  title=HOLDS_DEFINITION),
        kpi.headline("MRR affected", _money(result.mrr_usd, policy), share),
        kpi.headline("Open pipeline affected", _money(result.pipeline_usd, policy), "deals not closed"))
    if result.grid.empty:
        body: list = [headlines, no_selection_state(empty_reason(resolved.scope, "No customer is on credit hold."))]
    else:
        body = [headlines, html.Div("Largest MRR first \u00b7 click a row for the customer",
                                    className="small text-muted mb-1"),
                data_grid(ID.HOLDS_GRID, result.grid, row_id_field="account_id", **_export(ID.HOLDS, resolved))]
    body.append(html.Div(HOLDS_DEFINITION, className="small text-muted mt-1"))
    return chart_card(TITLES["holds"], body, definition=HOLDS_DEFINITION,
                      subtitle=f"Customers on credit hold {_as_of_words(resolved)} and the revenue at stake")


# --- 5. Days sales outstanding ---------------------------------------------------------------------------


DSO_DEFINITION = ("DSO = receivables at the month's end / the month's invoicing \u00d7 the month's days. Receivables: "
                  "invoices issued by the month's end and not paid (nor void) by then; both in USD at the month-end "
                  "rate. Lower is better: customers pay sooner.")


def dso_figure(result: DsoResult) -> go.Figure:
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=8, t=8, b=32))
    months = [m for m in result.months if m.dso is not None]
    fig.add_trace(go.Scatter(x=[m.month.isoformat() for m in months], y=[m.dso for m in months], mode="lines+markers",
                             line=dict(color=theme.PRIMARY),
                             hovertemplate="%{x|%b %Y}: %{y:.0f} days<extra></extra>"))
    fig.update_yaxes(rangemode="tozero", ticksuffix=" d")
    return fig


def dso_output(result: DsoResult | GoldStatus, policy: MaskPolicy) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    latest = result.latest
    if latest is None or latest.dso is None or not result.by_territory:
        message = ("DSO is worked out per territory: your data scope names accounts only." if not result.by_territory
                   else "No invoice issued yet.")
        return chart_card(TITLES["dso"], no_selection_state(message), definition=DSO_DEFINITION)
    earlier = [m for m in result.months if m.month < latest.month and m.dso is not None]
    before = earlier[-3] if len(earlier) >= 3 else (earlier[0] if earlier else None)
    change = (f"{latest.dso - before.dso:+.0f} days since {before.month:%b %Y}" if before and before.dso is not None
              else "")
    headlines = kpi.headlines(
        kpi.headline(f"DSO, {latest.month:%B %Y}", f"{latest.dso:.0f} days", change, title=DSO_DEFINITION),
        kpi.headline("Receivables at month end", _money(latest.receivables_usd, policy),
                  f"on {_money(latest.invoiced_usd, policy)} invoiced"))
    body = [headlines,
            dcc.Graph(id=ID.DSO_GRAPH, figure=dso_figure(result), config={"displayModeBar": False, "responsive": True},
                      style={"height": "240px"}, className="c360-graph"),
            html.Div(DSO_DEFINITION, className="small text-muted mt-1")]
    return chart_card(TITLES["dso"], body, definition=DSO_DEFINITION,
                      subtitle=f"Monthly, the last 24 months to {format_day(resolved.as_of)}")



# --- 6. Billing accuracy -----------------------------------------------------------------------------------


ACCURACY_DEFINITION = (f"Billing accuracy: the share of invoices issued in a month (not void) without a credit or debit "
                       f"note created since. Affected customers: those with a note on an invoice issued in the last "
                       f"365 days; the others invoiced in that time without one. CSAT: the average score of their "
                       f"support cases opened in those 365 days; churned: customers churned in the {CHURN_DAYS} days "
                       f"to the as-of day; each customer counted in its own territory (its master account's), each "
                       f"month's invoices in their account's.")


def accuracy_figure(result: AccuracyResult) -> go.Figure:
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=8, t=8, b=32))
    months = [m for m in result.months if m.accuracy is not None]
    fig.add_trace(go.Bar(x=[m.month.isoformat() for m in months], y=[m.accuracy for m in months],
                         marker_color=theme.PRIMARY, customdata=[[m.issued, m.adjusted] for m in months],
                         hovertemplate="%{x|%b %Y}: %{y:.1%} of %{customdata[0]} invoices "
                                       "(%{customdata[1]} adjusted)<extra></extra>"))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def _cohort_words(cohort: Any) -> str:
    csat = f"CSAT {cohort.csat:.2f}" if cohort.csat is not None else "no CSAT"
    churn = format_percent(cohort.churn_rate) if cohort.churn_rate is not None else "\u2014"
    return f"{csat}, {churn} churned"


def accuracy_output(result: AccuracyResult | GoldStatus, policy: MaskPolicy) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if not result.by_territory or result.accuracy is None:
        message = ("Billing accuracy is worked out per territory: your data scope names accounts only."
                   if not result.by_territory else "No invoice issued in the last 12 months.")
        return chart_card(TITLES["accuracy"], no_selection_state(message), definition=ACCURACY_DEFINITION)
    headlines = kpi.headlines(
        kpi.headline(f"Accurate, last {ACCURACY_MONTHS} months", format_percent(result.accuracy),
                  f"{format_count(result.adjusted)} of {format_count(result.issued)} invoices adjusted",
                  title=ACCURACY_DEFINITION),
        kpi.headline("Affected customers", format_count(result.affected.customers), _cohort_words(result.affected)),
        kpi.headline("Other customers", format_count(result.others.customers), _cohort_words(result.others)))
    body = [headlines,
            dcc.Graph(id=ID.ACCURACY_GRAPH, figure=accuracy_figure(result),
                      config={"displayModeBar": False, "responsive": True}, style={"height": "220px"},
                      className="c360-graph"),
            html.Div(ACCURACY_DEFINITION, className="small text-muted mt-1")]
    return chart_card(TITLES["accuracy"], body, definition=ACCURACY_DEFINITION,
                      subtitle=f"Invoices without a later credit or debit note, by issue month, to "
                               f"{format_day(resolved.as_of)}")



# --- 7. Collections forecast ---------------------------------------------------------------------------------


COLLECTIONS_DEFINITION = ("Each unpaid invoice is expected on its due day (its issue day without one) plus its "
                          "customer's median days paid after the due day, rounded up, over the customer's invoices "
                          "paid so far; customers without a paid invoice take the company's median. An invoice counts "
                          "in a window when that day falls in it (windows add up: 60 days includes the first 30). "
                          "Invoices already past their customer's usual day count in none. USD at the as-of rate."
                          + TERRITORY_RULE)


def collections_output(result: CollectionsResult | GoldStatus, policy: MaskPolicy) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if not result.outstanding_usd:
        return chart_card(TITLES["collections"], no_selection_state(empty_reason(resolved.scope, "Nothing is owed.")),
                          definition=COLLECTIONS_DEFINITION)
    windows = [kpi.headline(f"Next {days} days", _money(result.expected_usd[days], policy),
                         f"{format_count(result.expected_invoices[days])} invoices",
                         title=COLLECTIONS_DEFINITION if days == FORECAST_WINDOWS[0] else None)
               for days in FORECAST_WINDOWS]
    company = (f"{result.company_delay_days:+.1f} days" if result.company_delay_days is not None else "\u2014")
    body = [kpi.headlines(*windows),
            kpi.headlines(kpi.headline("Past their usual day", _money(result.past_usual_usd, policy),
                                 f"{format_count(result.past_usual_invoices)} invoices, in no window"),
                       kpi.headline("Outstanding", _money(result.outstanding_usd, policy), "every unpaid invoice"),
                       kpi.headline("Without history", format_count(result.invoices_without_history),
                                 f"invoices at the company median, {company}")),
            html.Div(COLLECTIONS_DEFINITION, className="small text-muted mt-1")]
    return chart_card(TITLES["collections"], body, definition=COLLECTIONS_DEFINITION,
                      subtitle=f"Cash expected from the unpaid invoices after {format_day(resolved.as_of)}, "
                               "by each customer's usual payment delay")
