"""bench/load.py's end-of-run checks can fail: one planted fault each, on a tiny database.

The bench itself (servers, load, faults) is not part of the suite; these show that each
"must be 0" it prints would not be 0 if the fault were there.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from bench.load import duplicates, half_done, lost_mail, missing_objects, outbox_ids
from portal import clock, runtime
from portal.extensions import db
from tests import factories


@pytest.fixture
def signed(app, cast):
    """An agreement in effect with its transitions and stored document versions."""
    return factories.agreement(cast.agency, state="effective", documents=True)


def _checked(check, *args):
    with db.engine.connect() as conn:
        return check(conn, *args)


def test_a_consistent_database_passes_every_check(signed):
    assert _checked(half_done).count == 0
    assert _checked(duplicates).count == 0
    assert _checked(missing_objects, runtime.storage().get).count == 0
    assert _checked(lost_mail, set()).lost.count == 0


def test_a_case_whose_state_is_not_its_last_step_is_half_done(signed):
    db.session.execute(
        text("UPDATE agreement SET state = 'sent' WHERE id = :id"), {"id": signed.id}
    )
    db.session.commit()
    found = _checked(half_done)
    assert found.count == 1 and "state sent" in found.examples[0]


def test_a_signed_step_without_its_document_version_is_half_done(signed):
    db.session.execute(
        text(
            "DELETE FROM document_version WHERE transition_id = (SELECT id FROM transition "
            "WHERE case_id = :id AND event = 'agency_signs')"
        ),
        {"id": signed.id},
    )
    db.session.commit()
    found = _checked(half_done)
    assert found.count == 1 and "agency_signs" in found.examples[0]


def test_a_step_recorded_twice_is_a_duplicate(signed):
    db.session.execute(
        text(
            "INSERT INTO transition (case_type, case_id, event, source, target, at, actor_id, "
            "actor_role, reason, ip, user_agent) SELECT case_type, case_id, event, source, "
            "target, at, actor_id, actor_role, reason, ip, user_agent FROM transition "
            "WHERE case_id = :id AND event = 'lead_countersigns'"
        ),
        {"id": signed.id},
    )
    db.session.commit()
    found = _checked(duplicates)
    assert found.count == 1 and "lead_countersigns" in found.examples[0]


def test_a_version_whose_object_is_gone_is_missing(signed):
    db.session.execute(
        text(
            "UPDATE document_version SET storage_key = :key "
            "WHERE id = (SELECT MIN(id) FROM document_version)"
        ),
        {"key": "sha256/00/00/" + "0" * 64},
    )
    db.session.commit()
    assert _checked(missing_objects, runtime.storage().get).count == 1


def test_mail_never_attempted_or_never_received_is_lost(app):
    now = clock.now()
    rows = [("sent", 1), ("sent", 1), ("pending", 0), ("pending", 2), ("failed", 8)]
    for status, attempts in rows:
        db.session.execute(
            text(
                "INSERT INTO outbox_message (created_at, to_addr, subject, body, attachments, "
                "status, attempts, next_attempt_at, last_error) VALUES (:at, 'a@b.test', 's', "
                "'b', '[]', :status, :attempts, :next, '')"
            ),
            {"at": now, "status": status, "attempts": attempts, "next": now + timedelta(1)},
        )
    db.session.commit()
    first = db.session.scalar(text("SELECT MIN(id) FROM outbox_message"))
    received = outbox_ids([f"<outbox.{first}.0a1b2c@localhost>", "<unrelated@host>"])
    outcome = _checked(lost_mail, received)
    # The second sent row never arrived; the pending row was never attempted.
    assert outcome.lost.count == 2
    assert (outcome.sent, outcome.pending_attempted, outcome.failed) == (2, 1, 1)
