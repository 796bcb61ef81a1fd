"""Signing an amendment: the agency's signature, the lead agency's countersignature (the
amendment then takes effect), and the fully signed copy sent to both parties.

Each signature is one transaction, as for the agreement (`agreement_signatures`): the signer
is checked, the machine fires, the PDF is signed in the signer's own field and stored as a
new version. Anything failing on the way leaves the amendment as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal import clock
from portal.models import Amendment, Transition, User
from portal.notify import outbox
from portal.services import (
    amendment_records,
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
from workflows.amendment import AMENDMENT

AGENCY_FIELD = "agency_signature"
LEAD_FIELD = "lead_signature"


@dataclass(frozen=True)
class Signature:
    """What the signing person confirms on the signing page."""

    password: str
    intent: bool
    consent: bool


def _signed_step(
    user: User,
    amendment_id: int,
    event: str,
    field: str,
    label: str,
    sig: Signature,
    request: RequestInfo,
    expected: int | None,
) -> tuple[Amendment, datetime]:
    """Checks the signer, fires `event`, signs `field`: the shared half of both signatures."""
    amendment = amendment_records.get(user, amendment_id)
    amendment_records.check_version(amendment, expected)
    now = clock.now()
    signer = signing.confirm_signer(user, sig.password, sig.intent, sig.consent, request, now)
    transition = cases.advance(
        AMENDMENT,
        amendment,
        event,
        user,
        amendment_records.context(amendment, user),
        at=now,
        request=request,
    )
    _apply_signature(amendment, signer, field, now, transition, label)
    signature_requests.signed(AMENDMENT.name, amendment.id, user, at=now)
    return amendment, now


def _apply_signature(
    amendment: Amendment,
    signer: identities.ConfirmedSigner,
    field: str,
    now: datetime,
    transition: Transition,
    label: str,
) -> None:
    current = documents.read_bytes(amendment.document.current)
    signed = signing.approve(current, signer, field, now, reason=label)
    # The countersignature is the last one (the machine takes the agency's first): the
    # amendment is final, so it is archived with a document timestamp (B-LTA).
    documents.add_version(
        amendment.document,
        signed,
        f"{label} by {signer.user.name}",
        by=signer.user,
        transition=transition,
        archive=field == LEAD_FIELD,
    )


def sign_as_agency(
    user: User,
    amendment_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
    expected_version: int | None = None,
) -> Amendment:
    with unit_of_work():
        amendment, now = _signed_step(
            user,
            amendment_id,
            "agency_signs",
            AGENCY_FIELD,
            "Signed for the agency",
            Signature(password, intent, consent),
            request,
            expected_version,
        )
        amendment.agency_signed_at = now
        amendment.agency_signed_by_id = user.id
        for person in lead.signatories():
            outbox.queue(
                person.email,
                f"Ready to countersign: {amendment.reference} ({amendment.agency.legal_name})",
                f"{user.name} ({user.title}) signed the amendment {amendment.reference} to the "
                f"HMIS Partner Agency Agreement {amendment.agreement.reference} for "
                f"{amendment.agency.legal_name}.\n\nCountersign it here:\n"
                f"{links.page(f'/amendments/{amendment.id}/sign')}\n",
            )
    return amendment


def countersign(
    user: User,
    amendment_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
    expected_version: int | None = None,
) -> Amendment:
    with unit_of_work():
        amendment, now = _signed_step(
            user,
            amendment_id,
            "lead_countersigns",
            LEAD_FIELD,
            f"Countersigned for {lead_agency_name()}",
            Signature(password, intent, consent),
            request,
            expected_version,
        )
        amendment.lead_signed_at = now
        amendment.lead_signed_by_id = user.id
        # In effect from the later signature's date, in the lead agency's time zone.
        amendment.effective_on = local_date(max(now, amendment.agency_signed_at or now))
        _send_signed_copies(amendment)
        webhooks.emit(
            "amendment.effective",
            {
                "amendment_id": amendment.id,
                "reference": amendment.reference,
                "agreement_id": amendment.agreement_id,
                "agreement_reference": amendment.agreement.reference,
                "agency_id": amendment.agency_id,
                "effective_on": amendment.effective_on.isoformat(),
            },
        )
    return amendment


def _send_signed_copies(amendment: Amendment) -> None:
    attachment = documents.attachment(
        amendment.document.current, f"{amendment.reference}-signed.pdf"
    )
    people = {
        p.email: p
        for p in [*amendment.agency.people, *lead.admins(), *lead.signatories()]
        if p.active
        and p.role in {"agency_ed", "agency_security_officer", "ssf_admin", "ssf_signatory"}
    }
    for person in people.values():
        outbox.queue(
            person.email,
            f"Fully signed: amendment {amendment.reference}",
            f"The amendment {amendment.reference} to the HMIS Partner Agency Agreement "
            f"{amendment.agreement.reference} between {lead_agency_name()} and "
            f"{amendment.agency.legal_name} is signed by both parties and in effect as of "
            f"{long_date(amendment.effective_on)}.\n\nThe signed amendment is attached and on "
            f"the agreement's page:\n{links.page(f'/amendments/{amendment.id}')}\n",
            [attachment],
        )


@dataclass
class SigningView:
    amendment: Amendment
    may_sign: bool
    reason: str | None
    needs_consent: bool
    event: str
    may_decline: bool = False


def signing_view(user: User, amendment_id: int) -> SigningView:
    """What the signing page needs: whether this person may sign now, and why not. The
    signer's first view of it is their request's "opened" (see signature_requests)."""
    amendment = amendment_records.get(user, amendment_id)
    event = "lead_countersigns" if is_lead_staff(user) else "agency_signs"
    ctx = amendment_records.page_context(amendment, user)
    offered = cases.options(AMENDMENT, amendment, user, ctx)
    option = next((o for o in offered if o.event == event), None)
    reason = None if option else "This amendment is not waiting for your signature."
    if option and not option.allowed:
        reason = option.reason
    declines = {"agency_declines", "lead_declines"}
    may_decline = any(o.event in declines and o.allowed for o in offered)
    return SigningView(
        amendment,
        bool(option and option.allowed),
        reason,
        user.esign_consent_at is None,
        event,
        may_decline,
    )
