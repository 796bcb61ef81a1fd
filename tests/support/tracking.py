"""Rows for the tracking view's tests: many agencies at once, and counting queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, insert

from portal import clock
from portal.extensions import db
from portal.models import Agency


def many_agencies(count: int, prefix: str = "Agency") -> None:
    """`count` partner agencies without agreements, inserted in one statement."""
    now = clock.now()
    db.session.execute(
        insert(Agency),
        [
            {"legal_name": f"{prefix} {i:05d}", "address": "", "is_lead": False, "created_at": now}
            for i in range(count)
        ],
    )
    db.session.commit()


@contextmanager
def counted() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
