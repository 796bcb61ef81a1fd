"""The document pipeline for agreements: render → certify → sign → certificate of completion.

Rendering and signing are plain libraries in portal/documents; this module feeds them the
records and turns their failures into messages a person can act on.
"""

from __future__ import annotations

from datetime import datetime

from portal import runtime
from portal.extensions import db
from portal.models import Agreement, Document, User
from portal.services import audit, audit_chain, cases, documents, identities, standing
from portal.services.access import RequestInfo
from portal.services.errors import ServiceError
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_datetime, short_date
from workflows.agreement import AGREEMENT


def confirm_signer(
    user: User, password: str, intent: bool, consent: bool, request: RequestInfo, now: datetime
) -> identities.ConfirmedSigner:
    """Signing needs the person's intent, their password again, and consent (first time).

    Returns who signs with the password that unseals their key, for this request only."""
    from portal.services.passwords import check_password

    standing.refuse_if_suspended(user)
    if not intent:
        raise ServiceError("Confirm that you intend to sign this document.")
    if not check_password(user.password_hash, password):
        raise ServiceError("The password you re-entered is not correct; nothing was signed.")
    if user.esign_consent_at is None:
        if not consent:
            raise ServiceError("You must first consent to do business electronically.")
        user.esign_consent_at = now
        user.esign_consent_ip = request.ip[:64]
        audit.record(
            user,
            "esign.consent",
            user,
            "Consented to do business electronically",
            agency_id=user.agency_id,
            request=request,
            at=now,
        )
    return identities.ConfirmedSigner(user, password)


def render_agreement(agreement: Agreement, ed: User):
    from portal.documents.pdf_layout import PartyBlock
    from portal.documents.render import render_agreement as render
    from portal.documents.template_markup import TemplateError

    agency, template = agreement.agency, agreement.template
    lead_name = lead_agency_name()
    values = {
        "agency_name": agency.legal_name,
        "agency_address": agency.address,
        "executive_director_name": ed.name,
        "executive_director_title": ed.title,
        "lead_agency_name": lead_name,
        "template_version": template.version,
        "revised_date": template.revised_date,
    }
    parties = [
        PartyBlock("agency_signature", "PARTNER AGENCY", ed.name, ed.title, agency.legal_name),
        # Whoever signs for the lead prints their own name and title in the box (the stamp).
        PartyBlock("lead_signature", lead_name.upper(), "", "", lead_name),
    ]
    try:
        return render(
            template.body,
            values,
            title=template.title,
            template_version=template.version,
            revised_date=template.revised_date,
            parties=parties,
        )
    except TemplateError as exc:
        raise ServiceError(f"The agreement could not be prepared from its template: {exc}") from exc


def certify(rendered, *, reason: str) -> bytes:
    from portal.documents.signing import SignatureField, SigningError

    fields = [SignatureField(f.name, f.page, tuple(f.box)) for f in rendered.signature_fields]
    try:
        return runtime.signer().certify(
            rendered.pdf,
            fields=fields,
            reason=reason,
            location=lead_agency_name(),
        )
    except SigningError as exc:
        raise ServiceError(f"{exc} Nothing was sent; try again shortly.") from exc


def approve(
    pdf: bytes, signer: identities.ConfirmedSigner, field: str, now: datetime, *, reason: str
) -> bytes:
    """Signs `field` as the confirmed person, their key unsealed for this signature only."""
    from portal.documents.signing import SignatureStamp, SigningError

    identity, unsealed = identities.unlock(signer)
    stamp = SignatureStamp(
        name=identity.common_name,
        title=identity.title,
        organization=identity.organization,
        # Date and time with the zone, in the lead agency's zone ("December 2, 2026, 9:14 am PST").
        signed_on=local_datetime(now),
    )
    try:
        return runtime.signer().approve(
            pdf,
            signer=unsealed,
            field_name=field,
            stamp=stamp,
            reason=reason,
        )
    except SigningError as exc:
        raise ServiceError(f"{exc} Nothing was signed; try again shortly.") from exc


def completion_certificate(agreement: Agreement, now: datetime) -> Document:
    """A separate, sealed PDF listing every event of the case and every document version."""
    from portal.documents.certificate import (
        CertificateDocument,
        CertificateEvent,
        render_certificate,
    )
    from portal.documents.pdfa import Attachment
    from portal.documents.signing import SigningError

    events = [
        CertificateEvent(
            when=local_datetime(t.at),
            who=f"{t.actor.name} <{t.actor.email}>" if t.actor else "Portal",
            role=t.actor.role_label if t.actor else "system",
            action=_event_label(t.event) + (f" — {t.reason}" if t.reason else ""),
            ip=t.ip or "—",
            user_agent=t.user_agent or "—",
        )
        for t in cases.history("agreement", agreement.id)
    ]
    versions = [
        CertificateDocument(
            label=v.label, sha256=v.sha256, size=v.size, created=local_datetime(v.created_at)
        )
        for v in agreement.document.versions
    ]
    pdf = render_certificate(
        lead_agency_name=lead_agency_name(),
        case_title=f"HMIS Partner Agency Agreement {agreement.reference}",
        case_reference=agreement.reference,
        agency_name=agreement.agency.legal_name,
        # The state in the agreement machine's words, as every page shows it.
        status=AGREEMENT.state(agreement.state).label
        + (f" since {short_date(agreement.effective_on)}" if agreement.effective_on else ""),
        events=events,
        documents=versions,
        generated_at=local_datetime(now),
        audit_head=audit_chain.head(db.session(), including_own=True).describe(),
        attachments=_signed_agreement(agreement, Attachment),
    )
    try:
        sealed = runtime.signer().seal(pdf, reason="Certificate of completion")
    except SigningError as exc:
        raise ServiceError(f"{exc} Nothing was signed; try again shortly.") from exc
    certificate = documents.new_document(
        case_type="agreement",
        case_id=agreement.id,
        agency_id=agreement.agency_id,
        kind="certificate",
        title=f"Certificate of completion {agreement.reference}",
    )
    documents.add_version(
        certificate,
        sealed,
        f"Certificate of completion, sealed by {lead_agency_name()}",
        by=None,
        archive=True,
    )
    agreement.certificate = certificate
    return certificate


def _signed_agreement(agreement: Agreement, attachment) -> list:
    """The newest version of the agreement, carried inside the certificate (PDF/A-3 /AF,
    relationship Source): one file holds the signed agreement and its audit trail."""
    final = agreement.document.current if agreement.document else None
    if final is None:
        return []
    return [
        attachment(
            file_name=f"{agreement.reference}-signed-agreement.pdf",
            data=documents.read_bytes(final),
            description=f"HMIS Partner Agency Agreement {agreement.reference}: {final.label}",
            modified=final.created_at,
        )
    ]


def _event_label(event: str) -> str:
    if event == "create":
        return "Created from template"
    return next((e.label for e in AGREEMENT.events if e.name == event), event)


def issue_signed(
    rendered, signer: identities.ConfirmedSigner, now: datetime, *, reason: str
) -> tuple[bytes, bytes]:
    """Certifies a freshly rendered document as the lead agency, then signs it as `signer`.

    Returns (certified, signed) so both revisions can be kept on record.
    """
    certified = certify(rendered, reason="Issued through the HMIS Partner Portal")
    field = rendered.signature_fields[0].name
    return certified, approve(certified, signer, field, now, reason=reason)
