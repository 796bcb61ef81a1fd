"""What `/healthz` reports: whether the database answers, document storage can be written and
read, and the scheduler swept recently.

Each check catches its own failure and says what failed in words, never a setting's value
(URLs can hold passwords); the full error goes to the log for the operator.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import text

from portal import clock, runtime
from portal.extensions import db
from portal.services import job_runs
from portal.storage import LocalStorage, StorageError, key_for

log = logging.getLogger("portal.health")

# A fixed key the S3 check asks about: whether or not it is stored, asking proves the bucket
# exists and the credentials may read it.
_PROBE_KEY = key_for(b"portal health check")


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


@dataclass(frozen=True)
class Report:
    database: Check
    storage: Check
    scheduler: Check

    @property
    def ok(self) -> bool:
        return self.database.ok and self.storage.ok and self.scheduler.ok

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "failing",
            "checks": {
                "database": asdict(self.database),
                "storage": asdict(self.storage),
                "scheduler": asdict(self.scheduler),
            },
        }


def report() -> Report:
    return Report(database=database(), storage=storage(), scheduler=scheduler())


def database() -> Check:
    try:
        db.session.execute(text("SELECT 1")).scalar_one()
    except Exception as exc:  # any failure means the portal cannot serve
        db.session.rollback()
        log.warning("health: database check failed: %s", exc)
        return Check(False, f"the database did not answer ({type(exc).__name__})")
    finally:
        db.session.rollback()  # nothing to keep; hand the connection back
    return Check(True, "the database answered")


def storage() -> Check:
    try:
        store = runtime.storage()
        if isinstance(store, LocalStorage):
            _write_and_read(store)
        else:
            store.exists(_PROBE_KEY)
    except (StorageError, OSError, ValueError) as exc:
        log.warning("health: storage check failed: %s", exc)
        # The message names folders, buckets and endpoints: the log has it, the page does not.
        return Check(False, f"document storage failed the check ({type(exc).__name__})")
    return Check(True, "document storage can be read and written")


def _write_and_read(store: LocalStorage) -> None:
    """Writes, reads back and removes a small file in the store's folder: the same calls a
    stored document needs, without leaving anything behind (stored objects are never
    removed, so the probe cannot be one)."""
    payload = b"portal health check"
    # A new install has no documents folder until the first document; its parent (e.g. the
    # mounted volume) must exist, so an unmounted volume still fails the check.
    store.root.mkdir(exist_ok=True)
    fd, path = tempfile.mkstemp(prefix=".health-", dir=store.root)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        with open(path, "rb") as handle:
            if handle.read() != payload:
                raise StorageError.unavailable("the folder gave back other bytes.")
    finally:
        os.unlink(path)


def scheduler() -> Check:
    max_age = timedelta(seconds=current_app.config["HEALTH_SCHEDULER_MAX_AGE_SECONDS"])
    try:
        last = job_runs.last_finished(job_runs.SWEEP)
    except Exception as exc:
        db.session.rollback()
        log.warning("health: cannot read the scheduler's last sweep: %s", exc)
        return Check(False, "unknown: the last sweep could not be read from the database")
    finally:
        db.session.rollback()
    if last is None:
        return Check(False, "stale: no sweep has been recorded")
    age = clock.now() - last
    when = f"last sweep {last.isoformat(timespec='seconds')}, {int(age.total_seconds())} s ago"
    if age > max_age:
        return Check(False, f"stale: {when} (more than {int(max_age.total_seconds())} s)")
    return Check(True, when)
