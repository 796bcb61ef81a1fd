"""The one clock. Everything that needs 'now' asks here, so tests can travel in time."""

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)
