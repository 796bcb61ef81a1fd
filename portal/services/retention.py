"""Object Lock retention of stored documents, in two steps, and the sweep that finishes them.

A new object is written under a short lock (DOCUMENT_PENDING_RETENTION_HOURS). Only after the
database has committed the row that refers to it is it given the full retention
(DOCUMENT_RETENTION_DAYS): COMPLIANCE retention can be extended but never shortened, so an
object left behind by a failed commit would otherwise stay locked, and unremovable, for the
full period although no record refers to it.

The storage sweep (the scheduler's storage job and `flask sweep-storage`) then:
- gives the full retention to any committed version still on the short lock (the process
  may have died between the commit and the extension) and records it in `retained_until`;
- removes every version no row refers to whose short lock has run out (an orphan).
Only S3 with retention has locks; a local folder has nothing to sweep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from portal import runtime
from portal.extensions import db
from portal.models import CureSubmission, DocumentVersion
from portal.services import unit
from portal.storage import StorageError, StorageNotFound, Stored

log = logging.getLogger("portal.retention")


def retain_after_commit(stored: Stored) -> None:
    """Gives a just-stored object its full retention once the current transaction commits
    (nothing if it rolls back: the orphan's short lock runs out and the sweep removes it)."""
    store = runtime.storage()
    if stored.version_id is None or getattr(store, "pending_retention", None) is None:
        return  # no versions or no two-step locking: the object already has what it gets
    batch = unit.pending_after_commit(_RetainAfterCommit)
    if batch is None:
        batch = _RetainAfterCommit(store)
        unit.after_commit(batch)
    batch.objects.append(stored)


class _RetainAfterCommit:
    """The objects one transaction stored, given their full retention after it commits. At
    the first storage failure the rest are left to the sweep, so a storage that stalls right
    after the commit holds the request for one storage call, not one per object."""

    def __init__(self, store) -> None:
        self.store = store
        self.objects: list[Stored] = []

    def __call__(self) -> None:
        for done, stored in enumerate(self.objects):
            try:
                self.store.retain(stored.key, stored.version_id)
            except StorageError as exc:
                log.warning(
                    "storage: %d committed object(s) keep their short lock until the storage "
                    "sweep extends it: %s",
                    len(self.objects) - done,
                    exc,
                )
                return


@dataclass
class SweepResult:
    retained: int = 0  # committed versions given (or confirmed on) their full retention
    removed: int = 0  # orphans deleted after their short lock ran out
    waiting: int = 0  # orphans still locked (or never locked), kept for now
    missing: int = 0  # committed versions the storage no longer has

    def describe(self) -> str:
        text = (
            f"{self.retained} committed version(s) given their full retention; "
            f"{self.removed} orphan(s) removed; {self.waiting} orphan(s) kept for now"
        )
        return text + (f"; {self.missing} committed version(s) MISSING" if self.missing else "")


def sweep() -> SweepResult:
    """One pass of the storage sweep; see the module's docstring. Raises StorageError when
    the storage is unavailable (the next pass tries again)."""
    store = runtime.storage()
    result = SweepResult()
    if not hasattr(store, "versions") or store.retention_days is None:
        return result  # nothing here is ever locked
    _retain_committed(store, result)
    _remove_orphans(store, result)
    if result.retained or result.removed or result.missing:
        log.info("storage sweep: %s", result.describe())
    return result


def _retain_committed(store, result: SweepResult) -> None:
    versions = list(
        db.session.scalars(
            select(DocumentVersion)
            .where(
                DocumentVersion.storage_version_id.is_not(None),
                DocumentVersion.retained_until.is_(None),
            )
            .order_by(DocumentVersion.id)
        )
    )
    for version in versions:
        until = _retain(store, version.storage_key, version.storage_version_id, result)
        if until is not None:
            version.retained_until = until
            db.session.commit()
    db.session.rollback()
    for submission in db.session.scalars(select(CureSubmission).order_by(CureSubmission.id)):
        attachments = [dict(item) for item in submission.attachments]
        changed = False
        for item in attachments:
            if item.get("version_id") and not item.get("retained_until"):
                until = _retain(store, item["storage_key"], item["version_id"], result)
                if until is not None:
                    item["retained_until"] = until.isoformat()
                    changed = True
        if changed:
            submission.attachments = attachments
            db.session.commit()
    db.session.rollback()


def _retain(store, key: str, version_id: str, result: SweepResult) -> datetime | None:
    try:
        until = store.retain(key, version_id)
    except StorageNotFound:
        result.missing += 1
        log.error("storage sweep: %s version %s is on record but not in storage", key, version_id)
        return None
    if until is not None:
        result.retained += 1
    return until


def _referenced() -> tuple[set[tuple[str, str | None]], set[str]]:
    """The (key, version) pairs rows refer to, and the keys of rows recorded without a
    version (stored before version ids were kept: every version of those is kept)."""
    pairs: set[tuple[str, str | None]] = set()
    whole_keys: set[str] = set()
    for key, version_id in db.session.execute(
        select(DocumentVersion.storage_key, DocumentVersion.storage_version_id)
    ):
        (pairs.add((key, version_id)) if version_id else whole_keys.add(key))
    for (attachments,) in db.session.execute(select(CureSubmission.attachments)):
        for item in attachments or []:
            if item.get("version_id"):
                pairs.add((item["storage_key"], item["version_id"]))
            else:
                whole_keys.add(item["storage_key"])
    db.session.rollback()  # hold no transaction while talking to the storage
    return pairs, whole_keys


def _remove_orphans(store, result: SweepResult) -> None:
    pairs, whole_keys = _referenced()
    # A version younger than the short lock cannot have run out of it: skip the HEAD.
    young = store.clock() - (store.pending_retention or timedelta(0))
    for version in store.versions():
        if version.key in whole_keys or (version.key, version.version_id) in pairs:
            continue
        if version.last_modified > young or not store.remove_expired(
            version.key, version.version_id
        ):
            result.waiting += 1
            continue
        result.removed += 1
        log.info("storage sweep: removed orphan %s version %s", version.key, version.version_id)
