"""Password hashing with argon2. Tests use cheaper parameters of the same algorithm."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 12
MAX_LENGTH = 256

_fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_strong = PasswordHasher()


def _hasher() -> PasswordHasher:
    return _fast if current_app.config.get("ARGON2_FAST") else _strong


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash or not password or len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.strip() != password:
        return "The password may not start or end with a space."
    return None
