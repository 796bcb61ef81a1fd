"""When storage, signing, the database or e-mail fails halfway, nothing is left half-done,
the person is told plainly, and trying again works."""

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from portal import clock
from portal.extensions import db
from portal.models import Agreement, AuditEvent, OutboxMessage, Transition
from portal.notify import outbox
from portal.services import agreement_signatures, agreements
from portal.services.errors import ServiceError
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, sent_agreement


def _sign(cast, agreement):
    return agreement_signatures.sign_as_agency(
        cast.ed, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )


def _unchanged(agreement_id: int) -> Agreement:
    db.session.expire_all()
    agreement = db.session.get(Agreement, agreement_id)
    assert agreement.state == "sent"
    assert len(agreement.document.versions) == 1
    assert not db.session.scalars(
        db.select(Transition).where(
            Transition.case_id == agreement_id, Transition.event == "agency_signs"
        )
    ).all()
    assert not db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "agreement.agency_signs")
    ).all()
    return agreement


def test_storage_down_while_signing(app, cast, tmp_path):
    from portal.storage import LocalStorage

    agreement = sent_agreement(cast)
    parts = app.extensions["portal"]
    good = parts["storage"]
    # A storage root under a regular file: every write fails in the operating system.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    failing = LocalStorage(Path(blocker) / "docs")
    failing.get = good.get  # reads still work; only the write of the signed version fails
    parts["storage"] = failing
    with pytest.raises(ServiceError, match="could not be stored, so nothing was changed"):
        _sign(cast, agreement)
    _unchanged(agreement.id)
    assert cast.ed.esign_consent_at is None
    parts["storage"] = good
    assert _sign(cast, agreement).state == "agency_signed"


def test_database_fails_after_signing_and_storing(app, cast):
    agreement = sent_agreement(cast)

    def fail_on_version_insert(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO DOCUMENT_VERSION"):
            raise OperationalError(statement, params, Exception("server closed the connection"))

    event.listen(db.engine, "before_cursor_execute", fail_on_version_insert)
    try:
        with pytest.raises(ServiceError, match="database could not save this change"):
            _sign(cast, agreement)
    finally:
        event.remove(db.engine, "before_cursor_execute", fail_on_version_insert)
    _unchanged(agreement.id)
    assert _sign(cast, agreement).state == "agency_signed"


def test_mail_server_down_keeps_the_signature_and_retries_the_mail(app, cast, mailbox):
    agreement = sent_agreement(cast)
    mailbox.deliver()
    mailbox.refuse = True
    signed = _sign(cast, agreement)
    assert signed.state == "agency_signed"
    assert mailbox.deliver() == 0  # the scheduler's mail job meets the refusing server
    waiting = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.status == "pending")
    ).all()
    assert waiting and all("451" in m.last_error for m in waiting)
    assert not mailbox.to("sign@ssf.test")
    mailbox.refuse = False
    assert mailbox.deliver() == 0  # not due yet: back-off
    with time_machine.travel(clock.now() + timedelta(minutes=5)):
        assert mailbox.deliver() == len(waiting)
    assert mailbox.to("sign@ssf.test")


def test_mail_gives_up_after_the_set_number_of_attempts(app, cast, mailbox):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    try:
        mailbox.refuse = True
        sent_agreement(cast)
        mailbox.deliver()  # the first attempt, by the scheduler's mail job
        with time_machine.travel(clock.now() + timedelta(hours=1)):
            outbox.deliver_pending()
        message = db.session.scalars(
            db.select(OutboxMessage).where(
                OutboxMessage.to_addr == "ed@hope.test", OutboxMessage.subject.like("Please sign%")
            )
        ).one()
        assert message.status == "failed" and message.attempts == 2
    finally:
        app.config["MAIL_MAX_ATTEMPTS"] = 8


def test_timestamp_authority_unreachable_while_signing(app, cast):
    from pyhanko.sign.timestamps import HTTPTimeStamper

    from portal import runtime
    from portal.documents.signing import DocumentSigner

    agreement = sent_agreement(cast)
    parts = app.extensions["portal"]
    # A real RFC 3161 client aimed at a closed port on this machine.
    parts["signer"] = DocumentSigner(
        runtime.pki(), timestamper=HTTPTimeStamper("http://127.0.0.1:9/tsa", timeout=2)
    )
    with pytest.raises(ServiceError, match="Nothing was signed"):
        _sign(cast, agreement)
    _unchanged(agreement.id)
    parts.pop("signer")
    assert _sign(cast, agreement).state == "agency_signed"


def test_signing_refused_when_sending_leaves_a_draft(app, cast):
    from pyhanko.sign.timestamps import HTTPTimeStamper

    from portal import runtime
    from portal.documents.signing import DocumentSigner

    draft = agreements.create(cast.admin, cast.agency.id, REQ)
    app.extensions["portal"]["signer"] = DocumentSigner(
        runtime.pki(), timestamper=HTTPTimeStamper("http://127.0.0.1:9/tsa", timeout=2)
    )
    with pytest.raises(ServiceError, match="Nothing was sent"):
        agreements.send(cast.admin, draft.id, REQ)
    db.session.expire_all()
    again = db.session.get(Agreement, draft.id)
    assert again.state == "draft" and again.document is None
    app.extensions["portal"].pop("signer")
    assert agreements.send(cast.admin, draft.id, REQ).state == "sent"


def test_a_failing_mail_server_is_tried_once_per_pass_not_once_per_message(app, cast, mailbox):
    from tests.services.helpers import effective

    effective(cast)  # the fully signed copies go to several people at once
    mailbox.refuse = True
    mailbox.deliver()  # one pass of the scheduler's mail job
    pending = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id)
    ).all()
    assert len(pending) >= 3
    assert pending[0].attempts == 1 and all(m.attempts == 0 for m in pending[1:])
    mailbox.refuse = False
    with time_machine.travel(clock.now() + timedelta(minutes=5)):
        outbox.deliver_pending()
    db.session.expire_all()
    assert all(m.status == "sent" for m in pending)
