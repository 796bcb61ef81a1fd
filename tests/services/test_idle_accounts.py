"""Idle accounts (IV.B.5): reminders 7 and 1 days before, deactivation after 30 days without a
sign-in, and reactivation by a lead agency HMIS admin, by time travel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, User
from portal.models.security import UserSession
from portal.services import account_standing, accounts
from portal.services.errors import Forbidden, ServiceError
from tests.support.separations import REQ, staff

SIGNED_IN = datetime(2027, 2, 1, 17, 0, tzinfo=UTC)
STAFF_SEEN = datetime(2027, 2, 20, 17, 0, tzinfo=UTC)


@pytest.fixture
def person(cast):
    """Signed in on February 1, 2027: deactivated on March 3 at the same time of day."""
    for someone in (cast.admin, cast.officer, cast.ed, cast.signatory, cast.auditor):
        someone.last_login_at = STAFF_SEEN  # they stay active throughout
    person = staff(cast.agency, "nia@hope.test")
    person.last_login_at = SIGNED_IN
    db.session.commit()
    return person


def sweep_at(moment: str):
    with time_machine.travel(moment, tick=False):
        return accounts.sweep_idle()


def mails(mailbox, moment: str, address: str) -> list:
    with time_machine.travel(moment, tick=False):
        mailbox.deliver()
    return mailbox.to(address)


def test_reminders_then_deactivation_then_reactivation(cast, person, mailbox):
    assert accounts.idle_deadline(person).isoformat() == "2027-03-03T17:00:00+00:00"
    sweep_at("2027-02-24 16:00:00+00:00")
    assert mails(mailbox, "2027-02-24 16:00:01+00:00", person.email) == []

    sweep_at("2027-02-24 17:00:00+00:00")  # seven days before
    sweep_at("2027-02-25 09:00:00+00:00")  # again: nothing new
    [seven] = mails(mailbox, "2027-02-25 09:00:01+00:00", person.email)
    assert "within 7 days" in seven["Subject"]
    assert "March 3, 2027, 9:00 am PST" in seven.get_content()

    sweep_at("2027-03-02 17:30:00+00:00")  # one day before
    sweep_at("2027-03-02 18:30:00+00:00")
    assert len(mails(mailbox, "2027-03-02 18:30:01+00:00", person.email)) == 2

    db.session.add(
        UserSession(
            id="i" * 64, user_id=person.id, data={}, created_at=SIGNED_IN, last_seen_at=SIGNED_IN
        )
    )
    db.session.commit()
    result = sweep_at("2027-03-03 17:00:00+00:00")
    assert result.deactivated >= 1
    db.session.expire_all()
    user = db.session.get(User, person.id)
    assert user.active is False and user.deactivated_reason == "No sign-in for 30 days"
    assert db.session.get(UserSession, "i" * 64).ended_at is not None
    assert "ask your security officer or Sacramento Steps Forward's HMIS team" in (
        account_standing.refusal_to_sign_in(user)
    )
    assert account_standing.refusal_to_sign_in(cast.ed) is None
    told = mails(mailbox, "2027-03-03 17:00:01+00:00", cast.officer.email)
    assert [m["Subject"] for m in told] == [f"Account deactivated: {person.name}"]
    assert "deactivated" in mails(mailbox, "2027-03-03 17:00:01+00:00", person.email)[-1]["Subject"]
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "account.deactivate_idle")
    )

    # A lead agency HMIS admin reactivates it, giving a reason; a fresh period starts.
    with time_machine.travel("2027-03-10 18:00:00+00:00", tick=False):
        with pytest.raises(Forbidden):
            accounts.reactivate(cast.officer, user.id, reason="Back", request=REQ)
        with pytest.raises(ServiceError, match="Reason is required"):
            accounts.reactivate(cast.admin, user.id, reason="  ", request=REQ)
        accounts.reactivate(cast.admin, user.id, reason="Back from leave.", request=REQ)
        with pytest.raises(ServiceError, match="is active"):
            accounts.reactivate(cast.admin, user.id, reason="Again", request=REQ)
    assert user.active and user.deactivated_at is None
    assert accounts.idle_deadline(user).isoformat() == "2027-04-09T18:00:00+00:00"
    for someone in (cast.admin, cast.officer):
        someone.last_login_at = datetime(2027, 4, 1, tzinfo=UTC)
    db.session.commit()
    sweep_at("2027-04-02 18:00:00+00:00")  # the new period's seven-day reminder
    subjects = [m["Subject"] for m in mails(mailbox, "2027-04-02 18:00:01+00:00", user.email)]
    assert subjects.count("Sign in within 7 days to keep your HMIS portal account") == 2
    assert sweep_at("2027-04-09 18:00:00+00:00").deactivated >= 1


def test_who_counts(cast, person):
    invited = staff(cast.agency, "inv@hope.test", name="Ivy Invited")
    invited.password_hash = None  # never set a password: cannot sign in, not counted
    never = staff(cast.agency, "nev@hope.test", name="Ned Never")  # created Jan 5, 2026
    lead = staff(cast.admin.agency, "lee@ssf.test", name="Lee Lead", role="ssf_signatory")
    lead.password_changed_at = datetime(2027, 2, 10, tzinfo=UTC)
    db.session.commit()
    assert accounts.idle_since(invited) is None
    assert accounts.idle_since(never) == never.created_at
    sweep_at("2027-03-05 00:00:00+00:00")
    db.session.expire_all()
    assert db.session.get(User, invited.id).active
    assert not db.session.get(User, never.id).active
    assert db.session.get(User, lead.id).active  # counts from the password set on Feb 10
    sweep_at("2027-03-12 00:00:00+00:00")
    db.session.expire_all()
    assert not db.session.get(User, lead.id).active  # lead staff: the same rule


def test_a_separated_person_is_not_reactivated(cast, person):
    from datetime import date

    from portal.services import separations
    from tests.support.separations import calendar_for

    calendar_for(2027)
    with time_machine.travel("2027-02-10 18:00:00+00:00", tick=False):
        separations.report(
            cast.ed, cast.agency.id, user_id=person.id, last_day=date(2027, 2, 10), request=REQ
        )
        with pytest.raises(ServiceError, match="new HMIS access request"):
            accounts.reactivate(cast.admin, person.id, reason="Oops", request=REQ)


def test_the_job_runs_the_sweep(app, cast, person):
    from portal import jobs

    with time_machine.travel("2027-03-04 00:00:00+00:00", tick=False):
        result = jobs.check_idle_accounts(app)
    assert result.deactivated >= 1 and result.failed == 0
