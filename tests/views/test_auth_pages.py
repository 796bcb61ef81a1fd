"""Logging in, invitations, CSRF."""

import re

from tests.conftest import PASSWORD, csrf_token


def test_login_with_the_right_password(client, cast, auth):
    response = auth.login("admin@ssf.test")
    assert response.status_code == 302
    assert "Ada Admin" in client.get("/").get_data(as_text=True)


def test_wrong_password_is_a_plain_message(client, cast, auth):
    response = auth.login("admin@ssf.test", "not the password")
    assert response.status_code == 200
    assert "The e-mail or password is not correct." in response.get_data(as_text=True)


def test_a_form_without_csrf_token_is_refused(client, cast):
    response = client.post("/login", data={"email": "admin@ssf.test", "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_pages_need_login(client, cast):
    response = client.get("/agencies/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_invitation_sets_a_password_once(client, app, cast, mailbox):
    from portal.services import agencies
    from tests.services.helpers import REQ

    agencies.register(
        cast.admin,
        legal_name="New Dawn",
        address="x",
        vawa_provider=False,
        executive_director=agencies.Contact("Ned", "ED", "ned@dawn.test"),
        security_officer=agencies.Contact("Sue", "SO", "sue@dawn.test"),
        request=REQ,
    )
    mailbox.deliver()
    [mail] = mailbox.to("sue@dawn.test")
    path = re.search(r"http://portal\.test(/invitation/\S+)", mail.get_content()).group(1)
    page = client.get(path)
    assert "Sue" in page.get_data(as_text=True)
    short = client.post(
        path, data={"password": "short", "confirm": "short", "csrf_token": csrf_token(page)}
    )
    assert "at least 12" in short.get_data(as_text=True)
    done = client.post(
        path,
        data={
            "password": "a long enough secret",
            "confirm": "a long enough secret",
            "csrf_token": csrf_token(page),
        },
    )
    assert done.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/", follow_redirects=True))})
    again = client.get(path)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_open_redirect_is_not_followed(client, cast):
    page = client.get("/login")
    response = client.post(
        "/login?next=//evil.example/x",
        data={"email": "admin@ssf.test", "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.headers["Location"] == "/"
