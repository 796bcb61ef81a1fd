"""Agreement templates and the partner agency agreements made from them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime

# States in which an agreement still binds or may come to bind its agency.
OPEN_STATES = ("draft", "sent", "agency_signed", "effective")
# States of an agreement on its way to taking effect: at most one at a time per agency. It
# may stand beside the one in effect only as that one's replacement (a re-signing campaign).
PENDING_STATES = ("draft", "sent", "agency_signed")
_PENDING_SQL = "state IN ('draft', 'sent', 'agency_signed')"
_EFFECTIVE_SQL = "state = 'effective'"


class AgreementTemplate(db.Model):
    """A published version of the agreement text. Never edited: a change is a new version."""

    __tablename__ = "agreement_template"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Which document the template is for: the Partner Agency Agreement ("partner_agency")
    # or the HMIS User Agreement ("user_agreement"). Each kind has its own versions.
    kind: Mapped[str] = mapped_column(String(40), default="partner_agency")
    version: Mapped[str] = mapped_column(String(40))
    revised_date: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    notes: Mapped[str] = mapped_column(Text, default="")


class Agreement(db.Model):
    __tablename__ = "agreement"
    __table_args__ = (
        # The database itself refuses a second pending agreement, or a second one in effect,
        # for one agency, even in a race.
        Index(
            "uq_agreement_pending_per_agency",
            "agency_id",
            unique=True,
            sqlite_where=text(_PENDING_SQL),
            postgresql_where=text(_PENDING_SQL),
        ),
        Index(
            "uq_agreement_effective_per_agency",
            "agency_id",
            unique=True,
            sqlite_where=text(_EFFECTIVE_SQL),
            postgresql_where=text(_EFFECTIVE_SQL),
        ),
        # The lists by state (the home page's "Sent", "Signed by the agency"; what awaits
        # someone), newest first, without reading every agreement.
        Index("ix_agreement_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("agreement_template.id"))
    state: Mapped[str] = mapped_column(String(40), default="draft")
    # Optimistic locking: two people acting on the same agreement cannot both win.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Who signs for the agency, fixed when the agreement is sent (names printed in the PDF).
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_title: Mapped[str] = mapped_column(String(200), default="")
    filled_text: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the latest invitation to sign went out (the first send, or a resend with a new
    # link): the request's reminders and its expiry count from here.
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agency_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agency_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    lead_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lead_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The date the agreement took effect: the later signature's date, in the lead's time zone.
    effective_on: Mapped[date | None] = mapped_column(Date)
    closed_reason: Mapped[str] = mapped_column(Text, default="")
    # The day an agreement in effect stopped binding because a newer one replaced it.
    ended_on: Mapped[date | None] = mapped_column(Date)
    # A re-signing campaign's agreement: the campaign, and the agreement in effect it
    # replaces once both parties have signed it.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("agreement.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))

    __mapper_args__ = {"version_id_col": lock_version}

    agency = relationship("Agency")
    template = relationship("AgreementTemplate")
    document = relationship("Document", foreign_keys=[document_id])
    certificate = relationship("Document", foreign_keys=[certificate_id])
    agency_signed_by = relationship("User", foreign_keys=[agency_signed_by_id])
    lead_signed_by = relationship("User", foreign_keys=[lead_signed_by_id])
    campaign = relationship("Campaign", back_populates="agreements")
    replaces = relationship("Agreement", remote_side=[id], foreign_keys=[replaces_id])
