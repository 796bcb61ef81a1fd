"""The one clock. Everything that needs 'now' asks here, so time can be moved in one place.

Tests travel with time-machine (which moves `datetime.now` itself); the demo command plays
month-long periods in seconds with `shifted()`. Production never shifts.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC) + _offset


@contextmanager
def shifted(delta: timedelta) -> Iterator[None]:
    """Moves the portal's clock forward by `delta` inside the block (the demo's simulation)."""
    global _offset
    before = _offset
    _offset = before + delta
    try:
        yield
    finally:
        _offset = before
