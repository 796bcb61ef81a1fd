"""What awaits each person across the processes (their home page), and the reminder e-mails
for what has waited on them longer than AWAITING_REMINDER_DAYS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal import jobs
from portal.config import Config
from portal.extensions import db
from portal.models import AwaitingReminder, OutboxMessage
from portal.notify import outbox
from portal.services import awaiting, cures, suspensions
from portal.services.timefmt import local_datetime
from tests import factories
from tests.notices import give_default
from tests.services import awaiting_rows
from tests.services.helpers import REQ

START = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # Tuesday, December 1, 10:00 am Pacific
DAY = timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def titles(user) -> list[str]:
    return [item.title for item in awaiting.for_person(user)]


def nothing_for(*people) -> None:
    for person in people:
        assert awaiting.for_person(person) == [], person.email


def mails() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def reminders() -> int:
    return db.session.scalar(select(func.count()).select_from(AwaitingReminder))


# -- per role ----------------------------------------------------------------------------


def test_the_executive_director_sees_the_agreement_to_sign(app, cast, clock):
    sent = factories.agreement(cast.agency, state="sent", at=START - 2 * DAY)

    [item] = awaiting.for_person(cast.ed)
    assert item.case.id == sent.id
    assert item.title == f"Sign the agreement: {sent.reference}"
    assert item.url == f"/agreements/{sent.id}"
    assert item.since == START - 2 * DAY
    assert item.due_at is None
    assert "Hope & Harbor <Shelter>" in item.detail
    # Only the authorized signer: not the security officer; SSF may only void it, which the
    # agreement does not wait for; the other agency never sees it.
    nothing_for(cast.officer, cast.admin, cast.signatory, cast.auditor, cast.other_ed)


def test_a_notice_of_default_awaits_the_agencys_signer_with_the_time_left(app, cast, clock):
    agreement = factories.agreement(cast.agency, state="effective", at=START - 30 * DAY)
    notice = give_default(cast.signatory, agreement)

    [item] = awaiting.for_person(cast.ed)
    assert item.title == f"Submit a cure: notice of default {notice.reference}"
    assert item.url == f"/notices/default/{notice.id}"
    assert item.since == START
    assert (item.due_at, item.rule) == (notice.cure_ends_at, notice.cure_rule_text)
    [row] = awaiting.shown([item])
    assert row.left == "10 days left" and not row.overdue
    assert row.rule == "10 calendar days counted from the day after notice"
    # The issuer may only withdraw, which the notice does not wait for.
    nothing_for(cast.officer, cast.admin, cast.signatory, cast.other_ed)

    clock.move_to(notice.cure_ends_at - timedelta(hours=5))
    assert awaiting.shown(awaiting.for_person(cast.ed))[0].left == "5 hours left"
    clock.move_to(notice.cure_ends_at + timedelta(hours=1))  # before the sweep lapses it
    [row] = awaiting.shown(awaiting.for_person(cast.ed))
    assert row.overdue and row.left == "overdue"

    jobs.sweep(app)
    db.session.expire_all()
    nothing_for(cast.ed)
    # Lapsed: the party that gave notice decides, its signatory declaring or waiving.
    assert titles(cast.signatory) == [
        f"Declare the agreement terminated: notice of default {notice.reference}"
    ]
    assert titles(cast.admin) == [f"Waive the default: notice of default {notice.reference}"]
    [item] = awaiting.for_person(cast.admin)
    assert item.since == notice.cure_ends_at and item.due_at is None


def test_a_submitted_cure_awaits_the_issuer_and_a_rejection_the_agency_again(app, cast, clock):
    agreement = factories.agreement(cast.agency, state="effective", at=START - 30 * DAY)
    notice = give_default(cast.signatory, agreement)
    clock.move_to(START + 2 * DAY)
    cures.submit_cure(cast.ed, notice.id, text="Reported.", uploads=[], request=REQ)

    nothing_for(cast.ed)
    for person in (cast.signatory, cast.admin):
        [item] = awaiting.for_person(person)
        assert item.title == f"Accept the cure: notice of default {notice.reference}"
        assert item.since == START + 2 * DAY and item.due_at is None
    nothing_for(cast.auditor)

    clock.move_to(START + 3 * DAY)
    cures.reject_cure(cast.admin, notice.id, reason="Not all of them.", request=REQ)
    [item] = awaiting.for_person(cast.ed)
    assert item.since == START + 3 * DAY  # waiting again since the rejection
    assert item.due_at == notice.cure_ends_at  # the period is not extended
    nothing_for(cast.signatory, cast.admin)


def test_the_security_officer_sees_the_requests_and_what_each_lacks(app, cast, clock):
    agreement = factories.agreement(cast.agency, state="effective", at=START - 30 * DAY)
    request = awaiting_rows.open_request(
        cast.agency, agreement, cast.officer, email="nia@hope.test", at=START - DAY
    )

    items = awaiting.for_person(cast.officer)
    [progress] = [i for i in items if i.url == f"/access-requests/{request.id}"]
    assert request.reference in progress.title
    assert progress.detail.startswith("Lacks:") and "(c)" in progress.detail
    assert progress.since == START - DAY
    assert any(i.url.startswith("/onboarding/") for i in items)  # the approval to give
    assert awaiting.for_person(cast.ed)  # the ED too
    nothing_for(cast.other_ed, cast.signatory)


def test_a_lead_signatory_sees_the_countersignature(app, cast, clock):
    signed = factories.agreement(cast.agency, state="agency_signed", at=START - DAY)

    [item] = awaiting.for_person(cast.signatory)
    assert item.title == f"Countersign the agreement: {signed.reference}"
    assert item.since == START - DAY
    nothing_for(cast.admin, cast.auditor, cast.ed, cast.officer)


def test_ssf_admin_sees_what_waits_on_ssf_overdue_first_then_oldest(app, cast, clock):
    draft = factories.agreement(cast.agency, state="draft", at=START - 30 * DAY)
    agreement = factories.agreement(cast.other_agency, state="effective", at=START - 60 * DAY)
    clock.move_to(START - 12 * DAY)
    notice = give_default(cast.other_ed, agreement)  # the agency says SSF is in default
    clock.move_to(START - 2 * DAY)
    suspension = suspensions.suspend(
        cast.admin, cast.agency.id, user_id=cast.officer.id, reason="Check", request=REQ
    )
    clock.move_to(START)

    items = awaiting.for_person(cast.admin)
    assert [i.case.id for i in items] == [notice.id, draft.id, suspension.id]
    assert items[0].title == f"Submit a cure: notice of default {notice.reference}"
    assert items[0].due_at < START  # overdue, so first though younger than the draft
    assert items[1].title == f"Send for signature: {draft.reference}"
    assert items[2].title == "Lift the suspension: Sam Officer (Hope & Harbor <Shelter>)"
    assert [row.overdue for row in awaiting.shown(items)] == [True, False, False]
    # The signatory answers the notice too; lifting and sending are the admins'.
    assert [i.case.id for i in awaiting.for_person(cast.signatory)] == [notice.id]
    nothing_for(cast.auditor, cast.ed)


def test_another_agencys_cases_never_appear(app, cast, clock):
    sent = factories.agreement(cast.agency, state="sent")
    theirs = factories.agreement(cast.other_agency, state="effective", at=START - 30 * DAY)
    notice = give_default(cast.signatory, theirs)

    assert [i.case.id for i in awaiting.for_person(cast.ed)] == [sent.id]
    assert [i.case.id for i in awaiting.for_person(cast.other_ed)] == [notice.id]
    nothing_for(cast.officer)


def test_an_inactive_person_has_nothing_waiting(app, cast, clock):
    factories.agreement(cast.agency, state="sent")
    cast.ed.active = False
    db.session.commit()
    nothing_for(cast.ed)


# -- reminders ---------------------------------------------------------------------------


def test_reminders_go_once_as_one_digest_per_person(app, cast, clock):
    sent = factories.agreement(cast.agency, state="sent", at=START - 6 * DAY)
    third = factories.agency("Third Agency", created_by=cast.admin)
    draft = factories.agreement(third, state="draft", at=START - 8 * DAY)
    clock.move_to(START - 7 * DAY)
    suspensions.suspend(cast.admin, third.id, user_id=None, reason="Audit", request=REQ)
    clock.move_to(START)
    signed = factories.agreement(cast.other_agency, state="agency_signed", at=START - 2 * DAY)
    before = len(mails())

    assert awaiting.send_reminders() == 2  # the ED and the admin; the signatory's is young
    new = mails()[before:]
    assert sorted(m.to_addr for m in new) == ["admin@ssf.test", "ed@hope.test"]
    [to_ed] = [m for m in new if m.to_addr == "ed@hope.test"]
    assert to_ed.subject == "Waiting on you in the HMIS Partner Portal: 1 item"
    assert f"- Sign the agreement: {sent.reference}" in to_ed.body
    assert "Waiting since November 25, 2026" in to_ed.body
    assert f"http://portal.test/agreements/{sent.id}" in to_ed.body
    assert "more than 5 days" in to_ed.body
    [to_admin] = [m for m in new if m.to_addr == "admin@ssf.test"]
    assert to_admin.subject.endswith("2 items")
    assert f"- Send for signature: {draft.reference}" in to_admin.body
    assert "- Lift the suspension: the whole agency (Third Agency)" in to_admin.body
    assert to_admin.body.index(draft.reference) < to_admin.body.index("Lift the suspension")
    assert reminders() == 3

    assert awaiting.send_reminders() == 0  # a second run sends nothing
    assert len(mails()) == before + 2 and reminders() == 3

    clock.move_to(START + 4 * DAY)  # now the countersignature has waited six days
    assert awaiting.send_reminders() == 1
    [late] = mails()[before + 2 :]
    assert late.to_addr == "sign@ssf.test" and signed.reference in late.body
    assert awaiting.send_reminders() == 0


def test_a_deadline_shows_in_the_reminder(app, cast, clock):
    agreement = factories.agreement(cast.other_agency, state="effective", at=START - 60 * DAY)
    clock.move_to(START - 6 * DAY)
    notice = give_default(cast.signatory, agreement)
    clock.move_to(START)
    before = len(mails())

    assert awaiting.send_reminders() == 1
    [mail] = mails()[before:]
    assert mail.to_addr == "ed@other.test"
    assert f"Due {local_datetime(notice.cure_ends_at)} (10 calendar days" in mail.body
    assert "counted from the day after notice): 4 days left" in mail.body


def test_a_failed_reminder_keeps_nothing_and_goes_on_the_next_run(app, cast, clock, monkeypatch):
    factories.agreement(cast.agency, state="sent", at=START - 6 * DAY)
    factories.agreement(cast.other_agency, state="sent", at=START - 6 * DAY)
    queue = outbox.queue

    def broken(to, *args, **kwargs):
        if to == "ed@hope.test":
            raise RuntimeError("the outbox table is unavailable")
        return queue(to, *args, **kwargs)

    monkeypatch.setattr(outbox, "queue", broken)
    assert awaiting.send_reminders() == 1
    assert [m.to_addr for m in mails()] == ["ed@other.test"]
    assert reminders() == 1  # the ED's reminder row was rolled back with the e-mail

    monkeypatch.setattr(outbox, "queue", queue)
    assert awaiting.send_reminders() == 1
    assert [m.to_addr for m in mails()] == ["ed@other.test", "ed@hope.test"]


def test_no_reminder_to_someone_who_cannot_act(app, cast, clock):
    factories.agreement(cast.agency, state="sent", at=START - 6 * DAY)
    factories.agreement(cast.other_agency, state="sent", at=START - 6 * DAY)
    suspensions.suspend(cast.admin, cast.agency.id, user_id=None, reason="Audit", request=REQ)
    cast.other_ed.password_hash = None  # invited, never set a password
    db.session.commit()
    before = len(mails())

    assert awaiting.send_reminders() == 0
    assert len(mails()) == before and reminders() == 0


def test_the_scheduler_reminds_daily_by_default(app, cast, clock, monkeypatch, tmp_path):
    assert Config(instance_path=tmp_path).AWAITING_REMINDER_INTERVAL_HOURS == 24
    monkeypatch.setenv("AWAITING_REMINDER_INTERVAL_HOURS", "6")
    assert Config(instance_path=tmp_path).AWAITING_REMINDER_INTERVAL_HOURS == 6

    job = jobs.build_scheduler(app).get_job("reminders")
    assert job.func is jobs.remind_awaiting
    assert job.trigger.interval == timedelta(hours=24)
    monkeypatch.setitem(app.config, "AWAITING_REMINDER_INTERVAL_HOURS", 6)
    assert jobs.build_scheduler(app).get_job("reminders").trigger.interval == timedelta(hours=6)

    factories.agreement(cast.agency, state="sent", at=START - 6 * DAY)
    assert jobs.remind_awaiting(app) == 1
    assert jobs.remind_awaiting(app) == 0
    db.session.expire_all()
    assert reminders() == 1
