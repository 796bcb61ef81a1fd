"""Requests only queue e-mail; the scheduler's mail job delivers it. A slow or dead mail server
never holds a person's request."""

from __future__ import annotations

import socket
import time

import pytest

from portal.extensions import db
from portal.models import OutboxMessage
from portal.services import setup


@pytest.fixture
def hanging_smtp_port():
    """A port that accepts connections (the kernel completes the handshake) but never says a
    word: a client waiting for the SMTP greeting would wait out its whole timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        yield listener
        # Nothing may have connected while the test ran.
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_a_request_queues_mail_without_touching_the_mail_server(
    app, mailbox, hanging_smtp_port, monkeypatch
):
    setup.initialize()
    working_port = app.config["SMTP_PORT"]
    monkeypatch.setitem(app.config, "SMTP_PORT", hanging_smtp_port.getsockname()[1])

    started = time.monotonic()
    setup.add_lead_person(email="new@ssf.test", name="Nia New", title="Analyst", role="auditor")
    took = time.monotonic() - started

    # smtplib would wait 15 s for the greeting; the request did not wait at all.
    assert took < 5, f"the request took {took:.1f} s"
    with pytest.raises(BlockingIOError):
        hanging_smtp_port.accept()  # no connection was ever made
    [message] = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.to_addr == "new@ssf.test")
    ).all()
    assert (message.status, message.attempts) == ("pending", 0) and not message.last_error
    assert not mailbox.messages

    # The mail server is back: the scheduler's mail job delivers it.
    monkeypatch.setitem(app.config, "SMTP_PORT", working_port)
    assert mailbox.deliver() == 1
    [mail] = mailbox.to("new@ssf.test")
    assert "/invitation/" in mail.get_content()
    db.session.expire_all()
    assert (message.status, message.attempts) == ("sent", 1)
