"""The receipt of a program's hand-over (VIII.B.7): prepared and certified by the lead
agency when the acquiring agency confirms receipt of the forms, then signed for the
releasing agency and for the acquiring agency, each by its executive director or security
officer. Each step is one transaction: the machine fires, the PDF is signed and stored as a
new version, the e-mails are queued; a failure anywhere leaves nothing changed."""

from __future__ import annotations

from portal import clock
from portal.models import Reallocation, User
from portal.notify import outbox
from portal.services import documents, links, reallocations, signing
from portal.services.access import RequestInfo
from portal.services.errors import NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_date, long_date
from portal.services.unit import unit_of_work

RELEASING_FIELD = "releasing_signature"
ACQUIRING_FIELD = "acquiring_signature"
KIND = "handover_receipt"


def _render(row: Reallocation) -> bytes:
    from portal.documents.handover_receipt import HandoverFacts, render_receipt
    from portal.documents.pdf_layout import PartyBlock

    title = "Executive director or security officer"
    facts = HandoverFacts(
        lead_agency_name=lead_agency_name(),
        reference=row.reference,
        program_name=row.program.name,
        hud_grant_number=row.program.hud_grant_number,
        releasing_agency=row.agency.legal_name,
        acquiring_agency=row.acquiring_agency.legal_name,
        reallocated_on=long_date(local_date(row.opened_at)),
        forms_count=row.delivered_count or 0,
        method=reallocations.METHODS.get(row.delivered_method, row.delivered_method),
        delivered_on=long_date(row.delivered_on),
        received_on=long_date(local_date(row.received_at)),
    )
    parties = [
        PartyBlock(RELEASING_FIELD, "FOR THE RELEASING AGENCY", "", title, row.agency.legal_name),
        PartyBlock(
            ACQUIRING_FIELD, "FOR THE ACQUIRING AGENCY", "", title, row.acquiring_agency.legal_name
        ),
    ]
    return signing.certify(render_receipt(facts, parties), reason="Issued by the HMIS Lead Agency")


def confirm_receipt(user: User, reallocation_id: int, *, request: RequestInfo) -> Reallocation:
    """The acquiring agency confirms receipt; the lead agency's certified receipt is made."""
    with unit_of_work("This hand-over changed at the same moment; reload it."):
        row = reallocations.get(user, reallocation_id)
        now = clock.now()
        reallocations.advance(row, "confirm_receipt", user, at=now, request=request)
        row.received_at, row.received_by_id = now, user.id
        document = documents.new_document(
            case_type="reallocation",
            case_id=row.id,
            agency_id=row.agency_id,
            kind=KIND,
            title=f"Hand-over receipt {row.reference}",
        )
        documents.add_version(
            document, _render(row), f"Issued and certified by {lead_agency_name()}", by=None
        )
        row.document_id = document.id
        _ask_to_sign(row, releasing=True)
    return row


def _ask_to_sign(row: Reallocation, *, releasing: bool) -> None:
    agency = row.agency if releasing else row.acquiring_agency
    for person in reallocations.managers(agency):
        outbox.queue(
            person.email,
            f"Sign the hand-over receipt of {row.program.name} ({row.reference})",
            f"Hello {person.name},\n\nThe receipt of the hand-over of the program "
            f"{row.program.name} is ready for {agency.legal_name}'s signature:\n"
            f"{links.page(f'/reallocations/{row.id}')}\n",
        )


def sign(
    user: User,
    reallocation_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
) -> Reallocation:
    """Signs the receipt for the person's agency, releasing first, then acquiring."""
    with unit_of_work("This hand-over changed at the same moment; reload it."):
        row = reallocations.get(user, reallocation_id)
        if row.state not in ("releasing_signs", "acquiring_signs"):
            raise ServiceError("There is no receipt waiting for a signature on this hand-over.")
        releasing = row.state == "releasing_signs"
        event = "releasing_signs" if releasing else "acquiring_signs"
        field = RELEASING_FIELD if releasing else ACQUIRING_FIELD
        label = (
            "Signed for the releasing agency" if releasing else "Signed for the acquiring agency"
        )
        now = clock.now()
        # Who may sign is the machine's answer; ask it before the password.
        ctx = reallocations.context(row, user)
        ctx["esign_consent"] = True
        from portal.services import cases
        from workflows.reallocation import REALLOCATION

        blocked = next((o.reason for o in cases.options(REALLOCATION, row, user, ctx)
                        if o.event == event and not o.allowed), None)  # fmt: skip
        if blocked:
            raise ServiceError(blocked)
        signer = signing.confirm_signer(user, password, intent, consent, request, now)
        transition = reallocations.advance(row, event, user, at=now, request=request)
        document = row.document
        signed = signing.approve(
            documents.read_bytes(document.current),
            signer,
            field,
            now,
            reason=label,
        )
        # The acquiring agency signs last: the receipt is then final (B-LTA).
        documents.add_version(
            document,
            signed,
            f"{label}: {user.name}",
            by=user,
            transition=transition,
            archive=not releasing,
        )
        if releasing:
            row.releasing_signed_at, row.releasing_signed_by_id = now, user.id
            _ask_to_sign(row, releasing=False)
        else:
            row.acquiring_signed_at, row.acquiring_signed_by_id = now, user.id
            _tell_complete(row)
    return row


def _tell_complete(row: Reallocation) -> None:
    people = reallocations.managers(row.agency) + reallocations.managers(row.acquiring_agency)
    for person in people:
        outbox.queue(
            person.email,
            f"Hand-over complete: {row.program.name} ({row.reference})",
            f"Both agencies signed the receipt of the hand-over of the program "
            f"{row.program.name}. It is kept here:\n{links.page(f'/reallocations/{row.id}')}\n",
        )


def receipt(viewer: User, reallocation_id: int) -> tuple[bytes, str]:
    """The receipt's newest version, for the lead agency and both agencies."""
    row = reallocations.get(viewer, reallocation_id)
    if row.document is None or row.document.current is None:
        raise NotFound()
    return documents.read_bytes(row.document.current), f"hand-over-receipt-{row.reference}.pdf"
