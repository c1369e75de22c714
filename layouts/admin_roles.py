"""Admin: roles. Each role's permissions as a checklist; saving is audited."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.extensions import db
from dashboard.permissions import ALL_PERMISSIONS
from dashboard.queries.admin import role_permissions
from layouts.components import page_header

TITLE = "Roles"

# What each permission lets a role do, shown next to its checkbox.
PERMISSION_LABELS: dict[str, str] = {
    "view_executive": "Morning Coffee and company-wide KPIs",
    "view_sales": "Sales dashboards",
    "view_support": "Support dashboards",
    "view_marketing": "Marketing dashboards",
    "view_billing": "Billing dashboards",
    "view_customer360": "Customer 360 views and the accounts API",
    "view_financials": "Exact revenue, MRR, CLV, invoice and payment amounts (else bands)",
    "view_pii": "Unmasked emails and phone numbers",
    "export_data": "CSV exports",
    "execute_actions": "Run actions on accounts",
    "manage_users": "Users and roles administration",
    "manage_jobs": "Data jobs and quarantine",
    "view_audit": "Audit log",
}


class AdminRolesIds:
    PAGE = "ar-page"
    ROLE = "ar-role"
    PERMISSIONS = "ar-permissions"
    SAVE = "ar-save"
    RESULT = "ar-result"
    SUMMARY = "ar-summary"


ID = AdminRolesIds


def layout(**_: object) -> html.Div:
    with db.session() as session:
        roles = list(role_permissions(session))
    options = [{"label": html.Span([html.Code(p, className="me-2"), PERMISSION_LABELS.get(p, "")]), "value": p}
               for p in ALL_PERMISSIONS]
    return html.Div([
        page_header(TITLE, "What each role may see and do; changes apply at each user's next request"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                dbc.Label("Role", html_for=ID.ROLE, className="fw-semibold"),
                dcc.Dropdown(id=ID.ROLE, options=[{"label": r.replace("_", " "), "value": r} for r in roles],
                             value=roles[0] if roles else None, clearable=False, className="mb-3"),
                dbc.Checklist(id=ID.PERMISSIONS, options=options, value=[], className="mb-3"),
                dbc.Button("Save permissions", id=ID.SAVE, color="primary"),
                html.Div(id=ID.RESULT, className="mt-3", role="status"),
            ])), lg=6),
            dbc.Col(html.Div(id=ID.SUMMARY), lg=6),
        ], className="g-3"),
    ], id=ID.PAGE)
