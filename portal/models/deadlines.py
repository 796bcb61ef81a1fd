"""Durable deadlines and the business-day calendar they are computed with."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime


class Deadline(db.Model):
    """'Fire `event` on case (type, id) at `due_at`'. Fired or cancelled exactly once."""

    __tablename__ = "deadline"
    __table_args__ = (
        # Only pending rows are indexed, so a sweep reads what is due, not every deadline.
        Index(
            "ix_deadline_pending_due",
            "due_at",
            sqlite_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
            postgresql_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
        ),
        Index("ix_deadline_case", "case_type", "case_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_type: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(40))  # the state whose timer this is
    event: Mapped[str] = mapped_column(String(60))
    rule_name: Mapped[str] = mapped_column(String(60))
    rule_text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transition_id: Mapped[int | None] = mapped_column(ForeignKey("transition.id"), index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


class Holiday(db.Model):
    """A day SSF observes as a holiday (footnote 1): not a business day."""

    __tablename__ = "holiday"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20), default="ssf")  # "federal" or "ssf"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
