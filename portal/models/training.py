"""Training and tests (V.E.5–6): courses with a question bank and a pass mark, scheduled
sessions with a capacity and attendance, and every test attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime


class Course(db.Model):
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Required of every new user before their account is issued (gate (d) of IV.B.4).
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # For a role-based refresher: the HMIS role it is meant for ("" for every role).
    hmis_role: Mapped[str] = mapped_column(String(40), default="")
    # Whether attending a session is part of completing the course, besides the test.
    session_required: Mapped[bool] = mapped_column(Boolean, default=False)
    pass_mark: Mapped[int] = mapped_column(Integer, default=80)  # percent
    questions_per_test: Mapped[int] = mapped_column(Integer, default=10)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    minutes_per_attempt: Mapped[int] = mapped_column(Integer, default=60)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    questions = relationship("Question", back_populates="course", order_by="Question.id")


class Question(db.Model):
    """A multiple-choice question in a course's bank; retired, never deleted (attempts keep
    the questions they drew)."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list] = mapped_column(JSON, default=list)  # [str, ...]
    correct: Mapped[int] = mapped_column(Integer)  # index into choices
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    course = relationship("Course", back_populates="questions")


class TrainingSession(db.Model):
    """A scheduled class: in person or by webinar, with a capacity."""

    __tablename__ = "training_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    minutes: Mapped[int] = mapped_column(Integer, default=90)
    mode: Mapped[str] = mapped_column(String(20))  # "in_person" or "webinar"
    location: Mapped[str] = mapped_column(Text, default="")  # an address or a meeting link
    capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course = relationship("Course")
    seats = relationship("SessionSeat", back_populates="session", order_by="SessionSeat.id")


class SessionSeat(db.Model):
    """A person enrolled in a session, and whether they attended (None until recorded)."""

    __tablename__ = "session_seat"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attended: Mapped[bool | None] = mapped_column(Boolean)
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    session = relationship("TrainingSession", back_populates="seats")
    user = relationship("User", foreign_keys=[user_id])


class TestAttempt(db.Model):
    """One attempt at a course's test: taken in the portal (questions drawn from the bank,
    scored by the portal) or recorded by the lead agency from a test taken elsewhere."""

    __tablename__ = "test_attempt"
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    source: Mapped[str] = mapped_column(String(20), default="portal")  # or "recorded"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    question_ids: Mapped[list] = mapped_column(JSON, default=list)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # question id (str) → choice
    score: Mapped[int | None] = mapped_column(Integer)  # percent
    passed: Mapped[bool | None] = mapped_column(Boolean)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    course = relationship("Course")
    user = relationship("User", foreign_keys=[user_id])
