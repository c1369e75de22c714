"""The page registry: each page's path, title and the permission it needs."""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dash
from dash import html

from dashboard.db import is_database_unavailable, is_statement_timeout
from dashboard.permissions import (
    AUTHENTICATED,
    MANAGE_JOBS,
    MANAGE_USERS,
    VIEW_AUDIT,
    VIEW_BILLING,
    VIEW_CUSTOMER360,
    VIEW_EXECUTIVE,
    VIEW_MARKETING,
    VIEW_SALES,
    VIEW_SUPPORT,
    has_permission,
    permission_granted,
)
from layouts.components import forbidden_state
from layouts.kit.light import lighten
from layouts.kit.states import error_card

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageSpec:
    """A page: where it lives, what it is called, who may open it, and its layout module."""

    module: str
    path: str
    name: str
    permission: str
    description: str = ""
    in_navbar: bool = True
    # A page about one thing, such as "/accounts/<account_id>": Dash passes the variable to the layout.
    path_template: str | None = None


PAGES: tuple[PageSpec, ...] = (
    # Account managers land here; sales managers, executives and the other customer-facing roles
    # open it too, each seeing the book of their own data scope.
    PageSpec("layouts.my_accounts", "/my-accounts", "My accounts", VIEW_CUSTOMER360,
             "Your book: MRR, health, churn risk, renewals, last contact, upsell potential and feedback."),
    PageSpec("layouts.morning_coffee", "/executive", "Morning Coffee", VIEW_EXECUTIVE,
             "Company-wide customers, leads, campaigns, team efficiency and MRR."),
    PageSpec("layouts.executive_strategy", "/executive/strategy", "Strategy", VIEW_EXECUTIVE,
             "Retention, revenue concentration, segment profitability and growth, lifetime value."),
    PageSpec("layouts.executive_regions", "/executive/regions", "Regional analysis", VIEW_EXECUTIVE,
             "Revenue, customers, win rate and product mix by region, against last period and last year."),
    # Sales managers land here (dashboard.landing).
    PageSpec("layouts.sales", "/sales", "Sales", VIEW_SALES,
             "Pipeline, win and loss and reps, drilling from region to territory, rep and account."),
    PageSpec("layouts.sales_engagement", "/sales/engagement", "Engagement radar", VIEW_SALES,
             "Customers and contacts by engagement tier, sharp drops and what fell, peers, and campaign lists."),
    PageSpec("layouts.sales_leads", "/sales/leads", "Leads and buyers", VIEW_SALES,
             "Leads to call first, customers likely to buy again, and customers buying less, and why."),
    # Support leads land here (dashboard.landing).
    PageSpec("layouts.support", "/support", "Queues", VIEW_SUPPORT,
             "Live queues, response and resolution times, SLA, agents and peak hours, down to each conversation."),
    PageSpec("layouts.support_insights", "/support/insights", "Operations", VIEW_SUPPORT,
             "Recurring issues, repeat customers, satisfaction, VIP attention, onboarding delays and complaints."),
    PageSpec("layouts.campaigns", "/marketing", "Campaigns", VIEW_MARKETING,
             "Funnel, A/B tests, best time to send, ROI, attribution and high-intent contacts."),
    PageSpec("layouts.growth", "/marketing/growth", "Growth", VIEW_MARKETING,
             "New contacts and leads per day, week or month, their growth and trend, and contacts by country and segment."),
    # Billing lands here (dashboard.landing).
    PageSpec("layouts.receivables", "/billing", "Receivables", VIEW_BILLING,
             "Overdue invoices by age, receivables by segment and account manager, disputes and credit holds."),
    PageSpec("layouts.customer360", "/accounts", "Customer 360", VIEW_CUSTOMER360,
             "One customer: KPIs, why it is at risk, its alerts and next-best actions.", in_navbar=False,
             path_template="/accounts/<account_id>"),
    PageSpec("layouts.audit", "/admin/audit", "Audit log", VIEW_AUDIT,
             "Who did what, when and from where: sign-ins, changes, denials, exports."),
    PageSpec("layouts.admin_users", "/admin/users", "Users", MANAGE_USERS,
             "Create users, set their role and data scope, reset passwords, end sessions."),
    PageSpec("layouts.admin_roles", "/admin/roles", "Roles", MANAGE_USERS,
             "What each role may see and do."),
    PageSpec("layouts.admin_jobs", "/admin/jobs", "Data jobs", MANAGE_JOBS,
             "Recent runs, run a job now, quarantined rows."),
    PageSpec("layouts.admin_quality", "/admin/quality", "Data quality", MANAGE_JOBS,
             "Check results and trends, completeness, quarantine, identity resolution and models."),
    PageSpec("layouts.search", "/search", "Search accounts", VIEW_CUSTOMER360,
             "Accounts found by name, id or regional id (contact email or phone with PII access).",
             in_navbar=False),
    PageSpec("layouts.account_settings", "/account", "My account", AUTHENTICATED,
             "Your password, API tokens and two-step sign-in."),
    PageSpec("layouts.account_journey", "/accounts-journey", "Customer journey", VIEW_CUSTOMER360,
             "One customer's timeline and what changed in its MRR.", in_navbar=False,
             path_template="/accounts/<account_id>/journey"),
    PageSpec("layouts.account_people", "/accounts-people", "Customer people & feedback", VIEW_CUSTOMER360,
             "One customer's contacts, linked accounts, summary and feedback.", in_navbar=False,
             path_template="/accounts/<account_id>/people"),
)
HOME = PageSpec("layouts.home", "/", "Home", AUTHENTICATED, in_navbar=False)
NOT_FOUND = PageSpec("layouts.not_found_404", "/404", "Not found", AUTHENTICATED, in_navbar=False)


def pages_for_current_user() -> list[PageSpec]:
    """The navbar pages the current user may open, in menu order."""
    return [p for p in PAGES if p.in_navbar and has_permission(p.permission)]


def guarded_layout(spec: PageSpec, layout: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a page layout so it is built only for users holding the page's permission."""

    def build(**kwargs: Any) -> Any:
        if not permission_granted(spec.permission, target=f"page:{spec.path}"):
            return forbidden_state()
        try:
            return lighten(layout(**kwargs))
        except Exception as error:
            # A layout reading the database (filter options, the page's state) that could not: the page says
            # so, as its panels do, instead of the router answering a 500 and the page staying blank.
            reference = uuid.uuid4().hex[:8].upper()
            timed_out, unavailable = is_statement_timeout(error), is_database_unavailable(error)
            if timed_out or unavailable:
                log.warning("page %s: %s (reference %s)", spec.path, error.__class__.__name__, reference)
            else:
                log.exception("page %s failed (reference %s)", spec.path, reference)
            return html.Div(error_card(reference, timed_out=timed_out, unavailable=unavailable),
                            className="c360-page-error p-3")

    return build


def register_pages() -> None:
    """Register every page with Dash, each behind its permission."""
    for spec in (HOME, NOT_FOUND, *PAGES):
        module = importlib.import_module(spec.module)
        dash.register_page(spec.module, path=spec.path, path_template=spec.path_template, name=spec.name,
                           title=f"{spec.name} · Client360", description=spec.description,
                           layout=guarded_layout(spec, module.layout))
