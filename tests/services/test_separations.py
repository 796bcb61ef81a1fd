"""Separations (V.E.12): access ends at once, and the report is on time or late by the
business-day calendar (weekends, holidays and daylight saving included)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Transition, User
from portal.models.people import CertificateRevocation, SigningIdentity
from portal.models.security import Separation, UserSession
from portal.services import account_standing, separations
from portal.services.errors import Forbidden, NotFound, ServiceError
from tests.support import access as access_support
from tests.support.separations import REQ, calendar_for, issued, staff


@pytest.fixture
def person(cast):
    calendar_for(2027)
    return staff(cast.agency, "nia@hope.test")


def report(cast, person, last_day: date, reporter=None, **fields):
    return separations.report(
        reporter or cast.ed,
        cast.agency.id,
        user_id=person.id,
        last_day=last_day,
        request=REQ,
        **fields,
    )


def test_reported_on_time_the_monday_after_a_friday_last_day(cast, person, mailbox):
    issued(person, "HMIS-0042")
    # Friday March 5, 2027; due by the end of Monday March 8 (Pacific).
    with time_machine.travel("2027-03-09 06:00:00+00:00", tick=False):  # Mon 10 pm PST
        row = report(cast, person, date(2027, 3, 5), note="Moved away.")
        mailbox.deliver()
    assert row.on_time is True
    assert row.state == "reported" and row.hmis_user_id == "HMIS-0042"
    assert row.due_at.isoformat() == "2027-03-09T07:59:59+00:00"
    assert "1 business day" in row.due_rule_text
    assert "Monday, March 8, 2027" in row.due_rule_text
    assert row.reference == f"SEP-{cast.agency.id:04d}-001"
    [mail] = mailbox.to(cast.admin.email)
    assert "HMIS-0042" in mail["Subject"]


def test_late_across_a_weekend_and_a_holiday(cast, person):
    # Friday January 15, 2027; Monday the 18th is Martin Luther King Jr. Day, so the one
    # business day is Tuesday the 19th.
    other = staff(cast.agency, "omar@hope.test", name="Omar Other")
    with time_machine.travel("2027-01-20 07:30:00+00:00", tick=False):  # Tue 11:30 pm PST
        on_time = report(cast, other, date(2027, 1, 15))
    with time_machine.travel("2027-01-20 17:00:00+00:00", tick=False):  # Wed 9 am PST
        late = report(cast, person, date(2027, 1, 15))
    assert on_time.on_time is True
    assert late.on_time is False
    assert late.due_at == on_time.due_at
    assert late.due_at.isoformat() == "2027-01-20T07:59:59+00:00"
    assert "Tuesday, January 19, 2027" in late.due_rule_text
    # No HMIS account was issued: the case closes by itself.
    assert late.state == "no_hmis_account"


def test_the_day_after_a_daylight_saving_change(cast, person):
    # Friday March 12, 2027 (PST); the clocks go forward on Sunday the 14th, so the report is
    # due by 11:59:59 pm PDT on Monday the 15th: 06:59:59 UTC, not 07:59:59.
    other = staff(cast.agency, "omar@hope.test", name="Omar Other")
    with time_machine.travel("2027-03-16 06:30:00+00:00", tick=False):  # Mon 11:30 pm PDT
        on_time = report(cast, other, date(2027, 3, 12))
    with time_machine.travel("2027-03-16 07:30:00+00:00", tick=False):  # Tue 12:30 am PDT
        late = report(cast, person, date(2027, 3, 12))
    assert on_time.due_at.isoformat() == "2027-03-16T06:59:59+00:00"
    assert (on_time.on_time, late.on_time) == (True, False)
    assert "PDT" not in on_time.due_rule_text and "Pacific" in on_time.due_rule_text


def test_reporting_ends_access_retires_the_identity_and_closes_the_request(cast, person):
    identity = SigningIdentity(
        user_id=person.id,
        common_name=person.name,
        title=person.title,
        organization=cast.agency.legal_name,
        cert_pem=b"cert",
        key_pem=b"key",
        cert_sha256="a" * 64,
        serial_hex="5eed",
        created_at=person.created_at,
    )
    session = UserSession(
        id="s" * 64,
        user_id=person.id,
        data={},
        created_at=person.created_at,
        last_seen_at=person.created_at,
    )
    db.session.add_all([identity, session])
    db.session.commit()
    open_request = issued(person, "", state="in_progress")
    with time_machine.travel("2027-03-08 18:00:00+00:00", tick=False):
        row = report(cast, person, date(2027, 3, 8))
    db.session.expire_all()
    user = db.session.get(User, person.id)
    assert user.active is False and user.deactivated_at is not None
    assert "Separated" in user.deactivated_reason
    assert db.session.get(UserSession, "s" * 64).ended_reason == "separated"
    retired = db.session.get(SigningIdentity, identity.id)
    assert retired.retired_at is not None and retired.retired_reason == "The person left the agency"
    revoked = db.session.scalars(select(CertificateRevocation)).one()
    assert (revoked.serial_hex, revoked.reason) == ("5eed", "affiliation_changed")
    assert open_request.state == "withdrawn"
    assert row.reference in open_request.closed_reason
    events = {t.event for t in db.session.scalars(select(Transition))}
    assert {"create", "withdraw", "close_no_hmis_account"} <= events
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "separation.report"))
    assert "no longer has access" in account_standing.refusal_to_sign_in(user)


def test_a_failing_step_keeps_nothing(cast, person, monkeypatch):
    """Atomicity: if closing the open request fails, access is not ended either."""
    issued(person, "", state="in_progress")

    def broken(*args, **kwargs):
        raise RuntimeError("the machine broke")

    monkeypatch.setattr(separations.access_requests, "context", broken)
    with (
        time_machine.travel("2027-03-08 18:00:00+00:00", tick=False),
        pytest.raises(RuntimeError),
    ):
        report(cast, person, date(2027, 3, 8))
    db.session.expire_all()
    assert db.session.get(User, person.id).active is True
    assert db.session.scalar(select(Separation)) is None


def test_refusals(cast, person):
    other_person = staff(cast.other_agency, "x@other.test", name="Xavier Other")
    with time_machine.travel("2027-03-08 18:00:00+00:00", tick=False):
        with pytest.raises(ServiceError, match="cannot be in the future"):
            report(cast, person, date(2027, 3, 9))
        with pytest.raises(NotFound):  # a person of another agency
            report(cast, other_person, date(2027, 3, 8))
        with pytest.raises(NotFound):  # another agency's id
            separations.report(
                cast.other_ed,
                cast.agency.id,
                user_id=person.id,
                last_day=date(2027, 3, 8),
                request=REQ,
            )
        with pytest.raises(Forbidden):  # an HMIS user may not report
            report(cast, cast.officer, date(2027, 3, 8), reporter=person)
        with pytest.raises(ServiceError, match="your own separation"):
            report(cast, cast.ed, date(2027, 3, 8))
        row = report(cast, person, date(2027, 3, 8), reporter=cast.officer)
        with pytest.raises(ServiceError, match="already reported"):
            report(cast, person, date(2027, 3, 8))
    assert row.reported_by_id == cast.officer.id
    assert db.session.query(Separation).count() == 1
    with pytest.raises(NotFound):
        separations.get(cast.other_ed, row.id)
    assert separations.get(cast.ed, row.id) is row
    assert separations.list_for(cast.other_ed).total == 0


def test_the_list_to_deactivate_and_recording_it(cast, person, mailbox):
    issued(person, "HMIS-7")
    other = staff(cast.agency, "omar@hope.test", name="Omar Other")
    issued(other, "HMIS-8")
    with time_machine.travel("2027-03-10 18:00:00+00:00", tick=False):
        late = report(cast, other, date(2027, 3, 1))
    with time_machine.travel("2027-03-11 18:00:00+00:00", tick=False):
        first = report(cast, person, date(2027, 3, 11))
        rows = separations.to_deactivate(cast.admin)
        assert [r.hmis_user_id for r in rows] == ["HMIS-8", "HMIS-7"]  # oldest first
        assert rows[0].late and not rows[1].late
        [waiting, _] = sorted(separations.awaiting(cast.admin), key=lambda a: a.since)
        assert "HMIS user HMIS-8" in waiting.title and "reported late" in waiting.detail
        assert separations.awaiting(cast.ed) == []
        with pytest.raises(ServiceError, match="Only a lead agency HMIS admin"):
            separations.record_hmis_deactivation(cast.ed, late.id, request=REQ)
        done = separations.record_hmis_deactivation(cast.admin, late.id, request=REQ)
    assert done.state == "hmis_deactivated" and done.hmis_deactivated_by_id == cast.admin.id
    assert [r.separation for r in separations.to_deactivate(cast.admin)] == [first]
    with pytest.raises(ServiceError, match="not possible"):
        separations.record_hmis_deactivation(cast.admin, late.id, request=REQ)


def test_a_lead_admin_separates_the_lead_agency_staff(cast):
    calendar_for(2027)
    lead_person = staff(cast.admin.agency, "lee@ssf.test", name="Lee Lead", role="ssf_signatory")
    with time_machine.travel("2027-03-08 18:00:00+00:00", tick=False):
        with pytest.raises(Forbidden):
            separations.report(
                cast.signatory,
                cast.admin.agency_id,
                user_id=lead_person.id,
                last_day=date(2027, 3, 8),
                request=REQ,
            )
        row = separations.report(
            cast.admin,
            cast.admin.agency_id,
            user_id=lead_person.id,
            last_day=date(2027, 3, 8),
            request=REQ,
        )
    assert row.on_time and not db.session.get(User, lead_person.id).active


def test_uses_the_access_request_helpers(cast):
    """A request opened through its service is withdrawn, and its onboarding closed."""
    calendar_for(2027)
    access_support.in_effect(cast.agency)
    with time_machine.travel("2027-03-08 18:00:00+00:00", tick=False):
        row = access_support.request(cast)
        person = row.user
        person.password_hash = None
        db.session.commit()
        report(cast, person, date(2027, 3, 8))
    db.session.expire_all()
    assert row.state == "withdrawn"
    assert row.onboarding.state not in ("invited", "signing", "approval", "training")
