"""Rows and short cuts for tests of training and tests (portal/services/training*.py).

`seed_courses` ships the portal's own courses; `course` makes a small one through the admin
service, for tests that need to know every question; `in_training` gives a person an
onboarding that waits on training (the rows the access request and the signed, approved user
agreement would have left), built directly.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import AccessRequest, Course, Onboarding, TestAttempt, User
from portal.services import cases, training, training_admin, training_catalog
from tests import factories
from tests.services.helpers import REQ
from workflows.onboarding import ONBOARDING


def seed_courses() -> list[Course]:
    """The shipped courses (New HMIS User, Privacy & Security, the refreshers)."""
    training_catalog.seed_if_missing()
    return list(db.session.scalars(select(Course).order_by(Course.id)))


def course(
    admin: User,
    title: str = "New HMIS User",
    *,
    questions: int = 5,
    **settings,
) -> Course:
    """A course with `questions` questions, each with choices "right" (index 0) and
    "wrong 1", "wrong 2"; every question drawn in each test unless said otherwise.

    The test's own courses are the only ones offered: shipped courses that the portal's
    setup may have seeded are taken out of the offer, so what is "required" is what the
    test made."""
    _withdraw_shipped()
    base = replace(training_admin.defaults(title), required=True, questions_per_test=questions)
    row = training_admin.create_course(admin, replace(base, **settings), request=REQ)
    for n in range(questions):
        training_admin.add_question(
            admin,
            row.id,
            text=f"Question {n + 1} of {title}?",
            choices=["right", "wrong 1", "wrong 2"],
            correct=0,
            request=REQ,
        )
    return row


def _withdraw_shipped() -> None:
    # Seeded rows keep the shipped code and description (the test's own have none).
    for shipped in training_catalog.SHIPPED:
        row = db.session.scalar(select(Course).where(Course.code == shipped.code))
        if row is not None and row.description == shipped.description:
            row.active = False
    db.session.commit()


def answers(attempt: TestAttempt, right: int) -> dict[str, str]:
    """The form's answers: the first `right` drawn questions answered right, the rest wrong."""
    chosen = {}
    for n, question in enumerate(training.questions_of(attempt)):
        wrong = next(i for i in range(len(question.choices)) if i != question.correct)
        chosen[f"{question.id}"] = str(question.correct if n < right else wrong)
    return chosen


def pass_test(person: User, row: Course) -> TestAttempt:
    attempt = training.start_attempt(person, row.id, request=REQ)
    return training.submit_attempt(
        person, attempt.id, answers(attempt, len(attempt.question_ids)), request=REQ
    )


def new_user(cast, email: str = "new@hope.test", name: str = "Nia Newuser") -> User:
    return factories.person(
        cast.agency, email=email, name=name, title="Case manager", role="agency_user"
    )


def in_training(cast, person: User, *, hmis_role: str = "intake") -> Onboarding:
    """An access request of the person's agency whose onboarding waits on training."""
    agreement = factories.agreement(person.agency)
    now = clock.now()
    request_row = AccessRequest(
        reference=f"AR-TEST-{person.id:04d}",
        agency_id=person.agency_id,
        agreement_id=agreement.id,
        state="in_progress",
        user_id=person.id,
        name=person.name,
        email=person.email,
        job_title=person.title,
        hmis_role=hmis_role,
        requested_at=now,
        requested_by_id=cast.officer.id,
    )
    db.session.add(request_row)
    db.session.flush()
    onboarding = Onboarding(
        access_request_id=request_row.id,
        agency_id=person.agency_id,
        user_id=person.id,
        state="training",
        started_at=now,
        user_signed_at=now,
        approved_at=now,
        approved_by_id=cast.officer.id,
    )
    db.session.add(onboarding)
    db.session.flush()
    cases.record_creation(ONBOARDING, onboarding, cast.officer, at=now, request=REQ)
    db.session.commit()
    return onboarding
