"""Queueing e-mail with the change that causes it, and delivering it after commit.

A message is a row written in the same transaction as the change: if the change rolls back,
no e-mail goes out. Requests only queue; the scheduler's mail job (portal.jobs.deliver_mail,
every MAIL_INTERVAL_SECONDS) and `flask send-mail` deliver. If the mail server is down, the row
waits and delivery is retried with back-off until it goes or has failed too often (then it is
marked failed for SSF to see).

Delivery is at least once, not exactly once. A row is marked sent only after the mail server
has accepted the message; if the database fails between the two (or the process dies), the
row stays pending and the message is sent again. Every attempt for one row carries the same
Message-ID (`message_id`: from the row's id and creation time and this portal's address), so
a receiver or mail store that drops duplicate Message-IDs shows it once. Each failed attempt
is logged as a warning with its cause; a hung mail server holds an attempt at most
SMTP_TIMEOUT_SECONDS per step.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock, runtime
from portal.extensions import db
from portal.models import OutboxMessage

log = logging.getLogger("portal.mail")


def queue(
    to: str,
    subject: str,
    body: str,
    attachments: list[dict] | None = None,
    *,
    session: Session | None = None,
) -> None:
    """Adds a message to the current transaction (`session`'s when one is given).
    `attachments`: filename, storage_key and version_id (see documents.attachment)."""
    (session or db.session).add(
        OutboxMessage(
            created_at=clock.now(),
            to_addr=to,
            subject=subject[:300],
            body=body,
            attachments=attachments or [],
            next_attempt_at=clock.now(),
        )
    )


def deliver_pending(limit: int = 50) -> int:
    """Sends due messages, one transaction each; returns how many went out."""
    sent = 0
    for message_id in _due_ids(limit):
        outcome = _deliver_one(message_id)
        if outcome is None:
            # The mail server failed: the rest would only wait on it too. They keep their turn
            # for the next pass.
            break
        sent += outcome
    return sent


def _due_ids(limit: int) -> list[int]:
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= clock.now())
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    ids = list(db.session.scalars(query))
    db.session.rollback()
    return ids


def _deliver_one(message_id: int) -> bool | None:
    """True: sent. False: another sender had it. None: sending failed (recorded for retry)."""
    # Lock the row so two senders never send one message twice (SKIP LOCKED on PostgreSQL).
    query = select(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.status == "pending"
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    message = db.session.scalar(query)
    if message is None:
        db.session.rollback()
        return False
    try:
        _send(message)
    except Exception as exc:  # any failure: keep the row, try again later
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            message.status = "failed"
        else:
            message.next_attempt_at = clock.now() + timedelta(minutes=2**message.attempts)
        log.warning(
            "E-mail %s to %s not sent (attempt %d, %s): %s: %s",
            message.id,
            message.to_addr,
            message.attempts,
            "gave up" if message.status == "failed" else "will retry",
            type(exc).__name__,
            exc,
        )
        db.session.commit()
        return None
    message.attempts += 1
    message.status = "sent"
    message.sent_at = clock.now()
    db.session.commit()
    return True


def message_id(message: OutboxMessage) -> str:
    """The row's Message-ID: the same on every attempt to send it, and unlike any other row's
    of this or another portal (its id, its creation time and PORTAL_BASE_URL are hashed in, so
    a database restored from an older backup that reuses an id gives a new one)."""
    cfg = current_app.config
    seed = f"{cfg['PORTAL_BASE_URL']}|{message.id}|{message.created_at.isoformat()}"
    digest = hashlib.sha256(seed.encode()).hexdigest()[:24]
    domain = parseaddr(cfg["MAIL_FROM"])[1].rpartition("@")[2] or "hmis-portal.invalid"
    return f"<outbox.{message.id}.{digest}@{domain}>"


def _send(message: OutboxMessage) -> None:
    cfg = current_app.config
    email = EmailMessage()
    email["From"] = cfg["MAIL_FROM"]
    email["To"] = message.to_addr
    email["Subject"] = message.subject
    email["Message-ID"] = message_id(message)
    email.set_content(message.body)
    for item in message.attachments:
        data = runtime.storage().get(item["storage_key"], item.get("version_id"))
        email.add_attachment(data, maintype="application", subtype="pdf", filename=item["filename"])
    if not cfg.get("SMTP_HOST"):
        names = ", ".join(a["filename"] for a in message.attachments) or "none"
        log.info(
            "E-mail (no SMTP configured) to %s\nSubject: %s\nAttachments: %s\n\n%s",
            message.to_addr,
            message.subject,
            names,
            message.body,
        )
        return
    with smtplib.SMTP(
        cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=cfg["SMTP_TIMEOUT_SECONDS"]
    ) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls()
        if cfg.get("SMTP_USERNAME"):
            smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
        smtp.send_message(email)
