"""Dash callbacks, one module per page; `create_app` imports each module once."""
