"""The certificate of participation (IV.B.4): on request, the lead agency certifies that an
agency participates in the HMIS and that one of its staff was issued HMIS access.

One transaction: the certificate is rendered, sealed by the lead agency, stored (a new
version of the request's certificate when it is issued again) and audited together; a
failure leaves nothing changed.
"""

from __future__ import annotations

from portal import clock, runtime
from portal.models import AccessRequest, User
from portal.services import access_requests, agreements, audit, documents, standing
from portal.services.access import RequestInfo, require_role
from portal.services.errors import ServiceError
from portal.services.lead import lead_agency_name
from portal.services.next_steps import state_of
from portal.services.timefmt import local_date, long_date
from portal.services.unit import unit_of_work


def refusal_to_certify(row: AccessRequest) -> str | None:
    """Why no certificate can be issued for this request now, or None."""
    if row.state != "issued":
        return (
            "A certificate of participation can be issued only once the HMIS account is "
            f"issued; this request is “{state_of(row).label}”."
        )
    agency = row.agency
    if agreements.in_effect(agency) is None:
        return f"{agency.legal_name} has no agreement in effect, so it does not participate now."
    if standing.active_for_agency(agency.id) is not None:
        return f"{agency.legal_name}'s HMIS access is suspended, so no certificate can be issued."
    return None


def issue_certificate(admin: User, request_id: int, *, request: RequestInfo) -> AccessRequest:
    """Issues (or issues again) the sealed certificate of participation of an issued request."""
    require_role(
        admin,
        "ssf_admin",
        message="Only a lead agency HMIS admin can issue a certificate of participation.",
    )
    with unit_of_work("Someone else issued a certificate first. Reload the request."):
        row = access_requests.get(admin, request_id)
        refusal = refusal_to_certify(row)
        if refusal:
            raise ServiceError(refusal)
        now = clock.now()
        sealed = _sealed_pdf(row, now)
        lead = lead_agency_name()
        if row.certificate is None:
            row.certificate = documents.new_document(
                case_type="access_request",
                case_id=row.id,
                agency_id=row.agency_id,
                kind="participation_certificate",
                title=f"Certificate of participation {row.reference}",
            )
        version = documents.add_version(
            row.certificate,
            sealed,
            f"Issued {long_date(local_date(now))}, sealed by {lead}",
            by=admin,
            archive=True,
        )
        audit.record(
            admin,
            "access_request.certificate",
            row,
            f"Issued a certificate of participation for {row.name} ({row.reference}), "
            f"version {version.seq}",
            agency_id=row.agency_id,
            after={"certificate_version": version.seq, "sha256": version.sha256},
            request=request,
            at=now,
        )
    return row


def _sealed_pdf(row: AccessRequest, now) -> bytes:
    from portal.documents.participation import Participation, render_participation_certificate
    from portal.documents.signing import SigningError

    agreement = agreements.in_effect(row.agency)
    pdf = render_participation_certificate(
        Participation(
            lead_agency_name=lead_agency_name(),
            agency_name=row.agency.legal_name,
            agreement_reference=agreement.reference,
            agreement_since=long_date(agreement.effective_on),
            user_name=row.name,
            job_title=row.job_title,
            hmis_user_id=row.hmis_user_id,
            access_issued_on=long_date(row.issued_on),
            request_reference=row.reference,
            issued_on=long_date(local_date(now)),
        )
    )
    try:
        return runtime.signer().seal(pdf, reason="Certificate of participation")
    except SigningError as exc:
        raise ServiceError(f"{exc} No certificate was issued; try again shortly.") from exc
