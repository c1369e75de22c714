"""Query functions: take a session and filters, return a DataFrame or a small dataclass.

Callbacks call these and never hold SQL themselves.
"""
