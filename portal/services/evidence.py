"""Evidence that outlasts the retention period: document timestamps (PAdES B-LTA) on every
final document, renewed before the timestamping certificate behind them expires.

A final document is stored with its validation data and a document timestamp
(`documents.add_version(..., archive=True)` calls `documents.archived`), and its version records
`evidence_until`: the end of the newest timestamp's TSA certificate. `refresh` (the
`flask evidence refresh` command, daily in the scheduler) takes every document whose newest
version's evidence ends within the margin, renews the TSA certificate first when it is itself
within the margin, and stores the document again with fresh validation data and a new
document timestamp under the renewed certificate, which vouches for all the earlier ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from portal import clock, runtime
from portal.extensions import db
from portal.models import Document, DocumentVersion
from portal.pki import PkiError
from portal.services import audit, documents
from portal.services.errors import ServiceError
from portal.services.timefmt import local_date, short_date
from portal.services.unit import unit_of_work

log = logging.getLogger("portal.services.evidence")

REFRESH_LABEL = "Evidence renewed (document timestamp)"


@dataclass(frozen=True)
class TimestampingCertificate:
    """What the audit entry of a TSA renewal is about (no table row of its own)."""

    id: None = None


@dataclass(frozen=True)
class Failure:
    document_id: int
    title: str
    reason: str

    def describe(self) -> str:
        return f"document {self.document_id} ({self.title}): {self.reason}"


@dataclass
class RefreshResult:
    """What one run did: the TSA certificate renewed or not, each document re-timestamped
    (document id, new version), and each one that failed with why."""

    margin: timedelta
    tsa_renewed: bool = False
    tsa_problem: str = ""  # why the due TSA certificate could not be renewed
    refreshed: list[tuple[int, int]] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.tsa_problem

    def lines(self) -> list[str]:
        out = []
        if self.tsa_renewed:
            out.append("Renewed the timestamping certificate.")
        if self.tsa_problem:
            out.append(f"Failed: the timestamping certificate: {self.tsa_problem}")
        out += [f"Failed: {f.describe()}" for f in self.failed]
        out.append(
            f"Evidence renewed on {len(self.refreshed)} document(s) whose timestamps end within "
            f"{self.margin.days} days; {len(self.failed)} failed."
        )
        return out


def due_versions(until: datetime) -> list[DocumentVersion]:
    """The newest version of each document whose evidence ends before `until`."""
    newest = (
        select(DocumentVersion.document_id, func.max(DocumentVersion.seq).label("seq"))
        .group_by(DocumentVersion.document_id)
        .subquery()
    )
    query = (
        select(DocumentVersion)
        .join(
            newest,
            (DocumentVersion.document_id == newest.c.document_id)
            & (DocumentVersion.seq == newest.c.seq),
        )
        .where(DocumentVersion.evidence_until.is_not(None))
        .where(DocumentVersion.evidence_until < until)
        .order_by(DocumentVersion.evidence_until, DocumentVersion.id)
    )
    return list(db.session.scalars(query))


def refresh(margin: timedelta | None = None) -> RefreshResult:
    """Renews the evidence of every document due within `margin` (EVIDENCE_REFRESH_MARGIN_DAYS
    by default). Each document is its own transaction: one that fails is reported and the
    others go on. Safe to run again: a renewed document is not due any more."""
    if margin is None:
        margin = timedelta(days=current_app.config["EVIDENCE_REFRESH_MARGIN_DAYS"])
    result = RefreshResult(margin)
    now = clock.now()
    if not current_app.config.get("TSA_URL"):
        # Only the portal's own TSA is renewed here; an external one renews its own.
        try:
            result.tsa_renewed = runtime.pki().renew_tsa(margin)
        except PkiError as exc:
            # Documents are still re-timestamped: under the current certificate, which the
            # check in _refresh_one refuses when it would not extend their evidence.
            result.tsa_problem = str(exc)
            log.warning("evidence refresh: the TSA certificate was not renewed: %s", exc)
        if result.tsa_renewed:
            tsa_end = runtime.pki().tsa_not_after
            audit.record(
                None,
                "pki.tsa_renewed",
                TimestampingCertificate(),
                f"Renewed the timestamping certificate (now valid until {_day(tsa_end)})",
                agency_id=None,
                after={"not_after": tsa_end.isoformat()},
                at=now,
            )
            db.session.commit()
    due = [(v.document_id, v.id) for v in due_versions(now + margin)]
    db.session.rollback()  # each document is read again in its own transaction
    for document_id, version_id in due:
        try:
            with unit_of_work("The document changed while its evidence was renewed."):
                result.refreshed.append((document_id, _refresh_one(version_id, now)))
        except Exception as exc:  # one document's failure must not stop the others
            document = db.session.get(Document, document_id)
            title = document.title if document else "?"
            reason = exc.message if isinstance(exc, ServiceError) else str(exc) or repr(exc)
            log.warning("evidence refresh failed for document %s: %s", document_id, reason)
            result.failed.append(Failure(document_id, title, reason))
    return result


def _refresh_one(version_id: int, now: datetime) -> int:
    version = db.session.get(DocumentVersion, version_id)
    document = version.document
    if document.current.id != version.id:
        raise ServiceError("A newer version was stored meanwhile; it is renewed on the next run.")
    previous = version.evidence_until
    stamped, until = documents.archived(documents.read_bytes(version))
    if until is None or (previous is not None and until <= previous):
        # Storing it would change nothing, and the next run would do it again.
        raise ServiceError(
            "The new timestamp's certificate ends no later than the current one's "
            f"({_day(previous) if previous else 'unknown'}); renew the timestamping "
            "certificate first."
        )
    new = documents.add_version(document, stamped, REFRESH_LABEL, by=None)
    new.evidence_until = until
    audit.record(
        None,
        "document.evidence_renewed",
        document,
        f"Renewed the evidence of {document.title}: version {new.seq} adds a document "
        f"timestamp valid until {_day(until)}",
        agency_id=document.agency_id,
        before={"version": version.seq, "evidence_until": _iso(previous)},
        after={"version": new.seq, "evidence_until": until.isoformat(), "sha256": new.sha256},
        at=now,
    )
    return new.seq


def _day(moment: datetime) -> str:
    return short_date(local_date(moment))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
