"""Suspension pending investigation (IV.B.1): of a whole agency or of one person. A suspended
person can neither log in nor sign, also mid-session; lifting restores both."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import AuditEvent
from portal.services import agreement_signatures, auth, cases, standing, suspensions
from portal.services.errors import Forbidden, NotFound, ServiceError
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, sent_agreement


def suspend(cast, *, user=None, reason="Suspected sharing of passwords (V.E.3)."):
    return suspensions.suspend(
        cast.admin,
        cast.agency.id,
        user_id=user.id if user else None,
        reason=reason,
        request=REQ,
    )


def sign(cast, agreement):
    return agreement_signatures.sign_as_agency(
        cast.ed, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )


def can_log_in(person) -> bool:
    try:
        auth.authenticate(person.email, PASSWORD, REQ)
    except ServiceError as refused:
        assert "suspended" in str(refused)
        return False
    return True


def home(app, client) -> str:
    """Where the home page sends the client ("" when it shows the page), as a request of its
    own (own app context)."""
    with app.app_context():
        return client.get("/").location or ""


def test_a_suspended_agency_cannot_log_in_or_sign_until_lifted(app, cast, client, auth):
    agreement = sent_agreement(cast)
    with pytest.raises(ServiceError, match="Reason is required"):
        suspend(cast, reason="  ")
    with pytest.raises(Forbidden):
        suspensions.suspend(cast.signatory, cast.agency.id, user_id=None, reason="x", request=REQ)
    auth.login("ed@hope.test")
    assert "/login" not in home(app, client)

    suspension = suspend(cast)
    assert standing.active_for_agency(cast.agency.id) is suspension
    assert suspensions.for_agency(cast.agency.id) == [suspension]
    assert not can_log_in(cast.ed) and not can_log_in(cast.officer)
    assert can_log_in(cast.other_ed) and can_log_in(cast.admin)
    # Already logged in: the next request finds the person logged out.
    assert "/login" in home(app, client)
    with pytest.raises(ServiceError, match="agency's access is suspended .* cannot sign"):
        sign(cast, agreement)
    assert agreement.state == "sent"
    with pytest.raises(ServiceError, match="already suspended"):
        suspend(cast)

    with pytest.raises(ServiceError):
        suspensions.lift(cast.ed, suspension.id, reason="Done", request=REQ)
    with pytest.raises(ServiceError, match="Give a reason"):
        suspensions.lift(cast.admin, suspension.id, reason="", request=REQ)
    suspensions.lift(cast.admin, suspension.id, reason="Investigation closed.", request=REQ)
    assert suspension.state == "lifted" and suspension.lifted_by_id == cast.admin.id
    assert suspension.lift_reason == "Investigation closed."
    assert standing.active_for_agency(cast.agency.id) is None
    assert can_log_in(cast.ed) and can_log_in(cast.officer)
    assert sign(cast, agreement).state == "agency_signed"
    assert [t.event for t in cases.history("suspension", suspension.id)] == ["create", "lift"]
    actions = db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.object_type == "suspension")
    ).all()
    assert "suspension.start" in actions and "suspension.lift" in actions


def test_suspending_one_person_leaves_the_rest_of_the_agency_alone(app, cast):
    agreement = sent_agreement(cast)
    officer = suspend(cast, user=cast.officer)
    assert standing.active_for_user(cast.officer) is officer
    assert standing.active_for_agency(cast.agency.id) is None
    assert not can_log_in(cast.officer) and can_log_in(cast.ed)
    with pytest.raises(ServiceError, match="already suspended"):
        suspend(cast, user=cast.officer)

    ed = suspend(cast, user=cast.ed)
    with pytest.raises(ServiceError, match="Your access is suspended"):
        sign(cast, agreement)
    suspensions.lift(cast.admin, ed.id, reason="Cleared.", request=REQ)
    assert sign(cast, agreement).state == "agency_signed"
    assert not can_log_in(cast.officer)  # lifting one suspension leaves the other in force
    # A whole-agency suspension covers someone already suspended on their own.
    agency = suspend(cast)
    suspensions.lift(cast.admin, officer.id, reason="Cleared.", request=REQ)
    assert standing.active_for_user(cast.officer) is agency


def test_who_may_suspend_whom(app, cast):
    with pytest.raises(NotFound):  # a person of another agency, under this agency's id
        suspend(cast, user=cast.other_ed)
    with pytest.raises(ServiceError, match="lead agency cannot be suspended"):
        suspensions.suspend(cast.admin, cast.admin.agency_id, user_id=None, reason="x", request=REQ)
    for not_admin in (cast.ed, cast.other_ed, cast.auditor):
        with pytest.raises(Forbidden):
            suspensions.suspend(not_admin, cast.agency.id, user_id=None, reason="x", request=REQ)
    suspension = suspend(cast)
    with pytest.raises(NotFound):  # another agency's people do not learn it exists
        suspensions.lift(cast.other_ed, suspension.id, reason="x", request=REQ)
    assert suspension.state == "suspended"
