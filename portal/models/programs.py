"""Programs of partner agencies (VIII.B.5), their reallocation from one agency to another
(VIII.B.7) and the lead agency's site visits (IV.B.8). No client data is kept here."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime

PROGRAM_STATES = {
    "active": "Active",
    "reallocated": "Reallocated — read-only",
    "grant_terminated": "Grant terminated — read-only",
}


class Program(db.Model):
    """A HUD-funded program an agency runs. Only an active program takes new records; a
    reallocated one or one whose grant was terminated stays visible, read-only."""

    __tablename__ = "program"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    funding_source: Mapped[str] = mapped_column(String(200), default="")
    hud_grant_number: Mapped[str] = mapped_column(String(60), default="")
    start_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(40), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str] = mapped_column(Text, default="")
    # The program this one continues, when it came to this agency by a reallocation.
    reallocated_from_id: Mapped[int | None] = mapped_column(ForeignKey("program.id"))

    agency = relationship("Agency", foreign_keys=[agency_id])

    @property
    def read_only(self) -> bool:
        return self.state != "active"

    @property
    def state_label(self) -> str:
        return PROGRAM_STATES.get(self.state, self.state)


class Reallocation(db.Model):
    """A program moved from the releasing agency (`agency_id`) to the acquiring agency, and
    the hand-over of its signed client consent and release-of-information forms. Only the
    facts of the delivery are kept: how many forms, how, when, and an optional file."""

    __tablename__ = "reallocation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    acquiring_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"))
    new_program_id: Mapped[int] = mapped_column(ForeignKey("program.id"))
    state: Mapped[str] = mapped_column(String(40))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    reason: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_rule_text: Mapped[str] = mapped_column(String(200), default="")
    delivered_count: Mapped[int | None] = mapped_column(Integer)
    delivered_method: Mapped[str] = mapped_column(String(40), default="")
    delivered_on: Mapped[date | None] = mapped_column(Date)
    delivered_note: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    attachment: Mapped[dict | None] = mapped_column(JSON)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    releasing_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    releasing_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acquiring_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acquiring_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_reason: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"version_id_col": lock_version}

    agency = relationship("Agency", foreign_keys=[agency_id])
    acquiring_agency = relationship("Agency", foreign_keys=[acquiring_agency_id])
    program = relationship("Program", foreign_keys=[program_id])
    new_program = relationship("Program", foreign_keys=[new_program_id])
    document = relationship("Document", foreign_keys=[document_id])
    delivered_by = relationship("User", foreign_keys=[delivered_by_id])
    received_by = relationship("User", foreign_keys=[received_by_id])


class SiteVisit(db.Model):
    """A visit of the lead agency to a partner agency's site (IV.B.8)."""

    __tablename__ = "site_visit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    visit_at: Mapped[datetime] = mapped_column(UTCDateTime)
    visitors: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"version_id_col": lock_version}

    agency = relationship("Agency", foreign_keys=[agency_id])
    findings = relationship(
        "SiteVisitFinding", back_populates="visit", order_by="SiteVisitFinding.id"
    )


class SiteVisitFinding(db.Model):
    """One thing a visit found: "compliant", or a "finding" of non-compliance."""

    __tablename__ = "site_visit_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("site_visit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    visit = relationship("SiteVisit", back_populates="findings")
