"""Amendments to an agreement in effect (VIII.B.2): drafted by the lead agency or proposed
by the agency, sent as their own certified document, signed by the agency's executive
director, countersigned by the lead agency, in effect from the later signature.

Each use case is one transaction, as for the agreement: the machine (workflows/amendment.py)
decides, the document is rendered, signed and stored, and the transition, document version,
audit event and e-mails are recorded together. Finding amendments and the guards' facts are
in `amendment_records`; drafting and proposing in `amendment_drafts`; the signatures in
`amendment_signatures`; the invitations, reminders and expiry in `amendment_requests`. This
module offers all of it to the pages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.extensions import db
from portal.models import Amendment, User
from portal.notify import outbox
from portal.processes import Awaiting, Process, RuleSetting, SignatureSteps
from portal.services import (
    agencies,
    amendment_drafts,
    amendment_records,
    amendment_requests,
    amendment_signatures,
    cases,
    documents,
    lead,
    signature_requests,
    signing,
)
from portal.services import awaiting as waits
from portal.services.access import RequestInfo, is_lead_staff
from portal.services.errors import ServiceError
from portal.services.lead import lead_agency_name
from portal.services.next_steps import NextSteps, for_case
from portal.services.timefmt import long_date
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.amendment import AMENDMENT
from workflows.engine import Option

# Offered here so the pages need one module (see the module's docstring).
get = amendment_records.get
for_agreement = amendment_records.for_agreement
in_force = amendment_records.in_force
context = amendment_records.context
check_version = amendment_records.check_version
draft = amendment_drafts.draft
propose = amendment_drafts.propose
sign_as_agency = amendment_signatures.sign_as_agency
countersign = amendment_signatures.countersign
signing_view = amendment_signatures.signing_view
remind = amendment_requests.remind
expire = amendment_requests.expire


def options(amendment: Amendment, user: User) -> list[Option]:
    ctx = amendment_records.page_context(amendment, user)
    return cases.options(AMENDMENT, amendment, user, ctx)


def next_steps(amendment: Amendment, user: User) -> NextSteps:
    """What the amendment's page offers this person, and who else must act."""
    return for_case(AMENDMENT, amendment, user, amendment_records.page_context(amendment, user))


# -- deciding a proposal ------------------------------------------------------------------


def _tell_proposer(amendment: Amendment, subject: str, body: str) -> None:
    proposer = amendment.proposed_by
    if proposer is not None and proposer.active:
        outbox.queue(proposer.email, subject, body + f"\n{amendment_requests.page(amendment)}\n")


def _step(
    user: User,
    amendment_id: int,
    event: str,
    request: RequestInfo,
    expected_version: int | None,
    reason: str | None = None,
) -> tuple[Amendment, datetime]:
    """Finds the amendment for `user`, checks the form's version, fires `event`."""
    amendment = get(user, amendment_id)
    check_version(amendment, expected_version)
    now = clock.now()
    cases.advance(
        AMENDMENT,
        amendment,
        event,
        user,
        context(amendment, user),
        at=now,
        request=request,
        reason=reason,
    )
    return amendment, now


def _reason(reason: str) -> str:
    # Blank passes here: the machine refuses a step that needs one, in its own words.
    return clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)


def accept_proposal(
    admin: User, amendment_id: int, request: RequestInfo, *, expected_version: int | None = None
) -> Amendment:
    with unit_of_work():
        amendment, _ = _step(admin, amendment_id, "accept_proposal", request, expected_version)
        _tell_proposer(
            amendment,
            f"Amendment accepted: {amendment.reference}",
            f"{lead_agency_name()} accepted your proposed amendment {amendment.reference} as a "
            "draft. It will be sent to the agency's executive director for signature.\n",
        )
    return amendment


def decline_proposal(
    admin: User,
    amendment_id: int,
    *,
    reason: str,
    request: RequestInfo,
    expected_version: int | None = None,
) -> Amendment:
    with unit_of_work():
        why = _reason(reason)
        amendment, _ = _step(
            admin, amendment_id, "decline_proposal", request, expected_version, why
        )
        amendment.closed_reason = why
        _tell_proposer(
            amendment,
            f"Amendment proposal declined: {amendment.reference}",
            f"{lead_agency_name()} declined your proposed amendment {amendment.reference}."
            f"\n\nReason:\n{why}\n",
        )
    return amendment


# -- sending, declining, voiding ----------------------------------------------------------


def _render(amendment: Amendment, ed: User):
    from portal.documents.amendment import AmendmentText, render_amendment
    from portal.documents.pdf_layout import PartyBlock

    agency, agreement, lead_name = amendment.agency, amendment.agreement, lead_agency_name()
    text = AmendmentText(
        reference=amendment.reference,
        agreement_reference=agreement.reference,
        agreement_effective_on=long_date(agreement.effective_on),
        lead_agency_name=lead_name,
        agency_name=agency.legal_name,
        sections=amendment.sections,
        new_text=amendment.new_text,
        reason=amendment.reason,
    )
    parties = [
        PartyBlock(
            amendment_signatures.AGENCY_FIELD,
            "PARTNER AGENCY",
            ed.name,
            ed.title,
            agency.legal_name,
        ),
        # Whoever signs for the lead prints their own name and title in the box (the stamp).
        PartyBlock(amendment_signatures.LEAD_FIELD, lead_name.upper(), "", "", lead_name),
    ]
    return render_amendment(text, parties)


def send(
    admin: User, amendment_id: int, request: RequestInfo, *, expected_version: int | None = None
) -> Amendment:
    """Renders the amendment, certifies it as the lead agency, stores it, and asks the
    executive director to sign."""
    with unit_of_work():
        amendment = get(admin, amendment_id)
        check_version(amendment, expected_version)
        agency = amendment.agency
        ed = agencies.executive_director(agency)
        if ed is None:
            raise ServiceError(f"{agency.legal_name} has no active executive director on record.")
        now = clock.now()
        # The request's reminders and expiry count from here (read by cases.advance).
        amendment.invited_at = amendment.sent_at = now
        transition = cases.advance(
            AMENDMENT, amendment, "send", admin, context(amendment, admin), at=now, request=request
        )
        amendment.signer_name, amendment.signer_title = ed.name, ed.title
        pdf = signing.certify(_render(amendment, ed), reason="Issued by the HMIS Lead Agency")
        document = documents.new_document(
            case_type=AMENDMENT.name,
            case_id=amendment.id,
            agency_id=agency.id,
            kind="amendment",
            title=f"Amendment {amendment.reference} to {amendment.agreement.reference}",
        )
        amendment.document = document
        documents.add_version(
            document,
            pdf,
            f"Issued and certified by {lead_agency_name()}",
            by=admin,
            transition=transition,
        )
        amendment_requests.ask(amendment, now)
    return amendment


def decline(
    user: User,
    amendment_id: int,
    *,
    reason: str,
    request: RequestInfo,
    expected_version: int | None = None,
) -> Amendment:
    """The agency's signer declines a sent amendment, or the lead agency one the agency
    signed; the requests end and the other side is told."""
    with unit_of_work():
        amendment = get(user, amendment_id)
        event = {"sent": "agency_declines", "agency_signed": "lead_declines"}.get(amendment.state)
        if event is None:
            state = AMENDMENT.state(amendment.state).label
            raise ServiceError(f"This amendment is “{state}”; there is nothing to decline.")
        why = _reason(reason)
        amendment, now = _step(user, amendment_id, event, request, expected_version, why)
        amendment.closed_reason = why
        signature_requests.end(AMENDMENT.name, amendment.id, at=now)
        if event == "agency_declines":
            told = lead.admins()
        else:
            told = [p for p in amendment.agency.people if p.active and p.role == "agency_ed"]
            if amendment.agency_signed_by is not None:
                told.append(amendment.agency_signed_by)
        for person in {p.email: p for p in told}.values():
            outbox.queue(
                person.email,
                f"Declined: amendment {amendment.reference} ({amendment.agency.legal_name})",
                f"{user.name} declined the amendment {amendment.reference} to the HMIS "
                f"Partner Agency Agreement {amendment.agreement.reference}; it will not take "
                f"effect.\n\nReason:\n{why}\n\n{amendment_requests.page(amendment)}\n",
            )
    return amendment


def void(
    admin: User,
    amendment_id: int,
    *,
    reason: str,
    request: RequestInfo,
    expected_version: int | None = None,
) -> Amendment:
    with unit_of_work():
        why = _reason(reason)
        was_sent = get(admin, amendment_id).state != "draft"
        amendment, now = _step(admin, amendment_id, "void", request, expected_version, why)
        amendment.closed_reason = why
        signature_requests.end(AMENDMENT.name, amendment.id, at=now)
        ed = agencies.executive_director(amendment.agency)
        if was_sent and ed is not None:
            outbox.queue(
                ed.email,
                f"Voided: amendment {amendment.reference}",
                f"{lead_agency_name()} voided the amendment {amendment.reference}; it can no "
                f"longer be signed.\n\nReason:\n{why}\n",
            )
    return amendment


# -- what waits, and the declaration ------------------------------------------------------


def awaiting(user: User) -> list[Awaiting]:
    """The amendments that wait on this person, as the machine decides from their steps:
    a proposal or a draft on the lead agency's admins, a sent one on the agency's signer,
    a signed one on the lead agency's signatory."""
    states = waits.states_for(AMENDMENT, user.role)
    if not states:
        return []
    query = (
        select(Amendment)
        .where(Amendment.state.in_(states))
        .options(joinedload(Amendment.agency), joinedload(Amendment.agreement))
    )
    if not is_lead_staff(user):
        query = query.where(Amendment.agency_id == user.agency_id)
    items = []
    for amendment in db.session.scalars(query.order_by(Amendment.id)):
        steps = waits.awaited_steps(AMENDMENT, options(amendment, user))
        if not steps:
            continue
        since = {"sent": amendment.sent_at, "agency_signed": amendment.agency_signed_at}.get(
            amendment.state
        )
        items.append(
            Awaiting(
                case=amendment,
                title=f"{AMENDMENT.event(steps[0].event).label}: {amendment.reference}",
                url=f"/amendments/{amendment.id}",
                since=since or amendment.created_at,
                detail=f"Amendment to {amendment.agreement.reference} with "
                f"{amendment.agency.legal_name} ({AMENDMENT.state(amendment.state).label}).",
            )
        )
    return items


PROCESS = Process(
    machine=AMENDMENT,
    model=Amendment,
    # A request for the agency's signature counts from its latest invitation.
    period_start=lambda amendment: amendment.invited_at,
    rules={
        "amendment_signature": RuleSetting(
            "SIGNATURE_REQUEST",
            "Request for the agency's signature on an amendment",
            counted_from="the invitation to sign",
            reminder_days="SIGNATURE_REMINDER_DAYS",
            reminders_after_start=True,
        )
    },
    on_timer=amendment_requests.expire,
    on_reminder=amendment_requests.remind,
    signature=SignatureSteps(
        resend_event="resend",
        rule="amendment_signature",
        get=get,
        ask=amendment_requests.ask,
        remind=amendment_requests.remind,
        signing_page=lambda amendment: f"/amendments/{amendment.id}/sign",
        case_page=lambda amendment: f"/amendments/{amendment.id}",
        restart=lambda amendment, at: setattr(amendment, "invited_at", at),
    ),
    documents=("amendment",),
    parent="agreement",
    parent_key="agreement_id",
    on_parent_end="agreement_ended",
    awaiting=awaiting,
)
