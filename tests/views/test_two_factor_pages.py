"""Two-factor sign-in through the pages: setting it up, signing in with a code or a recovery
code, wrong codes counting towards the lockout, turning it off, and the setting that
requires it of staff and signers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent
from tests.conftest import PASSWORD, csrf_token
from tests.support.sign_in import (  # noqa: F401  (fresh_login_user is a fixture)
    code_for,
    enrol,
    fresh_login_user,
    login,
    post_form,
)

pytestmark = pytest.mark.usefixtures("fresh_login_user")


def _actions(action: str) -> list[str]:
    query = select(AuditEvent.summary).where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def _security(client) -> str:
    return " ".join(client.get("/account/security").get_data(as_text=True).split())


def _code(client, code: str):
    return post_form(client, "/login/code", {"code": code})


def test_enrolment_shows_the_key_and_ten_recovery_codes_once(client, cast, auth):
    auth.login("ed@hope.test")
    secret, codes = enrol(client)
    assert len(secret) >= 16 and len(codes) == 10 and len(set(codes)) == 10
    page = _security(client)
    assert "is <strong>on</strong>" in page and "10 unused recovery codes" in page
    assert secret not in page and codes[0] not in page
    assert _actions("two_factor.enabled")


def test_a_wrong_code_does_not_turn_it_on(client, cast, auth):
    auth.login("ed@hope.test")
    page = client.get("/account/security")
    client.post("/account/two-factor/start", data={"csrf_token": csrf_token(page)})
    page = client.get("/account/security")
    wrong = client.post(
        "/account/two-factor/confirm",
        data={"csrf_token": csrf_token(page), "code": "000000"},
        follow_redirects=True,
    )
    assert "not correct" in wrong.get_data(as_text=True)
    assert "is <strong>on</strong>" not in _security(client)


def test_sign_in_asks_for_the_code_and_signs_in_only_when_it_is_right(app, client, cast, auth):
    auth.login("ed@hope.test")
    secret, _ = enrol(client)
    auth.logout()
    first = login(client, "ed@hope.test")
    assert first.headers["Location"] == "/login/code"
    assert client.get("/agreements/").status_code == 302  # not signed in yet
    wrong = _code(client, "000000")
    assert "not correct" in wrong.get_data(as_text=True)
    assert client.get("/agreements/").status_code == 302
    right = _code(client, code_for(secret))
    assert right.headers["Location"] == "/"
    assert client.get("/agreements/").status_code == 200


def test_wrong_codes_count_towards_the_lockout(app, client, cast, auth, mailbox):
    auth.login("ed@hope.test")
    secret, _ = enrol(client)
    auth.logout()
    login(client, "ed@hope.test")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        _code(client, "000000")
    locked = _code(client, "000000")
    assert "locked until" in locked.get_data(as_text=True)
    assert "locked until" in _code(client, code_for(secret)).get_data(as_text=True)
    assert "locked until" in login(client, "ed@hope.test").get_data(as_text=True)
    mailbox.deliver()
    assert any("locked" in m["Subject"] for m in mailbox.to("ed@hope.test"))


def test_a_recovery_code_signs_in_once(client, cast, auth):
    auth.login("ed@hope.test")
    _, codes = enrol(client)
    auth.logout()
    login(client, "ed@hope.test")
    assert _code(client, codes[0].upper()).headers["Location"] == "/"
    assert _actions("two_factor.recovery_code_used") == ["Signed in with a recovery code (9 left)"]
    auth.logout()
    login(client, "ed@hope.test")
    again = _code(client, codes[0])
    assert "not correct" in again.get_data(as_text=True)


def test_turning_it_off_needs_the_password(client, cast, auth):
    auth.login("ed@hope.test")
    enrol(client)
    wrong = post_form(
        client, "/account/two-factor/disable", {"password": "nope"}, "/account/security"
    )
    assert client.get(wrong.headers["Location"]).status_code == 200
    assert "is <strong>on</strong>" in _security(client)
    post_form(client, "/account/two-factor/disable", {"password": PASSWORD}, "/account/security")
    assert "is <strong>off</strong>" in _security(client)
    assert _actions("two_factor.disabled")
    auth.logout()
    assert login(client, "ed@hope.test").headers["Location"] == "/"


def test_staff_and_signers_must_enrol_before_anything_else(app, client, cast, auth, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED", "staff_and_signers")
    assert login(client, "ed@hope.test").headers["Location"] == "/account/security"
    assert client.get("/agreements/").headers["Location"] == "/account/security"
    secret, _ = enrol(client)
    assert client.get("/agreements/").status_code == 200
    auth.logout()
    assert login(client, "ed@hope.test").headers["Location"] == "/login/code"
    assert _code(client, code_for(secret)).headers["Location"] == "/"


def test_staff_and_signers_leaves_other_users_free(app, client, cast, monkeypatch):
    from tests import factories

    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED", "staff_and_signers")
    factories.person(
        cast.agency, email="cm@hope.test", name="Cam Manager", title="CM", role="agency_user"
    )
    assert login(client, "cm@hope.test").headers["Location"] == "/"
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED", "everyone")
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/account/security"))})
    assert login(client, "cm@hope.test").headers["Location"] == "/account/security"
