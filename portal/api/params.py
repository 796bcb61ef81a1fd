"""Query parameters read strictly: junk, a repeat or an unknown name is a 400 naming it.

A list must never answer its first page to `?page=abc` or `?after=-1`: the caller would
believe it had read the list when it had not.
"""

from __future__ import annotations

import re

from flask import request

from portal.api.errors import BadParameter

# The largest record id: an id column is a 32-bit INTEGER on PostgreSQL (the RecordId
# converter of portal/__init__.py bounds path ids the same way).
MAX_ID = 2**31 - 1
MAX_LIMIT = 100
DEFAULT_LIMIT = 25

_DIGITS = re.compile(r"[0-9]{1,12}")


def only(*names: str) -> None:
    """Refuses a query parameter the operation does not take, or one given twice."""
    for name in request.args:
        if name not in names:
            accepted = ", ".join(names) if names else "none"
            raise BadParameter(name, f"Unknown query parameter '{name}' (accepted: {accepted}).")
        if len(request.args.getlist(name)) > 1:
            raise BadParameter(name, f"Give '{name}' once.")


def integer(name: str, *, minimum: int, maximum: int, default: int | None = None) -> int | None:
    """The parameter as a whole number within bounds; `default` when it is absent."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise BadParameter(
            name, f"'{name}' must be a whole number from {minimum} to {maximum}; got {raw!r:.40}."
        )
    return int(raw)


def cursor(name: str) -> int | None:
    """A keyset cursor: the id of the row the page starts beside."""
    return integer(name, minimum=1, maximum=MAX_ID)


def limit() -> int:
    value = integer("limit", minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT)
    assert value is not None
    return value
