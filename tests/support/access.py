"""Helpers for the access request tests: an agreement in effect, a request, and the steps
that meet each gate of IV.B.4 (the user agreement through its service; training as rows,
since the training service has its own tests)."""

from __future__ import annotations

from portal import clock
from portal.extensions import db
from portal.models import Course, TestAttempt
from portal.services import access_requests, user_agreements
from portal.services.access import RequestInfo
from tests import factories
from tests.factories import PASSWORD

HERE = RequestInfo(ip="127.0.0.1", user_agent="pytest")


def in_effect(agency):
    return factories.agreement(agency, state="effective", documents=True)


def staff(email: str = "new@hope.test", name: str = "Nia Newhire") -> access_requests.NewStaff:
    return access_requests.NewStaff(
        name=name,
        email=email,
        job_title="Case Manager",
        hmis_role="case_manager",
        programs="Rapid Re-Housing\nStreet Outreach",
    )


def request(cast, **fields):
    return access_requests.request_access(cast.ed, cast.agency.id, staff(**fields), request=HERE)


def set_password(row) -> None:
    row.user.password_hash = factories._password_hash(PASSWORD)
    db.session.commit()


def sign_and_approve(cast, row) -> None:
    """The new user sets a password and signs; the agency's security officer approves."""
    from portal.services import onboarding

    ob = row.onboarding
    if ob.state == "invited":
        set_password(row)
        onboarding.advance(ob, "accept_invitation", row.user, at=clock.now(), request=HERE)
        db.session.commit()
    user_agreements.sign(
        row.user, ob.id, password=PASSWORD, intent=True, consent=True, request=HERE
    )
    user_agreements.approve(
        cast.officer, ob.id, password=PASSWORD, intent=True, consent=True, request=HERE
    )


def course(code: str = "NEW", title: str = "New HMIS User", required: bool = True) -> Course:
    row = Course(code=code, title=title, required=required, created_at=clock.now())
    db.session.add(row)
    db.session.commit()
    return row


def pass_required(user) -> None:
    """A passing score on every required course (the shipped ones, seeded by setup)."""
    for row in db.session.query(Course).filter_by(required=True, active=True):
        passed(user, row)


def passed(user, course_row: Course, score: int = 90) -> TestAttempt:
    now = clock.now()
    attempt = TestAttempt(
        course_id=course_row.id,
        user_id=user.id,
        source="recorded",
        started_at=now,
        submitted_at=now,
        score=score,
        passed=score >= course_row.pass_mark,
    )
    db.session.add(attempt)
    db.session.commit()
    return attempt
