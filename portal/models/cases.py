"""The append-only history of every workflow case: one row per transition."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class Transition(db.Model):
    __tablename__ = "transition"
    __table_args__ = (Index("ix_transition_case", "case_type", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_type: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_role: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(Text, default="")

    actor = relationship("User")
