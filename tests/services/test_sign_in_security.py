"""Sign-in rules in the services: the password rules and their shipped list, the lockout, the
throttle on Redis, suspensions and resets ending sessions, and invitations of which only the
newest works."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

import pytest
import time_machine
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import UserSession
from portal.services import auth, passwords
from portal.services.errors import ServiceError
from tests.conftest import PASSWORD
from tests.services.helpers import REQ
from tests.support.sign_in import limiter_storage, login, throttled

REDIS_URL = "redis://127.0.0.1:6379/15"


# --- passwords -----------------------------------------------------------------------------


def test_the_shipped_list_holds_at_least_ten_thousand_common_passwords():
    text = resources.files("portal").joinpath("data/common-passwords.txt").read_text()
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(entries) >= 10_000
    assert {"password", "123456", "qwerty", "letmein", "welcome1"} <= set(entries)


@pytest.mark.parametrize(
    "password",
    [
        "password123!",
        "Password1234",
        "!!qwertyuiop!!",
        "Summer2026!!",
        "welcome12345",
        "123456789012",
        "aaaaaaaaaaaa",
        "abcabcabcabc",
        "hmis12345678",
    ],
)
def test_common_passwords_are_refused(app, password):
    assert "too common" in passwords.password_problem(password)


@pytest.mark.parametrize(
    "password, details",
    [
        ("nia.newhire 2026", ("nia.newhire@hope.test",)),
        ("newhire forever!", ("x@hope.test", "Nia Newhire")),
        ("harbor harbor 12", ("x@hope.test", "Nia", "Hope & Harbor <Shelter>")),
        ("SacramentoRocks1", ("x@hope.test", "Nia", "Other", "Sacramento Steps Forward")),
    ],
)
def test_passwords_built_on_the_persons_details_are_refused(app, password, details):
    assert "your name" in passwords.password_problem(password, *details)


def test_good_passwords_pass(app):
    for good in (PASSWORD, "plum orchard lantern 42", "Zx9!vT#q2mLp"):
        assert passwords.password_problem(good, "nia@hope.test", "Nia Newhire", "Hope") is None
    assert "at least 12" in passwords.password_problem("short")


def test_setting_a_password_records_its_date(app, cast, mailbox):
    from portal.services import agencies
    from tests.support.sign_in import link

    agencies.register(
        cast.admin,
        legal_name="New Dawn",
        address="x",
        vawa_provider=False,
        executive_director=agencies.Contact("Ned Dawnley", "ED", "ned@dawn.test"),
        security_officer=agencies.Contact("Sue Dawnley", "SO", "sue@dawn.test"),
        request=REQ,
    )
    token = link(mailbox, "sue@dawn.test", "/invitation").rsplit("/", 1)[1]
    with pytest.raises(ServiceError, match="too common"):
        auth.accept_invitation(token, "password123!", "password123!", REQ)
    user = auth.accept_invitation(token, "plum orchard lantern 42", "plum orchard lantern 42", REQ)
    assert user.password_changed_at == user.password_changed_at and user.password_changed_at
    assert abs(user.password_changed_at - clock.now()) < timedelta(minutes=1)


# --- lockout -------------------------------------------------------------------------------


def test_a_locked_account_refuses_the_right_password_until_the_lock_ends(app, cast, mailbox):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            with pytest.raises(ServiceError):
                auth.authenticate("ed@hope.test", "wrong password", REQ)
        with pytest.raises(ServiceError, match="locked until"):
            auth.authenticate("ed@hope.test", PASSWORD, REQ)
        db.session.refresh(cast.ed)
        assert cast.ed.locked_until is not None
        traveller.shift(
            timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"]) - timedelta(seconds=5)
        )
        with pytest.raises(ServiceError, match="locked until"):
            auth.authenticate("ed@hope.test", PASSWORD, REQ)
        traveller.shift(timedelta(seconds=10))
        assert auth.authenticate("ed@hope.test", PASSWORD, REQ).user.id == cast.ed.id
        db.session.refresh(cast.ed)
        assert cast.ed.failed_logins == 0 and cast.ed.locked_until is None


def test_the_lock_message_gives_the_local_time(app, cast):
    from portal.services.timefmt import local_datetime

    with time_machine.travel(clock.now(), tick=False):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            with pytest.raises(ServiceError):
                auth.authenticate("ed@hope.test", "wrong password", REQ)
        until = clock.now() + timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"])
        with pytest.raises(ServiceError) as refused:
            auth.authenticate("ed@hope.test", PASSWORD, REQ)
        assert local_datetime(until) in refused.value.message


# --- throttle on Redis ---------------------------------------------------------------------


def test_login_is_throttled_on_redis(app, client, cast):
    with throttled(app, LOGIN_RATE_LIMIT="2 per minute"), limiter_storage(REDIS_URL) as storage:
        assert login(client, "ed@hope.test", "x").status_code == 200
        assert login(client, "ed@hope.test", "x").status_code == 200
        assert login(client, "ed@hope.test", "x").status_code == 429
        assert any("sign-in" in key.decode() for key in storage.storage.keys("*"))


def test_redis_url_chooses_the_throttles_storage(monkeypatch):
    from portal.config import Config

    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    with_redis = Config(SECRET_KEY="x")
    assert with_redis.RATELIMIT_STORAGE_URI == REDIS_URL
    assert with_redis.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED is True  # Redis down: memory
    monkeypatch.delenv("REDIS_URL")
    alone = Config(SECRET_KEY="x")
    assert alone.RATELIMIT_STORAGE_URI == "portal-memory://"
    assert alone.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED is False
    assert Config(SECRET_KEY="x", REDIS_URL=REDIS_URL).RATELIMIT_STORAGE_URI == REDIS_URL


# --- sessions ending -----------------------------------------------------------------------


def _open_sessions(user_id: int) -> int:
    query = select(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    return len(db.session.scalars(query).all())


def test_a_suspension_ends_the_persons_sessions(app, cast):
    from portal.services import suspensions

    for person in (cast.ed, cast.officer):
        login(app.test_client(), person.email)
    assert _open_sessions(cast.ed.id) == 1
    suspensions.suspend(
        cast.admin, cast.agency.id, user_id=cast.ed.id, reason="Investigation", request=REQ
    )
    assert _open_sessions(cast.ed.id) == 0
    assert _open_sessions(cast.officer.id) == 1


def test_an_agency_suspension_ends_all_its_peoples_sessions(app, cast):
    from portal.services import suspensions

    for person in (cast.ed, cast.officer, cast.other_ed):
        login(app.test_client(), person.email)
    suspensions.suspend(cast.admin, cast.agency.id, user_id=None, reason="Breach", request=REQ)
    assert _open_sessions(cast.ed.id) == _open_sessions(cast.officer.id) == 0
    assert _open_sessions(cast.other_ed.id) == 1


# --- invitations ---------------------------------------------------------------------------


def test_only_the_newest_onboarding_invitation_works(app, cast, mailbox):
    from portal.services import onboarding
    from tests.support import onboarding as steps

    row = steps.requested(cast)
    older = steps.invitation_token(mailbox, steps.NEW_EMAIL)
    onboarding.reinvite(cast.ed, row.onboarding.id, request=REQ)
    newer = steps.invitation_token(mailbox, steps.NEW_EMAIL)
    assert older != newer
    with pytest.raises(ServiceError, match="newer link was sent"):
        auth.invitation_user(older)
    assert auth.invitation_user(newer).email == steps.NEW_EMAIL


def test_a_reset_token_is_no_invitation(app, cast):
    from portal.services import password_changes

    with time_machine.travel(clock.now(), tick=False):
        password_changes.request_reset("ed@hope.test", REQ)
    from portal.models import Invitation

    [row] = db.session.scalars(select(Invitation)).all()
    assert row.purpose == "reset"
    assert row.expires_at - row.created_at == timedelta(hours=app.config["RESET_HOURS"])


def test_the_in_memory_store_never_holds_a_process_at_exit():
    """Its expiry timer is a daemon thread: a command that made an app ends at once."""
    from limits.storage import storage_from_string

    from portal.throttle import QuietMemoryStorage

    store = storage_from_string("portal-memory://")
    assert isinstance(store, QuietMemoryStorage)
    store.incr("k", 60)
    assert store.timer.daemon and store.get("k") == 1
