"""The form that suspends access acts once (issue 11, as for notices): the same one-time key
sent again, later or at the same moment, returns the suspension the first made; nothing is
recorded, ended or held twice. On SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, CertificateRevocation, OutboxMessage, Transition, User
from portal.models.remedies import Suspension
from portal.services import form_keys, identities, suspensions
from portal.services.errors import Forbidden, ServiceError
from tests.conftest import PASSWORD
from tests.services.helpers import REQ
from tests.services.test_notice_form_keys import race

START = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def evidence() -> tuple[int, int, int, int, int]:
    """What suspending leaves: suspensions, their creation in the case history, audit
    entries, certificate holds and e-mails queued."""
    return (
        count(Suspension),
        count(Transition, Transition.case_type == "suspension"),
        count(AuditEvent, AuditEvent.action == "suspension.start"),
        count(CertificateRevocation),
        count(OutboxMessage),
    )


def suspend(cast, key, *, user=None, reason="Suspected sharing of passwords (V.E.3)."):
    return suspensions.suspend(
        cast.admin,
        cast.agency.id,
        user_id=user.id if user else None,
        reason=reason,
        request=REQ,
        form_key=key,
    )


def test_a_suspension_sent_twice_with_one_key_suspends_once(app, cast, clock):
    key = form_keys.new_key()
    first = suspend(cast, key, user=cast.officer)
    assert not first.already_given and first.form_key == key
    once = evidence()
    assert once[:3] == (1, 1, 1)

    clock.shift(0.5)  # a double click
    db.session.expire_all()
    again = suspend(cast, key, user=cast.officer)
    assert again.id == first.id and again.already_given
    assert evidence() == once
    # A later retry, even with the form changed meanwhile (the whole agency now), lands on it.
    later = suspend(cast, key, reason="Changed.")
    assert later.id == first.id and later.user_id == cast.officer.id and evidence() == once

    # Another key is another form: the rules decide (the officer is already suspended).
    with pytest.raises(ServiceError, match="already suspended"):
        suspend(cast, form_keys.new_key(), user=cast.officer)
    whole = suspend(cast, form_keys.new_key())
    assert whole.id != first.id and count(Suspension) == 2
    # Without a form (the demo, a script) there is no key, as before.
    assert (
        suspensions.suspend(
            cast.admin, cast.other_agency.id, user_id=None, reason="Audit", request=REQ
        ).form_key
        is None
    )


def test_a_form_without_its_key_or_with_anothers_is_refused(app, cast, clock):
    for sent in ("", "   ", "short", "x" * 65, "not a key!" * 3):
        with pytest.raises(ServiceError, match="Reload the page"):
            suspend(cast, sent)
    assert count(Suspension) == 0
    key = form_keys.new_key()
    suspend(cast, key, user=cast.ed)
    # The key is this agency's suspension's: for another agency it is refused, not reused.
    with pytest.raises(ServiceError, match="already used for something else"):
        suspensions.suspend(
            cast.admin, cast.other_agency.id, user_id=None, reason="x", request=REQ, form_key=key
        )
    # And no one but an admin learns anything from it.
    with pytest.raises(Forbidden):
        suspensions.suspend(
            cast.signatory, cast.agency.id, user_id=None, reason="x", request=REQ, form_key=key
        )
    assert count(Suspension) == 1


def test_two_submissions_at_once_suspend_once(app, cast, clock):
    identities.current_identity(identities.ConfirmedSigner(cast.ed, PASSWORD))  # to be held
    db.session.commit()
    admin_id, agency_id, ed_id = cast.admin.id, cast.agency.id, cast.ed.id
    key = form_keys.new_key()

    def suspend_it():
        admin = db.session.get(User, admin_id)
        made = suspensions.suspend(
            admin, agency_id, user_id=ed_id, reason="Audit", request=REQ, form_key=key
        )
        return made.id, made.already_given

    outcomes = race(app, 2, suspend_it)
    db.session.expire_all()
    [suspension] = db.session.scalars(select(Suspension)).all()
    assert sorted(outcomes, key=str) == [(suspension.id, False), (suspension.id, True)], outcomes
    assert suspension.form_key == key and suspension.user_id == ed_id
    assert evidence() == (1, 1, 1, 1, 0)  # one hold of the ED's one certificate; no mail
