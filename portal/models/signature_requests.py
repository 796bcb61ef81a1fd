"""Requests for a person's signature, with the link they were sent and its progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class SignatureRequest(db.Model):
    """One invitation to sign one document of a case (an agreement, an amendment, a user
    agreement), sent to one person: when it was sent, first opened by them, signed. A resend
    replaces it with a new row and a new link; the replaced link stops working."""

    __tablename__ = "signature_request"
    __table_args__ = (Index("ix_signature_request_case", "case_type", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_type: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int] = mapped_column(Integer)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The SHA-256 of the link's secret: the link itself is only in the e-mail.
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # The secret again, sealed with the portal's key, so a reminder can carry the same link.
    token_sealed: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    # Set when a newer link replaced this one, or the request ended unsigned (expired,
    # declined, voided): the link then stops working.
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    signer = relationship("User")
