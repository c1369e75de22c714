"""User administration services: create, edit, (de)activate, reset passwords, revoke sessions, roles.

Every function takes the caller's session (one transaction per request or command), validates
its input, raises `UserError` with a message fit to show, and adds an audit event to the same
transaction, so the trail holds exactly the changes that were committed. `actor` is the acting
user's email, or "cli".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from dashboard import audit
from dashboard.passwords import (
    WeakPassword,
    check_policy,
    generate_initial_password,
    hash_password,
    verify_password,
)
from dashboard.permissions import ALL_PERMISSIONS, MANAGE_USERS
from dashboard.tables.app import ApiToken, Role, User, UserSession
from dashboard.tables.gold import Customer360
from dashboard.tables.silver import User as CrmUser


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


@dataclass(frozen=True)
class CreatedUser:
    """A new user, and the one-time initial password when one was generated (shown once)."""

    user: User
    initial_password: str | None


@dataclass(frozen=True)
class UserSummary:
    """One row of the users list."""

    id: int
    email: str
    full_name: str
    role: str
    is_active: bool
    territories: tuple[str, ...]
    account_ids: tuple[str, ...]
    crm_user_id: str | None
    created_at: datetime
    last_login_at: datetime | None
    must_change_password: bool
    totp_enrolled: bool
    active_tokens: int


def _now() -> datetime:
    return datetime.now(UTC)


def _clean_list(values: Iterable[str] | None, what: str) -> list[str]:
    """Trimmed, de-duplicated, order-kept strings; refuses blanks hidden among them."""
    cleaned: list[str] = []
    for value in values or ():
        if not isinstance(value, str):
            raise UserError(f"Each {what} must be text, not {value!r}.")
        value = value.strip()
        if not value:
            continue
        if len(value) > 200:
            raise UserError(f"{what.capitalize()} {value[:40]!r}... is too long.")
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _require_role(session: Session, role: str) -> Role:
    found = session.get(Role, role)
    if found is None:
        known = ", ".join(session.scalars(select(Role.name).order_by(Role.name)))
        raise UserError(f"Unknown role {role!r}. Known roles: {known}.")
    return found


def _require_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise UserError(f"No user with id {user_id!r}.")
    return user


def _apply_policy(password: str, user_email: str, full_name: str) -> None:
    try:
        check_policy(password, email=user_email, full_name=full_name)
    except WeakPassword as exc:
        raise UserError(str(exc)) from exc


def _checked_crm_user(session: Session, crm_user_id: str | None) -> str | None:
    """The CRM user id trimmed, or None for none; refuses an id the CRM data does not hold."""
    if crm_user_id is None or not isinstance(crm_user_id, str) or not crm_user_id.strip():
        return None
    crm_user_id = crm_user_id.strip()
    if session.get(CrmUser, crm_user_id) is None:
        loaded = session.scalar(select(func.count()).select_from(CrmUser))
        raise UserError(f"No CRM user {crm_user_id[:60]!r} among the {loaded:,} CRM users loaded; "
                        "use the user id of the CRM's users export (see `c360 users crm`).")
    return crm_user_id


def _active_admin_ids(session: Session) -> set[int]:
    """Active users whose role holds manage_users: the people who can fix everything else."""
    return set(session.scalars(select(User.id).join(Role, Role.name == User.role_name)
                               .where(User.is_active, Role.permissions.contains([MANAGE_USERS]))))


def _refuse_losing_last_admin(session: Session, user: User, *, becomes_admin: bool) -> None:
    admins = _active_admin_ids(session)
    if not becomes_admin and admins == {user.id}:
        raise UserError(f"{user.email} is the last active user who can manage users; "
                        "give another user that permission first.")


def create_user(session: Session, *, email: str, role: str, password: str | None = None,
                full_name: str = "", territories: list[str] | None = None,
                account_ids: list[str] | None = None, crm_user_id: str | None = None,
                actor: str | None = None) -> CreatedUser:
    """Add a user after checking the email, role, CRM user and password policy.

    Without `password`, a one-time initial password is generated and returned, and the user
    must choose their own at first login.
    """
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise UserError(f"{email!r} is not a valid email address.")
    _require_role(session, role)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise UserError(f"A user with email {email} already exists.")
    crm_user_id = _checked_crm_user(session, crm_user_id)
    full_name = (full_name or "").strip()
    initial_password = None
    if password is None:
        initial_password = password = generate_initial_password()
    else:
        _apply_policy(password, email, full_name)
    user = User(email=email, role_name=role, password_hash=hash_password(password),
                full_name=full_name, territories=_clean_list(territories, "territory"),
                account_ids=_clean_list(account_ids, "account id"), crm_user_id=crm_user_id, is_active=True,
                must_change_password=initial_password is not None)
    session.add(user)
    session.flush()
    audit.record_in(session, audit.USER_CREATED, target=email, actor=actor, detail={
        "role": role, "territories": user.territories, "account_ids": user.account_ids,
        "crm_user_id": crm_user_id, "initial_password": initial_password is not None})
    return CreatedUser(user=user, initial_password=initial_password)


def update_user(session: Session, user_id: int, *, role: str | None = None,
                territories: list[str] | None = None, account_ids: list[str] | None = None,
                full_name: str | None = None, crm_user_id: str | None = None, actor: str) -> User:
    """Change a user's role, scope, CRM user or name; None leaves a field as it is, [] clears a scope
    and "" unlinks the CRM user."""
    user = _require_user(session, user_id)
    changes: dict[str, dict[str, object]] = {}
    if role is not None and role != user.role_name:
        new_role = _require_role(session, role)
        _refuse_losing_last_admin(session, user, becomes_admin=MANAGE_USERS in new_role.permissions)
        changes["role"] = {"from": user.role_name, "to": role}
        user.role_name = role
        user.role = new_role
    if territories is not None:
        cleaned = _clean_list(territories, "territory")
        if cleaned != list(user.territories or []):
            changes["territories"] = {"from": list(user.territories or []), "to": cleaned}
            user.territories = cleaned
    if account_ids is not None:
        cleaned = _clean_list(account_ids, "account id")
        if cleaned != list(user.account_ids or []):
            changes["account_ids"] = {"from": list(user.account_ids or []), "to": cleaned}
            user.account_ids = cleaned
    if crm_user_id is not None:
        linked = _checked_crm_user(session, crm_user_id)
        if linked != user.crm_user_id:
            changes["crm_user_id"] = {"from": user.crm_user_id, "to": linked}
            user.crm_user_id = linked
    if full_name is not None and full_name.strip() != user.full_name:
        changes["full_name"] = {"from": user.full_name, "to": full_name.strip()}
        user.full_name = full_name.strip()
    if changes:
        session.flush()
        audit.record_in(session, audit.USER_UPDATED, target=user.email, actor=actor, detail=changes)
    return user


def set_user_active(session: Session, user_id: int, active: bool, *, actor: str) -> User:
    """Deactivate (which also ends the user's sessions and revokes their API tokens) or reactivate."""
    user = _require_user(session, user_id)
    if user.is_active == active:
        return user
    if not active:
        _refuse_losing_last_admin(session, user, becomes_admin=False)
        _revoke_sessions(session, user.id)
        _revoke_tokens(session, user.id)
    user.is_active = active
    session.flush()
    audit.record_in(session, audit.USER_REACTIVATED if active else audit.USER_DEACTIVATED,
                    target=user.email, actor=actor)
    return user


def reset_password(session: Session, user_id: int, *, actor: str) -> str:
    """Give the user a one-time password (returned, to hand over once); they must change it at login."""
    user = _require_user(session, user_id)
    password = generate_initial_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.password_changed_at = _now()
    ended = _revoke_sessions(session, user.id)
    audit.record_in(session, audit.PASSWORD_RESET, target=user.email, actor=actor,
                    detail={"sessions_ended": ended})
    return password


def remove_totp(session: Session, user_id: int, *, actor: str) -> User:
    """Turn a user's two-step sign-in off (a lost phone); they sign in with their password and may enrol again."""
    user = _require_user(session, user_id)
    if user.totp_secret is None:
        raise UserError(f"{user.email} has no two-step sign-in to remove.")
    user.totp_secret = user.totp_last_step = None
    ended = _revoke_sessions(session, user.id)
    audit.record_in(session, audit.TOTP_REMOVED, target=user.email, actor=actor, detail={"sessions_ended": ended})
    return user


def change_own_password(session: Session, user_id: int, *, current_password: str, new_password: str,
                        keep_session_hash: str | None = None) -> User:
    """The user's own change: checks the current password and the policy; ends their other sessions."""
    user = _require_user(session, user_id)
    if not verify_password(user.password_hash, current_password or ""):
        raise UserError("Your current password is not correct.")
    if verify_password(user.password_hash, new_password or ""):
        raise UserError("Choose a password different from your current one.")
    _apply_policy(new_password or "", user.email, user.full_name)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = _now()
    ended = _revoke_sessions(session, user.id, except_hash=keep_session_hash)
    audit.record_in(session, audit.PASSWORD_CHANGED, target=user.email, actor=user.email, user_id=user.id,
                    detail={"other_sessions_ended": ended})
    return user


def _revoke_sessions(session: Session, user_id: int, *, except_hash: str | None = None) -> int:
    query = (update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
             .values(revoked_at=_now()))
    if except_hash:
        query = query.where(UserSession.sid_hash != except_hash)
    return session.execute(query).rowcount or 0


def _revoke_tokens(session: Session, user_id: int) -> int:
    query = (update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
             .values(revoked_at=_now()))
    return session.execute(query).rowcount or 0


def revoke_sessions(session: Session, user_id: int, *, actor: str) -> None:
    """End every signed-in session of the user: their next request goes to the login page."""
    user = _require_user(session, user_id)
    ended = _revoke_sessions(session, user.id)
    audit.record_in(session, audit.SESSIONS_REVOKED, target=user.email, actor=actor,
                    detail={"sessions_ended": ended})


def list_users(session: Session, *, search: str = "") -> list[UserSummary]:
    """Users ordered by email; `search` matches email, name or role, ignoring case."""
    tokens = (select(ApiToken.user_id, func.count().label("n"))
              .where(ApiToken.revoked_at.is_(None),
                     or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > func.now()))
              .group_by(ApiToken.user_id).subquery())
    query = (select(User, func.coalesce(tokens.c.n, 0))
             .outerjoin(tokens, tokens.c.user_id == User.id).order_by(User.email))
    if search.strip():
        pattern = "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.email.ilike(pattern), User.full_name.ilike(pattern),
                                User.role_name.ilike(pattern)))
    return [UserSummary(id=u.id, email=u.email, full_name=u.full_name, role=u.role_name,
                        is_active=u.is_active, territories=tuple(u.territories or ()),
                        account_ids=tuple(u.account_ids or ()), crm_user_id=u.crm_user_id,
                        created_at=u.created_at,
                        last_login_at=u.last_login_at, must_change_password=u.must_change_password,
                        totp_enrolled=u.totp_secret is not None, active_tokens=int(n))
            for u, n in session.execute(query)]


def set_role_permissions(session: Session, role_name: str, permissions: list[str], *, actor: str) -> Role:
    """Replace a role's permissions; refuses unknown names and removing manage_users from the last role holding it."""
    role = _require_role(session, role_name)
    unknown = sorted(set(permissions) - set(ALL_PERMISSIONS))
    if unknown:
        raise UserError(f"Unknown permission(s): {', '.join(unknown)}. Known: {', '.join(ALL_PERMISSIONS)}.")
    wanted = [p for p in ALL_PERMISSIONS if p in set(permissions)]  # canonical order, no duplicates
    if MANAGE_USERS in role.permissions and MANAGE_USERS not in wanted:
        others = session.scalar(select(func.count()).select_from(Role).where(
            Role.name != role.name, Role.permissions.contains([MANAGE_USERS])))
        if not others:
            raise UserError(f"Role {role.name!r} is the last role with {MANAGE_USERS}; "
                            "removing it would lock every administrator out.")
    before = list(role.permissions or [])
    if before != wanted:
        role.permissions = wanted
        session.flush()
        audit.record_in(session, audit.ROLE_CHANGED, target=role.name, actor=actor, detail={
            "added": [p for p in wanted if p not in before],
            "removed": [p for p in before if p not in wanted]})
    return role


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    full_name: str


DEMO_PASSWORD = "client360-demo"
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", "admin@demo.client360.dev", "Ada Admin"),
    DemoLogin("executive", "exec@demo.client360.dev", "Elena Executive"),
    DemoLogin("sales_manager", "sales@demo.client360.dev", "Sam Sales"),
    DemoLogin("account_manager", "am@demo.client360.dev", "Amara Account"),
    DemoLogin("support_lead", "support@demo.client360.dev", "Sipho Support"),
    DemoLogin("marketing_manager", "marketing@demo.client360.dev", "Mia Marketing"),
    DemoLogin("billing", "billing@demo.client360.dev", "Ben Billing"),
)


def ensure_demo_users(session: Session) -> list[DemoLogin]:
    """Create the demo login for each role unless it already exists."""
    for login in DEMO_LOGINS:
        exists = session.scalar(select(User.id).where(User.email == login.email))
        if exists is None:
            create_user(session, email=login.email, role=login.role, password=DEMO_PASSWORD,
                        full_name=login.full_name, actor="demo")
    return list(DEMO_LOGINS)


# The demo's account manager owns a realistic book: this many customers in the CRM, about the middle.
DEMO_BOOK_SIZE = (50, 150)


def _demo_region_manager(session: Session) -> tuple[str, str] | None:
    """The active CRM sales manager of the region with the most customers: (user id, what they get)."""
    customers = func.count(Customer360.account_id)
    found = session.execute(
        select(CrmUser.user_id, CrmUser.region, customers)
        .join(Customer360, Customer360.region == CrmUser.region)
        .where(CrmUser.role == "sales_manager", CrmUser.is_active.is_not(False))
        .group_by(CrmUser.user_id, CrmUser.region)
        .order_by(customers.desc(), CrmUser.user_id).limit(1)).first()
    return (found.user_id, f"sales manager of {found.region}, {found[2]:,} customers") if found else None


def _demo_book_owner(session: Session) -> tuple[str, str] | None:
    """The active CRM account manager whose book is within DEMO_BOOK_SIZE, nearest its middle; with no
    such book (the small demo data), the one nearest the range."""
    book = func.count(Customer360.account_id)
    low, high = DEMO_BOOK_SIZE
    outside_by = func.greatest(low - book, book - high, 0)
    found = session.execute(
        select(CrmUser.user_id, book)
        .join(Customer360, Customer360.owner_user_id == CrmUser.user_id)
        .where(CrmUser.role == "account_manager", CrmUser.is_active.is_not(False))
        .group_by(CrmUser.user_id)
        .order_by(outside_by, func.abs(book - (low + high) // 2), CrmUser.user_id).limit(1)).first()
    return (found.user_id, f"account manager owning {found[1]:,} customers") if found else None


def link_demo_books(session: Session) -> dict[str, str]:
    """Link the demo sales manager to a CRM region's manager and the demo account manager to a CRM
    account manager with a realistic book, once: a link an admin changed later is left alone."""
    linked: dict[str, str] = {}
    for email, pick in (("sales@demo.client360.dev", _demo_region_manager),
                        ("am@demo.client360.dev", _demo_book_owner)):
        user = session.scalar(select(User).where(User.email == email))
        if user is None or user.crm_user_id:
            continue
        found = pick(session)
        if found is not None:
            update_user(session, user.id, crm_user_id=found[0], actor="demo")
            linked[email] = f"CRM user {found[0]}, {found[1]}"
    return linked
