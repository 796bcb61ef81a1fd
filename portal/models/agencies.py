"""Agencies: the lead agency (SSF) and its partner agencies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class Agency(db.Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(Text, default="")
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    # A victim service provider covered by VAWA cannot be a partner agency (III.A); the rule
    # is portal.services.agencies.refusal_to_partner. Rows from before registration refused
    # such agencies may still carry True.
    vawa_provider: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(Integer)  # who registered it (see audit)
    # An agency that ceased to operate (VIII.B.6): its data is the CoC's property from then.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str] = mapped_column(Text, default="")
    closed_by_id: Mapped[int | None] = mapped_column(Integer)

    people = relationship("User", back_populates="agency", foreign_keys="User.agency_id")


class SignerDesignation(db.Model):
    """A representative SSF has designated to sign for an agency in place of its ED."""

    __tablename__ = "signer_designation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    designated_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    designated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])
