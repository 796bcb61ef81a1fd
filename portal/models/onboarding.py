"""Onboarding new HMIS users (IV.B.4, V.E.5–7, VII.A): the agency's security officer, the
participation fee ledger, access requests and each new user's onboarding."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class SecurityOfficerDesignation(db.Model):
    """Who holds the agency's security officer role (V.E.7), since when, and until when.

    Designating a new officer ends the current designation: the rows are the role's history.
    """

    __tablename__ = "security_officer_designation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    designated_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    designated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    user = relationship("User", foreign_keys=[user_id])
    designated_by = relationship("User", foreign_keys=[designated_by_id])


class ParticipationFee(db.Model):
    """The agency's HMIS participation fee for one year (VII.A): free unless a row says so."""

    __tablename__ = "participation_fee"
    __table_args__ = (UniqueConstraint("agency_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)
    waived: Mapped[bool] = mapped_column(Boolean, default=False)
    paid_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))


class AccessRequest(db.Model):
    """A request for HMIS access for one staff member (workflows/access_request.py)."""

    __tablename__ = "access_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    # The agreement in effect when the request was made: the request closes when it ends.
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id"), index=True)
    state: Mapped[str] = mapped_column(String(40), default="in_progress")
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # The staff member, as requested, and their portal account (made with the request).
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    job_title: Mapped[str] = mapped_column(String(200))
    hmis_role: Mapped[str] = mapped_column(String(40))
    programs: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Set when the lead agency issues the account.
    hmis_user_id: Mapped[str] = mapped_column(String(100), default="")
    issued_on: Mapped[date | None] = mapped_column(Date)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    closed_reason: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"version_id_col": lock_version}

    agency = relationship("Agency")
    agreement = relationship("Agreement")
    user = relationship("User", foreign_keys=[user_id])
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    certificate = relationship("Document", foreign_keys=[certificate_id])
    onboarding = relationship("Onboarding", back_populates="request", uselist=False)


class Onboarding(db.Model):
    """One new user's onboarding (workflows/onboarding.py), with the HMIS User Agreement."""

    __tablename__ = "onboarding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    access_request_id: Mapped[int] = mapped_column(ForeignKey("access_request.id"), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    state: Mapped[str] = mapped_column(String(40), default="invited")
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The HMIS User Agreement: the template version it was made from, and its signatures.
    template_id: Mapped[int | None] = mapped_column(ForeignKey("agreement_template.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    user_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    training_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"version_id_col": lock_version}

    request = relationship("AccessRequest", back_populates="onboarding")
    user = relationship("User", foreign_keys=[user_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    template = relationship("AgreementTemplate")
    document = relationship("Document", foreign_keys=[document_id])

    @property
    def reference(self) -> str:
        return self.request.reference


class AwaitingReminder(db.Model):
    """One reminder e-mailed to a person about a step that waited on them too long: at most
    one per person, case and state, so a case that stays put is not re-sent every day."""

    __tablename__ = "awaiting_reminder"
    __table_args__ = (UniqueConstraint("user_id", "case_type", "case_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    case_type: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
