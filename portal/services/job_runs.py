"""When each scheduler job last ran, kept in the database so every web process sees it.

The deadline job records each finished sweep (the health check reads it); the weekly document
check claims its turn here, so a restarted scheduler neither forgets nor repeats it, and of
several schedulers only one runs it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from portal import clock
from portal.extensions import db
from portal.models import JobRun

SWEEP = "deadline_sweep"
DOCUMENT_CHECK = "document_check"


def record_finished(name: str) -> datetime:
    """Stamps `name` as finished now and commits; returns the stamp."""
    now = clock.now()
    _ensure_row(name)
    db.session.execute(update(JobRun).where(JobRun.name == name).values(finished_at=now))
    db.session.commit()
    return now


def last_finished(name: str) -> datetime | None:
    return db.session.scalar(select(JobRun.finished_at).where(JobRun.name == name))


def claim(name: str, every: timedelta) -> bool:
    """True when this process takes the job's turn (it never started, or its last start is at
    least `every` ago); commits the claim at once so other schedulers see it."""
    now = clock.now()
    _ensure_row(name)
    # One conditional UPDATE: of several schedulers racing for the turn, exactly one matches
    # (PostgreSQL re-checks the WHERE after the winner commits; SQLite serialises writers).
    claimed = db.session.execute(
        update(JobRun)
        .where(
            JobRun.name == name,
            or_(JobRun.started_at.is_(None), JobRun.started_at <= now - every),
        )
        .values(started_at=now)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _ensure_row(name: str) -> None:
    if db.session.get(JobRun, name) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(JobRun(name=name))
    except IntegrityError:
        pass  # another scheduler added it first; the row is all we need
