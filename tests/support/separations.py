"""Rows for the separation, idle account and reconciliation tests: a person of an agency
with issued HMIS access (the access request's own tests walk the gates), made long enough
ago that any test date is after it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.extensions import db
from portal.models import AccessRequest, Agreement, User
from portal.services import holidays
from portal.services.access import RequestInfo
from tests import factories

REQ = RequestInfo(ip="192.0.2.44", user_agent="pytest-separations/1.0")
LONG_AGO = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


def calendar_for(*years: int) -> None:
    """The federal holidays of the test's years, whatever year the fixture seeded from."""
    holidays.seed_federal(range(min(years), max(years) + 1))


def staff(agency, email: str, name: str = "Nia Newhire", role: str = "agency_user") -> User:
    person = factories.person(agency, email=email, name=name, title="Case Manager", role=role)
    person.created_at = LONG_AGO
    db.session.commit()
    return person


def issued(person: User, hmis_user_id: str, *, state: str = "issued") -> AccessRequest:
    """`person`'s access request, issued with `hmis_user_id` (or left in `state`)."""
    agreement = db.session.query(Agreement).filter_by(
        agency_id=person.agency_id, state="effective"
    ).first() or factories.agreement(person.agency, state="effective", at=LONG_AGO)
    ed = next(p for p in person.agency.people if p.role == "agency_ed")
    count = db.session.query(AccessRequest).filter_by(agency_id=person.agency_id).count()
    row = AccessRequest(
        reference=f"HAR-{person.agency_id:04d}-{count + 1:03d}",
        agency_id=person.agency_id,
        agreement_id=agreement.id,
        state=state,
        user_id=person.id,
        name=person.name,
        email=person.email,
        job_title=person.title,
        hmis_role="case_manager",
        programs="Street Outreach",
        requested_at=LONG_AGO,
        requested_by_id=ed.id,
        hmis_user_id=hmis_user_id if state == "issued" else "",
        issued_on=date(2026, 1, 6) if state == "issued" else None,
        issued_at=LONG_AGO if state == "issued" else None,
    )
    db.session.add(row)
    db.session.commit()
    return row
