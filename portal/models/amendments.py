"""Amendments to an agreement in effect (VIII.B.2), each its own signed document."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class Amendment(db.Model):
    """A change to some sections of an agreement in effect: proposed by the agency or drafted
    by the lead agency, certified and sent, signed by the agency's executive director, then
    countersigned. It takes effect on the later signature."""

    __tablename__ = "amendment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Which sections change ("VIII.B.2; IX"), their new text, and why.
    sections: Mapped[str] = mapped_column(String(200))
    new_text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    # Set when the agency proposed it (state "proposed" until the lead agency decides).
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # A one-time key from the form that created it: the same form sent twice makes one.
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_title: Mapped[str] = mapped_column(String(200), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agency_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agency_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    lead_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lead_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    effective_on: Mapped[date | None] = mapped_column(Date)
    closed_reason: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))

    __mapper_args__ = {"version_id_col": lock_version}

    agreement = relationship("Agreement")
    agency = relationship("Agency")
    document = relationship("Document")
    proposed_by = relationship("User", foreign_keys=[proposed_by_id])
    agency_signed_by = relationship("User", foreign_keys=[agency_signed_by_id])
    lead_signed_by = relationship("User", foreign_keys=[lead_signed_by_id])
