"""Client360: a self-hosted Customer 360 analytics dashboard. The web app is built by
dashboard.app.create_app."""

from __future__ import annotations

from flask import current_app

from dashboard.settings import Settings

__version__ = "0.1.0"


def current_settings() -> Settings:
    """The settings of the app serving this request."""
    return current_app.extensions["c360_settings"]
