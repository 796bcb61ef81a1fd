"""Yearly recertification through its services: the campaign, lapse dates, renewal before and
after the lapse, reminders at 30, 7 and 1 days, other agencies' ids, and a signing failure
that changes nothing. Every date comes from time travel, never from today."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from portal import runtime
from portal.documents.verify import verify_pdf
from portal.extensions import db
from portal.models import AuditEvent, OutboxMessage, Recertification, Transition
from portal.services import (
    deadlines,
    documents,
    recertification,
    recertification_campaign,
    recertification_dates,
    self_assessments,
    separations,
    user_agreements,
)
from portal.services.errors import NotFound, ServiceError
from tests.support import recertification as recert
from tests.support.recertification import CAMPAIGN_AT, ISSUED_AT

# The end of Thursday, March 9, 2028 in Sacramento (PST, before the DST change of March 12).
LAPSES_AT = datetime(2028, 3, 10, 7, 59, 59, tzinfo=UTC)
CAMPAIGN_MOMENT = datetime(2028, 1, 15, 17, 0, tzinfo=UTC)


@pytest.fixture
def travel():
    with time_machine.travel(ISSUED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def opened(cast, travel, mailbox):
    """An issued user, and the 2028 campaign opened on January 15, 2028."""
    user = recert.issued_user(cast)
    travel.move_to(CAMPAIGN_AT)
    [row] = recert.campaign(cast)
    mailbox.deliver()
    return user, row


def _events(row: Recertification) -> list[str]:
    query = select(Transition.event).where(
        Transition.case_type == "recertification", Transition.case_id == row.id
    )
    return list(db.session.scalars(query.order_by(Transition.id)))


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_campaign_opens_one_per_issued_user_with_the_lapse_dates(cast, travel, mailbox):
    user = recert.issued_user(cast)
    lapses = recertification_dates.lapses_of(user)
    assert lapses.user_agreement_on == date(2028, 3, 9) == lapses.training_on
    assert lapses.at == LAPSES_AT
    travel.move_to(CAMPAIGN_AT)
    assert recert.campaign(cast, 2027) == []  # their first lapse is in 2028
    [row] = recert.campaign(cast, 2028)
    assert (row.state, row.year, row.agency_id, row.lapses_at) == ("open", 2028, cast.agency.id,
                                                                   LAPSES_AT)  # fmt: skip
    assert recert.campaign(cast, 2028) == []  # opening again adds nobody twice
    [timer] = deadlines.pending_for("recertification", row.id)
    assert timer.due_at == LAPSES_AT and timer.event == "lapses"
    mailbox.deliver()
    mail = mailbox.to(user.email)[-1]
    assert "renew by Thursday, March 9, 2028" in mail["Subject"]
    assert f"/recertification/{row.id}" in mail.get_content()
    with pytest.raises(ServiceError, match="Only a lead agency HMIS admin"):
        recertification_campaign.open_campaign(cast.ed, 2028, request=recert.REQ)
    # The campaign makes the agency's security self-assessment of the year due.
    [due] = self_assessments.awaiting(cast.officer)
    assert due.title == "Complete and sign the 2028 security self-assessment"
    assert due.since == CAMPAIGN_MOMENT
    assert self_assessments.awaiting(cast.other_ed) == []


def test_renewal_before_the_lapse_completes(cast, opened, mailbox, pki):
    user, row = opened
    recert.pass_again(user, row)
    row = recertification.refresh(user, row.id, request=recert.REQ)
    assert row.training_renewed_at is not None and row.state == "open"
    row = recert.sign(user, row)
    mailbox.deliver()
    assert "renewed HMIS User Agreement of Nia Newhire" in mailbox.to("so@hope.test")[-1]["Subject"]
    row = recert.approve(cast.ed, row)
    assert row.state == "renewed"
    assert _events(row) == ["create", "user_signs", "agency_approves", "renewal_complete"]
    assert deadlines.pending_for("recertification", row.id) == []
    report = verify_pdf(documents.read_bytes(row.document.current), pki.trust_roots)
    assert report.all_valid and [s.field_name for s in report.signatures] == [
        "certification",
        user_agreements.USER_FIELD,
        user_agreements.APPROVAL_FIELD,
    ]
    # The next lapse counts from the renewal.
    lapses = recertification_dates.lapses_of(user)
    assert lapses.user_agreement_on == date(2029, 1, 14) == lapses.training_on
    mailbox.deliver()
    assert "recertification is complete" in mailbox.to(user.email)[-1]["Subject"]


def test_a_lapse_suspends_access_until_renewed(cast, opened, travel, mailbox):
    user, row = opened
    travel.move_to("2028-03-10 07:59:58+00:00")
    deadlines.sweep()
    assert recert.reload(row).state == "open"
    travel.move_to("2028-03-10 08:00:00+00:00")
    assert deadlines.sweep() == 1
    row = recert.reload(row)
    assert row.state == "lapsed"
    assert recertification.lapsed_of(user).id == row.id
    assert [r.id for r in recertification.lapsed_users()] == [row.id]
    # The lead agency's list of HMIS accounts to deactivate names them, with why.
    [listed] = separations.to_deactivate(cast.admin)
    assert listed.name == user.name and listed.why.startswith("Recertification 2028 lapsed")
    assert listed.hmis_user_id and listed.separation is None
    mailbox.deliver()
    assert "lapsed" in mailbox.to(user.email)[-1]["Subject"]
    assert "HMIS access lapsed: Nia Newhire" in mailbox.to("so@hope.test")[-1]["Subject"]

    travel.move_to("2028-03-20 17:00:00+00:00")
    row = recert.sign(user, row)
    recert.approve(cast.officer, row)
    recert.pass_again(user, row)
    row = recertification.refresh(user, row.id, request=recert.REQ)
    assert row.state == "renewed"
    assert _events(row)[-4:] == ["lapses", "user_signs_after_lapse", "agency_approves_after_lapse",
                                 "renewal_complete"]  # fmt: skip
    assert recertification.lapsed_of(user) is None and recertification.lapsed_users() == []
    assert separations.to_deactivate(cast.admin) == []


def test_a_test_passed_before_the_lapse_is_counted_at_the_lapse(cast, opened, travel):
    user, row = opened
    recert.sign(user, row)
    recert.approve(cast.ed, row)
    recert.pass_again(user, row)  # nobody came back to the page afterwards
    travel.move_to("2028-03-10 09:00:00+00:00")
    deadlines.sweep()
    assert recert.reload(row).state == "renewed"


def test_reminders_go_30_7_and_1_days_before_each_once(cast, opened, travel, mailbox):
    user, row = opened
    mailbox.clear()
    seen = []
    for moment, days in (
        ("2028-02-09 07:59:59+00:00", 30),
        ("2028-03-03 07:59:59+00:00", 7),
        ("2028-03-09 07:59:59+00:00", 1),
    ):
        travel.move_to(moment)
        deadlines.sweep()
        deadlines.sweep()  # a second sweep sends nothing again
        mailbox.deliver()
        mine = mailbox.to(user.email)
        assert len(mine) == len(seen) + 1, [m["Subject"] for m in mine]
        assert f"lapses in {days} day" in mine[-1]["Subject"]
        seen.append(days)
        copies = mailbox.to("so@hope.test")
        assert len(copies) == (0 if days == 30 else 1 if days == 7 else 2)
    assert recert.reload(row).state == "open"


def test_another_agencys_people_get_not_found(cast, opened):
    user, row = opened
    for step in (
        lambda: recertification.get(cast.other_ed, row.id),
        lambda: recert.approve(cast.other_ed, row),
        lambda: recertification.get(cast.ed, 2**40),
        lambda: recertification_campaign.check(
            cast.other_ed,
            recertification_campaign.Filters(2028, agency_id=cast.agency.id),
        ),
    ):
        with pytest.raises(NotFound):
            step()
    page = recertification_campaign.page(cast.other_ed, recertification_campaign.Filters(2028))
    assert page.items == []
    mine = recertification_campaign.page(cast.ed, recertification_campaign.Filters(2028))
    assert [r.id for r in mine.items] == [row.id]
    every = recertification_campaign.page(cast.admin, recertification_campaign.Filters(2028))
    assert [r.id for r in every.items] == [row.id]
    text = recertification_campaign.csv_text(cast.admin, recertification_campaign.Filters(2028))
    assert "Nia Newhire" in text and "March 9, 2028" in text


def test_only_the_user_signs_and_nobody_approves_their_own(cast, opened):
    user, row = opened
    with pytest.raises(ServiceError, match="Only the HMIS user"):
        recert.sign(cast.ed, row)
    with pytest.raises(ServiceError, match="must be signed by the user"):
        recert.approve(cast.ed, row)
    recert.sign(user, row)
    with pytest.raises(ServiceError, match="Only the agency's executive director"):
        recert.approve(user, row)


def test_a_signing_failure_changes_nothing_and_a_retry_works(cast, opened, monkeypatch):
    from portal.documents.signing import SigningError

    user, row = opened
    before = (_count(OutboxMessage), _count(AuditEvent), len(_events(row)))

    def down(*args, **kwargs):
        raise SigningError("The signing service did not answer.")

    monkeypatch.setattr(runtime.signer(), "approve", down)
    with pytest.raises(ServiceError, match="did not answer. Nothing was signed"):
        recert.sign(user, row)
    row = recert.reload(row)
    assert row.document_id is None and row.state == "open"
    assert (_count(OutboxMessage), _count(AuditEvent), len(_events(row))) == before
    monkeypatch.undo()
    row = recert.sign(user, row)
    assert row.document is not None and len(row.document.versions) == 2


def test_a_campaign_opened_after_the_lapse_day_lapses_at_the_next_sweep(cast, travel):
    user = recert.issued_user(cast)
    travel.move_to("2028-04-02 17:00:00+00:00")
    [row] = recert.campaign(cast)
    assert row.lapses_at == LAPSES_AT and row.state == "open"
    assert deadlines.sweep() == 1
    assert recert.reload(row).state == "lapsed"
    assert recertification.lapsed_of(user) is not None


def test_an_admin_closes_a_recertification_saying_why(cast, opened):
    user, row = opened
    with pytest.raises(ServiceError, match="Reason"):
        recertification.close(cast.admin, row.id, reason=" ", request=recert.REQ)
    with pytest.raises(ServiceError, match="Only a lead agency HMIS admin"):
        recertification.close(cast.ed, row.id, reason="Left", request=recert.REQ)
    row = recertification.close(cast.admin, row.id, reason="Left the agency", request=recert.REQ)
    assert row.state == "closed" and row.closed_reason == "Left the agency"
    assert deadlines.pending_for("recertification", row.id) == []
    assert recertification.current_of(user) is None


def test_the_test_taken_again_counts_its_attempts_since_the_opening(cast, opened):
    user, row = opened
    for _ in range(3):
        assert recert.pass_again(user, row, right=0).passed is False
    with pytest.raises(ServiceError, match="used all 3 attempts"):
        recert.pass_again(user, row)
    assert recertification.refresh(user, row.id, request=recert.REQ).training_renewed_at is None


def test_an_approval_failure_changes_nothing_and_a_retry_works(cast, opened, monkeypatch):
    from portal.documents.signing import SigningError

    user, row = opened
    recert.pass_again(user, row)
    row = recert.sign(user, row)
    before = (_count(OutboxMessage), _count(AuditEvent), len(_events(row)))

    def down(*args, **kwargs):
        raise SigningError("The signing service did not answer.")

    monkeypatch.setattr(runtime.signer(), "approve", down)
    with pytest.raises(ServiceError, match="did not answer. Nothing was signed"):
        recert.approve(cast.ed, row)
    row = recert.reload(row)
    assert row.user_agreement_renewed_at is None and row.state == "open"
    assert len(row.document.versions) == 2
    assert (_count(OutboxMessage), _count(AuditEvent), len(_events(row))) == before
    monkeypatch.undo()
    assert recert.approve(cast.ed, row).state == "renewed"


def test_a_signature_between_reminders_sends_none_twice(cast, opened, travel, mailbox):
    user, row = opened
    travel.move_to("2028-02-09 08:00:00+00:00")
    deadlines.sweep()
    travel.move_to("2028-02-20 17:00:00+00:00")
    recert.sign(user, row)  # open → open: its timers restart, with the same end
    [timer] = deadlines.pending_for("recertification", row.id)
    assert timer.due_at == LAPSES_AT
    mailbox.deliver()
    mailbox.clear()
    travel.move_to("2028-03-09 08:00:00+00:00")
    deadlines.sweep()
    mailbox.deliver()
    subjects = [m["Subject"] for m in mailbox.to(user.email)]
    assert subjects == [
        "Reminder: your HMIS access lapses in 7 days",
        "Reminder: your HMIS access lapses in 1 day",
    ]


def test_an_ended_account_is_neither_reminded_nor_lapsed(cast, opened, travel, mailbox):
    user, row = opened
    user.active = False
    db.session.commit()
    mailbox.clear()
    travel.move_to("2028-03-10 09:00:00+00:00")
    deadlines.sweep()
    row = recert.reload(row)
    assert row.state == "closed" and "no longer active" in row.closed_reason
    mailbox.deliver()
    assert mailbox.to(user.email) == [] and recertification.lapsed_users() == []


def test_a_separation_closes_the_open_recertification(cast, opened):
    user, row = opened
    recertification.end_for(user, "Separated on March 1, 2028.", request=recert.REQ)
    db.session.commit()
    row = recert.reload(row)
    assert row.state == "closed" and _events(row)[-1] == "access_ended"
    assert deadlines.pending_for("recertification", row.id) == []
