"""Named permissions, default roles, and the one guard used by pages, callbacks and the API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.audit import record_denial
from dashboard.tables.app import Role

# Page access
VIEW_EXECUTIVE = "view_executive"
VIEW_SALES = "view_sales"
VIEW_SUPPORT = "view_support"
VIEW_MARKETING = "view_marketing"
VIEW_BILLING = "view_billing"
VIEW_CUSTOMER360 = "view_customer360"
# Data
VIEW_FINANCIALS = "view_financials"
VIEW_PII = "view_pii"
EXPORT_DATA = "export_data"
# Actions and administration
EXECUTE_ACTIONS = "execute_actions"
MANAGE_USERS = "manage_users"
MANAGE_JOBS = "manage_jobs"
VIEW_AUDIT = "view_audit"
# Any logged-in user: the page shell, the router and the freshness badge.
AUTHENTICATED = "authenticated"

ALL_PERMISSIONS: tuple[str, ...] = (
    VIEW_EXECUTIVE, VIEW_SALES, VIEW_SUPPORT, VIEW_MARKETING, VIEW_BILLING, VIEW_CUSTOMER360,
    VIEW_FINANCIALS, VIEW_PII, EXPORT_DATA,
    EXECUTE_ACTIONS, MANAGE_USERS, MANAGE_JOBS, VIEW_AUDIT,
)


@dataclass(frozen=True)
class RoleDefinition:
    name: str
    description: str
    permissions: tuple[str, ...]


DEFAULT_ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition("admin", "Full access, user and job administration", ALL_PERMISSIONS),
    RoleDefinition("executive", "Company-wide KPIs, financials and every dashboard", (
        VIEW_EXECUTIVE, VIEW_SALES, VIEW_SUPPORT, VIEW_MARKETING, VIEW_BILLING,
        VIEW_CUSTOMER360, VIEW_FINANCIALS, EXPORT_DATA)),
    RoleDefinition("sales_manager", "Pipeline and accounts in assigned territories", (
        VIEW_SALES, VIEW_CUSTOMER360, VIEW_FINANCIALS, VIEW_PII, EXPORT_DATA, EXECUTE_ACTIONS)),
    RoleDefinition("account_manager", "Assigned accounts' 360 views and actions", (
        VIEW_CUSTOMER360, VIEW_FINANCIALS, VIEW_PII, EXECUTE_ACTIONS)),
    RoleDefinition("support_lead", "Support queues, SLAs and agents", (
        VIEW_SUPPORT, VIEW_CUSTOMER360, VIEW_PII, EXECUTE_ACTIONS)),
    RoleDefinition("marketing_manager", "Campaigns, attribution and ROI", (
        VIEW_MARKETING, VIEW_FINANCIALS, EXPORT_DATA)),
    RoleDefinition("billing", "Invoices, payments and ageing", (
        VIEW_BILLING, VIEW_CUSTOMER360, VIEW_FINANCIALS, VIEW_PII, EXPORT_DATA)),
)
ROLE_NAMES: tuple[str, ...] = tuple(r.name for r in DEFAULT_ROLES)


def sync_default_roles(session: Session) -> int:
    """Create any missing default role; leave roles that admins have edited alone."""
    existing = set(session.scalars(select(Role.name)))
    missing = [r for r in DEFAULT_ROLES if r.name not in existing]
    for role in missing:
        session.add(Role(name=role.name, description=role.description,
                         permissions=list(role.permissions)))
    return len(missing)


def has_permission(permission: str, user: Any = None) -> bool:
    """Whether `user` (default: the request's user) holds `permission`."""
    user = current_user if user is None else user
    if not getattr(user, "is_authenticated", False):
        return False
    if permission == AUTHENTICATED:
        return True
    return permission in user.permissions


def permission_granted(permission: str, *, target: str) -> bool:
    """The one check made by pages, callbacks, API endpoints and exports: whether the current
    user holds `permission`. A logged-in user's refusal is written to the audit log."""
    if has_permission(permission):
        return True
    if getattr(current_user, "is_authenticated", False):
        record_denial(permission, target=target)
    return False


F = TypeVar("F", bound=Callable[..., Any])


def require_permission(permission: str) -> Callable[[F], F]:
    """Decorator for Flask views: 401 when anonymous, 403 without `permission`."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not getattr(current_user, "is_authenticated", False):
                abort(401)
            if not permission_granted(permission, target=view.__name__):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
