"""The agency's security officer (V.E.7): designated by the agency's executive director.

The role's holder is whoever the current designation names; each designation ends the one
before, so the rows are the role's history. The person's portal role follows: the new
officer gets the security officer's role (an ED who takes it on keeps theirs), and the one
before goes back to an HMIS user's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Agency, SecurityOfficerDesignation, User
from portal.services import agencies, audit
from portal.services.access import RequestInfo, require_agency_visible
from portal.services.errors import Forbidden, ServiceError
from portal.services.unit import unit_of_work
from portal.services.validation import clean_email

ROLE = "agency_security_officer"


@dataclass(frozen=True)
class Holder:
    """Who holds the role, since when (None for an officer named at registration, before
    designations were recorded), and who designated them."""

    user: User
    since: datetime | None
    designated_by: User | None


def history(viewer: User, agency_id: int) -> list[SecurityOfficerDesignation]:
    require_agency_visible(viewer, agency_id)
    query = (
        select(SecurityOfficerDesignation)
        .where(SecurityOfficerDesignation.agency_id == agency_id)
        .order_by(SecurityOfficerDesignation.id.desc())
    )
    return list(db.session.scalars(query))


def _current_row(agency_id: int) -> SecurityOfficerDesignation | None:
    query = select(SecurityOfficerDesignation).where(
        SecurityOfficerDesignation.agency_id == agency_id,
        SecurityOfficerDesignation.ended_at.is_(None),
    )
    return db.session.scalar(query)


def current(agency: Agency) -> Holder | None:
    row = _current_row(agency.id)
    if row is not None:
        return Holder(row.user, row.designated_at, row.designated_by)
    named = next((p for p in agency.people if p.role == ROLE and p.active), None)
    return Holder(named, None, None) if named else None


def is_officer(user: User) -> bool:
    """Whether this person holds the agency's security officer role now."""
    if user.is_lead or not user.active:
        return False
    holder = current(user.agency)
    return holder is not None and holder.user.id == user.id


def may_designate(user: User, agency: Agency) -> bool:
    """Whether the agency page should offer this person to designate the officer (V.E.7
    gives it to the agency's executive director)."""
    return user.active and user.role == "agency_ed" and user.agency_id == agency.id


def designate(ed: User, agency_id: int, *, email: str, request: RequestInfo) -> Holder:
    """The agency's ED designates one of the agency's people as its security officer."""
    agency = agencies.get(ed, agency_id)
    if not may_designate(ed, agency):
        raise Forbidden("Only the agency's executive director can designate its security officer.")
    with unit_of_work("Someone else designated a security officer first. Reload and try again."):
        address = clean_email(email, "The security officer's e-mail")
        person = db.session.scalar(select(User).where(User.email == address))
        if person is None or person.agency_id != agency.id:
            raise ServiceError(f"No one at {agency.legal_name} has the e-mail {address}.")
        if not person.active:
            raise ServiceError(f"{person.name}'s account is not active.")
        before = current(agency)
        if before is not None and before.user.id == person.id:
            raise ServiceError(f"{person.name} is already the security officer.")
        now = clock.now()
        row = _current_row(agency.id)
        if row is None and before is not None:
            # An officer named before designations were recorded held it since registration.
            row = SecurityOfficerDesignation(
                agency_id=agency.id,
                user_id=before.user.id,
                designated_by_id=agency.created_by_id or ed.id,
                designated_at=agency.created_at,
            )
            db.session.add(row)
        if row is not None:
            row.ended_at, row.ended_by_id = now, ed.id
        if before is not None and before.user.role == ROLE:
            before.user.role = "agency_user"
        if person.role != "agency_ed":
            person.role = ROLE
        db.session.add(
            SecurityOfficerDesignation(
                agency_id=agency.id, user_id=person.id, designated_by_id=ed.id, designated_at=now
            )
        )
        db.session.flush()
        audit.record(
            ed,
            "agency.designate_security_officer",
            agency,
            f"Designated {person.name} as the security officer of {agency.legal_name}"
            + (f" in place of {before.user.name}" if before else ""),
            agency_id=agency.id,
            before={"security_officer": before.user.email} if before else None,
            after={"security_officer": person.email},
            request=request,
            at=now,
        )
    return Holder(person, now, ed)
