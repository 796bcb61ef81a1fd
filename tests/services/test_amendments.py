"""Amendments (VIII.B.2) through the services the pages call: drafted or proposed, sent as
their own certified PDF, signed by the agency, countersigned, declined by either side, and
expired unsigned by the deadline sweep. The agreement they amend is a factory row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import Amendment, AuditEvent, OutboxMessage, SignatureRequest, Transition
from portal.services import (
    amendments,
    cases,
    deadlines,
    documents,
    form_keys,
    signature_requests,
    verification,
)
from portal.services.errors import Forbidden, NotFound, ServiceError
from portal.services.timefmt import local_date
from tests import factories
from tests.conftest import PASSWORD
from tests.rendering.pdf_text import flat, needs_pdftotext, page_texts
from tests.services.helpers import REQ
from workflows.agreement import AGREEMENT

T0 = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 10 am in Sacramento
TEXT = "Section IX.\n\nData shall be kept for <seven> years & then destroyed."


def _subjects(address: str) -> list[str]:
    query = select(OutboxMessage.subject).where(OutboxMessage.to_addr == address)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def _draft(cast, agreement, key: str | None = None) -> Amendment:
    return amendments.draft(
        cast.admin,
        agreement.id,
        sections="IX (retention)",
        new_text=TEXT,
        reason="The retention period changed.",
        form_key=key,
        request=REQ,
    )


def _sent(cast) -> Amendment:
    amendment = _draft(cast, factories.agreement(cast.agency))
    return amendments.send(cast.admin, amendment.id, REQ)


def _sign(cast, amendment) -> Amendment:
    return amendments.sign_as_agency(
        cast.ed, amendment.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )


def test_drafted_sent_signed_and_countersigned_with_three_valid_signatures(app, cast):
    with time_machine.travel(T0, tick=False) as traveller:
        agreement = factories.agreement(cast.agency)
        amendment = _draft(cast, agreement)
        assert (amendment.state, amendment.reference) == ("draft", f"AMD-{cast.agency.id:04d}-01")
        amendment = amendments.send(cast.admin, amendment.id, REQ)
        assert amendment.state == "sent" and amendment.invited_at == T0 == amendment.sent_at
        assert amendment.document.kind == "amendment"
        assert "Please sign the amendment" in _subjects("ed@hope.test")[0]
        [request_row] = db.session.scalars(select(SignatureRequest)).all()
        assert (request_row.case_type, request_row.signer_id) == ("amendment", cast.ed.id)
        amendment = _sign(cast, amendment)
        assert amendment.state == "agency_signed" and request_row.signed_at == T0
        assert "Ready to countersign" in _subjects("sign@ssf.test")[0]
        # The countersignature the next evening in Sacramento (already Dec 3 in UTC).
        traveller.move_to(datetime(2026, 12, 3, 5, 0, tzinfo=UTC))
        amendment = amendments.countersign(
            cast.signatory, amendment.id, password=PASSWORD, intent=True, consent=True, request=REQ
        )
    assert amendment.state == "effective" and amendment.effective_on == date(2026, 12, 2)
    assert amendments.in_force(agreement) == [amendment]
    events = [t.event for t in cases.history("amendment", amendment.id)]
    assert events == ["create", "send", "agency_signs", "lead_countersigns"]
    assert [v.label.split(" by ")[0] for v in amendment.document.versions] == [
        "Issued and certified",
        "Signed for the agency",
        "Countersigned for Sacramento Steps Forward",
    ]
    final = documents.read_bytes(amendment.document.current)
    checked = verification.verify(final)
    signatures = checked.report.signatures
    assert len(signatures) == 3 and all(s.ok for s in signatures), checked.report
    assert signatures[0].is_certification
    assert [s.field_name for s in signatures[1:]] == ["agency_signature", "lead_signature"]
    assert [s.signer_name for s in signatures[1:]] == ["Eve Director", "Sol Signer"]
    assert checked.judgement.verdict.value == "valid_on_record"
    assert any(s.startswith("Fully signed") for s in _subjects("ed@hope.test"))
    assert any(s.startswith("Fully signed") for s in _subjects("admin@ssf.test"))


@needs_pdftotext
def test_the_pdf_says_what_changes_and_the_agreement_it_amends(app, cast):
    amendment = _sent(cast)
    text = flat(" ".join(page_texts(documents.read_bytes(amendment.document.current))))
    for words in (amendment.reference, amendment.agreement.reference, "IX (retention)"):
        assert words in text
    assert "<seven> years & then destroyed" in text
    assert "The retention period changed." in text


def test_a_form_sent_twice_makes_one_amendment(app, cast):
    agreement = factories.agreement(cast.agency)
    key = form_keys.new_key()
    first = _draft(cast, agreement, key)
    again = _draft(cast, agreement, key)
    assert again.id == first.id and again.already_given
    assert db.session.scalar(select(func.count(Amendment.id))) == 1
    with pytest.raises(ServiceError, match="already used for something else"):
        amendments.propose(
            cast.ed, agreement.id, sections="X", new_text="Y", reason="", form_key=key, request=REQ
        )


def test_bad_input_and_an_agreement_not_in_effect_are_refused_plainly(app, cast):
    agreement = factories.agreement(cast.agency)
    with pytest.raises(ServiceError, match="New text is required"):
        amendments.draft(
            cast.admin, agreement.id, sections="IX", new_text=" ", reason="", form_key=None,
            request=REQ,
        )  # fmt: skip
    with pytest.raises(ServiceError, match="Sections changed"):
        amendments.draft(
            cast.admin, agreement.id, sections="I" * 201, new_text="T", reason="", form_key=None,
            request=REQ,
        )  # fmt: skip
    pending = factories.agreement(cast.other_agency, state="sent")
    with pytest.raises(ServiceError, match="Only an agreement in effect can be amended"):
        amendments.draft(
            cast.admin, pending.id, sections="IX", new_text="T", reason="", form_key=None,
            request=REQ,
        )  # fmt: skip
    with pytest.raises(Forbidden):
        amendments.draft(
            cast.signatory, agreement.id, sections="IX", new_text="T", reason="", form_key=None,
            request=REQ,
        )  # fmt: skip
    assert db.session.scalar(select(func.count(Amendment.id))) == 0


def test_an_agency_proposal_accepted_and_another_declined(app, cast):
    agreement = factories.agreement(cast.agency)

    def propose(user):
        return amendments.propose(
            user, agreement.id, sections="VI", new_text="New VI.", reason="Ours.", form_key=None,
            request=REQ,
        )  # fmt: skip

    with pytest.raises(Forbidden, match="executive director"):
        propose(cast.officer)
    proposal = propose(cast.ed)
    assert proposal.state == "proposed" and proposal.proposed_by_id == cast.ed.id
    assert any("Amendment proposed" in s for s in _subjects("admin@ssf.test"))
    [waiting] = amendments.awaiting(cast.admin)
    assert waiting.title == f"Accept the proposal: {proposal.reference}"
    assert amendments.awaiting(cast.ed) == []
    with pytest.raises(ServiceError, match="Only a lead agency HMIS admin"):
        amendments.accept_proposal(cast.ed, proposal.id, REQ)
    accepted = amendments.accept_proposal(cast.admin, proposal.id, REQ)
    assert accepted.state == "draft"
    assert amendments.next_steps(accepted, cast.admin).allows("send")

    second = propose(cast.ed)
    with pytest.raises(ServiceError, match="Give a reason"):
        amendments.decline_proposal(cast.admin, second.id, reason=" ", request=REQ)
    declined = amendments.decline_proposal(cast.admin, second.id, reason="Not needed.", request=REQ)
    assert (declined.state, declined.closed_reason) == ("proposal_declined", "Not needed.")
    assert any("proposal declined" in s for s in _subjects("ed@hope.test"))
    assert [a.id for a in amendments.for_agreement(cast.ed, agreement.id)] == [
        proposal.id,
        second.id,
    ]


def test_another_agency_sees_nothing(app, cast):
    agreement = factories.agreement(cast.agency)
    amendment = _draft(cast, agreement)
    for act in (
        lambda: amendments.get(cast.other_ed, amendment.id),
        lambda: amendments.for_agreement(cast.other_ed, agreement.id),
        lambda: amendments.decline(cast.other_ed, amendment.id, reason="x", request=REQ),
        lambda: amendments.propose(
            cast.other_ed,
            agreement.id,
            sections="I",
            new_text="T",
            reason="",
            form_key=None,
            request=REQ,
        ),  # fmt: skip
    ):
        with pytest.raises(NotFound):
            act()
    assert amendments.get(cast.auditor, amendment.id) == amendment


def test_the_agency_declines_and_its_links_stop(app, cast):
    cast.ed.password_hash = None  # a new ED: the request comes as an invitation
    db.session.commit()
    amendment = _sent(cast)
    assert _subjects("ed@hope.test")[0].startswith("Set your")
    view = amendments.signing_view(cast.ed, amendment.id)
    assert (view.may_sign, view.may_decline, view.event) == (True, True, "agency_signs")
    view = amendments.signing_view(cast.officer, amendment.id)
    assert not view.may_sign and "registered executive director" in view.reason
    with pytest.raises(ServiceError, match="Only the agency's registered executive director"):
        amendments.decline(cast.officer, amendment.id, reason="No.", request=REQ)
    amendment = amendments.decline(cast.ed, amendment.id, reason="Too strict.", request=REQ)
    assert (amendment.state, amendment.closed_reason) == ("declined", "Too strict.")
    assert signature_requests.live("amendment", amendment.id) == []
    assert any(s.startswith("Declined: amendment") for s in _subjects("admin@ssf.test"))
    with pytest.raises(ServiceError, match="nothing to decline"):
        amendments.decline(cast.ed, amendment.id, reason="Again.", request=REQ)


def _unchanged(amendment_id: int) -> None:
    db.session.expire_all()
    amendment = db.session.get(Amendment, amendment_id)
    assert amendment.state == "sent" and len(amendment.document.versions) == 1
    assert amendment.agency_signed_at is None
    steps = select(Transition).where(
        Transition.case_type == "amendment", Transition.event == "agency_signs"
    )
    assert not db.session.scalars(steps).all()
    audits = select(AuditEvent).where(AuditEvent.action == "amendment.agency_signs")
    assert not db.session.scalars(audits).all()


def test_storage_failing_while_signing_leaves_nothing_then_the_lead_declines(app, cast, tmp_path):
    from portal.storage import LocalStorage

    amendment = _sent(cast)
    parts = app.extensions["portal"]
    good = parts["storage"]
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    failing = LocalStorage(Path(blocker) / "docs")
    failing.get = good.get  # reads work; only the write of the signed version fails
    parts["storage"] = failing
    try:
        with pytest.raises(ServiceError, match="could not be stored, so nothing was changed"):
            _sign(cast, amendment)
    finally:
        parts["storage"] = good
    _unchanged(amendment.id)
    assert len(signature_requests.live("amendment", amendment.id)) == 1
    amendment = _sign(cast, db.session.get(Amendment, amendment.id))
    assert amendment.state == "agency_signed"
    # The lead agency may decline what the agency signed; its admin as well as a signatory.
    amendment = amendments.decline(cast.admin, amendment.id, reason="Wrong text.", request=REQ)
    assert (amendment.state, amendment.closed_reason) == ("declined", "Wrong text.")
    events = [t.event for t in cases.history("amendment", amendment.id)]
    assert events[-1] == "lead_declines"
    assert any(s.startswith("Declined: amendment") for s in _subjects("ed@hope.test"))


def test_reminders_after_3_7_and_14_days_then_it_expires(app, cast):
    def reminders() -> int:
        return sum(s.startswith("Reminder: Please sign") for s in _subjects("ed@hope.test"))

    with time_machine.travel(T0, tick=False) as traveller:
        amendment = _sent(cast)
        [expiry] = deadlines.pending_for("amendment", amendment.id)
        assert expiry.event == "expire"
        for day, count in ((3, 1), (7, 2), (14, 3)):
            traveller.move_to(T0 + timedelta(days=day) - timedelta(minutes=1))
            assert deadlines.sweep() == 0
            traveller.move_to(T0 + timedelta(days=day, minutes=1))
            assert deadlines.sweep() == 1 and reminders() == count
        traveller.move_to(expiry.due_at - timedelta(minutes=1))
        assert deadlines.sweep() == 0
        traveller.move_to(expiry.due_at + timedelta(minutes=1))
        assert deadlines.sweep() == 1
    db.session.expire_all()
    amendment = db.session.get(Amendment, amendment.id)
    assert amendment.state == "expired" and "Not signed by the agency" in amendment.closed_reason
    assert local_date(expiry.due_at) == date(2026, 12, 31)  # 30 days from the day after
    assert signature_requests.live("amendment", amendment.id) == []
    assert any(s.startswith("Expired unsigned") for s in _subjects("admin@ssf.test"))


def test_the_agreement_ending_closes_an_open_amendment(app, cast):
    agreement = factories.agreement(cast.agency)
    amendment = _draft(cast, agreement)
    cases.advance(
        AGREEMENT,
        agreement,
        "terminate",
        None,
        {},
        at=clock.now(),
        request=REQ,
    )
    db.session.commit()
    assert amendment.state == "closed" and agreement.reference in amendment.closed_reason


def test_a_reminder_now_and_a_new_link_that_restarts_the_expiry(app, cast):
    from portal.services import signature_followup

    with time_machine.travel(T0, tick=False) as traveller:
        amendment = _sent(cast)
        [first] = signature_requests.live("amendment", amendment.id)
        [expiry] = deadlines.pending_for("amendment", amendment.id)
        traveller.move_to(T0 + timedelta(days=5))
        signature_followup.remind_now(cast.admin, "amendment", amendment.id, REQ)
        assert first.reminders == 1
        assert _subjects("ed@hope.test")[-1].startswith("Reminder: Please sign")
        signature_followup.resend(cast.admin, "amendment", amendment.id, REQ)
        [second] = signature_requests.live("amendment", amendment.id)
        assert second.id != first.id and first.replaced_at == clock.now()
        assert amendment.state == "sent" and amendment.invited_at == clock.now()
        [later] = deadlines.pending_for("amendment", amendment.id)
        assert local_date(later.due_at) == local_date(expiry.due_at) + timedelta(days=5)
        assert signature_followup.follow(cast.ed, _token(second)) == (
            f"/amendments/{amendment.id}/sign"
        )


def _token(row) -> str:
    link = signature_requests.link_of(row)
    return link.rsplit("/", 1)[1]


def test_the_lead_agency_voids_a_draft_with_a_reason(app, cast):
    amendment = _draft(cast, factories.agreement(cast.agency))
    assert [o.event for o in amendments.options(amendment, cast.admin) if o.allowed] == [
        "send",
        "void",
    ]
    with pytest.raises(ServiceError, match="Give a reason"):
        amendments.void(cast.admin, amendment.id, reason="", request=REQ)
    with pytest.raises(ServiceError, match="changed since you opened it"):
        amendments.void(cast.admin, amendment.id, reason="x", request=REQ, expected_version=99)
    amendment = amendments.void(cast.admin, amendment.id, reason="Drafted twice.", request=REQ)
    assert (amendment.state, amendment.closed_reason) == ("voided", "Drafted twice.")
    assert _subjects("ed@hope.test") == []  # never sent: nobody at the agency to tell
