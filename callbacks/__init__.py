"""Dash callbacks, one module per page; `dashboard.app.create_app` imports each module once."""
