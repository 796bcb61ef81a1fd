"""Re-signing campaigns: every agency on an older template version signs the new one."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class Campaign(db.Model):
    """A round of new agreements on one template version, sent to the chosen agencies, each
    replacing that agency's agreement in effect once both parties sign it."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("agreement_template.id"))
    state: Mapped[str] = mapped_column(String(40))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # The last day to sign, in the lead agency's time zone: unsigned requests expire then.
    due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"version_id_col": lock_version}

    template = relationship("AgreementTemplate")
    created_by = relationship("User")
    agreements = relationship("Agreement", back_populates="campaign", order_by="Agreement.id")
