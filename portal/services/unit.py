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

    Mail queued in the body goes out only after the commit succeeded.
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
    _deliver_mail()


def _deliver_mail() -> None:
    from portal.notify import outbox

    try:
        outbox.deliver_pending()
    except Exception:  # the outbox keeps the messages; the sweep retries them
        db.session.rollback()
        log.exception("outbox delivery failed; will retry")
