"""Cleaning what people type, with a plain message for what cannot be accepted.

Forms check first for a friendly page; services check again because the API and the CLI
call them too. Where a value is stored in a length-limited column, both take the limit from
the column (`max_length`) and say the same thing when it is exceeded (`too_long`): nothing
is ever cut short silently.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Column

from portal.models import User
from portal.services.errors import ServiceError


def max_length(column: Column) -> int:
    """The length a String column holds, e.g. max_length(Agency.__table__.c.legal_name)."""
    length = getattr(column.type, "length", None)
    if not length:
        raise ValueError(f"column {column} has no length limit")
    return length


def fit(text: str, column: Column) -> str:
    """Text the portal composes (a label from names it already holds) shortened to what its
    column holds, so a long name can never make the database refuse a record."""
    limit = max_length(column)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def too_long(label: str, limit: int, entered: int) -> str:
    return f"{label} is at most {limit:,} characters; you entered {entered:,}."


def clean_text(
    value: str | None, label: str, *, max_len: int, required: bool = True, multiline: bool = False
) -> str:
    text = unicodedata.normalize("NFC", value or "")
    allowed = {"\n", "\t"} if multiline else set()
    # Control characters (NUL, bidi overrides...) make records unreadable or misleading.
    text = "".join(
        c
        for c in text
        if c in allowed or unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    )
    text = text.replace("\r\n", "\n").strip()
    if not multiline:
        text = " ".join(text.split())
    if required and not text:
        raise ServiceError(f"{label} is required.")
    if len(text) > max_len:
        raise ServiceError(too_long(label, max_len, len(text)))
    return text


def clean_email(value: str | None, label: str = "E-mail") -> str:
    raw = (value or "").strip()
    if not raw:
        raise ServiceError(f"{label} is required.")
    limit = max_length(User.__table__.c.email)
    if len(raw) > limit:
        raise ServiceError(too_long(label, limit, len(raw)))
    try:
        # The reserved .test domain is accepted for demos and tests; it can never deliver.
        result = validate_email(raw, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ServiceError(f"{label} is not a valid address: {exc}") from exc
    return result.normalized.lower()
