"""Alerts the lead agency must get although the change that found the problem fails.

A stored copy that no longer matches its recorded SHA-256 is found while someone reads it,
often inside a change that then rolls back. The alert (a log line, an audit event, and an
e-mail to the lead agency's admins through the outbox) is therefore kept in its own
transaction, after the failing one has ended, so it cannot be rolled back with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent
from portal.services import unit

log = logging.getLogger("portal.alerts")

ALTERED = "document.altered"
# One e-mail per altered copy a day, however often people try to open it.
REPEAT_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class AlteredCopy:
    """What was read, what it should have been, and what it was."""

    object: object  # the row the copy belongs to (its type and id go into the audit log)
    agency_id: int | None
    what: str  # e.g. "Agreement PAA-2026-0001, version 3"
    storage_key: str
    storage_version_id: str | None
    recorded_sha256: str
    actual_sha256: str

    def describe(self) -> str:
        version = f" (S3 version {self.storage_version_id})" if self.storage_version_id else ""
        return (
            f"The stored copy of {self.what} does not match its recorded fingerprint. Storage "
            f"key {self.storage_key}{version}: recorded SHA-256 {self.recorded_sha256}, the "
            f"stored bytes hash to {self.actual_sha256}."
        )


def storage_outage(exc: Exception, doing: str) -> None:
    """Logs that document storage failed (a warning with the cause: the boto or OS error
    behind the message the person sees)."""
    cause = exc.__cause__ or exc.__context__
    log.warning(
        "document storage unavailable while %s: %s%s",
        doing,
        exc,
        f" (cause: {type(cause).__name__}: {cause})" if cause else "",
    )


def stored_copy_altered(copy: AlteredCopy) -> None:
    """Logs it now, and records the audit event and the admins' e-mail once the current unit
    of work has ended (at once if none is open)."""
    log.error("ALERT: %s", copy.describe())
    object_type, object_id = type(copy.object).__name__.lower(), getattr(copy.object, "id", None)
    unit.after_unit(lambda: _record(copy, object_type, object_id))


def _record(copy: AlteredCopy, object_type: str, object_id: int | None) -> None:
    from portal.notify import outbox
    from portal.services import audit, lead

    admins = [person.email for person in lead.admins()]
    # Written in a session of its own: whatever the caller's session holds stays its own.
    with Session(db.engine) as session:
        since = clock.now() - REPEAT_AFTER
        already = session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.action == ALTERED,
                AuditEvent.object_type == object_type,
                AuditEvent.object_id == object_id,
                AuditEvent.at >= since,
            )
            .limit(1)
        )
        if already is not None:
            log.info("alert for %s %s already given within a day", object_type, object_id)
            return
        audit.record(
            None,
            ALTERED,
            copy.object,
            copy.describe() + " The lead agency's admins were e-mailed.",
            agency_id=copy.agency_id,
            after={
                "storage_key": copy.storage_key,
                "storage_version_id": copy.storage_version_id,
                "recorded_sha256": copy.recorded_sha256,
                "actual_sha256": copy.actual_sha256,
            },
            session=session,
        )
        for email in admins:
            outbox.queue(
                email,
                f"ALERT: a stored document does not match its record: {copy.what}"[:300],
                f"{copy.describe()}\n\nSomeone tried to open it and was told not to rely on "
                "it. Restore the object from a backup or the bucket's earlier versions, and "
                "run `flask check-documents` to check every stored document.\n",
                session=session,
            )
        session.commit()
