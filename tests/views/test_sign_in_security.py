"""The attacks on sign-in from the issue "access that stays right", each reproduced as a test,
and the pages that resist them: safe redirects, sessions that end on the server, lockout,
throttles, invitations, password rules, forgotten passwords and password age."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent
from tests.conftest import PASSWORD, csrf_token
from tests.support.sign_in import (  # noqa: F401  (fresh_login_user is a fixture)
    cookie,
    fresh_login_user,
    link,
    login,
    post_form,
    replay,
    throttled,
)

NEW_PASSWORD = "plum orchard lantern 42"

pytestmark = pytest.mark.usefixtures("fresh_login_user")


def _actions(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- open redirect -------------------------------------------------------------------------


def test_a_tab_in_next_does_not_redirect_off_site(client, cast):
    response = login(client, "admin@ssf.test", query="?next=/%09/evil.example/x")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_newline_in_next_is_not_an_error(client, cast):
    response = login(client, "admin@ssf.test", query="?next=/x%0d%0aSet-Cookie:%20a=b")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_other_hosts_in_next_are_not_followed(client, cast):
    for target in ("//evil.example", "/\\evil.example", "https://evil.example/", "javascript:x"):
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/login"))})
        response = login(client, "admin@ssf.test", query=f"?next={target}")
        assert response.headers["Location"] == "/", target


def test_a_same_site_next_is_followed(client, cast):
    response = login(client, "admin@ssf.test", query="?next=/agencies/")
    assert response.headers["Location"] == "/agencies/"


# --- sessions on the server ----------------------------------------------------------------


def test_logout_ends_the_session_on_the_server(client, cast, auth):
    auth.login("admin@ssf.test")
    stolen = cookie(client)
    assert client.get("/audit/").status_code == 200
    auth.logout()
    replay(client, stolen)
    response = client.get("/audit/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _actions("logout")


def test_logout_ends_the_persons_other_sessions_too(app, cast, auth):
    other = app.test_client()
    login(other, "admin@ssf.test")
    auth.login("admin@ssf.test")
    auth.logout()
    assert other.get("/audit/").status_code == 302


def test_sign_in_gives_a_new_session_id(client, cast):
    client.get("/login")
    before = cookie(client)
    assert before  # the login form's CSRF token made a session
    login(client, "admin@ssf.test")
    after = cookie(client)
    assert after and after != before
    replay(client, before)
    assert client.get("/audit/").status_code == 302


def test_a_new_password_ends_the_persons_other_sessions(app, client, cast, auth):
    laptop = app.test_client()
    login(laptop, "admin@ssf.test")
    auth.login("admin@ssf.test")
    done = post_form(
        client,
        "/account/password",
        {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert client.get("/audit/").status_code == 200  # this session stays
    assert laptop.get("/audit/").status_code == 302  # the other one ended
    assert login(app.test_client(), "admin@ssf.test", NEW_PASSWORD).status_code == 302
    assert _actions("password_changed")


def test_changing_the_password_needs_the_current_one_and_the_rules(client, cast, auth):
    auth.login("admin@ssf.test")
    wrong = post_form(
        client,
        "/account/password",
        {"current": "not it at all", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert "current password is not correct" in wrong.get_data(as_text=True)
    common = post_form(
        client,
        "/account/password",
        {"current": PASSWORD, "password": "password123!", "confirm": "password123!"},
    )
    assert "too common" in common.get_data(as_text=True)


def test_a_session_ends_after_the_idle_timeout(app, client, cast, auth):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        auth.login("admin@ssf.test")
        traveller.shift(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1))
        assert client.get("/audit/").status_code == 200
        traveller.shift(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
        assert client.get("/audit/").status_code == 302


def test_a_session_ends_after_the_absolute_timeout_however_busy(app, client, cast, auth):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        auth.login("admin@ssf.test")
        hours = app.config["SESSION_MAX_HOURS"]
        for _ in range(hours * 4 - 1):  # a request every 15 minutes: never idle
            traveller.shift(timedelta(minutes=15))
            assert client.get("/audit/").status_code == 200
        traveller.shift(timedelta(minutes=16))
        assert client.get("/audit/").status_code == 302


# --- lockout -------------------------------------------------------------------------------


def test_the_account_locks_after_repeated_wrong_passwords(app, client, cast, mailbox):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
            wrong = login(client, "admin@ssf.test", "not the password")
            assert "not correct" in wrong.get_data(as_text=True)
        locked = login(client, "admin@ssf.test", "not the password")
        assert "locked until" in locked.get_data(as_text=True)
        right = login(client, "admin@ssf.test")
        assert right.status_code == 200 and "locked until" in right.get_data(as_text=True)
        mailbox.deliver()
        [mail] = mailbox.to("admin@ssf.test")
        assert "locked" in mail["Subject"] and "/password/forgot" in mail.get_content()
        assert len(_actions("login_failed")) == app.config["LOGIN_MAX_FAILURES"]
        assert len(_actions("login_locked")) == 1
        traveller.shift(timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] + 1))
        assert login(client, "admin@ssf.test").status_code == 302


def test_an_unknown_address_locks_with_the_same_words(app, client, cast):
    answers = []
    for email in ("admin@ssf.test", "nobody@nowhere.test"):
        for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1):
            text = login(client, email, "not the password").get_data(as_text=True)
        assert "Signing in with this e-mail address is locked until" in text
        answers.append(text.split("locked until")[0][-300:])
    assert answers[0] == answers[1]


def test_a_successful_sign_in_resets_the_count(app, client, cast, auth):
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(client, "admin@ssf.test", "not the password")
    assert auth.login("admin@ssf.test").status_code == 302
    auth.logout()
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(client, "admin@ssf.test", "not the password")
    assert auth.login("admin@ssf.test").status_code == 302


# --- throttle ------------------------------------------------------------------------------


def test_login_is_throttled_per_client_address(app, client, cast):
    with throttled(app, LOGIN_RATE_LIMIT="3 per minute"):
        for n in range(3):
            assert login(client, f"n{n}@nowhere.test", "x").status_code == 200
        refused = login(client, "n4@nowhere.test", "x")
        assert refused.status_code == 429
        assert "Too many requests" in refused.get_data(as_text=True)
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "192.0.2.99"
        assert login(other, "n5@nowhere.test", "x").status_code == 200


def test_verify_and_the_api_are_throttled(app, client, cast):
    with throttled(app, VERIFY_RATE_LIMIT="2 per minute", API_RATE_LIMIT="2 per minute"):
        page = client.get("/verify")
        for _ in range(2):
            client.post("/verify", data={"csrf_token": csrf_token(page)})
        assert client.post("/verify", data={"csrf_token": csrf_token(page)}).status_code == 429
        for _ in range(2):
            assert client.post("/api/v1/verify", data=b"%PDF-").status_code != 429
        refused = client.post("/api/v1/verify", data=b"%PDF-")
        assert refused.status_code == 429 and refused.json["error"]["code"] == "too_many_requests"
        assert client.get("/api/v1/agreements").status_code == 429  # the whole API
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "192.0.2.99"
        assert other.post("/api/v1/verify", data=b"%PDF-").status_code != 429


# --- invitations ---------------------------------------------------------------------------


def _invitation(cast, person_email="sue@dawn.test"):
    from portal.services import agencies
    from tests.services.helpers import REQ

    agencies.register(
        cast.admin,
        legal_name="New Dawn",
        address="x",
        vawa_provider=False,
        executive_director=agencies.Contact("Ned Dawnley", "ED", "ned@dawn.test"),
        security_officer=agencies.Contact("Sue Dawnley", "SO", person_email),
        request=REQ,
    )


def test_opening_an_invitation_does_not_log_out_whoever_is_signed_in(client, cast, auth, mailbox):
    _invitation(cast)
    path = link(mailbox, "sue@dawn.test", "/invitation")
    auth.login("admin@ssf.test")
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert "You are signed in as <strong>Ada Admin</strong>" in text
    assert client.get("/audit/").status_code == 200  # still signed in
    # Logging out from that page opens the link.
    done = client.post(f"/logout?next={path}", data={"csrf_token": csrf_token(page)})
    assert done.headers["Location"] == path
    assert "Welcome, Sue Dawnley" in client.get(path).get_data(as_text=True)


def test_an_older_invitation_stops_working_after_a_newer_one(client, cast, mailbox):
    from portal.models import User
    from portal.services import auth
    from portal.services.unit import unit_of_work

    _invitation(cast)
    older = link(mailbox, "sue@dawn.test", "/invitation")
    sue = db.session.scalar(select(User).where(User.email == "sue@dawn.test"))
    with unit_of_work():
        auth.invite(sue, purpose="Again.")
    newer = link(mailbox, "sue@dawn.test", "/invitation")
    assert newer != older
    assert client.get(older).status_code == 400
    assert client.get(newer).status_code == 200


def test_a_common_or_personal_password_is_refused_everywhere(client, cast, mailbox):
    _invitation(cast)
    path = link(mailbox, "sue@dawn.test", "/invitation")
    for bad, words in (
        ("password123!", "too common"),
        ("Summer2026!!", "too common"),
        ("sue dawnley rocks", "your name"),
        ("new dawn forever", "agency"),
    ):
        answer = post_form(client, path, {"password": bad, "confirm": bad})
        assert words in answer.get_data(as_text=True), bad
    good = post_form(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert good.status_code == 302


# --- forgot password -----------------------------------------------------------------------


def _forgot(client, email):
    return post_form(client, "/password/forgot", {"email": email})


def test_forgot_password_answers_alike_and_mails_only_real_accounts(client, cast, mailbox):
    known = client.get(_forgot(client, "ed@hope.test").headers["Location"])
    unknown = client.get(_forgot(client, "ghost@hope.test").headers["Location"])
    assert "If an account uses that address" in known.get_data(as_text=True)
    assert "If an account uses that address" in unknown.get_data(as_text=True)
    mailbox.deliver()
    assert len(mailbox.to("ed@hope.test")) == 1
    assert mailbox.to("ghost@hope.test") == []


def test_a_reset_link_works_once_ends_every_session_and_only_the_newest(app, client, cast, mailbox):
    signed_in = app.test_client()
    login(signed_in, "ed@hope.test")
    _forgot(client, "ed@hope.test")
    older = link(mailbox, "ed@hope.test", "/password/reset")
    _forgot(client, "ed@hope.test")
    newest = link(mailbox, "ed@hope.test", "/password/reset")
    assert client.get(older).status_code == 400
    done = post_form(client, newest, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert client.get(newest).status_code == 400  # used
    assert signed_in.get("/agreements/").status_code == 302  # every session ended
    assert login(client, "ed@hope.test", NEW_PASSWORD).status_code == 302
    assert _actions("password_reset")


def test_a_reset_link_expires(app, client, cast, mailbox):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        _forgot(client, "ed@hope.test")
        path = link(mailbox, "ed@hope.test", "/password/reset")
        traveller.shift(timedelta(hours=app.config["RESET_HOURS"], minutes=1))
        expired = client.get(path)
        assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)


def test_a_reset_lifts_a_lockout(app, client, cast, mailbox):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, "ed@hope.test", "not the password")
    _forgot(client, "ed@hope.test")
    path = link(mailbox, "ed@hope.test", "/password/reset")
    post_form(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert login(client, "ed@hope.test", NEW_PASSWORD).status_code == 302


# --- password age --------------------------------------------------------------------------


def test_an_old_password_must_be_replaced_before_anything_else(app, client, cast):
    days = app.config["PASSWORD_MAX_AGE_DAYS"]
    with time_machine.travel(clock.now() + timedelta(days=days + 1), tick=False):
        signed_in = login(client, "admin@ssf.test")
        assert signed_in.headers["Location"] == "/account/password"
        assert client.get("/audit/").headers["Location"] == "/account/password"
        assert client.get("/api/v1/agreements").status_code == 403
        done = post_form(
            client,
            "/account/password",
            {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert done.status_code == 302
        assert client.get("/audit/").status_code == 200


def test_a_young_password_is_not_asked_for(app, client, cast):
    days = app.config["PASSWORD_MAX_AGE_DAYS"]
    with time_machine.travel(clock.now() + timedelta(days=days - 1), tick=False):
        assert login(client, "admin@ssf.test").headers["Location"] == "/"


# --- refused attempts ----------------------------------------------------------------------


def test_a_refused_attempt_is_audited_with_its_path(client, cast, auth):
    auth.login("ed@hope.test")
    answer = post_form(
        client,
        "/agencies/new",
        {
            "legal_name": "Sneaky Shelter",
            "address": "1 Road",
            "ed_name": "A B",
            "ed_title": "ED",
            "ed_email": "a@sneaky.test",
            "so_name": "C D",
            "so_title": "SO",
            "so_email": "c@sneaky.test",
        },
    )
    assert "Only a lead agency HMIS admin" in answer.get_data(as_text=True)
    [event] = _actions("access.refused")
    assert event.actor_id == cast.ed.id and event.after == {"path": "/agencies/new"}
