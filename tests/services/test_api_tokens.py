"""Personal API tokens: shown once, kept only as a SHA-256, revocable, and expiring."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, OutboxMessage, User
from portal.models.integrations import ApiToken
from portal.services import api_token_admin, api_tokens, suspensions
from portal.services.errors import Forbidden, NotFound, ServiceError
from portal.services.timefmt import local_date
from tests.services.helpers import REQ
from tests.services.test_notice_form_keys import race


def test_a_token_is_shown_once_and_kept_only_as_its_hash(app, cast):
    issued = api_tokens.create(cast.ed, name="HMIS sync", scope="write", request=REQ)
    secret = issued.secret
    assert secret.startswith("hpp_") and len(secret) >= 4 + 43  # 32 random bytes, base64url
    [row] = db.session.scalars(select(ApiToken)).all()
    assert row.token_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:10] and secret not in (row.name, row.prefix)
    # Nothing the portal keeps holds the secret: not the row, not the audit trail.
    assert all(secret not in str(value) for value in vars(row).values())
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.create"))
    assert all(secret not in f"{e.summary}{e.after}" for e in events)
    owner, token = api_tokens.authenticate(secret)
    assert owner.id == cast.ed.id and token.id == row.id and token.scope == "write"
    other = api_tokens.create(cast.ed, name="HMIS sync", scope="read", request=REQ)
    assert other.secret != secret  # random each time, even with the same name


def test_unknown_and_malformed_tokens_are_refused(app, cast):
    api_tokens.create(cast.ed, name="A", scope="read", request=REQ)
    for secret in ("hpp_" + "x" * 43, "not-a-token", "", "hpp_" + "a" * 300):
        with pytest.raises(api_tokens.Refused):
            api_tokens.authenticate(secret)


def test_revoking_ends_a_token_at_once_and_only_its_owner_may(app, cast):
    issued = api_tokens.create(cast.ed, name="Old laptop", scope="read", request=REQ)
    with pytest.raises(NotFound):
        api_tokens.revoke(cast.other_ed, issued.token.id, request=REQ)
    api_tokens.authenticate(issued.secret)  # still works
    api_tokens.revoke(cast.ed, issued.token.id, request=REQ)
    with pytest.raises(api_tokens.Refused, match="revoked"):
        api_tokens.authenticate(issued.secret)
    assert api_tokens.state(db.session.get(ApiToken, issued.token.id)) == "revoked"
    api_tokens.revoke(cast.ed, issued.token.id, request=REQ)  # again: nothing new
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("api_token.%"))
    ).all()
    assert sorted(actions) == ["api_token.create", "api_token.revoke"]


def test_a_token_expires_at_the_end_of_its_last_day(app, cast):
    start = clock.now()
    last_day = local_date(start) + timedelta(days=10)
    issued = api_tokens.create(
        cast.ed, name="Pilot", scope="read", expires_on=last_day, request=REQ
    )
    with time_machine.travel(start + timedelta(days=10), tick=False):
        api_tokens.authenticate(issued.secret)
    later = start + timedelta(days=11, hours=12)
    with time_machine.travel(later, tick=False), pytest.raises(api_tokens.Refused, match="expired"):
        api_tokens.authenticate(issued.secret)
    for day in (local_date(start), local_date(start) - timedelta(days=1)):
        with pytest.raises(ServiceError, match="after today"):
            api_tokens.create(cast.ed, name="Past", scope="read", expires_on=day, request=REQ)
    with pytest.raises(ServiceError, match="two years"):
        api_tokens.create(
            cast.ed,
            name="Forever",
            scope="read",
            expires_on=local_date(start) + timedelta(days=800),
            request=REQ,
        )


def test_last_use_is_noted_at_most_once_a_minute(app, cast):
    issued = api_tokens.create(cast.ed, name="Sync", scope="read", request=REQ)
    start = clock.now()
    with time_machine.travel(start, tick=False):
        api_tokens.authenticate(issued.secret)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        api_tokens.authenticate(issued.secret)
    db.session.expire_all()
    assert db.session.get(ApiToken, issued.token.id).last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api_tokens.authenticate(issued.secret)
    db.session.expire_all()
    assert db.session.get(ApiToken, issued.token.id).last_used_at == start + timedelta(seconds=61)


def test_a_token_of_a_suspended_agency_stops_working_until_lifted(app, cast):
    issued = api_tokens.create(cast.ed, name="Sync", scope="write", request=REQ)
    held = suspensions.suspend(
        cast.admin, cast.agency.id, user_id=None, reason="Audit finding", request=REQ
    )
    with pytest.raises(api_tokens.Refused, match="no longer"):
        api_tokens.authenticate(issued.secret)
    suspensions.lift(cast.admin, held.id, reason="Resolved", request=REQ)
    assert api_tokens.authenticate(issued.secret)[0].id == cast.ed.id


def test_a_token_of_a_deactivated_person_stops_working(app, cast):
    issued = api_tokens.create(cast.ed, name="Sync", scope="write", request=REQ)
    cast.ed.active = False
    db.session.commit()
    with pytest.raises(api_tokens.Refused, match="no longer"):
        api_tokens.authenticate(issued.secret)


def test_names_and_scopes_are_checked(app, cast):
    with pytest.raises(ServiceError, match="Name is required"):
        api_tokens.create(cast.ed, name="  ", scope="read", request=REQ)
    with pytest.raises(ServiceError, match="read"):
        api_tokens.create(cast.ed, name="A", scope="admin", request=REQ)
    assert db.session.scalars(select(ApiToken)).all() == []


# --- the lead agency's HMIS admins: everyone's tokens ------------------------------------------


def _mails_to(address: str) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.to_addr == address)
    return list(db.session.scalars(query))


def test_an_admin_sees_everyones_tokens_without_their_secrets(app, cast):
    mine = api_tokens.create(cast.ed, name="Sync", scope="write", request=REQ)
    theirs = api_tokens.create(cast.other_ed, name="Report", scope="read", request=REQ)
    page = api_token_admin.tokens(cast.admin)
    assert [(r.token.id, r.owner.id, r.state) for r in page.items] == [
        (theirs.token.id, cast.other_ed.id, "active"),
        (mine.token.id, cast.ed.id, "active"),
    ]
    assert page.items[1].owner.agency.legal_name == cast.agency.legal_name
    # Keyset pages: one a page, newest first, and back.
    first = api_token_admin.tokens(cast.admin, per_page=1)
    second = api_token_admin.tokens(cast.admin, after=first.older, per_page=1)
    assert [r.token.id for r in first.items + second.items] == [theirs.token.id, mine.token.id]
    assert not second.has_older and second.newer == mine.token.id
    back = api_token_admin.tokens(cast.admin, before=second.newer, per_page=1)
    assert [r.token.id for r in back.items] == [theirs.token.id]


@pytest.mark.parametrize("who", ["ed", "officer", "other_ed", "signatory", "auditor"])
def test_only_lead_admins_see_or_revoke_others_tokens(app, cast, who):
    issued = api_tokens.create(cast.ed, name="Sync", scope="write", request=REQ)
    person = getattr(cast, who)
    with pytest.raises(Forbidden):
        api_token_admin.tokens(person)
    with pytest.raises(Forbidden):
        api_token_admin.revoke(person, issued.token.id, reason="Mine now", request=REQ)
    assert api_tokens.authenticate(issued.secret)[0].id == cast.ed.id  # still works
    assert _mails_to(cast.ed.email) == []


def test_an_admin_revokes_anothers_token_with_a_reason_once(app, cast):
    issued = api_tokens.create(cast.ed, name="Old laptop", scope="read", request=REQ)
    with pytest.raises(ServiceError, match="Reason is required"):
        api_token_admin.revoke(cast.admin, issued.token.id, reason="  ", request=REQ)
    with pytest.raises(NotFound):
        api_token_admin.revoke(cast.admin, issued.token.id + 99, reason="Lost", request=REQ)
    with pytest.raises(NotFound):
        api_token_admin.revoke(cast.admin, 2**63 + 1, reason="Lost", request=REQ)
    api_tokens.authenticate(issued.secret)

    done = api_token_admin.revoke(
        cast.admin, issued.token.id, reason="Laptop reported stolen", request=REQ
    )
    assert not done.already and done.owner_told and done.owner.id == cast.ed.id
    with pytest.raises(api_tokens.Refused, match="revoked"):
        api_tokens.authenticate(issued.secret)
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "api_token.revoke")
    ).all()
    assert event.actor_id == cast.admin.id and event.agency_id == cast.agency.id
    assert "Laptop reported stolen" in event.summary and event.after["reason"]
    assert issued.secret not in f"{event.summary}{event.after}"
    [mail] = _mails_to(cast.ed.email)
    assert "revoked" in mail.subject and cast.admin.name in mail.body
    assert "Laptop reported stolen" in mail.body and issued.token.prefix in mail.body
    assert issued.secret not in mail.body

    # The same form again, or the owner revoking too: nothing new recorded or mailed.
    again = api_token_admin.revoke(cast.admin, issued.token.id, reason="Again", request=REQ)
    assert again.already and not again.owner_told
    api_tokens.revoke(cast.ed, issued.token.id, request=REQ)
    count = select(func.count()).select_from(AuditEvent)
    assert db.session.scalar(count.where(AuditEvent.action == "api_token.revoke")) == 1
    assert len(_mails_to(cast.ed.email)) == 1


def test_an_admin_revoking_their_own_token_is_not_mailed(app, cast):
    issued = api_tokens.create(cast.admin, name="Mine", scope="write", request=REQ)
    done = api_token_admin.revoke(cast.admin, issued.token.id, reason="Rotated", request=REQ)
    assert not done.already and not done.owner_told
    assert _mails_to(cast.admin.email) == []


def test_two_revocations_at_once_record_and_mail_once(app, cast):
    issued = api_tokens.create(cast.ed, name="Sync", scope="write", request=REQ)
    db.session.commit()
    admin_id, token_id = cast.admin.id, issued.token.id

    def revoke_it():
        admin = db.session.get(User, admin_id)
        return api_token_admin.revoke(admin, token_id, reason="Leaked", request=REQ).already

    assert sorted(race(app, 2, revoke_it), key=str) == [False, True]
    db.session.expire_all()
    count = select(func.count()).select_from(AuditEvent)
    assert db.session.scalar(count.where(AuditEvent.action == "api_token.revoke")) == 1
    assert len(_mails_to(cast.ed.email)) == 1
