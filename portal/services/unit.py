"""One transaction per use case: commit once at the end, roll back on any failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db
from portal.services.errors import Conflict, ServiceError

log = logging.getLogger("portal.services")


@contextmanager
def unit_of_work(
    conflict_message: str = "Someone else changed this record first. Reload it and try again.",
) -> Iterator[None]:
    """Runs the body and commits; on any error nothing is kept and the person gets a message.

    Mail queued in the body is committed with the change and only then can go out: the
    scheduler's mail job delivers it within seconds, so no request waits on the mail server.
    """
    try:
        yield
        db.session.commit()
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
