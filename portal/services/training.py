"""Training and tests (V.E.5–6): what each person has completed and what is left.

(Courses, sessions and test attempts are being built on this; `progress`,
`required_progress` and `required_complete` keep their signatures: the gates and the
onboarding pages read them.)
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


def _progress(user: User, course: Course) -> CourseProgress:
    passed = db.session.scalars(
        select(TestAttempt)
        .where(
            TestAttempt.user_id == user.id,
            TestAttempt.course_id == course.id,
            TestAttempt.passed.is_(True),
        )
        .order_by(TestAttempt.id)
    ).first()
    attended = course.session_required is False or db.session.scalar(
        select(SessionSeat.id)
        .join(TrainingSession)
        .where(
            SessionSeat.user_id == user.id,
            SessionSeat.attended.is_(True),
            TrainingSession.course_id == course.id,
        )
        .limit(1)
    )
    if passed and attended:
        return CourseProgress(course, True, f"Test passed with {passed.score} %.")
    left = [] if attended else ["attend a session"]
    if not passed:
        left.append(f"pass the test ({course.pass_mark} % needed)")
    return CourseProgress(course, False, "Left to do: " + " and ".join(left) + ".")


def progress(user: User) -> list[CourseProgress]:
    return [_progress(user, course) for course in _courses(required_only=False)]


def required_progress(user: User) -> list[CourseProgress]:
    return [_progress(user, course) for course in _courses(required_only=True)]


def required_complete(user: User) -> bool:
    return all(p.done for p in required_progress(user))
