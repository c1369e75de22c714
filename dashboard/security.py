"""Security headers, CSRF protection, the login rate limiter and trusted-proxy handling.

CSRF: HTML forms (login, account and admin forms) carry a Flask-WTF token, checked for every
unsafe request. Two kinds of request are exempt, and why:
- Dash callbacks (`POST /_dash-*`) are JSON. A cross-site page cannot send them with the session
  cookie: the cookie is SameSite=Lax (never sent on cross-site POSTs), a cross-site form cannot
  set `Content-Type: application/json` (the callback guard answers 400 to anything else) and we
  grant no CORS. As defence in depth a request whose `Origin` or `Sec-Fetch-Site` says it comes
  from another site is refused with 403.
- API calls that authenticate with `Authorization: Bearer`, or carry no signed-in session: no ambient
  credential is involved (an anonymous API call gets 401 from the sign-in gate). API calls with a
  session cookie need the token in the `X-CSRFToken` header (the API docs page sends it).

Request hygiene: text PostgreSQL cannot store (a NUL character, an unpaired surrogate) in a query
parameter, path segment, form field or JSON body is refused with 400 before any view passes it to a
query, which would otherwise fail with a 500; the callback guard does the same for Dash callbacks.
Under /api/ every error is JSON in one shape (dashboard.api_errors), and a path no API endpoint serves
is a 404 rather than the page shell.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, request, session
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.api_errors import CSRF_FAILED, UNSTORABLE_TEXT, error_response
from dashboard.db import is_database_unavailable
from dashboard.passwords import use_fast_hashing_for_tests
from dashboard.settings import Settings

log = logging.getLogger(__name__)

# Dash renders with inline styles and evaluates callback code; everything is served locally.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_ROOT = "/api"
DASH_CALLBACK_ROUTE = "/_dash-update-component"
# The data API reads small JSON or form bodies at most; anything larger is refused (413) unread.
API_MAX_BODY_BYTES = 64 * 1024
UNSTORABLE_TEXT_MESSAGE = ("the request contains a character that cannot be stored: "
                           "a NUL character or an unpaired surrogate")

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
    if path_within(request.path, ("/login", "/logout", "/account", API_ROOT)):
        # Pages with credentials, tokens or client data must not be kept in shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def path_within(path: str, roots: Iterable[str]) -> bool:
    """Whether `path` is one of `roots` or lies below one, on a path boundary: "/login" covers
    "/login" and "/login/totp" but not "/loginx"."""
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _under_api(path: str) -> bool:
    return path_within(path, (API_ROOT,))


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")  # an unpaired surrogate has no UTF-8 form
    except UnicodeEncodeError:
        return False
    return True


def holds_unstorable_text(value: Any) -> bool:
    """Whether `value`, a string or JSON-like lists and dicts of them (keys too), holds text a
    PostgreSQL text column cannot store."""
    pending = [value]
    while pending:  # a loop, not recursion: the nesting depth is the sender's to choose
        item = pending.pop()
        if isinstance(item, str):
            if not _storable(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return False


def request_json() -> Any:
    """The request's JSON body; None when there is none or it does not parse (too deep a nesting too)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def _refuse_unstorable_text():
    """400 for unstorable text in the path, the query string, a form or a JSON body (callbacks: see
    the callback guard, which checks their JSON itself)."""
    values: list[Any] = [request.view_args or {}, list(request.args.items(multi=True))]
    if request.method in UNSAFE_METHODS:
        values.append(list(request.form.items(multi=True)))
        if request.is_json and request.path != DASH_CALLBACK_ROUTE:
            values.append(request_json())
    if not holds_unstorable_text(values):
        return None
    if _under_api(request.path):
        return error_response(400, UNSTORABLE_TEXT_MESSAGE, UNSTORABLE_TEXT)
    if request.path.startswith("/_dash-"):
        return jsonify(error=UNSTORABLE_TEXT_MESSAGE), 400
    return Response(UNSTORABLE_TEXT_MESSAGE[0].upper() + UNSTORABLE_TEXT_MESSAGE[1:] + ".", status=400,
                    mimetype="text/plain")


def _api_rule_methods(path: str, methods: Iterable[str]) -> list[str]:
    """Which of `methods` an API endpoint (not Dash's catch-all page route) serves at `path`."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    served = []
    for method in methods:
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if _under_api(rule.rule):
            served.append(method)
    return served


def _api_paths_only():
    """Under /api/ a path no API endpoint serves is a JSON 404; Dash's catch-all would answer the page shell."""
    rule = request.url_rule
    if _under_api(request.path) and rule is not None and not _under_api(rule.rule):
        # Dash's catch-all took a GET of a path an API endpoint serves with another method.
        return _not_allowed(_api_rule_methods(request.path, sorted(UNSAFE_METHODS | {"GET"})))
    return None


def _not_allowed(allowed: list[str]) -> Response:
    """405 naming the methods the path does serve, or 404 when it serves none."""
    if not allowed:
        return error_response(404, "not found")
    response = error_response(405, f"method {request.method} is not allowed here; use {', '.join(allowed)}")
    response.headers["Allow"] = ", ".join(allowed)
    return response


def _api_error(error: HTTPException):
    """Errors under /api/ in the API's one JSON shape (dashboard.api_errors); elsewhere Flask's usual answer."""
    if not _under_api(request.path):
        return error
    if isinstance(error, MethodNotAllowed):
        return _not_allowed(_api_rule_methods(request.path, error.valid_methods or ()))
    if isinstance(error, CSRFError):
        return error_response(400, f"{error.description}: send the X-CSRFToken header, or use a bearer token",
                              CSRF_FAILED)
    status = error.code or 500
    response = error_response(status, "not found" if status == 404 else (error.description or error.name))
    if status == 429 and error.get_headers():
        response.headers.extend([h for h in error.get_headers() if h[0] == "Retry-After"])
    return response


def _api_server_error(error: InternalServerError):
    """An unexpected failure under /api/ is JSON too (its traceback goes to the log, not the client)."""
    if not _under_api(request.path):
        return error
    return error_response(500, "the server failed to answer; the error was logged")


# Seconds a client is asked to wait (Retry-After, and the refresh of the page saying so) while the
# database cannot be reached: about a PostgreSQL restart.
UNAVAILABLE_RETRY_SECONDS = 5
UNAVAILABLE_MESSAGE = "the database is temporarily unavailable; try again in a few seconds"


def _database_error(error: Exception):
    """A request that failed on the database: while it cannot be reached (down, restarting, out of
    connections), a 503 that says so, in the API's JSON, Dash's JSON or a page that reloads itself; any
    other database failure is the usual 500, its traceback in the log."""
    if not is_database_unavailable(error):
        current_app.log_exception(error)
        server_error = InternalServerError(original_exception=error)
        return _api_server_error(server_error) if _under_api(request.path) else server_error
    log.warning("database unavailable for %s %s: %s", request.method, request.path, error.__class__.__name__)
    if _under_api(request.path):
        response = error_response(503, UNAVAILABLE_MESSAGE)
    elif request.path.startswith("/_dash-") or request.accept_mimetypes.best == "application/json":
        response = jsonify(error=UNAVAILABLE_MESSAGE)
        response.status_code = 503
    else:
        # Rendered without the context processors: Flask-Login's would try to load the user again.
        page = current_app.jinja_env.get_template("unavailable.html").render(
            title="Temporarily unavailable", retry_seconds=UNAVAILABLE_RETRY_SECONDS)
        response = Response(page, status=503)
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _same_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def _is_bearer_request() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def _limit_api_bodies():
    """Under /api/ a body larger than API_MAX_BODY_BYTES is a 413, declared length or streamed."""
    if not _under_api(request.path):
        return None
    request.max_content_length = API_MAX_BODY_BYTES
    if (request.content_length or 0) > API_MAX_BODY_BYTES:
        return error_response(413, f"the request body is larger than {API_MAX_BODY_BYTES // 1024} KiB")
    return None


def _signed_in_session() -> bool:
    return "sid" in session or "_user_id" in session


def _csrf_gate():
    """Require a CSRF token on unsafe requests, except the JSON and bearer-token requests explained above."""
    if request.method not in UNSAFE_METHODS:
        return None
    if request.path.startswith("/_dash-"):
        origin = request.headers.get("Origin")
        if request.headers.get("Sec-Fetch-Site") == "cross-site" or (origin and not _same_origin(origin)):
            return jsonify(error="cross-site request refused"), 403
        return None
    if _under_api(request.path) and (_is_bearer_request() or not _signed_in_session()):
        # No session, no ambient credential to ride on: the sign-in gate answers 401 instead.
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
        # Sent only when the session changes. Re-sent on every answer (Flask's default for a permanent
        # session), a late answer to a callback of the page just left overwrote the cookie the next
        # page had set, dropping its form token: signing out then failed as "form expired". The
        # idle timeout is kept on the server (auth.load_user), so nothing needs the cookie refreshed.
        "SESSION_REFRESH_EACH_REQUEST": False,
    }


def init_app(server: Flask, settings: Settings | None = None) -> None:
    """Cookie flags, headers on every response, the CSRF gate, the login rate limiter and proxy handling."""
    settings = settings or server.extensions["c360_settings"]
    server.config.update(cookie_config(settings))
    if settings.testing and not settings.is_production:
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
    hooks = server.before_request_funcs.setdefault(None, [])
    # First of all request hooks: a cross-site callback is refused before anything else looks at it,
    # and unstorable text before the sign-in gate or any view reads a value.
    hooks.insert(0, _limit_api_bodies)
    hooks.insert(1, _csrf_gate)
    hooks.insert(2, _refuse_unstorable_text)
    server.before_request(_api_paths_only)
    server.register_error_handler(HTTPException, _api_error)
    server.register_error_handler(InternalServerError, _api_server_error)
    server.register_error_handler(DBAPIError, _database_error)
    server.register_error_handler(PoolTimeout, _database_error)
    server.after_request(_add_headers)
