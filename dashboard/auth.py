"""Login, logout and the request gate: anonymous API calls get 401, page requests a login redirect."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, Flask, jsonify, redirect, render_template_string, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from dashboard import audit
from dashboard.extensions import db, login_manager
from dashboard.passwords import DUMMY_HASH, verify_password
from dashboard.tables.app import User

bp = Blueprint("auth", __name__)

# Paths an anonymous visitor may reach: the login form and its static styling.
PUBLIC_PREFIXES = ("/login", "/assets/", "/healthz", "/_favicon.ico")
API_PREFIXES = ("/_dash-", "/api/", "/_reload-hash")


@dataclass(frozen=True)
class SessionUser:
    """The logged-in user as the request sees it: identity, role, permissions and scope."""

    id: int
    email: str
    full_name: str
    role: str
    permissions: frozenset[str]
    territories: tuple[str, ...] = field(default=())

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


def _session_user(user: User) -> SessionUser:
    return SessionUser(id=user.id, email=user.email, full_name=user.full_name,
                       role=user.role_name, permissions=frozenset(user.role.permissions),
                       territories=tuple(user.territories or ()))


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    """Reload the user on every request, so deactivation and role changes apply at once."""
    if not user_id.isdigit():
        return None
    with db.session() as s:
        user = s.get(User, int(user_id))
        if user is None or not user.is_active:
            return None
        return _session_user(user)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    with db.session() as s:
        user = s.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        # Verify even for unknown emails so response time does not reveal which emails exist.
        ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
        if user is None or not ok or not user.is_active:
            return None
        return user


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths may be a post-login destination."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


LOGIN_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Client360</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/vendor/bootstrap.min.css">
<link rel="stylesheet" href="/assets/client360.css"></head>
<body class="c360-login-body">
<main class="c360-login card shadow-sm">
  <div class="card-body p-4">
    <h1 class="h4 mb-1">Client360</h1>
    <p class="text-muted mb-4">Sign in to your customer dashboards</p>
    {% if error %}<div class="alert alert-danger" role="alert" id="login-error">{{ error }}</div>{% endif %}
    {% if message %}<div class="alert alert-info" role="status">{{ message }}</div>{% endif %}
    <form method="post" action="{{ url_for('auth.login', next=next_url) }}" novalidate>
      {{ form.csrf_token }}
      <div class="mb-3"><label class="form-label" for="email">Email</label>
        {{ form.email(class_="form-control", id="email", autocomplete="username", autofocus=true) }}</div>
      <div class="mb-3"><label class="form-label" for="password">Password</label>
        {{ form.password(class_="form-control", id="password", autocomplete="current-password") }}</div>
      <button type="submit" class="btn btn-primary w-100" id="login-submit">Sign in</button>
    </form>
  </div>
</main></body></html>"""


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on valid credentials start a session."""
    next_url = _safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    error = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            user = authenticate(form.email.data or "", form.password.data or "")
            if user is not None:
                session.clear()  # a fresh session on login defeats session fixation
                session.permanent = True
                login_user(_session_user(user))
                with db.begin() as s:
                    s.get(User, user.id).last_login_at = datetime.now(UTC)
                audit.record("login", actor=user.email, user_id=user.id)
                return redirect(next_url)
            audit.record("login_failed", actor=(form.email.data or "")[:254])
            error = "That email and password do not match an active account."
        else:
            error = "Your form expired or was incomplete. Please try again."
        status = 401
    message = "You have been signed out." if request.args.get("signed_out") else None
    return render_template_string(LOGIN_TEMPLATE, form=form, error=error, message=message,
                                  next_url=next_url), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """End the session."""
    if current_user.is_authenticated:
        audit.record("logout")
    logout_user()
    session.clear()
    return redirect(url_for("auth.login", signed_out=1))


@bp.route("/healthz")
def healthz():
    """Liveness probe for load balancers."""
    return jsonify(status="ok")


def _gate():
    """Anonymous requests: 401 for Dash's internal and API routes, a login redirect for pages."""
    if current_user.is_authenticated:
        return None
    path = request.path
    if path.startswith(PUBLIC_PREFIXES):
        return None
    if path.startswith(API_PREFIXES):
        return jsonify(error="authentication required"), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(server: Flask) -> None:
    """Bind Flask-Login and the login views, and gate every request."""
    login_manager.init_app(server)
    login_manager.session_protection = "strong"
    server.register_blueprint(bp)
    server.before_request(_gate)
