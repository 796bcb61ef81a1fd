"""Documents on record: storing versions, reading them back, matching uploaded files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal import clock, runtime
from portal.extensions import db
from portal.models import Document, DocumentVersion, Transition, User
from portal.services import alerts, retention
from portal.services.access import require_agency_visible
from portal.services.errors import NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.validation import fit


def new_document(
    *, case_type: str, case_id: int, agency_id: int, kind: str, title: str
) -> Document:
    document = Document(
        case_type=case_type,
        case_id=case_id,
        agency_id=agency_id,
        kind=kind,
        title=title,
        created_at=clock.now(),
    )
    db.session.add(document)
    db.session.flush()
    return document


def add_version(
    document: Document,
    pdf: bytes,
    label: str,
    *,
    by: User | None,
    transition: Transition | None = None,
    archive: bool = False,
) -> DocumentVersion:
    """Stores the bytes (content-addressed, never overwritten) and records the version, with
    the storage's version id of these bytes, which is what every read asks for.

    `archive` marks a final document: before it is stored it gets its long-term validation
    data and a document timestamp (PAdES B-LTA, services.evidence), and the version records
    until when that evidence holds (`evidence_until`), so that it is renewed in time.

    Storing happens before the commit, under a short lock; the full retention follows the
    commit (services.retention). If the transaction fails, the object is an orphan: a retry
    finds and reuses it, or the storage sweep removes it once its short lock has run out.
    """
    from portal.storage import StorageError

    evidence_until = None
    if archive:
        pdf, evidence_until = archived(pdf)
    try:
        stored = runtime.storage().put(pdf)
    except StorageError as exc:
        alerts.storage_outage(exc, f"storing {document.title}")
        raise ServiceError(
            f"{exc} The document could not be stored, so nothing was changed. Try again shortly."
        ) from exc
    retention.retain_after_commit(stored)
    seq = len(document.versions) + 1
    version = DocumentVersion(
        document=document,
        seq=seq,
        label=fit(label, DocumentVersion.__table__.c.label),
        sha256=hashlib.sha256(pdf).hexdigest(),
        storage_key=stored.key,
        storage_version_id=stored.version_id,
        size=len(pdf),
        created_at=clock.now(),
        created_by_id=by.id if by else None,
        transition_id=transition.id if transition else None,
        evidence_until=evidence_until,
    )
    db.session.add(version)
    db.session.flush()
    return version


def archived(pdf: bytes) -> tuple[bytes, datetime | None]:
    """The final document with its long-term validation data and a document timestamp, and
    until when that timestamp proves anything (its TSA certificate's end)."""
    from portal.documents.long_term import evidence_until
    from portal.documents.signing import SigningError

    try:
        stamped = runtime.signer().timestamp_document(pdf)
    except SigningError as exc:
        raise ServiceError(f"{exc} Nothing was stored; try again shortly.") from exc
    return stamped, evidence_until(stamped)


def read_bytes(version: DocumentVersion) -> bytes:
    """The version's bytes, exactly as stored. A copy that no longer matches its fingerprint
    raises a ServiceError and alerts the lead agency (services.alerts: a log line, an audit
    event and an e-mail to its admins, kept even if the caller's change rolls back)."""
    from portal.storage import StorageError, StorageIntegrityError

    try:
        return runtime.storage().get(version.storage_key, version.storage_version_id)
    except StorageIntegrityError as exc:
        document = version.document
        alerts.stored_copy_altered(
            alerts.AlteredCopy(
                object=version,
                agency_id=document.agency_id,
                what=f"{document.title}, version {version.seq} (document {document.id})",
                storage_key=version.storage_key,
                storage_version_id=version.storage_version_id,
                recorded_sha256=version.sha256,
                actual_sha256=exc.actual_sha256,
            )
        )
        raise ServiceError(
            "The stored copy of this document does not match its recorded fingerprint. "
            f"{lead_agency_name()} has been alerted; do not rely on this copy."
        ) from exc
    except StorageError as exc:
        alerts.storage_outage(exc, f"reading {version.document.title}, version {version.seq}")
        raise ServiceError(f"{exc} Try again shortly.") from exc


@dataclass
class Download:
    data: bytes
    filename: str


def download(viewer: User, version_id: int) -> Download:
    version = db.session.get(DocumentVersion, version_id)
    if version is None:
        raise NotFound()
    require_agency_visible(viewer, version.document.agency_id)
    title = version.document.title
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in title)[:80].strip("-")
    return Download(read_bytes(version), f"{safe}-v{version.seq}.pdf")


def attachment(version: DocumentVersion, filename: str) -> dict:
    """An outbox attachment of this version: the mail job reads exactly these bytes."""
    return {
        "filename": filename,
        "storage_key": version.storage_key,
        "version_id": version.storage_version_id,
    }


def find_by_sha256(sha256: str) -> DocumentVersion | None:
    query = select(DocumentVersion).where(DocumentVersion.sha256 == sha256).limit(1)
    return db.session.scalar(query)
