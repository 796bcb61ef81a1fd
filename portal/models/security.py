"""Access that stays right (IV.B.1, IV.B.5, V.E.1, V.E.11–12): sessions kept on the server,
two-factor recovery codes, separations, yearly recertification, the security
self-assessment and reconciliations with the HMIS's own user list."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class UserSession(db.Model):
    """A browser's session, kept on the server: the cookie carries only a random id, whose
    SHA-256 is this row's key. Ending the row (logout, a new password, a suspension, an
    idle or absolute timeout) ends the session wherever its cookie is."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str] = mapped_column(String(40), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(Text, default="")


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app; only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Separation(db.Model):
    """A person's separation from their agency (V.E.12), as the agency reported it."""

    __tablename__ = "separation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    last_day: Mapped[date] = mapped_column(Date)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # The end of the business day after the last day (V.E.12), and the rule in words.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_rule_text: Mapped[str] = mapped_column(Text, default="")
    on_time: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    # The HMIS user id to deactivate in the HMIS itself, and when the lead agency did.
    hmis_user_id: Mapped[str] = mapped_column(String(100), default="")
    hmis_deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hmis_deactivated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_reason: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"version_id_col": lock_version}

    agency = relationship("Agency")
    user = relationship("User", foreign_keys=[user_id])
    reported_by = relationship("User", foreign_keys=[reported_by_id])
    hmis_deactivated_by = relationship("User", foreign_keys=[hmis_deactivated_by_id])


class Recertification(db.Model):
    """One person's yearly recertification: their user agreement and privacy and security
    training lapse on set dates unless renewed."""

    __tablename__ = "recertification"
    __table_args__ = (UniqueConstraint("user_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_agreement_lapses_on: Mapped[date | None] = mapped_column(Date)
    training_lapses_on: Mapped[date | None] = mapped_column(Date)
    lapses_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the earlier, end of that day
    user_agreement_renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    training_renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    closed_reason: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"version_id_col": lock_version}

    agency = relationship("Agency")
    user = relationship("User")
    document = relationship("Document")


class SecurityAssessment(db.Model):
    """The agency's yearly security self-assessment (V.E.11 a–c, V.B.6), signed by its
    security officer as a PDF."""

    __tablename__ = "security_assessment"
    __table_args__ = (UniqueConstraint("agency_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))

    __mapper_args__ = {"version_id_col": lock_version}

    agency = relationship("Agency")
    signed_by = relationship("User")
    document = relationship("Document")


class HmisReconciliation(db.Model):
    """An upload of the HMIS vendor's user export, and what it did not match here."""

    __tablename__ = "hmis_reconciliation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    findings: Mapped[list] = mapped_column(JSON, default=list)

    uploaded_by = relationship("User")
