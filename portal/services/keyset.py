"""Keyset paging for the portal's lists: `WHERE id < :cursor ORDER BY id DESC LIMIT n + 1`.

A page is found by the id of a row beside it, never by an OFFSET, and no list counts its
rows: the cost of a page is the same on the first page and the thousandth, whatever the
table's size. A list ordered by another column (agencies by name) passes it as `key`: rows
are then ordered by (key, id), and the cursor row's key is read back by its id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select, tuple_

from portal.extensions import db


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, and the cursors of the pages beside it (None when
    there is none). The pager links ?after=<older> and ?before=<newer>."""

    items: list[Any] = field(default_factory=list)
    older: int | None = None
    newer: int | None = None

    @property
    def has_older(self) -> bool:
        return self.older is not None

    @property
    def has_newer(self) -> bool:
        return self.newer is not None


def paged(
    query: Select,
    model: Any,
    *,
    after: int | None = None,
    before: int | None = None,
    per_page: int = 25,
    key: Any = None,
    descending: bool = True,
) -> Page:
    """The page of `query`'s rows (of `model`) that follows the row `after`, or that comes
    just before the row `before` (the "Newer" link), in (key, id) order; `descending` orders
    newest id first. `query` must not be ordered yet."""
    id_col = model.id
    columns = [key, id_col] if key is not None else [id_col]
    backwards = before is not None and after is None
    cursor = before if backwards else after
    if cursor is not None:
        if key is not None:
            row = db.session.execute(select(key, id_col).where(id_col == cursor)).first()
            values = tuple(row) if row is not None else None
        else:
            values = (cursor,)
        if values is not None:
            lhs = tuple_(*columns) if key is not None else id_col
            rhs = tuple_(*values) if key is not None else values[0]
            # Forward in the list's order is "less than" when descending.
            forward_less = descending
            less = forward_less != backwards
            query = query.where(lhs < rhs if less else lhs > rhs)
    reverse_order = descending != backwards
    query = query.order_by(*(c.desc() if reverse_order else c.asc() for c in columns))
    rows = list(db.session.scalars(query.limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
        older = rows[-1].id if rows else None
        newer = rows[0].id if rows and more else None
    else:
        older = rows[-1].id if rows and more else None
        newer = rows[0].id if rows and cursor is not None else None
    return Page(rows, older, newer)
