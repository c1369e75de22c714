"""Security headers, CSRF protection, the login rate limiter and trusted-proxy handling.

CSRF: HTML forms (login, account and admin forms) carry a Flask-WTF token, checked for every
unsafe request. Two kinds of request are exempt, and why:
- Dash callbacks (`POST /_dash-*`) are JSON. A cross-site page cannot send them with the session
  cookie: the cookie is SameSite=Lax (never sent on cross-site POSTs), a cross-site form cannot
  set `Content-Type: application/json` (the callback guard answers 400 to anything else) and we
  grant no CORS. As defence in depth a request whose `Origin` or `Sec-Fetch-Site` says it comes
  from another site is refused with 403.
- API calls that authenticate with `Authorization: Bearer`: no ambient credential is involved.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.settings import Settings

# Dash renders with inline styles and evaluates callback code; everything is served locally.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

csrf = CSRFProtect()
# Limits are declared on the login views (dashboard.auth); nothing else is limited by default.
limiter = Limiter(key_func=lambda: request.remote_addr or "unknown", default_limits=[],
                  headers_enabled=False)


def _add_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.path.startswith(("/login", "/account", "/api/")):
        # Pages with credentials, tokens or client data must not be kept in shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _same_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def _is_bearer_request() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def _csrf_gate():
    """Require a CSRF token on unsafe requests, except the JSON and bearer-token requests explained above."""
    if request.method not in UNSAFE_METHODS:
        return None
    if request.path.startswith("/_dash-"):
        origin = request.headers.get("Origin")
        if request.headers.get("Sec-Fetch-Site") == "cross-site" or (origin and not _same_origin(origin)):
            return jsonify(error="cross-site request refused"), 403
        return None
    if request.path.startswith("/api/") and _is_bearer_request():
        return None
    view = request.endpoint and request.url_rule and request.url_rule.endpoint
    if view in SELF_VALIDATING_ENDPOINTS:
        return None
    csrf.protect()
    return None


# Views whose FlaskForm checks the token itself and answers with the form and a clear message.
SELF_VALIDATING_ENDPOINTS: set[str] = set()


def cookie_config(settings: Settings) -> dict[str, object]:
    """Session cookie flags: never readable by scripts, not sent on cross-site POSTs, HTTPS-only in production.

    In production the `__Host-` name prefix also makes browsers refuse the cookie unless it is
    Secure, host-only and for path /, so a sibling subdomain cannot plant or overwrite it.
    """
    return {
        "SESSION_COOKIE_NAME": "__Host-c360_session" if settings.is_production else "session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.is_production,
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": settings.is_production,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=settings.session_hours),
    }


def init_app(server: Flask, settings: Settings | None = None) -> None:
    """Cookie flags, headers on every response, the CSRF gate, the login rate limiter and proxy handling."""
    settings = settings or server.extensions["c360_settings"]
    server.config.update(cookie_config(settings))
    if settings.testing and not settings.is_production:
        from dashboard.passwords import use_fast_hashing_for_tests

        use_fast_hashing_for_tests()
    if settings.proxy_hops:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops,
                                   x_host=settings.proxy_hops)
    server.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # _csrf_gate decides, see above
    server.config["RATELIMIT_STORAGE_URI"] = settings.ratelimit_storage_uri
    # If a shared store (e.g. redis) is down, keep counting in memory rather than refuse every sign-in.
    server.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    server.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    csrf.init_app(server)
    limiter.init_app(server)
    # First of all request hooks: a cross-site callback is refused before anything else looks at it.
    server.before_request_funcs.setdefault(None, []).insert(0, _csrf_gate)
    server.after_request(_add_headers)
