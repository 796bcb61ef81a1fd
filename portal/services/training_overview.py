"""What a person's training page shows: every required course with what is done and what is
left, the refreshers, the sessions they hold a seat in and the ones they can still join."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import (
    AccessRequest,
    Course,
    Question,
    SessionSeat,
    TestAttempt,
    TrainingSession,
    User,
)
from portal.services import training, training_progress, training_sessions


@dataclass(frozen=True)
class CourseStatus:
    course: Course
    progress: training_progress.CourseProgress
    attempts: list[TestAttempt]
    open_attempt: TestAttempt | None
    # Why "Start the test" is not offered (None: it is, or an attempt is open).
    refusal: str | None
    for_my_role: bool

    @property
    def used(self) -> int:
        return len(self.attempts)

    @property
    def passed(self) -> bool:
        return any(a.passed for a in self.attempts)


@dataclass(frozen=True)
class Overview:
    required: list[CourseStatus]
    others: list[CourseStatus]
    seats: list[SessionSeat]
    joinable: list[TrainingSession]
    complete: bool


def hmis_role_of(user: User) -> str:
    """The HMIS role of the person's newest access request ("" when none)."""
    query = (
        select(AccessRequest.hmis_role)
        .where(AccessRequest.user_id == user.id)
        .order_by(AccessRequest.id.desc())
    )
    return db.session.scalars(query).first() or ""


def _status(user: User, course: Course, role: str) -> CourseStatus:
    attempts = training.attempts_of(user, course)
    now = clock.now()
    open_attempt = next((a for a in attempts if training.is_open(a, now)), None)
    return CourseStatus(
        course=course,
        progress=training_progress.course_progress(user, course),
        attempts=attempts,
        open_attempt=open_attempt,
        refusal=None if open_attempt else training.refusal_to_start(user, course, attempts),
        for_my_role=bool(course.hmis_role) and course.hmis_role == role,
    )


def course_status(user: User, course_id: int) -> CourseStatus:
    return _status(user, training.get_course(course_id), hmis_role_of(user))


def overview(user: User) -> Overview:
    role = hmis_role_of(user)
    courses = list(
        db.session.scalars(select(Course).where(Course.active.is_(True)).order_by(Course.id))
    )
    statuses = [_status(user, course, role) for course in courses]
    seats = training_sessions.seats_of(user)
    mine = {seat.session_id for seat in seats}
    joinable = [
        row
        for row in training_sessions.upcoming()
        if row.id not in mine and training_sessions.taken(row) < row.capacity
    ]
    required = [s for s in statuses if s.course.required]
    # The refreshers meant for the person's HMIS role first.
    others = sorted((s for s in statuses if not s.course.required), key=lambda s: not s.for_my_role)
    return Overview(
        required=required,
        others=others,
        seats=seats,
        joinable=joinable,
        complete=all(s.progress.done for s in required),
    )


@dataclass(frozen=True)
class Answered:
    """One question of a submitted attempt, as its result page shows it."""

    number: int
    question: Question
    chosen: int | None
    right: bool
    # The right answer is shown only once the person has passed the course (see training).
    reveal: bool


def review(user: User, attempt_id: int) -> tuple[TestAttempt, list[Answered]]:
    """The person's own attempt and, once submitted, each question answered right or not."""
    attempt = training.get_attempt(user, attempt_id)
    if attempt.submitted_at is None:
        return attempt, []
    reveal = any(a.passed for a in training.attempts_of(user, attempt.course))
    rows = []
    for number, question in enumerate(training.questions_of(attempt), start=1):
        chosen = attempt.answers.get(str(question.id))
        rows.append(Answered(number, question, chosen, chosen == question.correct, reveal))
    return attempt, rows
