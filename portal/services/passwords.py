"""Password hashing with argon2, and the rules a new password must meet.

Tests use cheaper parameters of the same algorithm.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 12
MAX_LENGTH = 256
# Shorter pieces of a name ("Eve", "de", initials) would refuse too many good passwords.
MIN_PERSONAL_PART = 4

_fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_strong = PasswordHasher()
# Digits, symbols and spaces at either end: "Password123!" and "!!password" are "password".
_ENDS = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_WORDS = re.compile(r"[^\W\d_]+")


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


def core(password: str) -> str:
    """The password lowercased, without digits, symbols and spaces at its ends."""
    return _ENDS.sub("", password.lower())


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (portal/data/common-passwords.txt), each entry reduced to its core."""
    text = resources.files("portal").joinpath("data/common-passwords.txt").read_text("utf-8")
    found = (core(line) for line in text.splitlines() if line and not line.startswith("#"))
    return frozenset(word for word in found if word)


def personal_parts(*details: str) -> set[str]:
    """The words of a person's details (name, e-mail, agency) a password must not contain."""
    parts: set[str] = set()
    for detail in details:
        text = (detail or "").lower()
        if "@" in text:  # an e-mail: its local part, not the domain everyone at work shares
            text = text.split("@", 1)[0]
            parts.add(text)
        parts.update(_WORDS.findall(text))
    return {part for part in parts if len(part) >= MIN_PERSONAL_PART}


def password_problem(password: str, *personal: str) -> str | None:
    """Why a new password is not acceptable, or None. `personal` are the person's own details
    (e-mail, name, agency name): a password built on them is easy to guess for anyone who
    knows the person."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.strip() != password:
        return "The password may not start or end with a space."
    stripped = core(password)
    if len(stripped) < 4 or stripped in common_passwords() or _repeats(stripped):
        return (
            "This password is too common or too easy to guess. Try a few unrelated words, "
            "a short sentence, or a password manager's suggestion."
        )
    lowered = password.lower()
    squeezed = re.sub(r"[\W_]+", "", lowered)
    for part in sorted(personal_parts(*personal), key=len, reverse=True):
        if part in lowered or re.sub(r"[\W_]+", "", part) in squeezed:
            return "The password may not contain your name, your e-mail or your agency's name."
    return None


def _repeats(text: str) -> bool:
    # "aaaaaaaaaaaa", "abcabcabcabc": one short piece over and over.
    return any(len(text) % n == 0 and text == text[:n] * (len(text) // n) for n in range(1, 4))
