"""Short ways through a new user's onboarding for the user agreement and certificate tests:
the request through its service (so the user agreement is really rendered and certified),
then the signatures through theirs. Training is rows: it has its own tests."""

from __future__ import annotations

import re
from datetime import date

from portal import clock
from portal.extensions import db
from portal.models import AccessRequest, Course, Onboarding, TestAttempt, User
from portal.services import access_requests, training_progress, user_agreements
from portal.services.access import RequestInfo
from portal.services.timefmt import local_date
from tests import factories
from tests.conftest import PASSWORD

REQ = RequestInfo(ip="192.0.2.30", user_agent="pytest-onboarding/1.0")
NEW_EMAIL = "nia@hope.test"


def staff(
    *, email: str = NEW_EMAIL, name: str = "Nia Newhire", job_title: str = "Case Manager"
) -> access_requests.NewStaff:
    return access_requests.NewStaff(
        name=name,
        email=email,
        job_title=job_title,
        hmis_role="case_manager",
        programs="Rapid Re-Housing",
    )


def requested(cast, *, has_password: bool = False, **fields) -> AccessRequest:
    """The agency's ED requests access for a new staff member. With `has_password`, the person
    already has an account, so onboarding starts at the signature instead of the invitation."""
    factories.agreement(cast.agency, state="effective", documents=True)
    person = staff(**fields)
    if has_password:
        factories.person(
            cast.agency,
            email=person.email,
            name=person.name,
            title=person.job_title,
            role="agency_user",
        )
    return access_requests.request_access(cast.ed, cast.agency.id, person, request=REQ)


def at_signing(cast, **fields) -> Onboarding:
    row = requested(cast, has_password=True, **fields)
    assert row.onboarding.state == "signing"
    return row.onboarding


def sign(person: User, ob: Onboarding, password: str = PASSWORD) -> Onboarding:
    return user_agreements.sign(
        person, ob.id, password=password, intent=True, consent=True, request=REQ
    )


def approve(person: User, ob: Onboarding, password: str = PASSWORD) -> Onboarding:
    return user_agreements.approve(
        person, ob.id, password=password, intent=True, consent=True, request=REQ
    )


def invitation_token(mailbox, address: str) -> str:
    """The token of the newest invitation e-mailed to `address`."""
    mailbox.deliver()
    body = mailbox.to(address)[-1].get_content()
    match = re.search(r"/onboarding/invitation/([A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


def required_course(code: str = "pytest-course", title: str = "Pytest Basics") -> Course:
    """One more required course, so training waits whatever courses the portal ships."""
    row = Course(code=code, title=title, required=True, created_at=clock.now())
    db.session.add(row)
    db.session.commit()
    return row


def passed(person: User, course: Course, score: int = 90) -> TestAttempt:
    now = clock.now()
    attempt = TestAttempt(
        course_id=course.id,
        user_id=person.id,
        source="recorded",
        started_at=now,
        submitted_at=now,
        score=score,
        passed=True,
    )
    db.session.add(attempt)
    db.session.commit()
    return attempt


def train(person: User) -> None:
    """Passes every required course `person` has left (whatever courses exist)."""
    for progress in training_progress.required_progress(person):
        if not progress.done:
            passed(person, progress.course)


def issued(cast, row: AccessRequest, hmis_user_id: str = "HMIS-0042") -> AccessRequest:
    """The lead agency issues the account (the agreement signed and approved and the person
    trained first: every gate then holds)."""
    today: date = local_date(clock.now())
    return access_requests.issue(
        cast.admin, row.id, hmis_user_id=hmis_user_id, issued_on=today, request=REQ
    )
