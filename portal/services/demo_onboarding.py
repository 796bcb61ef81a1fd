"""The demo's new HMIS users: onboarded through the same services the pages call.

`onboard` takes one person from the agency's request to the step asked for: the invitation
(followed from the e-mail the portal queued, as the person would), the signed and approved
HMIS User Agreement, the tests (a first attempt may fail, then a retake passes), the issued
account and the certificate of participation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import AccessRequest, Course, OutboxMessage, User
from portal.services import (
    access_requests,
    onboarding,
    participation,
    training,
    user_agreements,
)
from portal.services.access import RequestInfo
from portal.services.timefmt import local_date

STEPS = ("requested", "signed", "approved", "trained", "issued")
_LINK = re.compile(r"/onboarding/invitation/([A-Za-z0-9_\-]+)")


@dataclass(frozen=True)
class Cast:
    """Who acts: the lead agency's admin, the person who requests, the approver."""

    admin: User
    requester: User
    approver: User
    password: str
    request: RequestInfo


def onboard(
    cast: Cast, staff: access_requests.NewStaff, *, until: str, fail_first: bool = False
) -> AccessRequest:
    """Onboards one person up to and including the step `until` (one of STEPS)."""
    if until not in STEPS:
        raise ValueError(f"`until` is one of {STEPS}")
    done = STEPS[: STEPS.index(until) + 1]
    row = access_requests.request_access(
        cast.requester, cast.requester.agency_id, staff, request=cast.request
    )
    if "signed" not in done:
        return row
    person = row.user
    onboarding.accept_invitation(
        _invitation_token(person), cast.password, cast.password, cast.request
    )
    signature = {
        "password": cast.password,
        "intent": True,
        "consent": True,
        "request": cast.request,
    }
    user_agreements.sign(person, row.onboarding.id, **signature)
    if "approved" in done:
        user_agreements.approve(cast.approver, row.onboarding.id, **signature)
    if "trained" in done:
        _take_the_tests(person, cast.request, fail_first=fail_first)
    if "issued" in done:
        access_requests.issue(
            cast.admin,
            row.id,
            hmis_user_id=f"HMIS-{10_000 + row.id}",
            issued_on=local_date(clock.now()),
            request=cast.request,
        )
        participation.issue_certificate(cast.admin, row.id, request=cast.request)
    return row


def _invitation_token(person: User) -> str:
    """The token of the newest invitation e-mailed to the person."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.to_addr == person.email)
        .order_by(OutboxMessage.id.desc())
    )
    for message in db.session.scalars(query):
        found = _LINK.search(message.body)
        if found:
            return found.group(1)
    raise LookupError(f"No invitation was e-mailed to {person.email}.")


def _take_the_tests(person: User, request: RequestInfo, *, fail_first: bool) -> None:
    """Every required course's test, answered in the portal; with `fail_first`, the first
    attempt of the first course is answered wrongly, so the retake shows."""
    required = db.session.scalars(
        select(Course).where(Course.required.is_(True), Course.active.is_(True)).order_by(Course.id)
    )
    for n, course in enumerate(list(required)):
        wrong = fail_first and n == 0
        while True:
            attempt = training.start_attempt(person, course.id, request=request)
            questions = training.questions_of(attempt)
            answers = {
                str(q.id): str((q.correct + 1) % len(q.choices) if wrong else q.correct)
                for q in questions
            }
            result = training.submit_attempt(person, attempt.id, answers, request=request)
            if result.passed:
                break
            wrong = False
