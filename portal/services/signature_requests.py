"""Requests for a signature: the link each signer is sent, and its progress.

An agreement, an amendment or a user agreement that waits for someone's signature keeps one
live request per signer here. The e-mail carries a link to `/sign/<secret>` (only the
secret's SHA-256 is stored); the link leads to the document's signing page once the person
is signed in. A resend replaces the request with a new one and a new link, and the old link
stops working; so does every link of a request that ended unsigned (expired, declined,
voided). The progress a document's page shows is sent, opened (the signer's first view of
the signing page), signed, each with its time.

The expiry and the reminders themselves are deadlines of the case's own machine (a timer on
its state awaiting the signature, rule `SIGNATURE_REQUEST`); this module keeps the links.
Everything here runs in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from portal.extensions import db
from portal.models import SignatureRequest, User
from portal.services import links
from portal.services.sealing import fernet

_PURPOSE = b"portal signature request link"

PATH = "/sign/"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live_query(case_type: str, case_id: int):
    return select(SignatureRequest).where(
        SignatureRequest.case_type == case_type,
        SignatureRequest.case_id == case_id,
        SignatureRequest.signed_at.is_(None),
        SignatureRequest.replaced_at.is_(None),
        SignatureRequest.ended_at.is_(None),
    )


def live(case_type: str, case_id: int) -> list[SignatureRequest]:
    """The requests of a case still waiting for their signer, oldest first."""
    query = _live_query(case_type, case_id).order_by(SignatureRequest.id)
    return list(db.session.scalars(query))


def send(case_type: str, case: Any, signer: User, *, at: datetime) -> str:
    """Opens a request for `signer` to sign `case` and returns the full link for the e-mail.
    A live request of the same signer for the same case is replaced: its link stops working."""
    query = _live_query(case_type, case.id).where(SignatureRequest.signer_id == signer.id)
    for older in db.session.scalars(query):
        older.replaced_at = at
    token = secrets.token_urlsafe(32)
    db.session.add(
        SignatureRequest(
            case_type=case_type,
            case_id=case.id,
            agency_id=case.agency_id,
            signer_id=signer.id,
            token_sha256=_digest(token),
            token_sealed=fernet(_PURPOSE).encrypt(token.encode()).decode(),
            sent_at=at,
            reminders=0,
        )
    )
    return links.page(PATH + token)


def path_for(token_link: str) -> str:
    """The portal path of a link `send` returned (for an invitation's `next_path`)."""
    return token_link[token_link.index(PATH) :]


def by_token(token: str) -> SignatureRequest | None:
    if not token or len(token) > 200:
        return None
    query = select(SignatureRequest).where(SignatureRequest.token_sha256 == _digest(token))
    return db.session.scalar(query)


def why_not_usable(row: SignatureRequest) -> str | None:
    """Why this request's link no longer works, in words for the person who followed it."""
    if row.signed_at is not None:
        return "This document is already signed; there is nothing left to sign with this link."
    if row.replaced_at is not None:
        return (
            "A newer link replaced this one. Use the link in the most recent e-mail asking "
            "for your signature."
        )
    if row.ended_at is not None:
        return "This request for your signature has ended: it expired, or was withdrawn."
    return None


def opened(case_type: str, case_id: int, user: User, *, at: datetime) -> None:
    """The signer's first view of the signing page; later views change nothing."""
    query = _live_query(case_type, case_id).where(
        SignatureRequest.signer_id == user.id, SignatureRequest.opened_at.is_(None)
    )
    for row in db.session.scalars(query):
        row.opened_at = at


def signed(case_type: str, case_id: int, user: User, *, at: datetime) -> None:
    """`user` signed: their request is done and any other signer's (e.g. a designated
    representative asked alongside the executive director) ends, its link with it."""
    for row in db.session.scalars(_live_query(case_type, case_id)):
        if row.signer_id == user.id:
            row.signed_at = at
            if row.opened_at is None:
                row.opened_at = at
        else:
            row.ended_at = at


def end(case_type: str, case_id: int, *, at: datetime) -> None:
    """The case stopped waiting unsigned (expired, declined, voided): every link stops."""
    for row in db.session.scalars(_live_query(case_type, case_id)):
        row.ended_at = at


def reminded(row: SignatureRequest, *, at: datetime) -> None:
    row.reminded_at = at
    row.reminders = (row.reminders or 0) + 1


def link_of(row: SignatureRequest) -> str:
    """The full link of a live request, as its e-mail gave it (for a reminder)."""
    token = fernet(_PURPOSE).decrypt(row.token_sealed.encode()).decode()
    return links.page(PATH + token)


@dataclass(frozen=True)
class Progress:
    """One signer's request as a document's page shows it."""

    signer_name: str
    sent_at: datetime
    opened_at: datetime | None
    signed_at: datetime | None
    reminders: int
    reminded_at: datetime | None
    status: str  # "waiting", "signed", "replaced", "ended"


def progress(case_type: str, case_id: int) -> list[Progress]:
    """Every request of a case, oldest first (replaced ones included, so a resend shows)."""
    query = (
        select(SignatureRequest)
        .where(SignatureRequest.case_type == case_type, SignatureRequest.case_id == case_id)
        .order_by(SignatureRequest.id)
    )
    rows = []
    for row in db.session.scalars(query):
        if row.signed_at is not None:
            status = "signed"
        elif row.replaced_at is not None:
            status = "replaced"
        elif row.ended_at is not None:
            status = "ended"
        else:
            status = "waiting"
        rows.append(
            Progress(
                signer_name=row.signer.name,
                sent_at=row.sent_at,
                opened_at=row.opened_at,
                signed_at=row.signed_at,
                reminders=row.reminders or 0,
                reminded_at=row.reminded_at,
                status=status,
            )
        )
    return rows
