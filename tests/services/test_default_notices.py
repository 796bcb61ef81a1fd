"""Notices of default (VIII.B.3) through the services the pages call: given by either party,
signed and mailed, cured or not, lapsed by the sweep, then declared, waived or withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from portal import jobs
from portal.documents.verify import verify_pdf
from portal.extensions import db
from portal.models import (
    AuditEvent,
    CureSubmission,
    Deadline,
    DefaultNotice,
    Document,
    DocumentVersion,
    OutboxMessage,
    Transition,
)
from portal.services import agreements, cases, cures, deadlines, default_notices, documents
from portal.services.cures import Upload
from portal.services.errors import NotFound, ServiceError
from tests import factories
from tests.conftest import PASSWORD
from tests.notices import give_default
from tests.services.helpers import REQ

START = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # Tuesday, December 1, 10:00 am Pacific
CURE_ENDS = datetime(2026, 12, 12, 7, 59, 59, tzinfo=UTC)  # Friday, Dec 11, 11:59:59 pm PST
PACIFIC = ZoneInfo("America/Los_Angeles")  # the lead agency's time zone (LEAD_TIMEZONE)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n% evidence\n"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def give(actor, agreement, **overrides) -> DefaultNotice:
    """Two provisions breached, unless a test says otherwise."""
    fields = dict(
        provisions=["V.E.12", "IV.B.5"], description="Two separations were reported a week late."
    )
    return give_default(actor, agreement, **{**fields, **overrides})


def submit(actor, notice, uploads=()) -> CureSubmission:
    text = "Both separations are now reported."
    return cures.submit_cure(actor, notice.id, text=text, uploads=list(uploads), request=REQ)


def declare(actor, notice, password=PASSWORD) -> DefaultNotice:
    return default_notices.declare_termination(
        actor, notice.id, password=password, intent=True, consent=True, request=REQ
    )


def sweep(app) -> int:
    """What the scheduler process does each minute (its own session), then a fresh look."""
    fired = jobs.sweep(app)["deadlines_fired"]
    db.session.expire_all()
    return fired


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def rows_of(notice) -> list[Deadline]:
    query = select(Deadline).where(
        Deadline.case_type == "default_notice", Deadline.case_id == notice.id
    )
    return list(db.session.scalars(query.order_by(Deadline.due_at)))


def events(notice) -> list[str]:
    return [t.event for t in cases.history("default_notice", notice.id)]


def assert_signed_by(document, name: str, pki) -> bytes:
    data = documents.read_bytes(document.current)
    report = verify_pdf(data, pki.trust_roots)
    assert report.all_valid, report
    assert report.signatures[0].is_certification
    assert report.signatures[-1].signer_name == name
    return data


def attached_pdf(mailbox, address: str, subject: str) -> bytes:
    [mail] = [m for m in mailbox.to(address) if m["Subject"].startswith(subject)]
    [part] = list(mail.iter_attachments())
    assert part.get_filename().endswith(".pdf")
    return part.get_content()


def test_ssf_gives_notice_signed_by_its_signatory_and_mailed_to_the_agency(
    app, cast, mailbox, pki, clock
):
    agreement = factories.agreement(cast.agency)
    mailbox.deliver()
    mailbox.clear()
    notice = give(cast.signatory, agreement)

    assert notice.state == "cure_period" and notice.issuer_side == "lead"
    assert notice.defaulting_side == "agency" and notice.given_at == START
    assert notice.provisions == [
        ["V.E.12", "Separation notice"],
        ["IV.B.5", "Passwords and inactivity"],
    ]
    assert notice.cure_ends_at == CURE_ENDS
    # Read back from the database: the end of the last day in Sacramento, with its offset.
    db.session.refresh(notice)
    assert notice.cure_ends_at.astimezone(PACIFIC).isoformat() == "2026-12-11T23:59:59-08:00"
    assert notice.cure_rule_text == (
        "10 calendar days counted from the day after notice; "
        "ends 11:59:59 pm Pacific on Friday, December 11, 2026"
    )
    assert notice.document.title == f"Notice of Default {notice.reference}"
    assert [v.seq for v in notice.document.versions] == [1, 2]
    signed = assert_signed_by(notice.document, "Sol Signer", pki)
    # The defaulting party's people get the signed PDF itself; the issuer is not mailed.
    mailbox.deliver()
    for address in ("ed@hope.test", "so@hope.test"):
        assert attached_pdf(mailbox, address, "Notice of Default") == signed
    assert not mailbox.to("sign@ssf.test") and not mailbox.to("ed@other.test")
    assert events(notice) == ["create"]
    assert count(AuditEvent, AuditEvent.action == "default_notice.give") == 1
    # The cure period is a row, and so is each reminder: 3 days and 1 day before, both at
    # the end of the day in Sacramento.
    [period] = deadlines.pending_for("default_notice", notice.id)
    assert (period.event, period.due_at, period.state) == ("cure_lapsed", CURE_ENDS, "cure_period")
    reminders = [r.due_at for r in rows_of(notice) if r.event == deadlines.REMINDER]
    assert reminders == [CURE_ENDS - timedelta(days=3), CURE_ENDS - timedelta(days=1)]
    assert default_notices.for_agreement(cast.ed, agreement.id) == [notice]


def test_who_may_give_a_notice_and_what_it_must_say(app, cast, clock):
    agreement = factories.agreement(cast.agency)
    signer_only = (
        "signed by Sacramento Steps Forward's signatory or by the agency's executive director"
    )
    refusals = [
        (cast.admin, {}, signer_only),
        (cast.auditor, {}, signer_only),
        (cast.officer, {}, signer_only),
        (cast.signatory, {"provisions": []}, "at least one provision"),
        (cast.signatory, {"provisions": ["V.E.12", "IX.Z.9"]}, "Not provisions of this agr"),
        (cast.signatory, {"description": "  "}, "Description of the default is required"),
        (cast.signatory, {"password": "wrong"}, "password you re-entered is not correct"),
        (cast.signatory, {"intent": False}, "intend to sign"),
    ]
    for actor, change, expected in refusals:
        with pytest.raises(ServiceError, match=expected):
            give(actor, agreement, **change)
    draft = agreements.create(cast.admin, cast.other_agency.id, REQ)
    with pytest.raises(ServiceError, match="only for an agreement in effect"):
        give(cast.signatory, draft)
    assert count(DefaultNotice) == count(Deadline) == 0
    assert count(Document, Document.case_type == "default_notice") == 0


def test_agency_gives_notice_through_its_ed_and_ssf_cures_it(app, cast, mailbox, pki, clock):
    agreement = factories.agreement(cast.agency)
    mailbox.deliver()
    mailbox.clear()
    notice = give(cast.ed, agreement, provisions=["IV.A.7"], description="No help desk.")
    assert notice.issuer_side == "agency" and notice.defaulting_side == "lead"
    signed = assert_signed_by(notice.document, "Eve Director", pki)
    mailbox.deliver()
    for address in ("admin@ssf.test", "sign@ssf.test"):
        assert attached_pdf(mailbox, address, "Notice of Default") == signed
    assert not mailbox.to("ed@hope.test")

    with pytest.raises(ServiceError, match="Only the defaulting party may submit a cure"):
        submit(cast.ed, notice)
    clock.move_to(START + timedelta(days=2))
    submit(cast.admin, notice)
    mailbox.deliver()
    assert "Cure submitted" in mailbox.to("ed@hope.test")[-1]["Subject"]
    with pytest.raises(ServiceError, match="Only the party that gave the notice"):
        cures.accept_cure(cast.signatory, notice.id, request=REQ)
    cures.accept_cure(cast.ed, notice.id, request=REQ)
    assert notice.state == "cured" and notice.closed_reason.startswith("Cured")
    assert notice.cures[-1].decision == "accepted" and notice.cures[-1].decided_by_id == cast.ed.id

    clock.move_to(CURE_ENDS + timedelta(days=1))
    assert sweep(app) == 0
    assert notice.state == "cured" and agreement.state == "effective"
    assert events(notice) == ["create", "submit_cure", "accept_cure"]
    assert all(r.cancelled_at is not None and r.fired_at is None for r in rows_of(notice))


def test_cure_attachments_are_stored_and_typed_by_their_content(app, cast, mailbox, clock):
    from portal import runtime

    agreement = factories.agreement(cast.agency)
    notice = give(cast.signatory, agreement)
    for bad in (Upload("tool.exe", b"MZ\x90\x00binary"), Upload("notes.txt", b"a\x00b")):
        with pytest.raises(ServiceError, match="attach PDF, PNG, JPEG or plain-text files only"):
            submit(cast.ed, notice, [bad])
    assert notice.state == "cure_period" and count(CureSubmission) == 0

    uploads = [
        Upload("scan.pdf", PNG),  # a PNG whatever its name says
        Upload("evidence", PDF),
        Upload("log.txt", "Separations reported on 12/2 and 12/3 ✓".encode()),
    ]
    cure = submit(cast.ed, notice, uploads)
    assert notice.state == "cure_submitted"
    kinds = [(a["filename"], a["content_type"], a["size"]) for a in cure.attachments]
    assert kinds == [
        ("scan.pdf", "image/png", len(PNG)),
        ("evidence", "application/pdf", len(PDF)),
        ("log.txt", "text/plain", len(uploads[2].data)),
    ]
    for attachment, upload in zip(cure.attachments, uploads, strict=True):
        assert runtime.storage().get(attachment["storage_key"]) == upload.data
    assert [a["filename"] for a in cure.attachments] == ["scan.pdf", "evidence", "log.txt"]
    # While the issuer decides, the cure period does not lapse under the defaulting party.
    assert deadlines.pending_for("default_notice", notice.id) == []
    mailbox.deliver()
    [mail] = [m for m in mailbox.to("sign@ssf.test") if "Cure submitted" in m["Subject"]]
    assert f"/notices/default/{notice.id}" in mail.get_content()


def test_a_rejected_cure_runs_on_to_the_original_end_and_lapses(app, cast, mailbox, clock):
    agreement = factories.agreement(cast.agency)
    notice = give(cast.signatory, agreement)
    clock.move_to(START + timedelta(days=3))
    submit(cast.ed, notice)
    with pytest.raises(ServiceError, match="Give a reason to"):
        cures.reject_cure(cast.signatory, notice.id, reason=" ", request=REQ)
    with pytest.raises(ServiceError, match="Only the party that gave the notice"):
        cures.reject_cure(cast.ed, notice.id, reason="No.", request=REQ)
    reason = "Still unreported: J. Doe"
    cures.reject_cure(cast.admin, notice.id, reason=reason, request=REQ)
    assert notice.state == "cure_period"
    assert notice.cures[-1].decision == "rejected"
    mailbox.deliver()
    assert "Still unreported: J. Doe" in mailbox.to("ed@hope.test")[-1].get_content()
    # The rejection does not extend the period: the timer runs to the notice's own end.
    [period] = deadlines.pending_for("default_notice", notice.id)
    assert period.due_at == notice.cure_ends_at == CURE_ENDS

    clock.move_to(CURE_ENDS - timedelta(seconds=1))
    assert sweep(app) == 2  # the two reminders, which the rejection started again
    assert notice.state == "cure_period"
    clock.move_to(CURE_ENDS)
    assert sweep(app) == 1
    assert notice.state == "lapsed"
    assert events(notice) == ["create", "submit_cure", "reject_cure", "cure_lapsed"]


def test_a_rejection_after_the_end_lapses_on_the_next_sweep(app, cast, clock):
    agreement = factories.agreement(cast.agency)
    notice = give(cast.signatory, agreement)
    clock.move_to(START + timedelta(days=9))
    submit(cast.ed, notice)
    clock.move_to(CURE_ENDS + timedelta(hours=5))
    assert sweep(app) == 0  # awaiting the issuer's decision: nothing lapses
    assert notice.state == "cure_submitted"
    cures.reject_cure(cast.signatory, notice.id, reason="Not cured.", request=REQ)
    assert notice.state == "cure_period"
    assert sweep(app) == 1
    assert notice.state == "lapsed"
    assert sweep(app) == 0
    lapses = [r for r in rows_of(notice) if r.event == "cure_lapsed" and r.fired_at]
    assert len(lapses) == 1 and lapses[0].transition_id is not None


def test_a_withdrawn_notice_never_lapses(app, cast, mailbox, clock):
    agreement = factories.agreement(cast.agency)
    notice = give(cast.signatory, agreement)
    with pytest.raises(ServiceError, match="Only the party that gave the notice"):
        default_notices.withdraw(cast.ed, notice.id, reason="Mine", request=REQ)
    clock.move_to(START + timedelta(days=4))
    default_notices.withdraw(cast.admin, notice.id, reason="Reported after all.", request=REQ)
    assert notice.state == "withdrawn" and notice.closed_reason == "Reported after all."
    assert deadlines.pending_for("default_notice", notice.id) == []
    assert all(r.cancelled_at == START + timedelta(days=4) for r in rows_of(notice))
    mailbox.deliver()
    assert "withdrew the notice" in mailbox.to("ed@hope.test")[-1].get_content()
    clock.move_to(CURE_ENDS + timedelta(days=30))
    assert sweep(app) == 0
    assert notice.state == "withdrawn" and agreement.state == "effective"
    assert not any(r.fired_at for r in rows_of(notice))
    assert events(notice) == ["create", "withdraw"]


def test_uncured_notice_reminds_lapses_by_itself_and_the_issuer_declares(
    app, cast, mailbox, pki, clock
):
    agreement = factories.agreement(cast.agency)
    notice = give(cast.signatory, agreement)
    for too_early in (
        lambda: declare(cast.signatory, notice),
        lambda: default_notices.waive(cast.admin, notice.id, reason="ok", request=REQ),
    ):
        with pytest.raises(ServiceError, match="only after the cure period has lapsed"):
            too_early()
    mailbox.deliver()
    mailbox.clear()

    # Reminders: 3 days and 1 day before the end, to both sides.
    for reminder in (CURE_ENDS - timedelta(days=3), CURE_ENDS - timedelta(days=1)):
        clock.move_to(reminder - timedelta(seconds=1))
        assert sweep(app) == 0
        clock.move_to(reminder)
        assert sweep(app) == 1
    for address in ("ed@hope.test", "so@hope.test", "sign@ssf.test", "admin@ssf.test"):
        subjects = [m["Subject"] for m in mailbox.to(address)]
        assert subjects == [f"Reminder: cure period of {notice.reference} ends soon"] * 2

    clock.move_to(CURE_ENDS - timedelta(seconds=1))
    assert sweep(app) == 0 and notice.state == "cure_period"
    clock.move_to(CURE_ENDS)
    assert sweep(app) == 1
    assert notice.state == "lapsed" and agreement.state == "effective"
    lapse = cases.history("default_notice", notice.id)[-1]
    assert (lapse.event, lapse.actor_id, lapse.at) == ("cure_lapsed", None, CURE_ENDS)
    assert any("Cure period lapsed" in m["Subject"] for m in mailbox.to("ed@hope.test"))
    with pytest.raises(ServiceError, match="can no longer be submitted"):
        submit(cast.ed, notice)

    clock.move_to(CURE_ENDS + timedelta(days=2))
    with pytest.raises(ServiceError, match="through a lead agency signatory"):
        declare(cast.admin, notice)
    with pytest.raises(ServiceError, match="Only the party that gave the notice"):
        declare(cast.ed, notice)
    with pytest.raises(ServiceError, match="not correct"):
        declare(cast.signatory, notice, password="wrong")
    mailbox.clear()
    declare(cast.signatory, notice)
    assert notice.state == "terminated" and agreement.state == "terminated"
    assert notice.declaration.title == f"Declaration of Termination {notice.reference}"
    signed = assert_signed_by(notice.declaration, "Sol Signer", pki)
    # Both sides get the declaration — the agency's people too, though now deactivated.
    mailbox.deliver()
    for address in ("ed@hope.test", "so@hope.test", "sign@ssf.test"):
        subject = f"Agreement {agreement.reference} terminated"
        assert attached_pdf(mailbox, address, subject) == signed
    assert not cast.ed.active and not cast.officer.active
    assert events(notice) == ["create", "cure_lapsed", "declare_termination"]
    assert [t.event for t in cases.history("agreement", agreement.id)][-1] == "terminate"


def test_an_agency_that_gave_notice_declares_through_its_ed(app, cast, pki, clock):
    agreement = factories.agreement(cast.agency)
    notice = give(cast.ed, agreement, provisions=["IV.A.7"])
    clock.move_to(CURE_ENDS)
    assert sweep(app) == 3  # two reminders, then the lapse
    assert notice.state == "lapsed"
    for not_issuer in (cast.signatory, cast.officer):
        with pytest.raises(ServiceError):
            declare(not_issuer, notice)
    declare(cast.ed, notice)
    assert agreement.state == "terminated"
    assert_signed_by(notice.declaration, "Eve Director", pki)


def test_the_issuer_may_waive_a_lapsed_default(app, cast, mailbox, clock):
    agreement = factories.agreement(cast.agency)
    notice = give(cast.signatory, agreement)
    clock.move_to(CURE_ENDS + timedelta(minutes=1))
    sweep(app)
    assert notice.state == "lapsed"
    with pytest.raises(ServiceError, match="Give a reason"):
        default_notices.waive(cast.admin, notice.id, reason="", request=REQ)
    with pytest.raises(ServiceError, match="Only the party that gave the notice"):
        default_notices.waive(cast.ed, notice.id, reason="Please", request=REQ)
    with pytest.raises(ServiceError, match="can no longer be withdrawn"):
        default_notices.withdraw(cast.admin, notice.id, reason="Late", request=REQ)
    default_notices.waive(cast.admin, notice.id, reason="Minor and now fixed.", request=REQ)
    assert notice.state == "waived" and agreement.state == "effective"
    assert cast.ed.active
    mailbox.deliver()
    assert "waived the default" in mailbox.to("ed@hope.test")[-1].get_content()
    with pytest.raises(ServiceError):
        declare(cast.signatory, notice)


def test_another_agency_gets_not_found_on_every_remedy(app, cast, clock):
    agreement = factories.agreement(cast.agency)
    notice = give(cast.signatory, agreement)
    cure = submit(cast.ed, notice, [Upload("proof.pdf", PDF)])
    version = notice.document.current
    outsider = cast.other_ed
    attempts = [
        lambda: default_notices.get(outsider, notice.id),
        lambda: default_notices.for_agreement(outsider, agreement.id),
        lambda: give(outsider, agreement),
        lambda: submit(outsider, notice),
        lambda: cures.accept_cure(outsider, notice.id, request=REQ),
        lambda: cures.reject_cure(outsider, notice.id, reason="x", request=REQ),
        lambda: default_notices.withdraw(outsider, notice.id, reason="x", request=REQ),
        lambda: default_notices.waive(outsider, notice.id, reason="x", request=REQ),
        lambda: declare(outsider, notice),
        lambda: documents.download(outsider, version.id),
        lambda: cures.read_attachment(outsider, notice.id, cure.id, 0),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    assert notice.state == "cure_submitted"
    # Its own people see it all.
    assert default_notices.get(cast.officer, notice.id) is notice
    assert cures.read_attachment(cast.ed, notice.id, cure.id, 0).data == PDF


def _nothing_left(mailbox, storage_root: Path, files_before: int) -> None:
    db.session.expire_all()
    assert count(DefaultNotice) == count(Deadline) == 0
    assert count(Document, Document.case_type == "default_notice") == 0
    assert count(Transition, Transition.case_type == "default_notice") == 0
    assert count(AuditEvent, AuditEvent.action == "default_notice.give") == 0
    assert count(OutboxMessage, OutboxMessage.subject.like("Notice of Default%")) == 0
    mailbox.deliver()
    assert not mailbox.to("ed@hope.test")
    assert sum(1 for p in storage_root.rglob("*") if p.is_file()) == files_before


def _storage_root(app) -> Path:
    return Path(app.config["STORAGE_URL"].removeprefix("file://"))


def test_storage_failing_while_giving_notice_leaves_nothing_behind(app, cast, mailbox, tmp_path):
    from portal import runtime
    from portal.storage import LocalStorage

    with time_machine.travel(START, tick=False):
        agreement = factories.agreement(cast.agency)
        mailbox.deliver()
        mailbox.clear()
        root = _storage_root(app)
        before = sum(1 for p in root.rglob("*") if p.is_file())
        parts = app.extensions["portal"]
        good = runtime.storage()
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("x")  # a storage root under a regular file: every write fails
        parts["storage"] = LocalStorage(blocker / "docs")
        with pytest.raises(ServiceError, match="could not be stored, so nothing was changed"):
            give(cast.signatory, agreement)
        _nothing_left(mailbox, root, before)
        parts["storage"] = good
        assert give(cast.signatory, agreement).state == "cure_period"


def test_signing_failing_while_giving_notice_leaves_nothing_behind(app, cast, mailbox):
    from pyhanko.sign.timestamps import HTTPTimeStamper

    from portal import runtime
    from portal.documents.signing import DocumentSigner

    with time_machine.travel(START, tick=False):
        agreement = factories.agreement(cast.agency)
        mailbox.deliver()
        mailbox.clear()
        root = _storage_root(app)
        before = sum(1 for p in root.rglob("*") if p.is_file())
        # A real RFC 3161 client aimed at a closed port: the signature cannot be timestamped.
        app.extensions["portal"]["signer"] = DocumentSigner(
            runtime.pki(), timestamper=HTTPTimeStamper("http://127.0.0.1:9/tsa", timeout=2)
        )
        with pytest.raises(ServiceError, match="signature could not be applied"):
            give(cast.signatory, agreement)
        _nothing_left(mailbox, root, before)
        app.extensions["portal"].pop("signer")
        notice = give(cast.signatory, agreement)
        assert count(DocumentVersion, DocumentVersion.document_id == notice.document_id) == 2


def test_a_cure_after_the_end_is_refused_even_before_the_sweep_runs(app, cast, clock):
    notice = give(cast.signatory, factories.agreement(cast.agency))
    clock.move_to(CURE_ENDS + timedelta(seconds=1))
    with pytest.raises(ServiceError, match="cure period ended .*no longer be submitted"):
        submit(cast.ed, notice)
    assert notice.state == "cure_period" and not notice.cures


def test_signing_failing_while_declaring_termination_changes_nothing(app, cast, mailbox, clock):
    from pyhanko.sign.timestamps import HTTPTimeStamper

    from portal import runtime
    from portal.documents.signing import DocumentSigner

    agreement = factories.agreement(cast.agency)
    notice = give(cast.signatory, agreement)
    clock.move_to(CURE_ENDS)
    assert sweep(app) >= 1 and notice.state == "lapsed"
    app.extensions["portal"]["signer"] = DocumentSigner(
        runtime.pki(), timestamper=HTTPTimeStamper("http://127.0.0.1:9/tsa", timeout=2)
    )
    with pytest.raises(ServiceError, match="signature could not be applied"):
        declare(cast.signatory, notice)
    db.session.expire_all()
    assert notice.state == "lapsed" and notice.declaration is None
    assert agreement.state == "effective" and cast.ed.active
    app.extensions["portal"].pop("signer")
    assert declare(cast.signatory, notice).state == "terminated"
    assert agreement.state == "terminated" and not cast.ed.active
