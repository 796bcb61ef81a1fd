"""Queueing e-mail with the change that causes it, and delivering it after commit.

A message is a row written in the same transaction as the change: if the change rolls back,
no e-mail goes out. Requests only queue; the scheduler's mail job (portal.jobs.deliver_mail,
every MAIL_INTERVAL_SECONDS) and `flask send-mail` deliver. If the mail server is down, the row
waits and delivery is retried with back-off until it goes or has failed too often (then it is
marked failed for SSF to see). Claiming, retrying and giving up are portal.notify.delivery's,
shared with webhooks.

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
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr

from flask import current_app
from sqlalchemy.orm import Session

from portal import clock, runtime
from portal.extensions import db
from portal.models import OutboxMessage
from portal.notify import delivery

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
    """Sends due messages, one transaction each; returns how many went out. After a failure
    the rest keep their turn for the next pass (they would only wait on the same server)."""
    return delivery.deliver_pending(_OUTBOX, limit)


def _mark_sent(message: OutboxMessage, at: datetime) -> None:
    message.status = "sent"
    message.sent_at = at


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


_OUTBOX = delivery.Outbox(
    model=OutboxMessage,
    send=lambda message: _send(message),  # looked up at call time, so tests can replace it
    mark_done=_mark_sent,
    max_attempts=lambda: current_app.config["MAIL_MAX_ATTEMPTS"],
    describe=lambda message: f"E-mail {message.id} to {message.to_addr}",
    log=log,
)
