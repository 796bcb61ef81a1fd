"""Schemathesis against /api/v1/openapi.json, in process, with all its default checks.

Every operation of the document is run through schemathesis's phases (explicit examples,
coverage, fuzzing), with valid and invalid data, signed in as SSF staff (who see every
agency) and as an agency's executive director (who sees one). Its `ignored_auth` check also
sends each signed-in request again without the session cookie and with a forged one. No
answer may be a 5xx; every answer must be one the document declares, in its media type and
schema; invalid data must be refused and valid data accepted.

Deterministic (a fixed, derandomized search and no example database): the same requests on
every run, so the test cannot flake. No operation changes state (POST /verify only reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.core.transport import USER_AGENT
from schemathesis.python import wsgi

from portal.api import openapi
from tests import factories
from tests.conftest import PASSWORD, csrf_token
from tests.support.access import in_effect
from tests.support.access import request as access_request

MAX_EXAMPLES = 50  # per operation, person and generation mode; the coverage phase adds its own
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 11,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    }
)
PEOPLE = {"lead_agency_staff": "admin@ssf.test", "agency_director": "ed@hope.test"}
COOKIE = "session"  # the app's SESSION_COOKIE_NAME (checked below)


class SuiteApp:
    """The WSGI entry schemathesis calls: the suite's app, which exists only inside a test
    (the `app` fixture), while the schema and its cases are made when the module loads."""

    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "the suite's app is set by the `served` fixture"
        return self.app(environ, start_response)


SUITE_APP = SuiteApp()
# The session cookie of the person the running test signed in (`signed_in`).
SIGNED_IN: dict[str, str] = {}

schema = schemathesis.openapi.from_dict(openapi.document(COOKIE), config=CONFIG)
schema.app = SUITE_APP


@schema.auth(refresh_interval=None, retry_on=[])  # never cached: two people take turns
class PortalSession:
    """The document's `session` security scheme: the session cookie of the person signed in.

    The cases of the coverage phase are made when the module loads, before anyone signs
    in: they carry an empty cookie, which the test replaces with the real one.
    """

    def get(self, case, context) -> str:
        return SIGNED_IN.get(COOKIE, "")

    def set(self, case, data: str, context) -> None:
        case.cookies = {**(case.cookies or {}), COOKIE: data}


@pytest.fixture
def served(app) -> Iterator[Flask]:
    SUITE_APP.app = app
    yield app
    SUITE_APP.app = None


@pytest.fixture(params=sorted(PEOPLE))
def signed_in(request, served, cast) -> Iterator[str]:
    """Signs in through the real login form, in the client schemathesis itself uses.

    The same client, so the same browser and address: Flask-Login's "strong" session
    protection ends a session whose browser or address changes.
    """
    client = wsgi.get_client(served)
    browser = {"User-Agent": USER_AGENT}
    page = client.get("/login", headers=browser)
    answer = client.post(
        "/login",
        headers=browser,
        data={"email": PEOPLE[request.param], "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None and cookie.value
    SIGNED_IN[COOKIE] = cookie.value
    yield request.param
    SIGNED_IN.clear()


@pytest.fixture
def records(cast) -> None:
    # Records of both agencies, so ids 1 and 2 (the coverage phase's first guesses) find
    # something to show, and something to hide from the other agency's director.
    in_effect(cast.agency)
    factories.agreement(cast.other_agency, state="sent", documents=True)
    access_request(cast)


def test_the_served_document_is_the_one_tested(client, app):
    assert app.config["SESSION_COOKIE_NAME"] == COOKIE
    assert client.get("/api/v1/openapi.json").get_json() == schema.raw_schema


@schema.parametrize()
# The fixtures hold for every generated request: no operation changes what the next one sees.
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_the_api_does_what_its_document_says(case, records, signed_in):
    if COOKIE in (case.cookies or {}):  # put there by PortalSession, maybe before sign-in
        case.cookies[COOKIE] = SIGNED_IN[COOKIE]
    case.call_and_validate()
