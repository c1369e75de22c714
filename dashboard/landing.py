"""Where each role lands after signing in: its main page (account managers their book, My accounts),
or Home for a role without one yet.

Home ("/") stays the list of all the user's pages; only the sign-in redirect uses this map, and a
`next` the user was sent from still wins.
"""

from __future__ import annotations

HOME_PATH = "/"

# role -> its main page; a role not listed lands on Home.
ROLE_LANDING_PATHS: dict[str, str] = {
    "executive": "/executive",
    "admin": "/admin/jobs",
    "account_manager": "/my-accounts",
    "sales_manager": "/sales",
    "support_lead": "/support",
    "marketing_manager": "/marketing",
    "billing": "/billing",
}


def landing_path(role: str) -> str:
    """The page `role` is sent to after signing in when no `next` was given."""
    return ROLE_LANDING_PATHS.get(role, HOME_PATH)
