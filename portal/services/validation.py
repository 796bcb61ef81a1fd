"""Cleaning what people type, with a plain message for what cannot be accepted.

Forms check first for a friendly page; services check again because the API and the CLI
call them too.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from portal.services.errors import ServiceError


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
        raise ServiceError(
            f"{label} is too long: at most {max_len} characters ({len(text)} given)."
        )
    return text


def clean_email(value: str | None, label: str = "E-mail") -> str:
    raw = (value or "").strip()
    if not raw:
        raise ServiceError(f"{label} is required.")
    if len(raw) > 254:
        raise ServiceError(f"{label} is too long.")
    try:
        # The reserved .test domain is accepted for demos and tests; it can never deliver.
        result = validate_email(raw, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ServiceError(f"{label} is not a valid address: {exc}") from exc
    return result.normalized.lower()
