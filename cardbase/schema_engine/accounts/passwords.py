"""Password hashing with Argon2id (argon2-cffi): a slow, memory-hard hash, so a stolen
user table does not give away the passwords. Hashes carry their own parameters, so
raising the cost later only needs ``needs_rehash`` at the next login."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when the username is unknown, so a wrong name costs as long as a
# wrong password and response times do not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("cardbase: no such user")


def hash_password(password: str) -> str:
    """An encoded Argon2id hash ("$argon2id$v=19$m=...") of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; False for a mismatch or a missing/damaged hash."""
    if not password_hash:
        burn_time(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than we use now."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def burn_time(password: str) -> None:
    """Spend the time of one verification (unknown user, empty hash): no timing oracle."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass
