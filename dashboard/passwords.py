"""Password hashing with argon2, and the password policy.

The policy follows NIST SP 800-63B: a minimum length, no composition rules, and a check
against passwords attackers try first. The list of common passwords is the 30,000 most
frequent leaked passwords that ships with zxcvbn (no network access at runtime); zxcvbn's
estimate then refuses what is merely a variation of them, of the user's email or name.
"""

from __future__ import annotations

import functools
import secrets
import string
import threading
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

_hasher = PasswordHasher()
# Each argon2 hash or check takes 64 MiB while it runs (the memory cost that makes guessing dear). A web
# worker serving a burst of sign-ins on all its threads at once would hold that many times over; two at a
# time bound it at 128 MiB, and the others wait a few tens of milliseconds.
_HASHING_SLOTS = threading.BoundedSemaphore(2)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
# zxcvbn score 3: "safely unguessable", about 10^8 guesses or more.
MIN_STRENGTH_SCORE = 3
# zxcvbn's estimate is quadratic in length; the rest of a very long password adds no risk.
_STRENGTH_CHECKED_CHARS = 100


class WeakPassword(ValueError):
    """The password does not meet the policy."""


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common leaked passwords, lower-cased."""
    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def _is_simple_sequence(password: str) -> bool:
    """One repeated character, or a run like 'abcdefghijkl' or '987654321098'."""
    if len(set(password)) == 1:
        return True
    pairs = list(zip(password, password[1:], strict=False))
    if password.isdigit():  # digits run round: ...8901... and ...1098...
        steps = {(int(b) - int(a)) % 10 for a, b in pairs}
        return steps in ({1}, {9})
    steps = {ord(b) - ord(a) for a, b in pairs}
    return len(steps) == 1 and steps <= {1, -1}


def _personal_words(email: str, full_name: str) -> list[str]:
    local = email.strip().lower().split("@", 1)[0]
    parts = local.replace(".", " ").replace("_", " ").replace("-", " ").split()
    words = [email.strip().lower(), local, "".join(parts), *parts]
    words += full_name.lower().split()
    return [w for w in words if len(w) >= 4]


def check_policy(password: str, *, email: str = "", full_name: str = "") -> None:
    """Raise WeakPassword, with a message saying what to change, unless `password` meets the policy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"Passwords may have at most {MAX_PASSWORD_LENGTH} characters.")
    lowered = password.lower()
    if lowered in common_passwords() or lowered.rstrip(string.digits + string.punctuation) in common_passwords():
        raise WeakPassword("That password is on a list of common passwords. Choose another.")
    if _is_simple_sequence(password):
        raise WeakPassword("That password is a single repeated character or a simple sequence.")
    personal = _personal_words(email, full_name)
    if email and lowered.strip() == email.strip().lower():
        raise WeakPassword("Your password must not be your email address.")
    _check_strength(password[:_STRENGTH_CHECKED_CHARS], personal)


def _check_strength(password: str, personal_words: Iterable[str]) -> None:
    result = zxcvbn(password, user_inputs=list(personal_words))
    if result["score"] < MIN_STRENGTH_SCORE:
        feedback = result.get("feedback") or {}
        hint = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
        message = "That password is too easy to guess."
        raise WeakPassword(f"{message} {hint}".strip())


def use_fast_hashing_for_tests() -> None:
    """Cheap argon2 parameters, for test suites only (settings refuse C360_TESTING in production).

    Verification reads the parameters stored in each hash, so existing hashes keep working.
    """
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_password(password: str) -> str:
    with _HASHING_SLOTS:
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        with _HASHING_SLOTS:
            return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_initial_password() -> str:
    """A one-time password to hand to a new user: 20 random characters, easy to read out."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


@functools.cache
def dummy_hash() -> str:
    """A real hash to verify unknown emails against, so login timing stays uniform; made on first use
    (hashing costs about 0.2 s, which every process that imports this module would otherwise pay)."""
    return _hasher.hash("not-a-real-password-for-timing")
