"""Password hashing with argon2."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


class WeakPassword(ValueError):
    """The password does not meet the policy."""


def check_policy(password: str) -> None:
    """Raise WeakPassword unless `password` meets the length policy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against a real hash for unknown emails keeps login timing uniform.
DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")
