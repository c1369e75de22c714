"""The password policy: argon2, at least 12 characters, not common, not guessable from the user."""

from __future__ import annotations

import pytest

from dashboard.passwords import (
    WeakPassword,
    check_policy,
    common_passwords,
    generate_initial_password,
    hash_password,
    verify_password,
)


@pytest.mark.parametrize(("password", "email", "message"), [
    ("short-pw1", "", "at least 12 characters"),
    ("password1234", "", "list of common passwords"),
    ("qwertyuiop12", "", "list of common passwords"),
    ("Password123!", "", "list of common passwords"),  # common word + digits + symbol
    ("zzzzzzzzzzzzzz", "", "single repeated character or a simple sequence"),
    ("abcdefghijklmn", "", "single repeated character or a simple sequence"),
    ("98765432109876", "", "single repeated character or a simple sequence"),
    ("jane.doe@example.com", "jane.doe@example.com", "must not be your email"),
    ("janedoe12345", "jane.doe@example.com", "too easy to guess"),
    ("x" * 1025, "", "at most 1024"),
])
def test_weak_passwords_are_refused_with_the_reason(password: str, email: str, message: str) -> None:
    with pytest.raises(WeakPassword, match=message):
        check_policy(password, email=email)


@pytest.mark.parametrize("password", ["correct-horse-battery-staple", "tidal-ochre-lantern-94",
                                      "Tr0ub4dor&3xx", "client360-demo"])
def test_strong_passwords_are_accepted(password: str) -> None:
    check_policy(password, email="someone@example.com", full_name="Some One")


def test_common_list_is_large_and_case_insensitive() -> None:
    common = common_passwords()
    assert len(common) > 25_000 and "password" in common and "iloveyou" in common
    with pytest.raises(WeakPassword):
        check_policy("SUPERMAN1234")


def test_hashes_are_argon2_and_salted() -> None:
    first, second = hash_password("tidal-ochre-lantern-94"), hash_password("tidal-ochre-lantern-94")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "tidal-ochre-lantern-94")
    assert not verify_password(first, "tidal-ochre-lantern-95")
    assert not verify_password("not-a-hash", "anything")


def test_generated_initial_passwords_meet_the_policy_and_differ() -> None:
    generated = {generate_initial_password() for _ in range(20)}
    assert len(generated) == 20
    for password in generated:
        check_policy(password)


def test_testing_mode_cannot_be_switched_on_in_production(tmp_path) -> None:
    from dashboard.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="C360_TESTING must not be set in production"):
        Settings(env="production", secret_key="x" * 40, data_dir=tmp_path, testing=True).validate()


def test_at_most_two_argon2_computations_run_at_once_in_a_process(monkeypatch) -> None:
    """Each takes 64 MiB while it runs: a burst of sign-ins on every thread of a web worker must not
    multiply that."""
    import threading
    import time

    from dashboard import passwords

    running, most = [0], [0]
    lock = threading.Lock()

    class SlowHasher:
        def _work(self) -> None:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1

        def hash(self, password: str) -> str:
            self._work()
            return "hashed"

        def verify(self, password_hash: str, password: str) -> bool:
            self._work()
            return True

    monkeypatch.setattr(passwords, "_hasher", SlowHasher())
    threads = [threading.Thread(target=passwords.hash_password, args=("x",)) for _ in range(4)]
    threads += [threading.Thread(target=passwords.verify_password, args=("h", "x")) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2
