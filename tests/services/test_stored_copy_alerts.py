"""A stored copy that no longer matches its fingerprint alerts the lead agency for real: a log
line, an audit event and an e-mail to its admins, kept even when the change that found it
rolls back. Storage and mail outages are logged with their cause."""

from __future__ import annotations

import logging
import os

import pytest
from sqlalchemy import select

from portal import runtime
from portal.extensions import db
from portal.models import Agreement, AuditEvent, OutboxMessage
from portal.services import agreement_signatures, alerts, documents
from portal.services.errors import ServiceError
from portal.storage import LocalStorage, S3Storage
from tests import factories
from tests.conftest import PASSWORD
from tests.services.helpers import REQ


@pytest.fixture
def own_storage(app, tmp_path):
    """Documents in a folder of this test's own: the copies it alters are no other test's."""
    app.extensions.setdefault("portal", {})["storage"] = LocalStorage(tmp_path / "documents")


def tamper(version) -> None:
    """Change the stored bytes behind the portal's back, as bit rot or an intruder would."""
    path = runtime.storage().root / version.storage_key
    os.chmod(path, 0o644)
    path.write_bytes(b"%PDF-1.7\n% not what was signed\n%%EOF\n")


def alerts_for(version) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == alerts.ALTERED, AuditEvent.object_id == version.id
            )
        )
    )


def mail_to(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == address)))


def test_opening_an_altered_copy_alerts_the_lead_agency(app, cast, own_storage, caplog):
    agreement = factories.agreement(cast.agency, state="effective", documents=True)
    version = agreement.document.current
    tamper(version)
    with (
        caplog.at_level(logging.ERROR, logger="portal.alerts"),
        pytest.raises(ServiceError, match="has been alerted; do not rely on this copy"),
    ):
        documents.download(cast.ed, version.id)
    assert "ALERT: The stored copy of" in caplog.text
    assert version.storage_key in caplog.text
    db.session.expire_all()
    [event] = alerts_for(version)
    assert event.agency_id == cast.agency.id and event.object_type == "documentversion"
    assert event.after["recorded_sha256"] == version.sha256
    assert event.after["actual_sha256"] != version.sha256
    [mail] = mail_to(cast.admin.email)
    assert mail.subject.startswith("ALERT: a stored document does not match its record")
    assert version.storage_key in mail.body
    assert not mail_to(cast.ed.email)  # the admins are alerted, not the agency

    # Opening it again does not send the admins another e-mail the same day.
    with pytest.raises(ServiceError, match="has been alerted"):
        documents.download(cast.ed, version.id)
    db.session.expire_all()
    assert len(alerts_for(version)) == 1 and len(mail_to(cast.admin.email)) == 1


def test_the_alert_is_kept_when_the_change_that_found_it_rolls_back(app, cast, own_storage):
    agreement = factories.agreement(cast.agency, state="sent", documents=True)
    version = agreement.document.current
    tamper(version)
    with pytest.raises(ServiceError, match="has been alerted"):
        agreement_signatures.sign_as_agency(
            cast.ed, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
        )
    db.session.expire_all()
    assert db.session.get(Agreement, agreement.id).state == "sent"  # nothing was signed
    assert len(alerts_for(version)) == 1
    assert len(mail_to(cast.admin.email)) == 1


def test_a_storage_outage_is_logged_with_its_cause(app, cast, caplog):
    agreement = factories.agreement(cast.agency, state="effective", documents=True)
    app.extensions["portal"]["storage"] = S3Storage(
        "documents",
        endpoint_url="http://127.0.0.1:9",  # nothing listens
        access_key="key",
        secret_key="secret",
        max_attempts=1,
    )
    with (
        caplog.at_level(logging.WARNING, logger="portal.alerts"),
        pytest.raises(ServiceError, match="Document storage is unavailable"),
    ):
        documents.read_bytes(agreement.document.current)
    [record] = [r for r in caplog.records if r.name == "portal.alerts"]
    assert record.levelno == logging.WARNING
    assert "document storage unavailable while reading" in record.getMessage()
    assert "cause: EndpointConnectionError" in record.getMessage()


def test_a_mail_outage_is_logged_with_its_cause(app, cast, mailbox, caplog):
    from portal.notify import outbox

    outbox.queue("someone@example.test", "Hello", "Body")
    db.session.commit()
    mailbox.refuse = True
    with caplog.at_level(logging.WARNING, logger="portal.mail"):
        assert mailbox.deliver() == 0
    [record] = [r for r in caplog.records if r.name == "portal.mail"]
    assert record.levelno == logging.WARNING
    assert "not sent (attempt 1, will retry): SMTPDataError" in record.getMessage()
    assert "451" in record.getMessage()
