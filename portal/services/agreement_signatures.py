"""Signing the Partner Agency Agreement: the agency's signature, the lead agency's
countersignature, and the fully signed copies sent to both parties.

Each signature is one transaction, like every step of the agreement: the signer is checked,
the machine fires, the PDF is signed and stored as a new version. Creating, sending,
declining and voiding the agreement are in `agreements`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal import clock
from portal.models import Agreement, User
from portal.notify import outbox
from portal.services import (
    agreements,
    campaign_steps,
    cases,
    documents,
    identities,
    lead,
    links,
    signature_requests,
    signing,
    webhooks,
)
from portal.services.access import RequestInfo, is_lead_staff
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_date, long_date
from portal.services.unit import unit_of_work
from workflows.agreement import AGREEMENT

AGENCY_FIELD = "agency_signature"
LEAD_FIELD = "lead_signature"


@dataclass(frozen=True)
class Signature:
    """What the signing person confirms on the signing page."""

    password: str
    intent: bool
    consent: bool


def _signed_step(user, agreement_id, event, field, label, sig: Signature, request, expected):
    """Checks the signer, fires `event`, signs `field`: the shared half of both signatures."""
    agreement = agreements.get(user, agreement_id)
    agreements.check_version(agreement, expected)
    now = clock.now()
    signer = signing.confirm_signer(user, sig.password, sig.intent, sig.consent, request, now)
    transition = cases.advance(
        AGREEMENT,
        agreement,
        event,
        user,
        agreements.context(agreement, user),
        at=now,
        request=request,
    )
    signed = _apply_signature(agreement, signer, field, now, transition, label)
    return agreement, now, signed


def sign_as_agency(
    user: User,
    agreement_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
    expected_version: int | None = None,
) -> Agreement:
    with unit_of_work():
        agreement, now, _ = _signed_step(
            user,
            agreement_id,
            "agency_signs",
            AGENCY_FIELD,
            "Signed for the agency",
            Signature(password, intent, consent),
            request,
            expected_version,
        )
        agreement.agency_signed_at = now
        agreement.agency_signed_by_id = user.id
        signature_requests.signed(AGREEMENT.name, agreement.id, user, at=now)
        for person in lead.signatories():
            outbox.queue(
                person.email,
                f"Ready to countersign: {agreement.reference} ({agreement.agency.legal_name})",
                f"{user.name} ({user.title}) signed the HMIS Partner Agency Agreement "
                f"{agreement.reference} for {agreement.agency.legal_name}.\n\n"
                f"Countersign it here:\n{links.page(f'/agreements/{agreement.id}/sign')}\n",
            )
    return agreement


def countersign(
    user: User,
    agreement_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
    expected_version: int | None = None,
) -> Agreement:
    with unit_of_work():
        # A campaign's agreement replaces the one in effect: that one is superseded first
        # (one agreement in effect at a time, even between two flushes).
        replaced = campaign_steps.supersede_replaced(
            agreements.get(user, agreement_id), at=clock.now()
        )
        agreement, now, final = _signed_step(
            user,
            agreement_id,
            "lead_countersigns",
            LEAD_FIELD,
            f"Countersigned for {lead_agency_name()}",
            Signature(password, intent, consent),
            request,
            expected_version,
        )
        agreement.lead_signed_at = now
        agreement.lead_signed_by_id = user.id
        # Effective when both have signed: the later signature's date, in the lead's time zone.
        agreement.effective_on = local_date(max(now, agreement.agency_signed_at or now))
        campaign_steps.took_effect(agreement, replaced, at=now)
        certificate = signing.completion_certificate(agreement, now)
        _send_signed_copies(agreement, final, certificate)
        webhooks.emit(
            "agreement.effective",
            {
                "agreement_id": agreement.id,
                "reference": agreement.reference,
                "agency_id": agreement.agency_id,
                "effective_on": agreement.effective_on.isoformat(),
            },
        )
    return agreement


def _apply_signature(
    agreement: Agreement,
    signer: identities.ConfirmedSigner,
    field: str,
    now: datetime,
    transition,
    label: str,
) -> bytes:
    document = agreement.document
    current = documents.read_bytes(document.current)
    signed = signing.approve(current, signer, field, now, reason=label)
    user = signer.user
    # The countersignature is the last one (the machine takes the agency's first): the
    # agreement is final, so it is archived with a document timestamp (B-LTA).
    documents.add_version(
        document,
        signed,
        f"{label} by {user.name}",
        by=user,
        transition=transition,
        archive=field == LEAD_FIELD,
    )
    return signed


def _send_signed_copies(agreement: Agreement, final_pdf: bytes, certificate) -> None:
    version = agreement.document.current
    attachments = [
        documents.attachment(version, f"{agreement.reference}-signed.pdf"),
        documents.attachment(
            certificate.current, f"{agreement.reference}-certificate-of-completion.pdf"
        ),
    ]
    people = {
        p.email: p
        for p in [
            *agreement.agency.people,
            *lead.admins(),
            *lead.signatories(),
        ]
        if p.active
        and p.role in {"agency_ed", "agency_security_officer", "ssf_admin", "ssf_signatory"}
    }
    for person in people.values():
        outbox.queue(
            person.email,
            f"Fully signed: HMIS Partner Agency Agreement {agreement.reference}",
            f"The HMIS Partner Agency Agreement {agreement.reference} between {lead_agency_name()} "
            f"and {agreement.agency.legal_name} is signed by both parties and in effect "
            f"as of {long_date(agreement.effective_on)}.\n\nThe signed agreement and its "
            f"certificate of completion are attached and on the agency's page:\n"
            f"{links.page(f'/agreements/{agreement.id}')}\n",
            attachments,
        )


@dataclass
class SigningView:
    agreement: Agreement
    may_sign: bool
    reason: str | None
    needs_consent: bool
    event: str
    may_decline: bool = False


def signing_view(user: User, agreement_id: int) -> SigningView:
    """What the signing page needs: whether this person may sign now, and why not."""
    agreement = agreements.get(user, agreement_id)
    event = "lead_countersigns" if is_lead_staff(user) else "agency_signs"
    offered = agreements.options(agreement, user)
    option = next((o for o in offered if o.event == event), None)
    reason = None if option else "This agreement is not waiting for your signature."
    if option and not option.allowed:
        reason = option.reason
    may_decline = any(o.event == "agency_declines" and o.allowed for o in offered)
    return SigningView(
        agreement,
        bool(option and option.allowed),
        reason,
        user.esign_consent_at is None,
        event,
        may_decline,
    )
