"""An agency that ceased to operate (VIII.B.6): its data is marked as the CoC's property,
its agreement ends by the agreement's own step (the registry closes its notices and access
requests), its open reallocations and visits close, and its people lose access."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, Transition, UserSession
from portal.services import agency_closure, site_visits
from portal.services.errors import Forbidden, ServiceError
from tests import factories
from tests.notices import give_default
from tests.support import access
from tests.support import programs as steps


def _session_for(user) -> UserSession:
    now = clock.now()
    row = UserSession(
        id=f"s{user.id:063d}", user_id=user.id, data={}, created_at=now, last_seen_at=now
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_closing_an_agency_ends_its_cases_and_its_peoples_access(app, cast, mailbox):
    agreement = factories.agreement(cast.agency, state="effective", documents=True)
    notice = give_default(cast.signatory, agreement)
    request_row = access.request(cast)
    reallocation = steps.reallocated(cast)
    visit = site_visits.schedule(
        cast.admin,
        cast.agency.id,
        visit_at=datetime(2030, 1, 7, 18, 0, tzinfo=UTC),
        visitors="Ada Admin",
        request=steps.REQ,
    )
    session = _session_for(cast.ed)
    people = [p for p in cast.agency.people if p.active]
    assert len(people) >= 3  # the ED, the security officer and the requested new user

    agency = agency_closure.close(
        cast.admin, cast.agency.id, reason="Lost its funding", request=steps.REQ
    )
    db.session.expire_all()
    assert agency.closed_at is not None and agency.closed_reason == "Lost its funding"
    assert agreement.state == "terminated"
    assert notice.state == "agreement_ended"
    assert request_row.state == "agreement_ended"
    assert reallocation.state == "cancelled" and "ceased to operate" in reallocation.closed_reason
    assert visit.state == "cancelled"
    for person in people:
        assert not person.active
        assert person.deactivated_reason == "The agency ceased to operate"
    assert db.session.get(UserSession, session.id).ended_at is not None
    # The other agency's people keep their access.
    assert cast.other_ed.active
    events = db.session.scalars(
        select(Transition.event).where(Transition.case_id == agreement.id,
                                       Transition.case_type == "agreement")
    ).all()  # fmt: skip
    assert events[-1] == "terminate"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "agency.close"))
    with pytest.raises(ServiceError, match="already recorded"):
        agency_closure.close(cast.admin, cast.agency.id, reason="again", request=steps.REQ)


def test_an_agreement_not_yet_in_effect_is_voided(app, cast):
    agreement = factories.agreement(cast.agency, state="sent")
    agency_closure.close(cast.admin, cast.agency.id, reason="Merged", request=steps.REQ)
    db.session.expire_all()
    assert agreement.state == "voided"


def test_only_a_lead_agency_admin_closes_an_agency(app, cast):
    for person in (cast.ed, cast.signatory):
        with pytest.raises(Forbidden):
            agency_closure.close(person, cast.agency.id, reason="x", request=steps.REQ)
    with pytest.raises(ServiceError, match="lead agency"):
        agency_closure.close(cast.admin, cast.admin.agency_id, reason="x", request=steps.REQ)
