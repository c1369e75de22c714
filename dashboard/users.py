"""Creating and listing users."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.passwords import check_policy, hash_password
from dashboard.tables.app import Role, User


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def create_user(session: Session, *, email: str, role: str, password: str,
                full_name: str = "", territories: list[str] | None = None) -> User:
    """Add a user after checking the email, role and password policy."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise UserError(f"{email!r} is not a valid email address.")
    if session.get(Role, role) is None:
        known = ", ".join(session.scalars(select(Role.name).order_by(Role.name)))
        raise UserError(f"Unknown role {role!r}. Known roles: {known}.")
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise UserError(f"A user with email {email} already exists.")
    try:
        check_policy(password)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    user = User(email=email, role_name=role, password_hash=hash_password(password),
                full_name=full_name, territories=territories or [], is_active=True)
    session.add(user)
    session.flush()
    return user


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
            create_user(session, email=login.email, role=login.role,
                        password=DEMO_PASSWORD, full_name=login.full_name)
    return list(DEMO_LOGINS)
