"""Thirty days' notice of termination (VIII.B.1), and what ending an agreement leaves behind
(VIII.B.4): the agency's people deactivated, every record and document kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal import jobs
from portal.documents.verify import verify_pdf
from portal.extensions import db
from portal.models import AuditEvent, Deadline, TerminationNotice
from portal.services import (
    agencies,
    agreements,
    auth,
    cases,
    deadlines,
    documents,
    remedies,
    terminations,
)
from portal.services.errors import NotFound, ServiceError
from tests import factories
from tests.conftest import PASSWORD
from tests.notices import give_default
from tests.services.helpers import REQ

START = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # Tuesday, December 1, 10:00 am Pacific
ENDS = datetime(2027, 1, 1, 7, 59, 59, tzinfo=UTC)  # Thursday, Dec 31, 11:59:59 pm Pacific


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def give(actor, agreement, reason: str = "We are closing the program.") -> TerminationNotice:
    return terminations.give(
        actor,
        agreement.id,
        reason=reason,
        password=PASSWORD,
        intent=True,
        consent=True,
        request=REQ,
    )


def default_notice(actor, agreement):
    return give_default(actor, agreement)


def sweep(app) -> int:
    fired = jobs.sweep(app)["deadlines_fired"]
    db.session.expire_all()
    return fired


def rows_of(case_type: str, case_id: int) -> list[Deadline]:
    query = select(Deadline).where(Deadline.case_type == case_type, Deadline.case_id == case_id)
    return list(db.session.scalars(query))


def test_agency_gives_notice_and_the_agreement_ends_by_itself_on_the_date(
    app, cast, mailbox, pki, clock
):
    agreement = factories.agreement(cast.agency)
    mailbox.deliver()
    mailbox.clear()
    notice = give(cast.ed, agreement)
    assert notice.state == "notice_period" and notice.issuer_side == "agency"
    assert notice.effective_at == ENDS
    assert notice.rule_text == (
        "30 calendar days counted from the day after notice; "
        "ends 11:59:59 pm Pacific on Thursday, December 31, 2026"
    )
    signed = documents.read_bytes(notice.document.current)
    report = verify_pdf(signed, pki.trust_roots)
    assert report.all_valid and report.signatures[-1].signer_name == "Eve Director"
    assert notice.document.title == f"Notice of Termination {notice.reference}"
    mailbox.deliver()
    for address in ("admin@ssf.test", "sign@ssf.test"):
        [mail] = mailbox.to(address)
        [pdf] = list(mail.iter_attachments())
        assert mail["Subject"] == f"Notice of Termination {notice.reference}"
        assert pdf.get_content() == signed
    with pytest.raises(ServiceError, match="is already running"):
        give(cast.signatory, agreement)

    clock.move_to(ENDS - timedelta(seconds=1))
    assert sweep(app) == 2  # the reminders, 3 days and 1 day before
    assert notice.state == "notice_period" and agreement.state == "effective"
    mailbox.clear()
    clock.move_to(ENDS)
    assert sweep(app) == 1
    assert notice.state == "effective" and agreement.state == "terminated"
    assert sweep(app) == 0
    assert [t.event for t in cases.history("termination_notice", notice.id)] == [
        "create",
        "notice_elapsed",
    ]
    # Both sides are told, the agency's people too, though their accounts are now closed.
    for address in ("ed@hope.test", "so@hope.test", "sign@ssf.test"):
        assert any("terminated" in m["Subject"] for m in mailbox.to(address))


def test_after_termination_the_agencys_people_are_deactivated_and_records_stay(app, cast, clock):
    # With the documents the signatures made (stand-ins here), to show they are kept.
    agreement = factories.agreement(cast.agency, documents=True)
    notice = give(cast.signatory, agreement)
    clock.move_to(ENDS + timedelta(hours=3))  # the scheduler was down; it catches up
    assert sweep(app) == 3
    assert agreement.state == "terminated"

    assert not cast.ed.active and not cast.officer.active
    assert cast.other_ed.active and cast.signatory.active
    deactivated = db.session.scalars(
        select(AuditEvent.object_id).where(AuditEvent.action == "user.deactivate")
    ).all()
    assert sorted(deactivated) == sorted([cast.ed.id, cast.officer.id])
    for person in (cast.ed, cast.officer):
        with pytest.raises(ServiceError, match="not active"):
            auth.authenticate(person.email, PASSWORD, REQ)
    # Nothing is theirs to sign any more.
    assert not agencies.may_sign_for(cast.ed, cast.agency)
    assert not remedies.may_sign_for_side(cast.ed, "agency", cast.agency)
    for attempt in (
        lambda: give(cast.ed, agreement),
        lambda: default_notice(cast.ed, agreement),
        lambda: agreements.get(cast.ed, agreement.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    # SSF keeps every record and document (VIII.B.4); the history shows the whole path.
    for viewer in (cast.admin, cast.auditor):
        for document in (agreement.document, notice.document):
            for version in document.versions:
                assert documents.download(viewer, version.id).data.startswith(b"%PDF")
    path = [t.event for t in cases.history("agreement", agreement.id)]
    assert path == ["create", "send", "agency_signs", "lead_countersigns", "terminate"]
    # Recorded when the portal acted; the notice itself keeps the date it took effect.
    ended = cases.history("agreement", agreement.id)[-1]
    assert ended.at == ENDS + timedelta(hours=3) and notice.effective_at == ENDS
    assert f"The notice period of {notice.reference} ran out" in ended.reason
    assert agreement.closed_reason == ended.reason


def test_the_issuer_rescinds_before_the_date_and_nothing_ends(app, cast, mailbox, clock):
    agreement = factories.agreement(cast.agency)
    notice = give(cast.signatory, agreement)
    assert notice.issuer_side == "lead"
    clock.move_to(START + timedelta(days=20))
    with pytest.raises(ServiceError, match="Only the party that gave the notice"):
        terminations.rescind(cast.ed, notice.id, reason="Please", request=REQ)
    with pytest.raises(ServiceError, match="Give a reason"):
        terminations.rescind(cast.admin, notice.id, reason="", request=REQ)
    mailbox.deliver()
    mailbox.clear()
    terminations.rescind(cast.admin, notice.id, reason="Funding renewed.", request=REQ)
    assert notice.state == "rescinded" and notice.closed_reason == "Funding renewed."
    rows = rows_of("termination_notice", notice.id)
    assert len(rows) == 3 and all(r.cancelled_at for r in rows)
    mailbox.deliver()
    assert "stays in effect" in mailbox.to("ed@hope.test")[-1].get_content()

    clock.move_to(ENDS + timedelta(days=1))
    assert sweep(app) == 0
    assert agreement.state == "effective" and cast.ed.active
    assert not any(r.fired_at for r in rows_of("termination_notice", notice.id))
    with pytest.raises(ServiceError):
        terminations.rescind(cast.admin, notice.id, reason="Again", request=REQ)
    # A new notice may be given once the first is rescinded.
    assert give(cast.ed, agreement).state == "notice_period"


def test_who_may_give_notice_of_termination(app, cast, clock):
    agreement = factories.agreement(cast.agency)
    for actor in (cast.admin, cast.auditor, cast.officer):
        with pytest.raises(
            ServiceError, match="signed by Sacramento Steps Forward's signatory or by the agency's"
        ):
            give(actor, agreement)
    draft = agreements.create(cast.admin, cast.other_agency.id, REQ)
    with pytest.raises(ServiceError, match="only for an agreement in effect"):
        give(cast.signatory, draft)
    with pytest.raises(NotFound):
        give(cast.other_ed, agreement)
    assert db.session.scalar(select(TerminationNotice.id)) is None
    assert db.session.scalar(select(Deadline.id)) is None


def test_termination_closes_the_notices_still_open(app, cast, clock):
    agreement = factories.agreement(cast.agency)
    termination = give(cast.ed, agreement)
    clock.move_to(ENDS - timedelta(days=5))
    default = default_notice(cast.signatory, agreement)
    assert default.cure_ends_at > ENDS
    clock.move_to(ENDS)
    sweep(app)
    assert termination.state == "effective" and agreement.state == "terminated"
    assert deadlines.pending_for("default_notice", default.id) == []
    # A terminated agreement leaves no notice open: the default closes, saying why.
    assert default.state == "agreement_ended"
    assert default.closed_reason == f"HMIS Partner Agency Agreement {agreement.reference} ended."
    [closing] = [t for t in cases.history("default_notice", default.id) if t.event != "create"]
    assert (closing.source, closing.actor_id, closing.actor_role) == (
        "cure_period",
        None,
        "system",
    )
    clock.move_to(default.cure_ends_at + timedelta(days=1))
    assert sweep(app) == 0
    assert default.state == "agreement_ended"  # it never lapses on an agreement that has ended


def test_another_agency_gets_not_found_on_termination_notices(app, cast, clock):
    agreement = factories.agreement(cast.agency)
    notice = give(cast.ed, agreement)
    outsider = cast.other_ed
    for attempt in (
        lambda: terminations.get(outsider, notice.id),
        lambda: terminations.for_agreement(outsider, agreement.id),
        lambda: terminations.rescind(outsider, notice.id, reason="x", request=REQ),
        lambda: documents.download(outsider, notice.document.current.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert notice.state == "notice_period"
    assert terminations.get(cast.officer, notice.id) is notice
