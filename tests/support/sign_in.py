"""Helpers for the sign-in security tests: cookies, links from e-mails, authenticator codes,
and the throttle turned on (the suite runs with it off; portal/config.py)."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pyotp
import pytest

from portal import clock
from tests.conftest import PASSWORD, csrf_token

COOKIE = "session"


def cookie(client) -> str | None:
    found = client.get_cookie(COOKIE)
    return found.value if found else None


def replay(client, value: str) -> None:
    """Puts a copied session cookie back, as an attacker who stole it would."""
    client.set_cookie(COOKIE, value)


def link(mailbox, address: str, path: str) -> str:
    """The path (from `path` on) of the newest link e-mailed to `address`."""
    mailbox.deliver()
    body = mailbox.to(address)[-1].get_content()
    match = re.search(rf"http://portal\.test({re.escape(path)}/[A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


def post_form(client, path: str, data: dict, page_path: str | None = None):
    """Posts `data` to `path` with the CSRF token of the page at `page_path` (default: path)."""
    page = client.get(page_path or path)
    return client.post(path, data={**data, "csrf_token": csrf_token(page)})


def login(client, email: str, password: str = PASSWORD, query: str = ""):
    return post_form(client, "/login" + query, {"email": email, "password": password}, "/login")


def code_for(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def enrol(client) -> tuple[str, list[str]]:
    """Turns on two-factor sign-in for whoever is signed in; returns the secret and the
    recovery codes as the pages show them."""
    page = client.get("/account/security")
    client.post("/account/two-factor/start", data={"csrf_token": csrf_token(page)})
    page = client.get("/account/security")
    text = page.get_data(as_text=True)
    secret = re.search(r"secret=([A-Z2-7]+)", text).group(1)
    done = client.post(
        "/account/two-factor/confirm",
        data={"csrf_token": csrf_token(page), "code": code_for(secret)},
    )
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.get_data(as_text=True))
    return secret, codes


@contextmanager
def throttled(app, **limits: str):
    """The throttle on, with fresh counts and these limits (e.g. LOGIN_RATE_LIMIT="3 per
    minute")."""
    from portal.extensions import limiter

    saved = {key: app.config[key] for key in ["THROTTLE_ENABLED", *limits]}
    app.config.update(THROTTLE_ENABLED=True, **limits)
    limiter.reset()
    try:
        yield limiter
    finally:
        app.config.update(saved)
        limiter.reset()


@contextmanager
def limiter_storage(uri: str):
    """The limiter counting in another storage (e.g. Redis) for the duration."""
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    from portal.extensions import limiter

    saved = limiter._storage, limiter._limiter
    storage = storage_from_string(uri)
    if not storage.check():
        pytest.skip(f"no storage at {uri}")
    limiter._storage, limiter._limiter = storage, FixedWindowRateLimiter(storage)
    try:
        yield storage
    finally:
        storage.reset()
        limiter._storage, limiter._limiter = saved


@pytest.fixture
def fresh_login_user(app):
    """Forgets Flask-Login's cached user before each request, as a server does: the tests'
    requests share the test's app context (see tests/conftest.py `_app`), so without this a
    replayed or ended session would still find the last request's user in `g`. (Appended
    to the hooks directly: the app has served requests already, so `before_request` is
    closed.)"""
    from flask import g

    def forget() -> None:
        g.pop("_login_user", None)

    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(0, forget)
    yield
    hooks.remove(forget)
