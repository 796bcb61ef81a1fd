"""A form that gives a notice acts once (issue 11, "No duplicate notices"): the same one-time
key sent again, later or at the same moment, returns the notice the first made, with no
second signature, stored PDF or e-mail. On SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    DefaultNotice,
    Document,
    DocumentVersion,
    OutboxMessage,
    TerminationNotice,
    User,
)
from portal.services import deadlines, default_notices, form_keys, signing
from portal.services.errors import ServiceError
from tests import factories
from tests.conftest import PASSWORD
from tests.notices import give_default, give_termination
from tests.services.helpers import REQ

START = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def signatures(monkeypatch) -> list[str]:
    """The title of each PDF signed from here on (the real signing, counted)."""
    signed: list[str] = []
    real = signing.issue_signed

    def counted(rendered, signer, now, *, reason):
        signed.append(reason)
        return real(rendered, signer, now, reason=reason)

    monkeypatch.setattr(signing, "issue_signed", counted)
    return signed


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def evidence(kind: str) -> tuple[int, int, int, int]:
    """What giving a notice leaves: documents of `kind`, their stored versions (certified
    and signed), e-mails queued and audit entries."""
    docs = select(Document.id).where(Document.kind == kind)
    return (
        count(Document, Document.kind == kind),
        count(DocumentVersion, DocumentVersion.document_id.in_(docs)),
        count(OutboxMessage),
        count(AuditEvent, AuditEvent.action.like(f"{kind}.%")),
    )


def declare(actor, notice, key):
    return default_notices.declare_termination(
        actor, notice.id, password=PASSWORD, intent=True, consent=True, request=REQ, form_key=key
    )


def test_a_notice_of_default_sent_twice_with_one_key_is_given_once(app, cast, clock, signatures):
    agreement = factories.agreement(cast.agency)
    key = form_keys.new_key()
    first = give_default(cast.signatory, agreement, form_key=key)
    assert not first.already_given and first.form_key == key
    once = evidence("default_notice")
    assert once[:2] == (1, 2) and once[2] >= 1  # certified and signed; mailed to the agency

    clock.shift(0.5)  # the double click of the issue: half a second later
    db.session.expire_all()
    again = give_default(cast.signatory, agreement, form_key=key)
    assert again.id == first.id and again.already_given
    assert count(DefaultNotice) == 1
    assert evidence("default_notice") == once  # nothing signed, stored, mailed or logged again
    assert signatures == ["Notice of Default"]

    # A later retry still lands on it, even with words changed meanwhile.
    later = give_default(cast.signatory, agreement, form_key=key, description="Changed.")
    assert later.id == first.id and count(DefaultNotice) == 1


def test_different_keys_give_different_notices_as_the_rules_permit(app, cast, clock):
    agreement = factories.agreement(cast.agency)
    one = give_default(cast.signatory, agreement, form_key=form_keys.new_key())
    two = give_default(cast.signatory, agreement, form_key=form_keys.new_key())
    assert one.id != two.id and count(DefaultNotice) == 2
    assert evidence("default_notice")[:2] == (2, 4)
    # Without a form (the demo, a script) every call gives a notice, as before.
    give_default(cast.signatory, agreement)
    give_default(cast.signatory, agreement)
    assert count(DefaultNotice) == 4 and count(DefaultNotice, DefaultNotice.form_key.is_(None)) == 2

    # A notice of termination: one key gives one; another key is refused by the rule of one
    # running notice at a time, not by the key.
    key = form_keys.new_key()
    termination = give_termination(cast.signatory, agreement, form_key=key)
    once = evidence("termination_notice")
    again = give_termination(cast.signatory, agreement, form_key=key)
    assert again.id == termination.id and again.already_given
    assert evidence("termination_notice") == once and count(TerminationNotice) == 1
    with pytest.raises(ServiceError, match="already running"):
        give_termination(cast.signatory, agreement, form_key=form_keys.new_key())


def test_a_form_without_its_key_or_with_anothers_is_asked_to_be_reloaded(app, cast, clock):
    agreement = factories.agreement(cast.agency)
    for sent in ("", "   ", "short", "x" * 65, "not a key!" * 3):
        with pytest.raises(ServiceError, match="Reload the page"):
            give_default(cast.signatory, agreement, form_key=sent)
    assert count(DefaultNotice) == 0
    key = form_keys.new_key()
    notice = give_default(cast.signatory, agreement, form_key=key)
    # The agency's ED sending the SSF signatory's key (it cannot guess it, but still) gets
    # no notice of theirs and no look at SSF's.
    with pytest.raises(ServiceError, match="already used for something else"):
        give_default(cast.ed, agreement, form_key=key)
    assert count(DefaultNotice) == 1 and notice.given_by_id == cast.signatory.id


def test_a_declaration_sent_twice_signs_and_mails_once(app, cast, clock, signatures):
    agreement = factories.agreement(cast.agency)
    notice = give_default(cast.signatory, agreement, form_key=form_keys.new_key())
    clock.move_to(notice.cure_ends_at)
    deadlines.sweep()
    db.session.expire_all()
    assert notice.state == "lapsed"

    key = form_keys.new_key()
    declared = declare(cast.signatory, notice, key)
    assert declared.state == "terminated" and agreement.state == "terminated"
    assert not declared.already_given and declared.declaration_key == key
    assert signatures == ["Notice of Default", "Declaration of Termination"]
    once = evidence("declaration_of_termination")
    assert once[:2] == (1, 2)
    mails = count(OutboxMessage)

    again = declare(cast.signatory, notice, key)
    assert again.id == notice.id and again.already_given
    assert evidence("declaration_of_termination") == once and count(OutboxMessage) == mails
    assert signatures == ["Notice of Default", "Declaration of Termination"]
    # Another key finds the agreement already terminated: the machine's refusal, unchanged.
    with pytest.raises(ServiceError):
        declare(cast.signatory, notice, form_keys.new_key())
    # The key of one notice's declaration is not another notice's.
    with pytest.raises(ServiceError, match="already used for something else"):
        default_notices.declare_termination(
            cast.signatory,
            notice.id + 1,
            password=PASSWORD,
            intent=True,
            consent=True,
            request=REQ,
            form_key=key,
        )


def race(app, racers: int, action) -> list[object]:
    """Runs `action(user_id)` in `racers` threads at once, each with its own app context
    and session (as two requests of one person would); what each returned, or its error."""
    start = threading.Barrier(racers)
    outcomes: list[object] = []

    def racer() -> None:
        with app.app_context():
            try:
                start.wait(timeout=30)
                outcomes.append(action())
            except ServiceError as refused:
                outcomes.append(refused.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=racer) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_two_submissions_at_once_give_one_notice(app, cast, clock, signatures):
    agreement = factories.agreement(cast.agency)
    db.session.commit()
    signatory_id, agreement_id = cast.signatory.id, agreement.id
    key = form_keys.new_key()

    def give_it():
        signatory = db.session.get(User, signatory_id)
        notice = default_notices.give(
            signatory,
            agreement_id,
            provisions=["V.E.12"],
            description="Separations were reported late.",
            cure_required="Report every separation within one business day.",
            password=PASSWORD,
            intent=True,
            consent=True,
            request=REQ,
            form_key=key,
        )
        return notice.id, notice.already_given

    outcomes = race(app, 2, give_it)
    db.session.expire_all()
    [notice] = db.session.scalars(select(DefaultNotice)).all()
    # Both requests land on the one notice: one made it, the other found it.
    assert sorted(outcomes, key=str) == [(notice.id, False), (notice.id, True)], outcomes
    assert notice.form_key == key
    assert signatures == ["Notice of Default"]  # the second waited on the key, then found it
    assert evidence("default_notice")[:2] == (1, 2)
    assert count(AuditEvent, AuditEvent.action == "default_notice.give") == 1
    subject = f"Notice of Default {notice.reference}"
    mailed = count(OutboxMessage, OutboxMessage.subject == subject)
    assert mailed == len({"ed@hope.test", "so@hope.test"})  # once to each of the agency's


def test_two_declarations_at_once_sign_one(app, cast, clock, signatures):
    agreement = factories.agreement(cast.agency)
    notice = give_default(cast.signatory, agreement)
    clock.move_to(notice.cure_ends_at)
    deadlines.sweep()
    db.session.commit()
    signatory_id, notice_id = cast.signatory.id, notice.id
    key = form_keys.new_key()

    def declare_it():
        signatory = db.session.get(User, signatory_id)
        declared = default_notices.declare_termination(
            signatory,
            notice_id,
            password=PASSWORD,
            intent=True,
            consent=True,
            request=REQ,
            form_key=key,
        )
        return declared.id, declared.already_given

    signatures.clear()
    outcomes = race(app, 2, declare_it)
    assert signatures == ["Declaration of Termination"]
    assert sorted(outcomes, key=str) == [(notice_id, False), (notice_id, True)], outcomes
    db.session.expire_all()
    assert evidence("declaration_of_termination")[:2] == (1, 2)
    assert db.session.get(DefaultNotice, notice_id).state == "terminated"
