"""Program reallocation (VIII.B.7) through its services: the programs move, the hand-over
runs on the deadline machinery (reminders, overdue and escalated by time travel), and the
receipt ends with two trusted signatures checked by pyHanko and by poppler's pdfsig."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal import clock, jobs
from portal.documents.verify import verify_pdf
from portal.extensions import db
from portal.models import Deadline, Program, Transition
from portal.services import documents, programs, reallocation_receipt, reallocations
from portal.services.errors import NotFound, ServiceError
from portal.services.timefmt import local_date
from tests.support import programs as steps
from tests.support.pki import pdfsig

START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # Monday, 10 am in Sacramento


def _events(row) -> list[str]:
    query = select(Transition.event).where(
        Transition.case_type == "reallocation", Transition.case_id == row.id
    )
    return list(db.session.scalars(query.order_by(Transition.id)))


def test_opening_moves_the_program_and_makes_the_old_one_read_only(app, cast, mailbox):
    row = steps.reallocated(cast)
    old, new = row.program, row.new_program
    assert (old.state, old.read_only, old.agency_id) == ("reallocated", True, cast.agency.id)
    assert (new.state, new.agency_id, new.reallocated_from_id) == (
        "active",
        cast.other_agency.id,
        old.id,
    )
    assert programs.active_names(cast.agency) == []
    assert programs.active_names(cast.other_agency) == ["Rapid Re-Housing"]
    with pytest.raises(ServiceError, match="read-only"):
        reallocations.open_(
            cast.admin,
            old.id,
            acquiring_agency_id=cast.other_agency.id,
            reason="",
            request=steps.REQ,
        )
    # The old program's history stays visible to its agency.
    assert [p.name for p in programs.for_agency(cast.ed, cast.agency.id)] == ["Rapid Re-Housing"]
    mailbox.deliver()
    assert mailbox.to("ed@hope.test") and mailbox.to("ed@other.test")


def test_the_hand_over_becomes_overdue_and_escalates_to_the_lead_agency(app, cast, mailbox):
    with time_machine.travel(START, tick=False) as traveller:
        row = steps.reallocated(cast)
        assert row.due_rule_text.endswith("on Wednesday, April 1, 2026")
        pending = db.session.scalars(
            select(Deadline).where(Deadline.case_type == "reallocation")
        ).all()
        assert sorted(d.event for d in pending) == ["handover_overdue", "remind", "remind"]
        mailbox.deliver()
        mailbox.clear()
        traveller.move_to(row.due_at - timedelta(days=1))
        jobs.sweep(app)
        mailbox.deliver()
        assert any("Reminder" in m["Subject"] for m in mailbox.to("ed@hope.test"))
        traveller.move_to(row.due_at + timedelta(seconds=1))
        jobs.sweep(app)
        db.session.expire_all()
        assert row.state == "overdue"
        mailbox.deliver()
        [escalated] = mailbox.to("admin@ssf.test")
        assert "Hand-over overdue" in escalated["Subject"]
        # The overdue hand-over waits on the lead agency's admins and on the releasing agency.
        assert [a.url for a in reallocations.awaiting(cast.admin)] == [f"/reallocations/{row.id}"]
        [waiting] = reallocations.awaiting(cast.ed)
        assert waiting.title.startswith("Overdue: hand over") and waiting.due_at == row.due_at
        assert reallocations.awaiting(cast.other_ed) == []
        # Late, the releasing agency may still record the delivery.
        reallocations.record_delivery(
            cast.officer,
            row.id,
            reallocations.Delivery(
                count=3, method="in_person", delivered_on=local_date(clock.now())
            ),
            request=steps.REQ,
        )
        assert row.state == "delivered"
        assert _events(row) == ["create", "handover_overdue", "record_delivery"]


def test_the_receipt_is_signed_by_both_agencies_and_trusted(
    app, cast, mailbox, pki, nss_db, tmp_path
):
    today = local_date(clock.now())
    row = steps.delivered(cast, today, attachment=steps.PDF)
    assert row.attachment["size"] == len(steps.PDF)
    data, name = reallocations.read_attachment(cast.other_ed, row.id)
    assert data == steps.PDF and name == "slip.pdf"
    with pytest.raises(ServiceError, match="acquiring agency"):
        reallocation_receipt.confirm_receipt(cast.ed, row.id, request=steps.REQ)
    row = reallocation_receipt.confirm_receipt(cast.other_ed, row.id, request=steps.REQ)
    assert row.state == "releasing_signs" and row.document is not None
    with pytest.raises(ServiceError, match="releasing agency"):
        steps.sign(cast.other_ed, row)
    row = steps.sign(cast.officer, row)
    assert row.state == "acquiring_signs"
    row = steps.sign(cast.other_ed, row)
    assert row.state == "complete"
    assert _events(row) == [
        "create",
        "record_delivery",
        "confirm_receipt",
        "releasing_signs",
        "acquiring_signs",
    ]
    data, _ = reallocation_receipt.receipt(cast.other_ed, row.id)
    assert data == documents.read_bytes(row.document.current)
    report = verify_pdf(data, pki.trust_roots)
    assert report.error is None and report.all_valid
    certification, releasing, acquiring = report.signatures
    assert certification.is_certification
    assert (releasing.field_name, releasing.signer_name, releasing.signer_organization) == (
        reallocation_receipt.RELEASING_FIELD,
        "Sam Officer",
        "Hope & Harbor <Shelter>",
    )
    assert (acquiring.field_name, acquiring.signer_organization) == (
        reallocation_receipt.ACQUIRING_FIELD,
        "Other Agency",
    )
    for s in report.signatures:
        assert s.intact and s.valid and s.trusted
    assert acquiring.covers_whole_document
    path = tmp_path / "receipt.pdf"
    path.write_bytes(data)
    out = pdfsig(nss_db, path)
    assert out.count("Signature Validation: Signature is Valid.") == 3, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 3, out
    mailbox.deliver()
    assert any("Hand-over complete" in m["Subject"] for m in mailbox.to("ed@other.test"))


def test_bad_delivery_input_is_refused_with_a_message(app, cast):
    row = steps.reallocated(cast)
    today = local_date(clock.now())
    bad = [
        (reallocations.Delivery(0, "in_person", today), "number of signed forms"),
        (reallocations.Delivery(2, "pigeon", today), "how the forms"),
        (reallocations.Delivery(2, "in_person", None), "date"),
        (reallocations.Delivery(2, "in_person", today + timedelta(days=2)), "future"),
        (reallocations.Delivery(2, "in_person", today, filename="x.exe", data=b"MZ"), "PDF"),
    ]
    for delivery, message in bad:
        with pytest.raises(ServiceError, match=message):
            reallocations.record_delivery(cast.ed, row.id, delivery, request=steps.REQ)
    assert db.session.get(type(row), row.id).state == "handover"


def test_another_agencys_people_get_not_found(app, cast):
    from tests import factories

    third = factories.agency("Third Agency", created_by=cast.admin)
    stranger = factories.person(
        third, email="ed@third.test", name="Tess Third", title="ED", role="agency_ed"
    )
    row = steps.reallocated(cast)
    for call in (
        lambda: reallocations.get(stranger, row.id),
        lambda: programs.get(stranger, row.program_id),
        lambda: programs.for_agency(stranger, cast.agency.id),
        lambda: reallocation_receipt.receipt(stranger, row.id),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(ServiceError):
        programs.add(
            cast.ed,
            cast.agency.id,
            name="x",
            funding_source="y",
            start_date=None,
            request=steps.REQ,
        )


def test_cancel_ends_the_hand_over_only(app, cast):
    row = steps.reallocated(cast)
    reallocations.cancel(cast.admin, row.id, reason="Entered by mistake", request=steps.REQ)
    assert row.state == "cancelled"
    assert db.session.get(Program, row.new_program_id).state == "active"
    assert not db.session.scalars(
        select(Deadline).where(
            Deadline.case_type == "reallocation",
            Deadline.cancelled_at.is_(None),
            Deadline.fired_at.is_(None),
        )
    ).all()
