"""Unbound extension singletons, bound to the server in `dashboard.app.create_app`."""

from __future__ import annotations

from flask_login import LoginManager

from dashboard.db import Database

db = Database()
login_manager = LoginManager()
