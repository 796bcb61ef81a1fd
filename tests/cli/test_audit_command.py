"""`flask audit verify` checks the chain on the configured database: intact → exit 0 and the
head; an audit row edited behind the portal's back → the entry named and a non-zero exit."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent
from portal.services import audit_chain
from tests.services.helpers import sent_agreement
from tests.support.audit import tamper


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_an_intact_chain_passes(app, cast):
    sent_agreement(cast)
    result = verify(app)
    assert result.exit_code == 0, result.output
    top = audit_chain.head(db.session)
    assert top.entries > 0
    assert result.output.strip() == (f"Audit chain intact: {top.entries} entries, head {top.hash}")


def test_an_empty_log_passes(app):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert f"Audit chain intact: 0 entries, head {audit_chain.GENESIS}" in result.output


def test_an_edited_row_is_named_and_fails(app, cast):
    sent_agreement(cast)
    sent = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "agreement.send")).one()
    tamper("UPDATE audit_event SET actor_label = 'Somebody else' WHERE id = :id", id=sent.id)
    result = verify(app)
    assert result.exit_code == 1
    assert f"entry id {sent.id}" in result.output
    assert "agreement.send" in result.output
    assert "changed after it was written" in result.output
    assert "Audit chain intact" not in result.output


def test_a_deleted_row_fails(app, cast):
    sent_agreement(cast)
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    gone, after = rows[1], rows[2]
    tamper("DELETE FROM audit_event WHERE id = :id", id=gone.id)
    result = verify(app)
    assert result.exit_code == 1
    assert f"entry id {after.id}" in result.output and "missing" in result.output
