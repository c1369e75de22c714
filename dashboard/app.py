"""The web app: `create_app` builds the Flask server with sign-in, the API and the Dash pages.

Kept out of the package's __init__ so that the CLI, the scheduler and the jobs (every
`import dashboard.x` runs that first) never load the pages, the API or the sign-in.
"""

from __future__ import annotations

import gc
import importlib
from datetime import timedelta
from pathlib import Path

import diskcache
from dash import Dash, DiskcacheManager
from flask import Flask

from dashboard import api, auth, callback_guard, export, precompressed, security
from dashboard import cache as page_cache
from dashboard.db import check_migrated, resolve_database_url
from dashboard.extensions import db
from dashboard.settings import Settings, runtime_dir_default
from layouts import theme
from layouts.pages import register_pages
from layouts.shell import app_layout

ROOT = Path(__file__).resolve().parent.parent
CALLBACK_MODULES = ("callbacks.morning_coffee", "callbacks.audit", "callbacks.admin_users",
                    "callbacks.admin_roles", "callbacks.admin_jobs", "callbacks.admin_quality",
                    "callbacks.home", "callbacks.alert_centre", "callbacks.search", "callbacks.customer360",
                    "callbacks.account_journey", "callbacks.account_people", "callbacks.my_accounts",
                    "callbacks.executive_regions", "callbacks.executive_strategy",
                    "callbacks.sales", "callbacks.sales_engagement", "callbacks.sales_leads",
                    "callbacks.support", "callbacks.support_insights", "callbacks.campaigns",
                    "callbacks.growth", "callbacks.receivables")


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask server, bind extensions, mount Dash and register pages and callbacks."""
    settings = settings or Settings.from_env()
    runtime_dir_default()

    server = Flask("dashboard", static_folder=None)
    server.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=settings.testing,
    )
    server.extensions["c360_settings"] = settings

    db.bind(resolve_database_url(settings),
            statement_timeout_ms=round(settings.web_statement_timeout_seconds * 1000),
            lock_timeout_ms=round(settings.web_lock_timeout_seconds * 1000),
            parallel_workers=settings.web_parallel_workers)
    check_migrated(db.engine)

    page_cache.init_app(server, settings)
    auth.init_app(server)
    callback_guard.init_app(server)
    security.init_app(server)
    api.init_app(server)
    export.init_app(server)

    dash_app = Dash(
        "dashboard",
        server=False,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ROOT / "assets"),
        # Fetched when a page asks for them (plotly_on_demand.js), not loaded on every page.
        assets_path_ignore=["^on_demand$"],
        title="Client360",
        suppress_callback_exceptions=True,
        serve_locally=True,
        # gzip: a cold load of a page with a chart is about 8 MB raw (plotly.js alone is 4.8 MB).
        compress=True,
        update_title=None,
        background_callback_manager=_background_callback_manager(settings),
    )
    dash_app.init_app(server)
    precompressed.init_app(server, settings.data_dir / "compressed")  # after Dash's compression: see there
    theme.register()
    register_pages()
    dash_app.layout = app_layout
    for module in CALLBACK_MODULES:
        importlib.import_module(module)
    server.extensions["dash_app"] = dash_app
    # Dash sets itself up on its first request, and threads racing through that setup can answer a
    # 500 (a script served before its library is registered): one request here settles it before any
    # worker serves. Its connections are closed, so workers forked after it (--preload) share none.
    server.test_client().get("/login")
    db.engine.dispose()
    # What the app built lives as long as the process: kept out of the collector's full passes, which
    # otherwise walk it all (hundreds of thousands of objects) in the middle of a request, 200+ ms.
    gc.freeze()
    return server


def _background_callback_manager(settings: Settings) -> DiskcacheManager:
    """Long callbacks (e.g. running a data job now) run in worker processes, results on disk."""
    cache_dir = settings.data_dir / "callback-cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    return DiskcacheManager(diskcache.Cache(str(cache_dir)), expire=3600)
