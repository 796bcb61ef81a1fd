"""The outbox pattern, once, for everything the portal sends after commit (e-mail, webhooks).

A row is written in the transaction of the change it reports, so nothing goes out for a
change that rolled back. A job later claims the due rows, one transaction each (under
FOR UPDATE SKIP LOCKED on PostgreSQL, so several senders never send one row twice), attempts
each, and records the outcome: done, or the error and the next attempt after an exponential
back-off (2, 4, 8 … minutes, at most BACKOFF_CAP). After the outbox's last attempt the row is
"failed", for a person to see (and, for webhooks, send again).

Delivery is at least once: a row is marked done only after the receiver accepted it, so a
failure between the two sends it again; each kind gives receivers a stable id to drop
duplicates by (the e-mail's Message-ID, the webhook's event id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal import clock
from portal.extensions import db

BACKOFF_CAP = timedelta(hours=6)


@dataclass(frozen=True)
class Outbox:
    """What differs between kinds of outbox rows; the rest is `deliver_pending`'s."""

    model: type  # has id, status, attempts, next_attempt_at, last_error
    send: Callable[[Any], None]  # raises on any failure; may note details on the row
    mark_done: Callable[[Any, datetime], None]  # sets the row's done status and time
    max_attempts: Callable[[], int]
    describe: Callable[[Any], str]  # "E-mail 12 to ed@hope.test", for the log
    log: logging.Logger
    # Rows that share a receiver: after one fails, the others of its group keep their turn
    # for the next pass instead of each waiting on the same dead receiver. None: the whole
    # outbox is one group (e-mail has one mail server).
    group: Any = None


def backoff(attempts: int) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones."""
    return min(timedelta(minutes=2**attempts), BACKOFF_CAP)


def deliver_pending(outbox: Outbox, limit: int = 50) -> int:
    """Sends due rows, one transaction each; returns how many went out."""
    sent = 0
    failed_groups: set[Hashable] = set()
    for row_id, group in _due(outbox, limit):
        if group in failed_groups:
            continue
        outcome = _deliver_one(outbox, row_id)
        if outcome is None:
            if outbox.group is None:
                break  # one receiver for all: the rest would only wait on it too
            failed_groups.add(group)
            continue
        sent += outcome
    return sent


def _due(outbox: Outbox, limit: int) -> list[tuple[int, Hashable]]:
    model = outbox.model
    columns = [model.id] if outbox.group is None else [model.id, outbox.group]
    query = (
        select(*columns)
        .where(model.status == "pending", model.next_attempt_at <= clock.now())
        .order_by(model.id)
        .limit(limit)
    )
    rows = [
        (row[0], row[1] if outbox.group is not None else None) for row in db.session.execute(query)
    ]
    db.session.rollback()
    return rows


def _deliver_one(outbox: Outbox, row_id: int) -> bool | None:
    """True: sent. False: another sender had it. None: sending failed (recorded for retry)."""
    model = outbox.model
    query = select(model).where(model.id == row_id, model.status == "pending")
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = db.session.scalar(query)
    if row is None:
        db.session.rollback()
        return False
    try:
        outbox.send(row)
    except Exception as exc:  # any failure: keep the row, try again later
        record_failure(outbox, row, exc)
        db.session.commit()
        return None
    row.attempts += 1
    outbox.mark_done(row, clock.now())
    db.session.commit()
    return True


def record_failure(outbox: Outbox, row: Any, exc: Exception) -> None:
    """Counts the attempt and schedules the next one, or gives up after the last."""
    row.attempts += 1
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= outbox.max_attempts():
        row.status = "failed"
    else:
        row.next_attempt_at = clock.now() + backoff(row.attempts)
    outbox.log.warning(
        "%s not sent (attempt %d, %s): %s: %s",
        outbox.describe(row),
        row.attempts,
        "gave up" if row.status == "failed" else "will retry",
        type(exc).__name__,
        exc,
    )


def requeue(row: Any) -> None:
    """Gives a failed row a fresh set of attempts, due now (in the caller's transaction)."""
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = clock.now()
