"""E-mail is delivered at least once: a row the database failed to mark sent goes out again,
with the same Message-ID, so receivers can drop the duplicate. A hung mail server holds the
mail job only SMTP_TIMEOUT_SECONDS."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.models import OutboxMessage
from portal.notify import outbox


def queued(to: str) -> int:
    outbox.queue(to, "Your agreement", "Please sign it.")
    db.session.commit()
    return db.session.scalar(db.select(OutboxMessage.id).where(OutboxMessage.to_addr == to))


def test_a_message_sent_twice_carries_the_same_message_id(app, mailbox, monkeypatch):
    row_id = queued("ed@hope.test")
    real_commit = db.session.commit
    commits = []

    def connection_drops_after_smtp_accepted():
        commits.append(1)
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(db.session, "commit", connection_drops_after_smtp_accepted)
    with pytest.raises(OperationalError):
        outbox.deliver_pending()
    monkeypatch.setattr(db.session, "commit", real_commit)
    db.session.rollback()
    assert db.session.get(OutboxMessage, row_id).status == "pending"  # so it goes again

    assert mailbox.deliver() == 1
    first, second = mailbox.to("ed@hope.test")
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].startswith(f"<outbox.{row_id}.")
    assert first["Message-ID"].endswith("@localhost>")  # the domain of MAIL_FROM


def test_each_row_has_its_own_message_id(app, mailbox):
    queued("one@example.test")
    queued("two@example.test")
    assert mailbox.deliver() == 2
    [one], [two] = mailbox.to("one@example.test"), mailbox.to("two@example.test")
    assert one["Message-ID"] != two["Message-ID"]


def test_a_hung_mail_server_holds_the_mail_job_only_the_smtp_timeout(app, mailbox, monkeypatch):
    with socket.socket() as listener:  # accepts, never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        monkeypatch.setitem(app.config, "SMTP_PORT", listener.getsockname()[1])
        monkeypatch.setitem(app.config, "SMTP_TIMEOUT_SECONDS", 1)
        row_id = queued("ed@hope.test")
        started = time.monotonic()
        assert mailbox.deliver() == 0
        assert time.monotonic() - started < 5
    db.session.expire_all()
    row = db.session.get(OutboxMessage, row_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "timed out" in row.last_error


def test_the_smtp_timeout_is_a_setting(monkeypatch, tmp_path):
    from portal.config import Config

    assert Config(instance_path=tmp_path).SMTP_TIMEOUT_SECONDS == 10
    monkeypatch.setenv("SMTP_TIMEOUT_SECONDS", "3")
    assert Config(instance_path=tmp_path).SMTP_TIMEOUT_SECONDS == 3
