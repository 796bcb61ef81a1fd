"""One transaction per use case: commit once at the end, roll back on any failure."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db
from portal.services.errors import Conflict, ServiceError

log = logging.getLogger("portal.services")

# Kept in the session's info: work to do once its transaction has ended.
_AFTER_COMMIT = "portal.after_commit"
_AFTER_END = "portal.after_end"
_DEPTH = "portal.units"


@contextmanager
def unit_of_work(
    conflict_message: str = "Someone else changed this record first. Reload it and try again.",
) -> Iterator[None]:
    """Runs the body and commits; on any error nothing is kept and the person gets a message.

    Mail queued in the body is committed with the change and only then can go out: the
    scheduler's mail job delivers it within seconds, so no request waits on the mail server.
    """
    info = db.session.info
    info[_DEPTH] = info.get(_DEPTH, 0) + 1
    try:
        yield
        db.session.commit()
        committed()
    except ServiceError:
        db.session.rollback()
        raise
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        log.info("conflict: %s", exc)
        raise Conflict(conflict_message) from exc
    except OperationalError as exc:
        db.session.rollback()
        log.exception("database failure")
        raise ServiceError(
            "The database could not save this change, so nothing was changed. "
            "Try again in a moment."
        ) from exc
    except BaseException:
        db.session.rollback()
        raise
    finally:
        info[_DEPTH] -= 1
        if not info[_DEPTH]:
            info.pop(_AFTER_COMMIT, None)  # not committed: the work is void
            _run(info.pop(_AFTER_END, []))


def active() -> bool:
    """Whether a unit of work is open (its transaction may still roll back)."""
    return db.session.info.get(_DEPTH, 0) > 0


def after_commit(action: Callable[[], object]) -> None:
    """Runs `action` once the current transaction has committed, and never if it rolls back:
    work outside the database that must follow the commit (giving a stored document its full
    retention). A failure there is logged, not raised: the change is committed, and such
    work is repeated by whatever sweeps up after it."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(action)


def pending_after_commit(kind: type) -> object | None:
    """The action of this class that `after_commit` holds for the current transaction, if
    any (so one action can gather several pieces of work)."""
    return next((a for a in db.session.info.get(_AFTER_COMMIT, []) if isinstance(a, kind)), None)


def after_unit(action: Callable[[], object]) -> None:
    """Runs `action` when the open unit of work has ended, committed or rolled back (now if
    none is open): for a record that must be kept although the change fails (an alert)."""
    if active():
        db.session.info.setdefault(_AFTER_END, []).append(action)
    else:
        _run([action])


def committed() -> None:
    """Runs what `after_commit` gathered; call it right after a commit made outside
    unit_of_work (the deadline sweep's)."""
    _run(db.session.info.pop(_AFTER_COMMIT, []))


def rolled_back() -> None:
    """Forgets what `after_commit` gathered; call it after a rollback outside unit_of_work."""
    db.session.info.pop(_AFTER_COMMIT, None)


def _run(actions: list[Callable[[], object]]) -> None:
    for action in actions:
        try:
            action()
        except Exception as exc:
            log.warning("after the transaction: %s failed: %s", action, exc, exc_info=True)
