"""Training (V.E.5–6): what each person has completed and what is left, course by course.

The gates (IV.B.4 (d)), the onboarding pages and the training pages read it; taking and
recording tests is `training`, courses `training_admin`, sessions `training_sessions`.
A course is complete when its test is passed and, if the course asks for one, a session
attended.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.extensions import db
from portal.models import Course, SessionSeat, TestAttempt, TrainingSession, User


@dataclass(frozen=True)
class CourseProgress:
    """One course for one person: done or not, and in words what is done or left."""

    course: Course
    done: bool
    detail: str


def _courses(required_only: bool) -> list[Course]:
    query = select(Course).where(Course.active.is_(True)).order_by(Course.id)
    if required_only:
        query = query.where(Course.required.is_(True))
    return list(db.session.scalars(query))


def _passed_attempt(user: User, course: Course) -> TestAttempt | None:
    return db.session.scalars(
        select(TestAttempt)
        .where(
            TestAttempt.user_id == user.id,
            TestAttempt.course_id == course.id,
            TestAttempt.passed.is_(True),
        )
        .order_by(TestAttempt.id)
    ).first()


def attended(user: User, course: Course) -> bool:
    """Whether the person attended a session of the course (recorded by the lead agency)."""
    return bool(
        db.session.scalar(
            select(SessionSeat.id)
            .join(TrainingSession)
            .where(
                SessionSeat.user_id == user.id,
                SessionSeat.attended.is_(True),
                TrainingSession.course_id == course.id,
            )
            .limit(1)
        )
    )


def _progress(user: User, course: Course) -> CourseProgress:
    passed = _passed_attempt(user, course)
    was_there = course.session_required is False or attended(user, course)
    if passed and was_there:
        return CourseProgress(course, True, f"Test passed with {passed.score} %.")
    left = [] if was_there else ["attend a session"]
    if not passed:
        left.append(f"pass the test ({course.pass_mark} % needed)")
    return CourseProgress(course, False, "Left to do: " + " and ".join(left) + ".")


def progress(user: User) -> list[CourseProgress]:
    return [_progress(user, course) for course in _courses(required_only=False)]


def required_progress(user: User) -> list[CourseProgress]:
    return [_progress(user, course) for course in _courses(required_only=True)]


def required_complete(user: User) -> bool:
    return all(p.done for p in required_progress(user))


def course_progress(user: User, course: Course) -> CourseProgress:
    return _progress(user, course)
