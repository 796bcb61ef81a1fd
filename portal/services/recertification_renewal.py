"""Renewing within a recertification: the renewed HMIS User Agreement and the privacy and
security test taken again.

The renewed agreement is made from the newest user agreement template with the person's
details as issued, like the first one (`user_agreements`). It is rendered and certified by
the lead agency when the user signs it — so a campaign of many users renders nothing up
front — and the user's signature follows in the same transaction; the agency's executive
director or security officer then approves it in a field of their own. Each step is one
transaction: the signer is checked, the machine fires, the PDF is signed and stored as a new
version and the e-mails are queued together; a failure anywhere leaves nothing changed.

The test: the training service refuses a course already passed, so a recertification starts
its own attempt of the privacy and security course (the same questions, time limit and
scoring: the training pages then run it). Attempts since the recertification opened count
against the course's limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Recertification, TestAttempt, User
from portal.notify import outbox
from portal.services import (
    audit,
    documents,
    identities,
    links,
    recertification,
    security_officers,
    signing,
    templates,
    training,
    user_agreements,
)
from portal.services import recertification_dates as dates
from portal.services.access import RequestInfo
from portal.services.errors import ServiceError
from portal.services.lead import lead_agency_name
from portal.services.next_steps import NextSteps, for_case
from portal.services.unit import unit_of_work
from workflows.recertification import RECERTIFICATION

CONFLICT = "Someone else changed this recertification first. Reload it and try again."


def _renewal_document(row: Recertification):
    """Renders and certifies the renewed user agreement and stores it (the first version)."""
    onboarding_row = dates.issued_onboarding(row.user)
    if onboarding_row is None:
        raise ServiceError("This person has no issued HMIS access to renew.")
    pdf = user_agreements.certified_pdf(
        onboarding_row,
        templates.current(templates.USER_AGREEMENT),
        what="The renewed HMIS User Agreement",
        reason="Renewal issued by the HMIS Lead Agency",
    )
    document = documents.new_document(
        case_type="recertification",
        case_id=row.id,
        agency_id=row.agency_id,
        kind="user_agreement",
        title=f"HMIS User Agreement, {row.year} renewal: {row.user.name}",
    )
    documents.add_version(
        document, pdf, f"Renewal issued and certified by {lead_agency_name()}", by=None
    )
    return document


def agreement_text(row: Recertification) -> str:
    """The renewed agreement's words, for the page before the user signs ("" without access)."""
    onboarding_row = dates.issued_onboarding(row.user)
    if onboarding_row is None:
        return ""
    return user_agreements.words(onboarding_row, templates.current(templates.USER_AGREEMENT))


def _sign_field(
    row, signer: identities.ConfirmedSigner, field: str, label: str, transition, now
) -> None:
    current = documents.read_bytes(row.document.current)
    signed = signing.approve(current, signer, field, now, reason=label)
    user = signer.user
    # The agency's approval comes after the user's signature: the renewal is then final.
    documents.add_version(
        row.document,
        signed,
        f"{label}: {user.name}",
        by=user,
        transition=transition,
        archive=field == user_agreements.APPROVAL_FIELD,
    )


def sign(
    user: User,
    recertification_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
) -> Recertification:
    """The user signs the renewed agreement; the agency's approvers are asked to approve."""
    with unit_of_work(CONFLICT):
        row = recertification.get(user, recertification_id)
        if row.user_id == user.id and row.document_id is not None:
            raise ServiceError("You already signed your renewed user agreement.")
        now = clock.now()
        signer = signing.confirm_signer(user, password, intent, consent, request, now)
        event = recertification.signature_event(row, "user_signs")
        transition = recertification.advance(row, event, user, at=now, request=request)
        row.document = _renewal_document(row)
        _sign_field(
            row, signer, user_agreements.USER_FIELD, "Signed by the HMIS user", transition, now
        )
        for person in _approvers(row):
            outbox.queue(
                person.email,
                f"Please approve the renewed HMIS User Agreement of {user.name}",
                f"Hello {person.name},\n\n{user.name} signed their renewed HMIS User "
                f"Agreement ({row.year} recertification). As the agency's executive director "
                f"or security officer, please approve it:\n"
                f"{links.page(f'/recertification/{row.id}')}\n",
            )
    return row


def _approvers(row: Recertification) -> list[User]:
    people = [p for p in row.agency.people if p.active and p.role == "agency_ed"]
    officer = security_officers.current(row.agency)
    if officer is not None and officer.user.active and officer.user not in people:
        people.append(officer.user)
    return [p for p in people if p.id != row.user_id]


def approve(
    approver: User,
    recertification_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
) -> Recertification:
    """The agency's ED or security officer approves the renewed agreement; the
    recertification completes when the test was passed again too."""
    with unit_of_work(CONFLICT):
        row = recertification.get(approver, recertification_id)
        if row.user_agreement_renewed_at is not None:
            raise ServiceError("The renewed user agreement is already approved.")
        now = clock.now()
        signer = signing.confirm_signer(approver, password, intent, consent, request, now)
        event = recertification.signature_event(row, "agency_approves")
        transition = recertification.advance(row, event, approver, at=now, request=request)
        label = "Renewal approved for the partner agency"
        _sign_field(row, signer, user_agreements.APPROVAL_FIELD, label, transition, now)
        row.user_agreement_renewed_at = now
        done = recertification.complete_if_renewed(row, request)
        if done is None:
            person = row.user
            outbox.queue(
                person.email,
                "Your renewed HMIS User Agreement is approved",
                f"Hello {person.name},\n\n{approver.name} approved your renewed HMIS User "
                f"Agreement. Still needed: "
                + " and ".join(recertification._missing(row))
                + f".\n{links.page(f'/recertification/{row.id}')}\n",
            )
    return row


def start_test(user: User, recertification_id: int, *, request: RequestInfo) -> TestAttempt:
    """Starts (or gives back the open) attempt of the privacy and security test, taken again
    for the person's own recertification."""
    with unit_of_work(CONFLICT):
        row = recertification.get(user, recertification_id)
        if row.user_id != user.id:
            raise ServiceError("Only the HMIS user takes their own test.")
        if row.state not in recertification.OPEN_STATES:
            raise ServiceError("This recertification is no longer open.")
        if row.training_renewed_at is not None:
            raise ServiceError("You already passed the test again for this recertification.")
        course = dates.privacy_course()
        if course is None or not course.active:
            raise ServiceError(f"The privacy and security course is not available. "
                               f"Contact {lead_agency_name()}'s HMIS team.")  # fmt: skip
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
        now = clock.now()
        since = [
            a
            for a in db.session.scalars(
                select(TestAttempt).where(
                    TestAttempt.user_id == user.id, TestAttempt.course_id == course.id
                )
            )
            if dates.aware(a.started_at) >= dates.aware(row.opened_at)
        ]
        open_one = next((a for a in since if a.submitted_at is None and a.expires_at
                         and dates.aware(a.expires_at) > now), None)  # fmt: skip
        if open_one is not None:
            return open_one
        if len(since) >= course.max_attempts:
            raise ServiceError(
                f"You have used all {course.max_attempts} attempts. "
                f"Contact {lead_agency_name()}'s HMIS team."
            )
        if not any(q.active for q in course.questions):
            raise ServiceError(f"The test of {course.title} has no questions yet.")
        attempt = training.new_attempt(user, course, now)
        drawn = attempt.question_ids
        audit.record(
            user,
            "recertification.start_test",
            attempt,
            f"Started the {course.title} test again for the {row.year} recertification "
            f"(attempt {len(since) + 1} of {course.max_attempts})",
            agency_id=user.agency_id,
            after={"questions": drawn},
            request=request,
            at=now,
        )
    return attempt


@dataclass(frozen=True)
class Page:
    """What the recertification page shows the viewer."""

    row: Recertification
    steps: NextSteps
    state_label: str
    is_user: bool
    may_test: bool
    needs_consent: bool
    text: str


def page(viewer: User, recertification_id: int, *, request: RequestInfo) -> Page:
    """The page, after noting a test passed again since the last visit."""
    row = recertification.refresh(viewer, recertification_id, request=request)
    ctx = recertification.context(row, viewer)
    ctx["esign_consent"] = True  # consent is given on the signing form itself
    is_user = viewer.id == row.user_id
    return Page(
        row=row,
        steps=for_case(RECERTIFICATION, row, viewer, ctx),
        state_label=RECERTIFICATION.state(row.state).label,
        is_user=is_user,
        may_test=is_user
        and row.state in recertification.OPEN_STATES
        and row.training_renewed_at is None,
        needs_consent=viewer.esign_consent_at is None,
        text=agreement_text(row) if is_user and row.document_id is None else "",
    )
