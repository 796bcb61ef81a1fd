"""The document check: every stored document version is read back, re-hashed (SHA-256) and
compared with what the database recorded when it was stored.

`flask check-documents` runs it on demand; the scheduler runs it every
DOCUMENT_CHECK_INTERVAL_DAYS and e-mails the lead agency's admins when a version is missing or
changed. Storage already refuses bytes that no longer match their content address; this check
finds such damage before someone needs the document.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal import runtime
from portal.extensions import db
from portal.models import Document, DocumentVersion
from portal.notify import outbox
from portal.services import job_runs, lead
from portal.storage import (
    Storage,
    StorageError,
    StorageIntegrityError,
    StorageNotFound,
    sha256_hex,
)

log = logging.getLogger("portal.integrity")


@dataclass(frozen=True)
class Problem:
    """One stored version that is not what the database says it is."""

    document_id: int
    title: str
    seq: int
    storage_key: str
    what: str  # "missing" or "changed"
    detail: str

    def describe(self) -> str:
        return (
            f"{self.what.upper()}: {self.title} (document {self.document_id}), "
            f"version {self.seq}, storage key {self.storage_key}: {self.detail}"
        )


@dataclass
class Result:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_all() -> Result:
    """Checks every stored version. A storage outage (anything but a missing or altered
    object) stops the check with StorageError: it says nothing about the documents."""
    rows = db.session.execute(
        select(
            DocumentVersion.seq,
            DocumentVersion.sha256,
            DocumentVersion.size,
            DocumentVersion.storage_key,
            DocumentVersion.storage_version_id,
            Document.id,
            Document.title,
        )
        .join(Document, DocumentVersion.document_id == Document.id)
        .order_by(DocumentVersion.id)
    ).all()
    db.session.rollback()  # reading the objects can take long; hold no transaction meanwhile
    store = runtime.storage()
    result = Result()
    for seq, sha256, size, key, version_id, document_id, title in rows:
        what, detail = _check_one(store, key, version_id, sha256, size)
        result.checked += 1
        if what:
            result.problems.append(Problem(document_id, title, seq, key, what, detail))
    return result


def _check_one(
    store: Storage, key: str, version_id: str | None, sha256: str, size: int
) -> tuple[str, str]:
    """("", "") when the stored bytes are the recorded ones; otherwise what is wrong."""
    try:
        # The recorded S3 version when there is one: a newer object or a delete marker under
        # the key must not pass for (or hide) the document's own bytes.
        data = store.get(key, version_id)
    except StorageNotFound:
        return "missing", "no object is stored under this key"
    except StorageIntegrityError as exc:
        return "changed", f"the stored bytes now hash to {exc.actual_sha256}, recorded {sha256}"
    actual = sha256_hex(data)
    if actual != sha256:
        # The object matches its key but not the row: the row or the key was altered.
        return "changed", f"the stored bytes hash to {actual}, recorded {sha256}"
    if len(data) != size:
        return "changed", f"the stored object has {len(data)} bytes, recorded {size}"
    return "", ""


def run_if_due() -> Result | None:
    """The scheduler's job: checks every version when DOCUMENT_CHECK_INTERVAL_DAYS have passed
    since the last check began (of several schedulers, one), and queues an e-mail to the lead
    agency's admins if something is wrong. None when it was not this process's turn."""
    every = timedelta(days=current_app.config["DOCUMENT_CHECK_INTERVAL_DAYS"])
    if not job_runs.claim(job_runs.DOCUMENT_CHECK, every):
        return None
    try:
        result = check_all()
    except StorageError as exc:
        log.error("document check could not finish: %s", exc)
        _mail_admins(
            "Document check could not finish",
            "The weekly check of stored documents stopped because document storage failed:\n\n"
            f"{exc.message}\n\nIt runs again at its next turn; `flask check-documents` runs "
            "it now.",
        )
        db.session.commit()
        return None
    if result.problems:
        log.error(
            "document check: %d problem(s) in %d version(s)", len(result.problems), result.checked
        )
        _mail_admins(
            f"Document check: {len(result.problems)} stored document version(s) missing or changed",
            _problem_report(result),
        )
    else:
        log.info("document check: %d version(s), all as recorded", result.checked)
    db.session.commit()
    job_runs.record_finished(job_runs.DOCUMENT_CHECK)
    return result


def _problem_report(result: Result) -> str:
    lines = "\n".join(f"- {p.describe()}" for p in result.problems)
    return (
        f"The check of stored documents read back {result.checked} version(s). These are not "
        f"what the portal recorded when it stored them:\n\n{lines}\n\n"
        "Restore them from a backup; `flask check-documents` repeats the check."
    )


def _mail_admins(subject: str, body: str) -> None:
    for admin in lead.admins():
        outbox.queue(admin.email, subject, body)
