"""The user's own account: change password, API tokens and two-step sign-in (TOTP).

Plain Flask forms (each with a CSRF token), reachable by any signed-in user for their own account.
"""

from __future__ import annotations

import pyotp
import qrcode
import qrcode.image.svg
from flask import Blueprint, Flask, abort, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from dashboard import audit
from dashboard.credentials import current_session_hash, verify_totp
from dashboard.extensions import db
from dashboard.landing import landing_path
from dashboard.passwords import MIN_PASSWORD_LENGTH, verify_password
from dashboard.permissions import MANAGE_USERS
from dashboard.security import SELF_VALIDATING_ENDPOINTS
from dashboard.tables.app import User
from dashboard.tokens import (
    MAX_EXPIRES_DAYS,
    TokenError,
    create_token,
    list_tokens,
    revoke_token,
    token_owner,
)
from dashboard.users import UserError, change_own_password

bp = Blueprint("account", __name__, url_prefix="/account")
TOTP_ISSUER = "Client360"


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])
    confirm_password = PasswordField("Repeat", validators=[
        DataRequired(), EqualTo("new_password", message="The two new passwords differ.")])


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    expires_days = IntegerField("Expires after (days)", validators=[
        Optional(), NumberRange(min=1, max=MAX_EXPIRES_DAYS)])


class TotpEnrolForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(min=6, max=8)])


class TotpDisableForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    code = StringField("Code", validators=[DataRequired(), Length(min=6, max=8)])


def _form_error(form: FlaskForm) -> str:
    for field_errors in form.errors.values():
        if field_errors:
            message = field_errors[0]
            return "Your form expired. Please try again." if "CSRF" in message else str(message)
    return "Please complete the form."


def _require_session_user() -> None:
    """Account pages are for people in a browser, not API tokens."""
    if not current_user.is_authenticated or current_user.auth_method != "session":
        abort(401)


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Change your own password; required first when an administrator set it."""
    _require_session_user()
    form = ChangePasswordForm()
    error = message = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with db.begin() as s:
                    change_own_password(s, current_user.id, current_password=form.current_password.data or "",
                                        new_password=form.new_password.data or "",
                                        keep_session_hash=current_session_hash())
                # A change the administrator required is the last sign-in step: on to the role's page.
                if current_user.must_change_password:
                    return redirect(landing_path(current_user.role))
                return redirect(url_for("account.password", changed=1))
            except UserError as exc:
                error = str(exc)
        else:
            error = _form_error(form)
        status = 400
    if request.args.get("changed"):
        message = "Your password was changed. Your other sessions were signed out."
    return render_template("account_password.html", title="Change password", form=form, error=error,
                           message=message, forced=current_user.must_change_password,
                           min_length=MIN_PASSWORD_LENGTH), status


def _token_owner_id() -> int:
    """Whose tokens the page shows: your own, or (administrators) those of `?user_id=`."""
    requested = request.args.get("user_id", type=int)
    if requested is None or requested == current_user.id:
        return current_user.id
    if MANAGE_USERS not in current_user.permissions:
        abort(404)
    with db.session() as s:
        if s.get(User, requested) is None:
            abort(404)
    return requested


def _token_page(owner_id: int, form: TokenForm, *, error: str | None = None, new_token: str | None = None,
                message: str | None = None, status: int = 200):
    with db.session() as s:
        tokens = list_tokens(s, owner_id)
        owner_email = s.get(User, owner_id).email
    title = "My API tokens" if owner_id == current_user.id else f"API tokens of {owner_email}"
    return render_template("account_tokens.html", title=title, form=form, tokens=tokens, error=error,
                           message=message, new_token=new_token,
                           owner_query={} if owner_id == current_user.id else {"user_id": owner_id}), status


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    """List, create (shown once) and revoke your own API tokens; administrators, anyone's."""
    _require_session_user()
    owner_id = _token_owner_id()
    form = TokenForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _token_page(owner_id, form, error=_form_error(form), status=400)
        try:
            with db.begin() as s:
                _, raw = create_token(s, owner_id, name=form.name.data or "",
                                      expires_days=form.expires_days.data, actor=current_user.email)
        except TokenError as exc:
            return _token_page(owner_id, form, error=str(exc), status=400)
        return _token_page(owner_id, TokenForm(formdata=None), new_token=raw, status=201)
    message = "Token revoked." if request.args.get("revoked") else None
    return _token_page(owner_id, form, message=message)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token_view(token_id: int):
    """Revoke one of your tokens (administrators: anyone's). CSRF is checked by the security gate."""
    _require_session_user()
    with db.begin() as s:
        owner = token_owner(s, token_id)
        if owner is None or (owner != current_user.id and MANAGE_USERS not in current_user.permissions):
            abort(404)
        revoke_token(s, token_id, actor=current_user.email)
    back = {} if owner == current_user.id else {"user_id": owner}
    return redirect(url_for("account.tokens", revoked=1, **back))


@bp.route("/totp", methods=["GET", "POST"])
def totp():
    """Enrol in two-step sign-in: show a new key, turn it on once the app's code checks out."""
    _require_session_user()
    with db.session() as s:
        enrolled = s.get(User, current_user.id).totp_secret is not None
    if enrolled:
        return render_template("account_totp.html", title="Two-step sign-in", enrolled=True,
                               form=TotpDisableForm(), message="Two-step sign-in is on."
                               if request.args.get("enabled") else None)
    secret = session.get("totp_pending")
    if not isinstance(secret, str):
        secret = session["totp_pending"] = pyotp.random_base32()
    form = TotpEnrolForm()
    error = None
    status = 200
    if request.method == "POST":
        step = verify_totp(secret, form.code.data or "", None) if form.validate_on_submit() else None
        if step is not None:
            with db.begin() as s:
                user = s.get(User, current_user.id)
                user.totp_secret, user.totp_last_step = secret, step
                audit.record_in(s, audit.TOTP_ENROLLED, target=user.email)
            session.pop("totp_pending", None)
            return redirect(url_for("account.totp", enabled=1))
        error = _form_error(form) if form.errors else "That code does not match. Check the key and try again."
        status = 400
    uri = pyotp.TOTP(secret).provisioning_uri(name=current_user.email, issuer_name=TOTP_ISSUER)
    return render_template("account_totp.html", title="Two-step sign-in", enrolled=False, form=form,
                           secret=secret, uri=uri, qr_svg=qr_svg(uri), error=error,
                           is_admin=MANAGE_USERS in current_user.permissions), status


def qr_svg(text: str) -> Markup:
    """The setup link as an inline SVG QR code, drawn here: the secret never goes to another service."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    return Markup(image.to_string(encoding="unicode"))  # our own markup: only path data and numbers


@bp.route("/totp/disable", methods=["POST"])
def totp_disable():
    """Turn two-step sign-in off: needs the password and a current code."""
    _require_session_user()
    form = TotpDisableForm()
    error = "Your form expired. Please try again."
    if form.validate_on_submit():
        with db.begin() as s:
            user = s.get(User, current_user.id)
            ok = (user.totp_secret is not None and verify_password(user.password_hash, form.password.data or "")
                  and verify_totp(user.totp_secret, form.code.data or "", None) is not None)
            if ok:
                user.totp_secret = user.totp_last_step = None
                audit.record_in(s, audit.TOTP_REMOVED, target=user.email)
        if ok:
            return redirect(url_for("account.totp"))
        error = "The password or code is not correct."
    return render_template("account_totp.html", title="Two-step sign-in", enrolled=True, form=form,
                           error=error), 400


def init_app(server: Flask) -> None:
    server.register_blueprint(bp)
    SELF_VALIDATING_ENDPOINTS.update({"account.password", "account.tokens", "account.totp", "account.totp_disable"})
