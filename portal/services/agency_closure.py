"""An agency that ceased to operate (VIII.B.6): the lead agency records it, saying why.

In one transaction: the agency is marked closed (its data is the CoC's property from then,
and its page says so); its agreement ends by the agreement's own steps (one in effect is
terminated as any termination is, which closes its notices and access requests through the
registry; one not yet in effect is voided); its open reallocations and site visits close;
and its people lose access: each account is deactivated with the reason, its sessions end
and its signing identity retires. Its records and documents stay.
"""

from __future__ import annotations

from sqlalchemy import select

from portal import clock, sessions
from portal.extensions import db
from portal.models import Agency, Agreement, User
from portal.models.agreements import OPEN_STATES
from portal.services import (
    agencies,
    agreements,
    audit,
    campaign_steps,
    cases,
    identities,
    reallocations,
    site_visits,
)
from portal.services.access import RequestInfo, require_role
from portal.services.errors import ServiceError
from portal.services.terminations import terminate_agreement
from portal.services.timefmt import local_date, long_date
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.agreement import AGREEMENT

COC_PROPERTY = (
    "This agency ceased to operate. Its HMIS data is the property of the Continuum of Care "
    "(VIII.B.6); its records and documents are kept, read-only."
)


def close(admin: User, agency_id: int, *, reason: str, request: RequestInfo) -> Agency:
    require_role(
        admin, "ssf_admin", message="Only a lead agency HMIS admin records an agency's closure."
    )
    with unit_of_work("This agency changed at the same moment; reload it."):
        agency = agencies.get(admin, agency_id)
        if agency.is_lead:
            raise ServiceError("The lead agency cannot be closed here.")
        if agency.closed_at is not None:
            raise ServiceError(
                f"{agency.legal_name} was already recorded as closed on "
                f"{long_date(local_date(agency.closed_at))}."
            )
        why = clean_text(reason, "Reason", max_len=4000, multiline=True)
        now = clock.now()
        agency.closed_at, agency.closed_reason, agency.closed_by_id = now, why, admin.id
        ended = f"{agency.legal_name} ceased to operate: {why}"
        was_active = [p for p in agency.people if p.active]
        _end_agreement(admin, agency, ended, request)
        reallocations.close_for_agency(agency, ended, at=now)
        site_visits.close_for_agency(agency, ended, at=now)
        for person in was_active:
            _end_access(person, now)
        audit.record(
            admin,
            "agency.close",
            agency,
            f"Recorded that {agency.legal_name} ceased to operate; its data is the CoC's "
            f"property: {why}",
            agency_id=agency.id,
            before={"closed": False},
            after={"closed": True, "people_deactivated": len(was_active)},
            request=request,
            at=now,
        )
    return agency


def _end_agreement(admin: User, agency: Agency, reason: str, request: RequestInfo) -> None:
    query = select(Agreement).where(
        Agreement.agency_id == agency.id, Agreement.state.in_(OPEN_STATES)
    )
    for agreement in db.session.scalars(query.order_by(Agreement.id)):
        if agreement.state == "effective":
            terminate_agreement(agreement, at=clock.now(), reason=reason)
        else:
            cases.advance(
                AGREEMENT,
                agreement,
                "void",
                admin,
                agreements.context(agreement, admin),
                at=clock.now(),
                request=request,
                reason=reason,
            )
            agreement.closed_reason = reason
            campaign_steps.resolved(agreement, at=clock.now())  # a campaign's last one?


def _end_access(person: User, now) -> None:
    person.active = False
    person.deactivated_at = now
    person.deactivated_reason = "The agency ceased to operate"
    sessions.end_for_user(person.id, "agency closed")
    identities.retire_all(person, "agreement_ended", at=now)
