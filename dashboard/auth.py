"""Login (with optional TOTP step), logout, server-side sessions, API tokens and the request gate.

A browser session is a row in app.user_session; the signed cookie holds only its random id.
Every request reloads the row and the user, so logout, revocation, deactivation, the idle
timeout and the absolute lifetime all take effect at the next request. Anonymous API calls
get 401, page requests a login redirect.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, func, select
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from dashboard import account, audit, audit_export
from dashboard.api_errors import PASSWORD_CHANGE_REQUIRED, error_response
from dashboard.credentials import hash_session_id, verify_totp
from dashboard.extensions import db, login_manager
from dashboard.landing import landing_path
from dashboard.passwords import dummy_hash, verify_password
from dashboard.security import SELF_VALIDATING_ENDPOINTS, limiter, path_within
from dashboard.settings import Settings
from dashboard.tables.app import User, UserSession
from dashboard.tokens import authenticate_token

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

# Paths an anonymous visitor may reach: the login forms, their static styling, the health probe, and
# the sign-out page (which sends a signed-out visitor on to the login form). Each is matched on a path
# boundary (see dashboard.security.path_within): /login and /login/totp are public, /loginx is not.
PUBLIC_PATHS = ("/login", "/logout", "/assets", "/healthz", "/_favicon.ico", "/favicon.ico")
API_PREFIXES = ("/_dash-", "/api/", "/_reload-hash")
# Reachable while a password change is pending.
PASSWORD_CHANGE_PATHS = ("/account/password", "/logout", "/assets", "/healthz", "/_favicon.ico", "/favicon.ico")
# Updating last_seen_at on every request would make every read a write; this resolution is plenty
# for an idle timeout measured in minutes.
LAST_SEEN_RESOLUTION = timedelta(seconds=30)
TOTP_PENDING_SECONDS = 300


@dataclass(frozen=True)
class SessionUser:
    """The logged-in user as the request sees it: identity, role, permissions and scope."""

    id: int
    email: str
    full_name: str
    role: str
    permissions: frozenset[str]
    territories: tuple[str, ...] = field(default=())
    account_ids: tuple[str, ...] = field(default=())
    must_change_password: bool = False
    totp_enrolled: bool = False
    # "session" for a browser, "token" for an API token.
    auth_method: str = "session"

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


def session_user(user: User, auth_method: str = "session") -> SessionUser:
    """The request-time view of a user row."""
    return SessionUser(id=user.id, email=user.email, full_name=user.full_name,
                       role=user.role_name, permissions=frozenset(user.role.permissions or ()),
                       territories=tuple(user.territories or ()), account_ids=tuple(user.account_ids or ()),
                       must_change_password=bool(user.must_change_password),
                       totp_enrolled=user.totp_secret is not None, auth_method=auth_method)


_session_user = session_user  # older name, kept for callers


def _settings() -> Settings:
    # Read from the app, not dashboard.current_settings: the package imports this module in create_app.
    return current_app.extensions["c360_settings"]


def _now() -> datetime:
    return datetime.now(UTC)


# --- loading the user on each request -----------------------------------------------------------
@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    """The session's user if the session is live: not revoked, not idle or past its lifetime, user active."""
    raw_sid = session.get("sid")
    if not user_id.isdigit() or not isinstance(raw_sid, str):
        return None
    settings = _settings()
    now = _now()
    with db.begin() as s:
        row = s.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                        .where(UserSession.sid_hash == hash_session_id(raw_sid))).one_or_none()
        if row is None:
            return None
        user_session, user = row
        if user.id != int(user_id) or user_session.revoked_at is not None or not user.is_active:
            g.c360_session_ended = "revoked"
            return None
        too_old = now - user_session.created_at > timedelta(hours=settings.session_hours)
        idle = now - user_session.last_seen_at > timedelta(minutes=settings.session_idle_minutes)
        if too_old or idle:
            user_session.revoked_at = now
            g.c360_session_ended = "expired"
            audit.record_in(s, audit.SESSION_EXPIRED, target=user.email, actor=user.email, user_id=user.id,
                            detail={"reason": "lifetime" if too_old else "idle"})
            return None
        if now - user_session.last_seen_at >= LAST_SEEN_RESOLUTION:
            user_session.last_seen_at = now
        return session_user(user)


@login_manager.request_loader
def load_user_from_token(req) -> SessionUser | None:
    """`Authorization: Bearer <token>` authenticates calls under /api/ only."""
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    with db.begin() as s:
        user = authenticate_token(s, header[7:].strip())
        if user is None:
            # Audited once a minute per address, so a script retrying a dead token cannot flood the trail.
            if _first_this_minute("token:" + audit.client_ip()):
                audit.record_in(s, audit.TOKEN_REFUSED, target=req.path[:200], actor="",
                                detail={"prefix": header[7:19]})
            return None
        return session_user(user, auth_method="token")


def start_session(user: User) -> None:
    """Begin a fresh browser session for `user` (a new id defeats session fixation)."""
    session.clear()
    session.permanent = True
    raw_sid = secrets.token_urlsafe(32)
    now = _now()
    settings = _settings()
    with db.begin() as s:
        # Rows older than any live session can be are of no further use.
        s.execute(delete(UserSession).where(
            UserSession.user_id == user.id,
            UserSession.created_at < now - timedelta(hours=settings.session_hours) - timedelta(days=1)))
        s.add(UserSession(user_id=user.id, sid_hash=hash_session_id(raw_sid), created_at=now, last_seen_at=now,
                          ip_address=audit.client_ip(),
                          user_agent=(request.headers.get("User-Agent") or "")[:300]))
        s.get(User, user.id).last_login_at = now
    session["sid"] = raw_sid
    login_user(session_user(user))
    audit.record(audit.LOGIN, actor=user.email, user_id=user.id)


def end_session() -> None:
    """Revoke this browser's session row and clear the cookie."""
    raw_sid = session.get("sid")
    if isinstance(raw_sid, str):
        with db.begin() as s:
            row = s.scalar(select(UserSession).where(UserSession.sid_hash == hash_session_id(raw_sid)))
            if row is not None and row.revoked_at is None:
                row.revoked_at = _now()
    logout_user()
    session.clear()


# --- forms --------------------------------------------------------------------------------------
class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class TotpForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(min=6, max=8)])


class LogoutForm(FlaskForm):
    """No fields: only the CSRF token, so another site cannot sign the user out."""


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    with db.session() as s:
        user = s.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        # Verify even for unknown emails so response time does not reveal which emails exist.
        ok = verify_password(user.password_hash if user else dummy_hash(), password)
        if user is None or not ok or not user.is_active:
            return None
        s.expunge(user)
        return user


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths may be a post-login destination; "" when none (or only the
    site's root) was asked for, so the role's landing page applies."""
    if not target or target == "/":
        return ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return ""
    return target


# --- rate limits ----------------------------------------------------------------------------------
def _account_key() -> str:
    """The account a sign-in attempt is for: the form's email, or the user awaiting a TOTP code."""
    email = request.form.get("email") or session.get("totp_email") or ""
    return "account:" + email.strip().lower()[:254] if email.strip() else ""


def _ip_key() -> str:
    return "ip:" + (audit.client_ip() or "unknown")


_last_audited: dict[str, float] = {}


def _first_this_minute(key: str) -> bool:
    """Whether `key` was not audited in the last minute: repeated refusals must not flood the trail."""
    now = time.monotonic()
    if now - _last_audited.get(key, -3600.0) <= 60:
        return False
    if len(_last_audited) > 10_000:
        _last_audited.clear()
    _last_audited[key] = now
    return True


def _locked_out(request_limit) -> object:
    """Tell the user plainly, and audit the lockout (once a minute per account or address, not per try)."""
    key = request_limit.request_args[0]
    minutes = max(1, round((request_limit.window.reset_time - time.time()) / 60))
    if _first_this_minute("locked:" + key):
        kind, _, who = key.partition(":")
        audit.record(audit.LOGIN_LOCKED, target=key, actor=who if kind == "account" else "",
                     detail={"limit": str(request_limit.limit), "scope": kind})
    what = "this account" if key.startswith("account:") else "your network address"
    error = (f"Too many failed sign-in attempts for {what}. For your security, sign-in is paused: "
             f"try again in about {minutes} minute{'s' if minutes != 1 else ''}.")
    template = "login_totp.html" if request.path.startswith("/login/totp") else "login.html"
    form = TotpForm() if template == "login_totp.html" else LoginForm()
    response = make_response(render_template(template, title="Sign in", form=form, error=error, message=None,
                                             next_url=_safe_next(request.args.get("next"))), 429)
    response.headers["Retry-After"] = str(minutes * 60)
    return response


def _failed(response) -> bool:
    return response.status_code != 302


def _login_limits(view):
    """Failed attempts only count (a successful sign-in redirects), per account and per address."""
    view = limiter.limit(lambda: _settings().login_limit_account, key_func=_account_key, methods=["POST"],
                         scope="login-account", deduct_when=_failed, on_breach=_locked_out)(view)
    return limiter.limit(lambda: _settings().login_limit_ip, key_func=_ip_key, methods=["POST"],
                         scope="login-ip", deduct_when=_failed, on_breach=_locked_out)(view)


# --- views ----------------------------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
@_login_limits
def login():
    """Show the login form; on valid credentials start a session, or ask for the TOTP code first."""
    next_url = _safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or landing_path(current_user.role))
    form = LoginForm()
    error = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            email = (form.email.data or "").strip().lower()
            user = authenticate(email, form.password.data or "")
            if user is not None and user.totp_secret:
                session.clear()
                session.update(totp_uid=user.id, totp_email=user.email, totp_at=time.time(), totp_next=next_url)
                return redirect(url_for("auth.login_totp"))
            if user is not None:
                start_session(user)
                return redirect(next_url or landing_path(user.role_name))
            audit.record(audit.LOGIN_FAILED, actor=email[:254], detail={"reason": "bad credentials"})
            error = "That email and password do not match an active account."
        else:
            error = "Your form expired or was incomplete. Please try again."
        status = 401
    message = None
    if request.args.get("signed_out"):
        message = "You have been signed out."
    elif request.args.get("expired"):
        message = "Your session ended. Please sign in again."
    return render_template("login.html", title="Sign in", form=form, error=error, message=message,
                           next_url=next_url), status


@bp.route("/login/totp", methods=["GET", "POST"])
@_login_limits
def login_totp():
    """Second step for users with TOTP enrolled."""
    user_id = session.get("totp_uid")
    if not isinstance(user_id, int) or time.time() - float(session.get("totp_at", 0)) > TOTP_PENDING_SECONDS:
        session.clear()
        return redirect(url_for("auth.login"))
    form = TotpForm()
    error = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            with db.begin() as s:
                user = s.get(User, user_id)
                step = None
                if user is not None and user.is_active and user.totp_secret:
                    step = verify_totp(user.totp_secret, form.code.data or "", user.totp_last_step)
                if step is not None:
                    user.totp_last_step = step
                    s.flush()
                    s.expunge(user)
            if step is not None:
                next_url = _safe_next(session.get("totp_next"))
                start_session(user)
                return redirect(next_url or landing_path(user.role_name))
            audit.record(audit.LOGIN_FAILED, actor=str(session.get("totp_email", "")),
                         user_id=user_id, detail={"reason": "wrong TOTP code"})
            error = "That code is not valid. Check your authenticator app's time and try the next code."
        else:
            error = "Enter the 6-digit code."
        status = 401
    return render_template("login_totp.html", title="Two-step sign-in", form=form, error=error), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET asks to confirm; a POST with the form's CSRF token ends the session, server-side too.

    Signing out by GET would let any page (an image tag, a link) sign the user out behind their back.
    """
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", signed_out=1))
    form = LogoutForm()
    if request.method == "GET":
        return render_template("logout.html", title="Sign out", form=form)
    if not form.validate_on_submit():
        return render_template("logout.html", title="Sign out", form=form,
                               error="Your form expired. Please press Sign out again."), 400
    if getattr(current_user, "auth_method", "") == "session":
        audit.record(audit.LOGOUT)
    end_session()
    return redirect(url_for("auth.login", signed_out=1))


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on their own (the sign-in form included). Sent to the sign-in form,
    that request could start a second session whose cookie replaced the form's, and a quick sign-in was
    then refused as an expired form; it goes to Dash's icon instead, without a session."""
    return redirect("/_favicon.ico", code=301)


@bp.route("/healthz")
def healthz():
    """Liveness probe for load balancers."""
    return jsonify(status="ok")


def _refuse(path: str, status: int, message: str, code: str | None = None):
    """The data API's error shape under /api/; Dash's internal routes keep their plain `{"error": ...}`."""
    if path_within(path, ("/api",)):
        return error_response(status, message, code)
    return jsonify(error=message), status


def _gate():
    """Anonymous requests: 401 for Dash's internal and API routes, a login redirect for pages.

    A user whose password must change may reach only the change-password page.
    """
    path = request.path
    if current_user.is_authenticated:
        if current_user.must_change_password and current_user.auth_method == "session" \
                and not path_within(path, PASSWORD_CHANGE_PATHS):
            if path.startswith(API_PREFIXES):
                return _refuse(path, 403, "password change required", PASSWORD_CHANGE_REQUIRED)
            return redirect(url_for("account.password"))
        return None
    ended = g.get("c360_session_ended")
    if "_user_id" in session or "sid" in session:
        session.clear()  # a dead session: drop it, so the browser gets a clean cookie
    if path_within(path, PUBLIC_PATHS):
        return None
    if path.startswith(API_PREFIXES):
        return _refuse(path, 401, "authentication required")
    args = {"next": request.full_path.rstrip("?")}
    if ended:
        args["expired"] = 1
    return redirect(url_for("auth.login", **args))


def init_app(server: Flask) -> None:
    """Bind Flask-Login, the login and account views, and gate every request."""
    login_manager.init_app(server)
    login_manager.session_protection = "strong"
    server.register_blueprint(bp)
    account.init_app(server)
    audit_export.init_app(server)
    SELF_VALIDATING_ENDPOINTS.update({"auth.login", "auth.login_totp", "auth.logout"})
    server.before_request(_gate)
