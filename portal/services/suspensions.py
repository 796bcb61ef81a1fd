"""Suspending an agency's or a person's access pending investigation (IV.B.1, VIII.B.3)."""

from __future__ import annotations

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import User
from portal.models.remedies import Suspension
from portal.processes import Process
from portal.services import agencies, audit, cases, standing
from portal.services.access import RequestInfo, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.suspension import SUSPENSION


def for_agency(agency_id: int) -> list[Suspension]:
    query = (
        select(Suspension).where(Suspension.agency_id == agency_id).order_by(Suspension.id.desc())
    )
    return list(db.session.scalars(query))


def suspend(
    admin: User, agency_id: int, *, user_id: int | None, reason: str, request: RequestInfo
) -> Suspension:
    require_role(admin, "ssf_admin", message="Only an SSF HMIS admin can suspend access.")
    with unit_of_work():
        agency = agencies.get(admin, agency_id)
        if agency.is_lead:
            raise ServiceError("The lead agency cannot be suspended.")
        why = clean_text(reason, "Reason", max_len=4000, multiline=True)
        person = None
        if user_id is not None:
            person = db.session.get(User, user_id)
            if person is None or person.agency_id != agency.id:
                raise NotFound()
            if standing.active_for_user(person) is not None:
                raise ServiceError(f"{person.name}'s access is already suspended.")
        elif standing.active_for_agency(agency.id) is not None:
            raise ServiceError(f"{agency.legal_name} is already suspended.")
        now = clock.now()
        suspension = Suspension(
            agency_id=agency.id,
            user_id=person.id if person else None,
            reason=why,
            started_at=now,
            started_by_id=admin.id,
            state="suspended",
        )
        db.session.add(suspension)
        db.session.flush()
        cases.record_creation(SUSPENSION, suspension, admin, at=now, request=request)
        whom = person.name if person else agency.legal_name
        audit.record(
            admin,
            "suspension.start",
            suspension,
            f"Suspended {whom}: {why}",
            agency_id=agency.id,
            after={"state": "suspended"},
            request=request,
            at=now,
        )
    return suspension


def lift(admin: User, suspension_id: int, *, reason: str, request: RequestInfo) -> Suspension:
    with unit_of_work():
        suspension = db.session.get(Suspension, suspension_id)
        if suspension is None:
            raise NotFound()
        agencies.get(admin, suspension.agency_id)
        now = clock.now()
        why = clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)
        cases.advance(
            SUSPENSION, suspension, "lift", admin, {}, at=now, request=request, reason=why
        )
        suspension.lifted_at, suspension.lifted_by_id, suspension.lift_reason = now, admin.id, why
    return suspension


PROCESS = Process(machine=SUSPENSION, model=Suspension)
