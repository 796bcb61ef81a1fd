"""Requesting HMIS access and issuing the account only when the four gates of IV.B.4 hold."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from portal.extensions import db
from portal.models import AccessRequest, Course, Onboarding, Suspension, User
from portal.services import access_requests, fees, gates, onboarding, suspensions
from portal.services.errors import Forbidden, NotFound, ServiceError
from tests import factories
from tests.support.access import (
    HERE,
    in_effect,
    pass_required,
    passed,
    request,
    sign_and_approve,
    staff,
)

pytestmark = pytest.mark.usefixtures("app")

TODAY = date(2027, 3, 10)


@pytest.fixture
def travel():
    with time_machine.travel("2027-03-10 17:00:00+00:00", tick=False):
        yield


def _ready(cast):
    """A request whose four gates hold."""
    in_effect(cast.agency)
    row = request(cast)
    sign_and_approve(cast, row)
    pass_required(row.user)
    return row


def test_request_opens_account_onboarding_and_user_agreement(cast, travel, mailbox):
    in_effect(cast.agency)
    row = request(cast)
    assert row.state == "in_progress" and row.reference.startswith("HAR-")
    person = db.session.get(User, row.user_id)
    assert person.role == "agency_user" and person.password_hash is None
    ob = db.session.query(Onboarding).filter_by(access_request_id=row.id).one()
    assert ob.state == "invited" and ob.document_id is not None
    mailbox.deliver()
    (invitation,) = mailbox.to("new@hope.test")
    assert "/onboarding/invitation/" in invitation.get_content()


def test_replayed_request_returns_the_same_request(cast, travel):
    in_effect(cast.agency)
    first = request(cast)
    again = request(cast)
    assert again.id == first.id
    assert db.session.query(AccessRequest).count() == 1


def test_only_an_agency_in_effect_and_not_suspended_may_request(cast, travel):
    with pytest.raises(Forbidden, match="no agreement in effect"):
        request(cast)
    in_effect(cast.agency)
    suspensions.suspend(cast.admin, cast.agency.id, user_id=None, reason="Audit", request=HERE)
    with pytest.raises(Forbidden, match="suspended"):
        request(cast)
    assert db.session.query(AccessRequest).count() == 0


def test_an_hmis_user_cannot_request_and_another_agency_sees_nothing(cast, travel):
    in_effect(cast.agency)
    user = factories.person(
        cast.agency, email="u@hope.test", name="U", title="Clerk", role="agency_user"
    )
    with pytest.raises(Forbidden):
        access_requests.request_access(user, cast.agency.id, staff(), request=HERE)
    row = request(cast)
    with pytest.raises(NotFound):
        access_requests.get(cast.other_ed, row.id)
    with pytest.raises(NotFound):
        access_requests.request_access(
            cast.other_ed, cast.agency.id, staff("x@o.test"), request=HERE
        )
    with pytest.raises(NotFound):
        access_requests.withdraw(cast.other_ed, row.id, reason="mine now", request=HERE)
    assert access_requests.list_for(cast.other_ed).items == []


def test_email_of_another_agency_or_bad_input_is_refused(cast, travel):
    in_effect(cast.agency)
    with pytest.raises(ServiceError, match="another agency"):
        request(cast, email="ed@other.test")
    with pytest.raises(ServiceError, match="at most"):
        request(cast, name="N" * 500)
    with pytest.raises(ServiceError, match="HMIS role"):
        access_requests.request_access(
            cast.ed,
            cast.agency.id,
            access_requests.NewStaff("A", "a@hope.test", "T", "root", "P"),
            request=HERE,
        )
    assert db.session.query(AccessRequest).count() == 0


def test_issue_when_all_four_gates_hold(cast, travel, mailbox):
    row = _ready(cast)
    assert all(g.met for g in gates.for_request(row))
    access_requests.issue(
        cast.admin, row.id, hmis_user_id="HMIS-0042", issued_on=TODAY, request=HERE
    )
    assert row.state == "issued" and row.hmis_user_id == "HMIS-0042" and row.issued_on == TODAY
    mailbox.deliver()
    assert any("HMIS-0042" in m.get_content() for m in mailbox.to("new@hope.test"))


@pytest.mark.parametrize("gate", ["a", "b", "c", "d"])
def test_each_gate_alone_blocks_issuance_and_is_named(cast, travel, gate):
    in_effect(cast.agency)
    row = request(cast)
    if gate != "c":
        sign_and_approve(cast, row)
    if gate != "d":
        pass_required(row.user)
    else:
        passed(row.user, db.session.query(Course).filter_by(required=True).first())
    if gate == "b":
        fees.record(
            cast.admin,
            cast.agency.id,
            year=2027,
            amount="1,250.00",
            waived=False,
            paid_on=None,
            note="",
            request=HERE,
        )
    if gate == "a":
        suspensions.suspend(cast.admin, cast.agency.id, user_id=None, reason="Breach", request=HERE)
    unmet = [g.letter for g in gates.for_request(row) if not g.met]
    assert unmet == [gate]
    reason = access_requests.refusal_to_issue(row)
    assert f"({gate})" in reason
    with pytest.raises(ServiceError, match=rf"\({gate}\)"):
        access_requests.issue(cast.admin, row.id, hmis_user_id="H1", issued_on=TODAY, request=HERE)
    db.session.refresh(row)
    assert row.state == "in_progress" and row.hmis_user_id == ""


def test_fee_paid_or_waived_settles_the_gate(cast, travel):
    in_effect(cast.agency)
    row = request(cast)
    fees.record(
        cast.admin,
        cast.agency.id,
        year=2027,
        amount="500",
        waived=False,
        paid_on=None,
        note="",
        request=HERE,
    )
    assert not gates.for_request(row)[1].met
    fees.record(
        cast.admin,
        cast.agency.id,
        year=2027,
        amount="500",
        waived=False,
        paid_on=date(2027, 3, 1),
        note="check 1001",
        request=HERE,
    )
    assert "paid March 1, 2027" in gates.for_request(row)[1].why
    fees.record(
        cast.admin,
        cast.agency.id,
        year=2027,
        amount="500",
        waived=True,
        paid_on=None,
        note="hardship",
        request=HERE,
    )
    assert gates.for_request(row)[1].met
    with pytest.raises(ServiceError, match="amount in dollars"):
        fees.record(
            cast.admin,
            cast.agency.id,
            year=2027,
            amount="ten",
            waived=False,
            paid_on=None,
            note="",
            request=HERE,
        )
    with pytest.raises(Forbidden):
        fees.record(
            cast.ed,
            cast.agency.id,
            year=2027,
            amount="1",
            waived=False,
            paid_on=None,
            note="",
            request=HERE,
        )


def test_only_an_admin_issues_and_not_twice(cast, travel):
    row = _ready(cast)
    with pytest.raises(Forbidden):
        access_requests.issue(cast.ed, row.id, hmis_user_id="H", issued_on=TODAY, request=HERE)
    with pytest.raises(ServiceError, match="future"):
        access_requests.issue(
            cast.admin, row.id, hmis_user_id="H", issued_on=date(2027, 3, 11), request=HERE
        )
    access_requests.issue(cast.admin, row.id, hmis_user_id="H", issued_on=TODAY, request=HERE)
    with pytest.raises(ServiceError):
        access_requests.issue(cast.admin, row.id, hmis_user_id="H2", issued_on=TODAY, request=HERE)
    assert row.hmis_user_id == "H"


def test_withdrawing_closes_the_onboarding(cast, travel):
    in_effect(cast.agency)
    row = request(cast)
    access_requests.withdraw(cast.officer, row.id, reason="Hired elsewhere", request=HERE)
    assert row.state == "withdrawn"
    assert db.session.get(Onboarding, row.onboarding.id).state == "closed"


def test_ending_the_agreement_closes_request_and_onboarding(cast, travel):
    from portal import clock
    from portal.services import cases
    from portal.services.access import SYSTEM
    from workflows.agreement import AGREEMENT

    agreement = in_effect(cast.agency)
    row = request(cast)
    cases.advance(AGREEMENT, agreement, "terminate", None, {}, at=clock.now(), request=SYSTEM)
    db.session.commit()
    assert row.state == "agreement_ended"
    assert row.onboarding.state == "closed"


def test_the_invitation_expires_by_the_sweep_and_a_new_one_works(cast, mailbox):
    from portal.services import deadlines

    with time_machine.travel("2027-03-10 17:00:00+00:00", tick=False):
        in_effect(cast.agency)
        row = request(cast)
    with time_machine.travel("2027-03-18 17:00:00+00:00", tick=False):
        deadlines.sweep()
        db.session.expire_all()
        ob = db.session.get(Onboarding, row.onboarding.id)
        assert ob.state == "invitation_expired"
        onboarding.reinvite(cast.officer, ob.id, request=HERE)
        assert ob.state == "invited"


def test_the_ed_designates_the_security_officer_and_the_role_keeps_its_history(cast, travel):
    from portal.services import security_officers

    holder = security_officers.current(cast.agency)
    assert holder.user.id == cast.officer.id and holder.since is None
    newbie = factories.person(
        cast.agency, email="n2@hope.test", name="Noor", title="IT", role="agency_user"
    )
    security_officers.designate(cast.ed, cast.agency.id, email="n2@hope.test", request=HERE)
    assert security_officers.current(cast.agency).user.id == newbie.id
    assert newbie.role == "agency_security_officer" and cast.officer.role == "agency_user"
    with pytest.raises(Forbidden):
        security_officers.designate(
            cast.officer, cast.agency.id, email="ed@hope.test", request=HERE
        )
    with pytest.raises(NotFound):
        security_officers.designate(
            cast.other_ed, cast.agency.id, email="n2@hope.test", request=HERE
        )
    with pytest.raises(ServiceError, match="No one at"):
        security_officers.designate(cast.ed, cast.agency.id, email="ed@other.test", request=HERE)
    security_officers.designate(cast.ed, cast.agency.id, email="so@hope.test", request=HERE)
    history = security_officers.history(cast.ed, cast.agency.id)
    # Sam, named at registration, held it first; then Noor; now Sam again.
    assert [d.user.email for d in history] == ["so@hope.test", "n2@hope.test", "so@hope.test"]
    assert history[0].ended_at is None and all(d.ended_at for d in history[1:])
    assert db.session.query(Suspension).count() == 0
