"""The agreement's remedies: notices of default, notices of termination, suspensions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class DefaultNotice(db.Model):
    """A written notice of default (VIII.B.3) and its ten-day cure period."""

    __tablename__ = "default_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    issuer_side: Mapped[str] = mapped_column(String(10))  # "lead" or "agency"
    state: Mapped[str] = mapped_column(String(40), default="cure_period")
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    provisions: Mapped[list] = mapped_column(JSON, default=list)  # [[citation, title], ...]
    description: Mapped[str] = mapped_column(Text)
    cure_required: Mapped[str] = mapped_column(Text)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    given_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    cure_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cure_rule_text: Mapped[str] = mapped_column(Text)
    closed_reason: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    declaration_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    # The one-time keys of the forms that gave the notice and declared the termination: a
    # form sent twice finds its notice by its key instead of giving a second one.
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    declaration_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    __mapper_args__ = {"version_id_col": lock_version}

    # Not stored: set by the service when a form sent again returned this notice.
    already_given = False

    agreement = relationship("Agreement")
    agency = relationship("Agency")
    given_by = relationship("User")
    document = relationship("Document", foreign_keys=[document_id])
    declaration = relationship("Document", foreign_keys=[declaration_id])
    cures = relationship("CureSubmission", order_by="CureSubmission.id", back_populates="notice")

    @property
    def defaulting_side(self) -> str:
        return "agency" if self.issuer_side == "lead" else "lead"


class CureSubmission(db.Model):
    """What the defaulting party says it did to cure, with any attached files."""

    __tablename__ = "cure_submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("default_notice.id"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text)
    # [{"filename", "storage_key", "version_id", "sha256", "size", "content_type"}]
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    decision: Mapped[str] = mapped_column(String(20), default="")  # accepted / rejected
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")

    notice = relationship("DefaultNotice", back_populates="cures")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])


class TerminationNotice(db.Model):
    """Thirty days' prior written notice of termination (VIII.B.1)."""

    __tablename__ = "termination_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    issuer_side: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(40), default="notice_period")
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    reason: Mapped[str] = mapped_column(Text, default="")
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    given_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rule_text: Mapped[str] = mapped_column(Text)
    closed_reason: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # see DefaultNotice

    __mapper_args__ = {"version_id_col": lock_version}

    already_given = False  # see DefaultNotice

    agreement = relationship("Agreement")
    agency = relationship("Agency")
    given_by = relationship("User")
    document = relationship("Document")


class Suspension(db.Model):
    """SSF's suspension of an agency, or of one person, pending investigation (IV.B.1)."""

    __tablename__ = "suspension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="suspended")
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    lift_reason: Mapped[str] = mapped_column(Text, default="")
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # see DefaultNotice

    __mapper_args__ = {"version_id_col": lock_version}

    agency = relationship("Agency")
    user = relationship("User", foreign_keys=[user_id])
