"""Reminders and expiry of a request for a signature, by time travel: an agreement sent in
Sacramento is reminded 3, 7 and 14 days later at the same local time (across the spring DST
change), expires after 30 days, and can be reminded now or resent with a new link; the
HMIS User Agreement's request does the same. The swept rows are the scheduler's own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from portal import jobs
from portal.extensions import db
from portal.models import AuditEvent, Deadline, OutboxMessage, SignatureRequest
from portal.services import deadlines, signature_followup, signature_requests
from portal.services.errors import Forbidden, NotFound, ServiceError
from tests.services.helpers import REQ, sent_agreement
from tests.support import onboarding as steps

PACIFIC = ZoneInfo("America/Los_Angeles")
TOKEN = re.compile(r"/sign/([A-Za-z0-9_-]+)")


def at(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    """A wall-clock time in Sacramento."""
    return datetime(y, m, d, hh, mm, tzinfo=PACIFIC)


def sweep(app) -> int:
    fired = jobs.sweep(app)["deadlines_fired"]
    db.session.expire_all()
    return fired


def mail_to(address: str, subject_start: str = "") -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.to_addr == address)
    rows = db.session.scalars(query.order_by(OutboxMessage.id))
    return [m for m in rows if m.subject.startswith(subject_start)]


def token_in(message: OutboxMessage) -> str:
    match = TOKEN.search(message.body)
    assert match, message.body
    return match.group(1)


def reminder_times(case_type: str, case_id: int) -> list[datetime]:
    """The reminders still to go."""
    query = select(Deadline.due_at).where(
        Deadline.case_type == case_type,
        Deadline.case_id == case_id,
        Deadline.event == deadlines.REMINDER,
        Deadline.fired_at.is_(None),
        Deadline.cancelled_at.is_(None),
    )
    return list(db.session.scalars(query.order_by(Deadline.due_at)))


def test_reminders_at_3_7_and_14_days_keep_local_time_and_the_request_expires_at_30(app, cast):
    sent = at(2027, 3, 10, 10)  # Wednesday, PST; the spring DST change is on March 14
    with time_machine.travel(sent, tick=False) as traveller:
        agreement = sent_agreement(cast)
        [invitation] = mail_to("ed@hope.test", "Please sign")
        link = token_in(invitation)
        expected = [(sent + timedelta(days=d)).astimezone(UTC) for d in (3, 7, 14)]
        assert reminder_times("agreement", agreement.id) == expected
        # 10 am in Sacramento each time, though the clock moved an hour on March 14.
        assert [r.astimezone(PACIFIC).time() for r in expected] == [time(10)] * 3
        assert expected[1] - expected[0] == timedelta(days=4, hours=-1)
        [expiry] = deadlines.pending_for("agreement", agreement.id)
        assert expiry.due_at == at(2027, 4, 9, 23, 59) + timedelta(seconds=59)

        traveller.move_to(expected[0] - timedelta(seconds=1))
        assert sweep(app) == 0 and not mail_to("ed@hope.test", "Reminder")
        for n, due in enumerate(expected, start=1):
            traveller.move_to(due)
            assert sweep(app) == 1
            reminders = mail_to("ed@hope.test", "Reminder")
            assert len(reminders) == n and token_in(reminders[-1]) == link
            assert "expires" in reminders[-1].body
        [row] = signature_requests.live("agreement", agreement.id)
        assert row.reminders == 3

        traveller.move_to(expiry.due_at - timedelta(seconds=1))
        assert sweep(app) == 0 and agreement.state == "sent"
        traveller.move_to(expiry.due_at)
        assert sweep(app) == 1
        assert agreement.state == "expired"
        assert signature_requests.why_not_usable(signature_requests.by_token(link))
        assert mail_to("admin@ssf.test", "Expired unsigned")
        with pytest.raises(signature_followup.Unusable, match="ended"):
            signature_followup.follow(cast.ed, link)


def test_a_resend_at_day_20_replaces_the_link_and_restarts_the_period(app, cast):
    sent = at(2026, 12, 1, 9)
    with time_machine.travel(sent, tick=False) as traveller:
        agreement = sent_agreement(cast)
        old = token_in(mail_to("ed@hope.test", "Please sign")[0])
        [first_expiry] = deadlines.pending_for("agreement", agreement.id)

        day_20 = sent + timedelta(days=20)
        traveller.move_to(day_20)
        assert sweep(app) == 3  # the three reminders
        signature_followup.resend(cast.admin, "agreement", agreement.id, REQ)
        db.session.expire_all()
        assert agreement.state == "sent" and agreement.invited_at == day_20
        with pytest.raises(signature_followup.Unusable, match="newer link"):
            signature_followup.follow(cast.ed, old)
        invitations = mail_to("ed@hope.test", "Please sign")
        new = token_in(invitations[-1])
        assert len(invitations) == 2 and new != old
        [expiry] = deadlines.pending_for("agreement", agreement.id)
        assert expiry.due_at.astimezone(PACIFIC).date() == (day_20 + timedelta(days=30)).date()
        assert reminder_times("agreement", agreement.id) == [
            (day_20 + timedelta(days=d)).astimezone(UTC) for d in (3, 7, 14)
        ]

        traveller.move_to(first_expiry.due_at + timedelta(minutes=1))
        sweep(app)
        assert agreement.state == "sent"  # the first period no longer counts
        assert signature_followup.follow(cast.ed, new) == f"/agreements/{agreement.id}/sign"
        audit = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "agreement.resend")
        ).all()
        assert audit == ["agreement.resend"]


def test_remind_now_mails_the_current_link_for_lead_admins_only(app, cast):
    with time_machine.travel(at(2026, 12, 1, 9), tick=False) as traveller:
        agreement = sent_agreement(cast)
        link = token_in(mail_to("ed@hope.test", "Please sign")[0])
        for person in (cast.ed, cast.signatory, cast.auditor):
            for act in (signature_followup.remind_now, signature_followup.resend):
                with pytest.raises(ServiceError) as refused:
                    act(person, "agreement", agreement.id, REQ)
                assert isinstance(refused.value, Forbidden) or "may" in refused.value.message
        for act in (signature_followup.remind_now, signature_followup.resend):
            with pytest.raises(NotFound):
                act(cast.other_ed, "agreement", agreement.id, REQ)
        with pytest.raises(NotFound):
            signature_followup.remind_now(cast.admin, "no_such_process", agreement.id, REQ)
        assert not mail_to("ed@hope.test", "Reminder")

        traveller.shift(timedelta(hours=2))
        signature_followup.remind_now(cast.admin, "agreement", agreement.id, REQ)
        [reminder] = mail_to("ed@hope.test", "Reminder")
        assert token_in(reminder) == link
        row = db.session.scalar(select(SignatureRequest))
        assert (row.reminders, row.reminded_at) == (1, at(2026, 12, 1, 11))
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "agreement.remind_now" in actions


def test_opened_is_the_signers_first_view_only(app, cast):
    with time_machine.travel(at(2026, 12, 1, 9), tick=False) as traveller:
        agreement = sent_agreement(cast)
        link = token_in(mail_to("ed@hope.test", "Please sign")[0])
        with pytest.raises(Forbidden, match="someone else"):
            signature_followup.follow(cast.other_ed, link)
        signature_followup.opened(cast.admin, "agreement", agreement.id)  # not the signer
        assert db.session.scalar(select(SignatureRequest)).opened_at is None

        traveller.shift(timedelta(hours=1))
        signature_followup.follow(cast.ed, link)
        traveller.shift(timedelta(hours=1))
        signature_followup.follow(cast.ed, link)
        signature_followup.opened(cast.ed, "agreement", agreement.id)
        [progress] = signature_requests.progress("agreement", agreement.id)
        assert progress.opened_at == at(2026, 12, 1, 10) and progress.status == "waiting"
        with pytest.raises(signature_followup.Unusable) as unknown:
            signature_followup.follow(cast.ed, "not-a-link")
        assert unknown.value.status == 404


def test_the_user_agreements_request_expires_and_the_agency_resends_it(app, cast):
    steps.required_course()
    sent = at(2026, 12, 1, 9)
    with time_machine.travel(sent, tick=False) as traveller:
        ob = steps.at_signing(cast)
        new_user = ob.user
        old = token_in(mail_to(steps.NEW_EMAIL, "Your HMIS access")[0])
        assert signature_followup.follow(new_user, old) == f"/onboarding/{ob.id}#h-sign"
        [expiry] = deadlines.pending_for("onboarding", ob.id)
        assert expiry.rule_name == "user_agreement_signature"
        assert len(reminder_times("onboarding", ob.id)) == 3

        traveller.move_to(sent + timedelta(days=3))
        assert sweep(app) == 1
        [reminder] = mail_to(steps.NEW_EMAIL, "Reminder")
        assert token_in(reminder) == old
        traveller.move_to(expiry.due_at)
        assert sweep(app) == 3  # two more reminders, then the expiry
        assert ob.state == "signature_expired"
        assert mail_to("ed@hope.test", "Unsigned")
        with pytest.raises(signature_followup.Unusable):
            signature_followup.follow(new_user, old)
        with pytest.raises(ServiceError, match="no one to remind"):
            signature_followup.remind_now(cast.admin, "onboarding", ob.id, REQ)
        with pytest.raises(ServiceError):
            signature_followup.resend(new_user, "onboarding", ob.id, REQ)

        signature_followup.resend(cast.ed, "onboarding", ob.id, REQ)
        db.session.expire_all()
        assert ob.state == "signing"
        new = token_in(mail_to(steps.NEW_EMAIL, "Your HMIS access")[-1])
        assert new != old
        [expiry] = deadlines.pending_for("onboarding", ob.id)
        assert expiry.due_at > sent + timedelta(days=60)

        steps.sign(new_user, ob)
        statuses = [p.status for p in signature_requests.progress("onboarding", ob.id)]
        assert statuses == ["ended", "signed"]
