"""Cures of a notice of default (VIII.B.3): the defaulting party submits what it did, with
files as evidence; the party that gave the notice accepts or rejects it.

Attachments are stored content-addressed, typed by their content (never by their name
alone), and read back only by people who may see the notice. The notice's own steps
(giving it, the cure period, closing and declaring) are in `default_notices`.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from portal import clock, runtime
from portal.extensions import db
from portal.models import User
from portal.models.remedies import CureSubmission, DefaultNotice
from portal.services import alerts, default_notices, links, remedies, retention
from portal.services.access import RequestInfo, require_agency_visible
from portal.services.errors import NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Attachments are evidence: accept only kinds a reviewer can open safely, checked by content.
_SIGNATURES = {b"%PDF-": "application/pdf", b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def submit_cure(
    user: User, notice_id: int, *, text: str, uploads: list[Upload], request: RequestInfo
) -> CureSubmission:
    with unit_of_work():
        notice = default_notices.get(user, notice_id)
        body = clean_text(text, "What was done to cure", max_len=20_000, multiline=True)
        now = clock.now()
        # The period ends at its deadline, not when the next sweep happens to run.
        if notice.state == "cure_period" and now > notice.cure_ends_at:
            raise ServiceError(
                f"The cure period ended {notice.cure_rule_text}; a cure can no longer be submitted."
            )
        default_notices.advance(notice, "submit_cure", user, at=now, request=request)
        submission = CureSubmission(
            notice=notice,
            submitted_at=now,
            submitted_by_id=user.id,
            text=body,
            attachments=[_store(upload) for upload in uploads if upload.data],
        )
        db.session.add(submission)
        remedies.notify_side(
            notice.issuer_side,
            notice.agency,
            f"Cure submitted: {notice.reference}",
            f"{user.name} submitted a cure for notice of default {notice.reference}. Accept or "
            f"reject it: {links.page(f'/notices/default/{notice.id}')}\n",
        )
    return submission


def _store(upload: Upload) -> dict:
    from portal.storage import sha256_hex

    name = clean_text(upload.filename, "File name", max_len=200) or "attachment"
    if len(upload.data) > MAX_ATTACHMENT_BYTES:
        raise ServiceError(f"{name} is larger than 10 MB.")
    kind = next((t for sig, t in _SIGNATURES.items() if upload.data.startswith(sig)), None)
    if kind is None:
        guessed = mimetypes.guess_type(name)[0]
        if guessed == "text/plain" and _is_text(upload.data):
            kind = "text/plain"
        else:
            raise ServiceError(f"{name}: attach PDF, PNG, JPEG or plain-text files only.")
    from portal.storage import StorageError

    try:
        stored = runtime.storage().put(upload.data, content_type=kind)
    except StorageError as exc:
        alerts.storage_outage(exc, f"storing the cure attachment {name}")
        raise ServiceError(f"{exc} Nothing was submitted; try again shortly.") from exc
    retention.retain_after_commit(stored)
    return {
        "filename": name,
        "storage_key": stored.key,
        "version_id": stored.version_id,
        "sha256": sha256_hex(upload.data),
        "size": len(upload.data),
        "content_type": kind,
    }


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data


def accept_cure(user: User, notice_id: int, *, request: RequestInfo) -> DefaultNotice:
    return _decide(user, notice_id, "accept_cure", "", request)


def reject_cure(user: User, notice_id: int, *, reason: str, request: RequestInfo) -> DefaultNotice:
    return _decide(user, notice_id, "reject_cure", reason, request)


def _decide(user: User, notice_id: int, event: str, reason: str, request: RequestInfo):
    with unit_of_work():
        notice = default_notices.get(user, notice_id)
        why = clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)
        now = clock.now()
        default_notices.advance(notice, event, user, at=now, request=request, reason=why)
        latest = notice.cures[-1] if notice.cures else None
        if latest is not None and not latest.decision:
            latest.decision = "accepted" if event == "accept_cure" else "rejected"
            latest.decided_at, latest.decided_by_id, latest.decision_reason = now, user.id, why
        if event == "accept_cure":
            notice.closed_reason = "Cured; the agreement continues."
            message = "accepted the cure; the default is closed and the agreement continues."
        else:
            message = (
                f"rejected the cure. Reasons:\n{why}\n\nThe cure period still ends "
                f"{notice.cure_rule_text}."
            )
        remedies.notify_side(
            notice.defaulting_side,
            notice.agency,
            f"Cure {notice.reference}: decision",
            f"{user.name} {message}\n",
        )
    return notice


@dataclass(frozen=True)
class AttachmentDownload:
    data: bytes
    filename: str
    content_type: str


def read_attachment(viewer: User, notice_id: int, cure_id: int, index: int) -> AttachmentDownload:
    """A file attached to a cure, for someone who may see the notice (others: NotFound)."""
    from portal.storage import StorageError, StorageIntegrityError

    submission = db.session.get(CureSubmission, cure_id)
    if submission is None or submission.notice_id != notice_id:
        raise NotFound()
    require_agency_visible(viewer, submission.notice.agency_id)
    if not 0 <= index < len(submission.attachments):
        raise NotFound()
    meta = submission.attachments[index]
    try:
        data = runtime.storage().get(meta["storage_key"], meta.get("version_id"))
    except StorageIntegrityError as exc:
        alerts.stored_copy_altered(
            alerts.AlteredCopy(
                object=submission,
                agency_id=submission.notice.agency_id,
                what=f"{meta['filename']}, attached to a cure of {submission.notice.reference}",
                storage_key=meta["storage_key"],
                storage_version_id=meta.get("version_id"),
                recorded_sha256=meta.get("sha256", ""),
                actual_sha256=exc.actual_sha256,
            )
        )
        raise ServiceError(
            f"The stored copy of {meta['filename']} does not match its recorded fingerprint; "
            f"{lead_agency_name()} has been alerted; do not rely on it."
        ) from exc
    except StorageError as exc:
        alerts.storage_outage(exc, f"reading the cure attachment {meta['filename']}")
        raise ServiceError(f"{exc} Try again shortly.") from exc
    return AttachmentDownload(data, meta["filename"], meta["content_type"])
