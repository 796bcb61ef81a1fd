"""What the agency page shows about HMIS access: the security officer and the role's
history, the participation fee ledger, and whether this person may request access."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AccessRequest, Agency, ParticipationFee, SecurityOfficerDesignation, User
from portal.services import access_requests, fees, security_officers, separations
from portal.services.access import is_lead_staff


@dataclass(frozen=True)
class AgencyAccess:
    officer: security_officers.Holder | None
    officer_history: list[SecurityOfficerDesignation]
    may_designate_officer: bool
    fee_standing: fees.FeeStanding
    fees: list[ParticipationFee]
    may_record_fee: bool
    refusal_to_request: str | None
    requests_in_progress: int
    may_see_requests: bool
    may_report_separation: bool


def of_agency(viewer: User, agency: Agency) -> AgencyAccess:
    manager = viewer.role == "agency_ed" or security_officers.is_officer(viewer)
    in_progress = db.session.scalar(
        select(func.count())
        .select_from(AccessRequest)
        .where(AccessRequest.agency_id == agency.id, AccessRequest.state == "in_progress")
    )
    return AgencyAccess(
        officer=security_officers.current(agency),
        officer_history=security_officers.history(viewer, agency.id),
        may_designate_officer=security_officers.may_designate(viewer, agency),
        fee_standing=fees.standing(agency),
        fees=fees.ledger(viewer, agency.id),
        may_record_fee=viewer.role == "ssf_admin" and not agency.is_lead,
        refusal_to_request=access_requests.refusal_to_request(viewer, agency),
        requests_in_progress=in_progress or 0,
        may_see_requests=is_lead_staff(viewer) or manager,
        may_report_separation=separations.may_report(viewer, agency),
    )
