"""Signing in to the API with a personal token: `Authorization: Bearer hpp_…`.

Flask-Login asks `load_from_request` when the request has no session: the token's owner is
then the current user for this request only (no session is made), with exactly the rights
they have on the pages. A bad token is refused with a 401 by the API blueprint (`check`),
never taken as "not signed in" and answered as if the token were absent.

Writes (`writer`) need either a write token, or, with the session cookie, the CSRF token of
a page in the X-CSRFToken header: a browser sends the cookie by itself, never a token.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from portal.api.errors import ApiError, under_api
from portal.extensions import csrf, login_manager
from portal.services import api_tokens

# Kept in the request's WSGI environ, not in `g`: an app context may outlive one request
# (the tests share theirs), a request never does.
_TOKEN = "portal.api_token"  # the token this request is signed in with
_REFUSED = "portal.api_token_refused"  # why the bearer token was refused


@login_manager.request_loader
def load_from_request(req) -> Any:
    header = req.headers.get("Authorization")
    if header is None or not under_api():
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        req.environ[_REFUSED] = "Send the token as `Authorization: Bearer <token>`."
        return None
    try:
        owner, token = api_tokens.authenticate(secret.strip())
    except api_tokens.Refused as refused:
        req.environ[_REFUSED] = str(refused)
        return None
    req.environ[_TOKEN] = token
    return owner


def check() -> None:
    """Before every API view: a request that sent a token must be signed in by it."""
    if "Authorization" not in request.headers:
        return
    current_user._get_current_object()  # loads the user: the session's, else the token's
    if request.environ.get(_REFUSED):
        raise ApiError(401, request.environ[_REFUSED], code="invalid_token")
    if request.environ.get(_TOKEN) is None:
        raise ApiError(401, "Send either the session cookie or a bearer token, not both.")


def token() -> Any:
    """The token this request signed in with, or None (a session, or nobody)."""
    return request.environ.get(_TOKEN)


def require_login() -> None:
    if not current_user.is_authenticated:
        raise ApiError(
            401, "Sign in first: send the portal's session cookie or a bearer API token."
        )


def _require_csrf() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return  # turned off for the whole app: the pages do not check it either
    try:
        csrf.protect()
    except CSRFError:
        raise ApiError(
            400,
            "With the session cookie, send the CSRF token of a portal page in the "
            "X-CSRFToken header (or use a bearer API token instead).",
            code="csrf_failed",
        ) from None


def writer(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view that changes something: a write token, or a session with its CSRF token."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        require_login()
        used = token()
        if used is None:
            _require_csrf()
        elif used.scope != "write":
            raise ApiError(
                403,
                "This API token may only read. Make a token with write access to change things.",
                code="read_only_token",
            )
        return view(*args, **kwargs)

    # The check above replaces the app-wide one, which cannot tell a token from a cookie.
    return csrf.exempt(guarded)
