"""The HMIS User Agreement (V.E.5–6, IV.B.4.c): prepared and certified by the lead agency
when access is requested, signed by the new user, then approved by the agency's executive
director or security officer in a field of their own.

Preparing runs inside the access request's transaction; signing and approving are each one
transaction, like the agreement's signatures: the signer is checked, the onboarding machine
fires, the PDF is signed and stored as a new version, and the e-mails are queued together.
A failure anywhere leaves nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal import clock
from portal.models import Onboarding, Transition, User
from portal.notify import outbox
from portal.services import (
    documents,
    identities,
    links,
    onboarding,
    security_officers,
    signature_requests,
    signing,
    templates,
    training_progress,
)
from portal.services.access import RequestInfo
from portal.services.errors import ServiceError
from portal.services.hmis_roles import label as hmis_role_label
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_datetime
from portal.services.unit import unit_of_work

USER_FIELD = "user_signature"
APPROVAL_FIELD = "agency_approval"
APPROVAL_HEADING = "For the partner agency: executive director or security officer"
TRAINING_PATH = "/training/"


def _parts(onboarding_row: Onboarding, template):
    """What the template is filled with, who it is for, and its two signature blocks: all
    from the access request as made, so the agreement names the person as requested."""
    from portal.documents.pdf_layout import PartyBlock
    from portal.documents.user_agreement import UserDetails

    request_row = onboarding_row.request
    agency = request_row.agency
    values = {
        "agency_name": agency.legal_name,
        "lead_agency_name": lead_agency_name(),
        "template_version": template.version,
        "revised_date": template.revised_date,
    }
    user = UserDetails(
        name=request_row.name,
        job_title=request_row.job_title,
        hmis_role=hmis_role_label(request_row.hmis_role),
        agency_name=agency.legal_name,
    )
    parties = [
        PartyBlock(USER_FIELD, "HMIS USER", request_row.name, request_row.job_title,
                   agency.legal_name),
        PartyBlock(APPROVAL_FIELD, APPROVAL_HEADING.upper(), "",
                   "Executive director or security officer", agency.legal_name),
    ]  # fmt: skip
    return values, user, parties


def prepare(onboarding_row: Onboarding, *, at: datetime) -> None:
    """Renders the agreement from the newest user agreement template, certifies it as the
    lead agency and stores it, in the caller's transaction (the access request's).

    `at` is the request's moment; nothing here needs it, since the PDF carries no date of its
    own (its certification's timestamp says when it was issued)."""
    template = templates.current(templates.USER_AGREEMENT)
    pdf = certified_pdf(
        onboarding_row,
        template,
        what="The HMIS User Agreement",
        reason="Issued by the HMIS Lead Agency",
    )
    request_row = onboarding_row.request
    document = documents.new_document(
        case_type="onboarding",
        case_id=onboarding_row.id,
        agency_id=onboarding_row.agency_id,
        kind="user_agreement",
        title=f"HMIS User Agreement {request_row.reference}",
    )
    documents.add_version(document, pdf, f"Issued and certified by {lead_agency_name()}", by=None)
    onboarding_row.template = template
    onboarding_row.document = document


def text(onboarding_row: Onboarding) -> str:
    """The agreement's words as plain text, for the page beside the PDF ("" before it is
    prepared)."""
    template = onboarding_row.template
    return "" if template is None else words(onboarding_row, template)


def certified_pdf(onboarding_row: Onboarding, template, *, what: str, reason: str) -> bytes:
    """The user agreement of this person's onboarding, rendered from `template` and certified
    by the lead agency (the first one, and each yearly renewal)."""
    from portal.documents.template_markup import TemplateError
    from portal.documents.user_agreement import render_user_agreement

    values, user, parties = _parts(onboarding_row, template)
    try:
        rendered = render_user_agreement(
            template.body,
            values,
            title=template.title,
            template_version=template.version,
            revised_date=template.revised_date,
            user=user,
            parties=parties,
        )
    except (TemplateError, ValueError) as exc:
        raise ServiceError(f"{what} could not be prepared from its template: {exc}") from exc
    return signing.certify(rendered, reason=reason)


def words(onboarding_row: Onboarding, template) -> str:
    """The agreement's words as plain text, as `certified_pdf` would print them."""
    from portal.documents.user_agreement import user_agreement_text

    values, user, parties = _parts(onboarding_row, template)
    return user_agreement_text(
        template.body,
        values,
        title=template.title,
        template_version=template.version,
        revised_date=template.revised_date,
        user=user,
        parties=parties,
    )


@dataclass(frozen=True)
class Signature:
    """What the signing person confirms on the page."""

    password: str
    intent: bool
    consent: bool


def _signed_step(
    row: Onboarding, user: User, event: str, field: str, label: str, sig: Signature, request
) -> datetime:
    """Checks the signer, fires `event`, signs `field`: the shared half of both signatures."""
    if row.document is None or row.document.current is None:
        raise ServiceError("The HMIS User Agreement has not been prepared; nothing was signed.")
    now = clock.now()
    signer = signing.confirm_signer(user, sig.password, sig.intent, sig.consent, request, now)
    transition = onboarding.advance(row, event, user, at=now, request=request)
    _apply_signature(row, signer, field, now, transition, label)
    return now


def _apply_signature(
    row: Onboarding,
    signer: identities.ConfirmedSigner,
    field: str,
    now: datetime,
    transition: Transition,
    label: str,
) -> None:
    document = row.document
    current = documents.read_bytes(document.current)
    signed = signing.approve(current, signer, field, now, reason=label)
    user = signer.user
    # The agency's approval comes after the user's signature: the agreement is then final.
    documents.add_version(document, signed, f"{label}: {user.name}", by=user,
                          transition=transition, archive=field == APPROVAL_FIELD)  # fmt: skip


def sign(
    user: User,
    onboarding_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
) -> Onboarding:
    """The new user signs their agreement; the agency's approvers are asked to approve it."""
    with unit_of_work("Someone else changed this onboarding first. Reload it and try again."):
        row = onboarding.get(user, onboarding_id)
        if row.user_signed_at is not None and row.user_id == user.id:
            # A replayed form: say so plainly rather than the machine's general refusal.
            raise ServiceError(
                f"You already signed this HMIS User Agreement on "
                f"{local_datetime(row.user_signed_at)}; nothing was signed again."
            )
        now = _signed_step(
            row,
            user,
            "user_signs",
            USER_FIELD,
            "Signed by the new user",
            Signature(password, intent, consent),
            request,
        )
        row.user_signed_at = now
        signature_requests.signed(onboarding.ONBOARDING.name, row.id, user, at=now)
        _ask_to_approve(row, user)
    return row


def _approvers(row: Onboarding) -> list[User]:
    """The agency's active executive directors and its security officer, never the new user."""
    agency = row.request.agency
    people = [p for p in agency.people if p.active and p.role == "agency_ed"]
    officer = security_officers.current(agency)
    if officer is not None and officer.user.active and officer.user not in people:
        people.append(officer.user)
    return [p for p in people if p.id != row.user_id]


def _ask_to_approve(row: Onboarding, new_user: User) -> None:
    agency = row.request.agency.legal_name
    for person in _approvers(row):
        outbox.queue(
            person.email,
            f"Please approve the HMIS User Agreement of {new_user.name} ({row.reference})",
            f"Hello {person.name},\n\n{new_user.name} signed the HMIS User Agreement for "
            f"their HMIS access at {agency}. As the agency's executive director or security "
            f"officer, please read it and approve it:\n"
            f"{links.page(f'/onboarding/{row.id}')}\n",
        )


def approve(
    approver: User,
    onboarding_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
) -> Onboarding:
    """The agency's ED or security officer approves the signed agreement; training comes
    next, or, for a user whose required training is already complete, onboarding ends."""
    with unit_of_work("Someone else changed this onboarding first. Reload it and try again."):
        row = onboarding.get(approver, onboarding_id)
        if row.approved_at is not None:
            who = row.approved_by.name if row.approved_by else "the agency"
            raise ServiceError(
                f"{who} already approved this HMIS User Agreement on "
                f"{local_datetime(row.approved_at)}; nothing was signed again."
            )
        now = _signed_step(
            row,
            approver,
            "agency_approves",
            APPROVAL_FIELD,
            "Approved for the partner agency",
            Signature(password, intent, consent),
            request,
        )
        row.approved_at, row.approved_by_id = now, approver.id
        new_user = row.user
        complete = training_progress.required_complete(new_user)
        onboarding.note_training(new_user, complete=complete, request=request)
        _tell_new_user(row, approver, complete)
    return row


def _tell_new_user(row: Onboarding, approver: User, complete: bool) -> None:
    person = row.user
    if complete:
        subject = "Your HMIS User Agreement is approved"
        after = (
            f"Your required training is already complete, so your onboarding is done. "
            f"{lead_agency_name()} will issue your HMIS account.\n"
            f"{links.page(f'/onboarding/{row.id}')}\n"
        )
    else:
        subject = "Your HMIS User Agreement is approved: training is next"
        after = (
            f"Your next step is the training {lead_agency_name()} requires: take the "
            f"courses and pass their tests here:\n{links.page(TRAINING_PATH)}\n"
        )
    outbox.queue(
        person.email,
        subject,
        f"Hello {person.name},\n\n{approver.name} approved your HMIS User Agreement for "
        f"{row.request.agency.legal_name}.\n\n{after}",
    )
