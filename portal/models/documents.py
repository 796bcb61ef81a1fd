"""Documents and their versions. Each version is an immutable object in storage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class Document(db.Model):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_type: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    versions = relationship(
        "DocumentVersion", order_by="DocumentVersion.seq", back_populates="document"
    )

    @property
    def current(self) -> DocumentVersion | None:
        return self.versions[-1] if self.versions else None


class DocumentVersion(db.Model):
    """One revision of a document: the bytes' SHA-256 and where they are kept."""

    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    seq: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    # The S3 VersionId of these bytes: reads ask for exactly this version, so a later PUT or a
    # delete marker under the same key cannot hide it. None in local storage (no versions)
    # and for versions stored before ids were recorded (read by key).
    storage_version_id: Mapped[str | None] = mapped_column(String(1024))
    # When the object's full Object Lock retention ends, once the storage sweep has confirmed
    # it; None while only the short lock it was written with is known (see services.retention).
    retained_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    size: Mapped[int] = mapped_column(Integer)
    # When the newest timestamp in these bytes stops proving anything (its TSA certificate
    # expires); `flask evidence refresh` adds a new document timestamp before then. None for
    # versions with no timestamp of their own to renew (drafts, superseded revisions).
    evidence_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    transition_id: Mapped[int | None] = mapped_column(ForeignKey("transition.id"))

    document = relationship("Document", back_populates="versions")
