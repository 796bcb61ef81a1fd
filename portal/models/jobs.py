"""When each scheduler job last ran: the health check's view of the scheduler, and the
weekly document check's memory across scheduler restarts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime


class JobRun(db.Model):
    """One row per job name; every scheduler process writes the same row."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Set when a run is claimed (the weekly check claims its turn with it, so one of several
    # schedulers runs it); None before the first claim.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
