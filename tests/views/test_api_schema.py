"""Schemathesis against /api/v1/openapi.json, in process, with all its default checks.

Every operation of the document is run through schemathesis's phases (explicit examples,
coverage, fuzzing), with valid and invalid data, signed in as SSF staff (who see every
agency) and as an agency's executive director (who sees one), with the session cookie (and
a page's CSRF token for writes), and as SSF's HMIS admin with a bearer write token. Its
`ignored_auth` check also sends each signed-in request again without the credentials and
with forged ones. No answer may be a 5xx; every answer must be one the document declares,
in its media type and schema; invalid data must be refused and valid data accepted (or
refused by a rule the document cannot express: a 422, which it declares).

Deterministic (a fixed, derandomized search and no example database): the same requests on
every run, so the test cannot flake. The writes do change state (agencies registered,
agreements sent, access requested, people separated), within the test's own database; the
reads' fixtures still find their records.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.core.transport import USER_AGENT
from schemathesis.python import wsgi
from sqlalchemy import select

from portal.api import openapi
from portal.extensions import db
from portal.models import User
from portal.services import api_tokens
from portal.services.access import SYSTEM
from tests import factories
from tests.conftest import PASSWORD, csrf_token
from tests.support.access import in_effect
from tests.support.access import request as access_request

# The API's contract does not depend on the database engine, so it is checked once, in the
# SQLite pass of `make test`; what the API does to the database (test_api.py,
# test_api_writes.py) is tested on both engines.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="the API contract is checked in the SQLite pass",
)

MAX_EXAMPLES = 50  # per operation, person and generation mode; the coverage phase adds its own
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 11,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        # A body may fit the document and still be refused by a rule it cannot express (a
        # last day in the future, an agency that already has an open agreement, a key used
        # before for another body): the API answers 422 then, as the document says.
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
            }
        },
    }
)
PEOPLE = {
    "lead_agency_staff": "admin@ssf.test",
    "agency_director": "ed@hope.test",
    "lead_admin_by_token": "admin@ssf.test",
}
COOKIE = "session"  # the app's SESSION_COOKIE_NAME (checked below)
BEARER = "Authorization"


class SuiteApp:
    """The WSGI entry schemathesis calls: the suite's app, which exists only inside a test
    (the `app` fixture), while the schema and its cases are made when the module loads."""

    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "the suite's app is set by the `served` fixture"
        return self.app(environ, start_response)


SUITE_APP = SuiteApp()
# The session cookie and CSRF token, or the bearer token, of whom the running test signed in.
SIGNED_IN: dict[str, str] = {}

schema = schemathesis.openapi.from_dict(openapi.document(COOKIE), config=CONFIG)
schema.app = SUITE_APP


@schema.auth(refresh_interval=None, retry_on=[])  # never cached: people take turns
class PortalSession:
    """The document's `session` security scheme (the session cookie, and the CSRF token a
    write needs with it) or its `bearer` one, whichever the running test signed in with.

    The cases of the coverage phase are made when the module loads, before anyone signs
    in: they carry empty credentials, which the test replaces with the real ones.
    """

    def get(self, case, context) -> str:
        return SIGNED_IN.get(BEARER) or SIGNED_IN.get(COOKIE, "")

    def set(self, case, data: str, context) -> None:
        if BEARER in SIGNED_IN:
            case.headers = {**(case.headers or {}), BEARER: data}
        else:
            case.cookies = {**(case.cookies or {}), COOKIE: data}
            case.headers = {**(case.headers or {}), "X-CSRFToken": SIGNED_IN.get("csrf", "")}


@pytest.fixture
def served(app) -> Iterator[Flask]:
    SUITE_APP.app = app
    yield app
    SUITE_APP.app = None


@pytest.fixture(params=sorted(PEOPLE))
def signed_in(request, served, cast) -> Iterator[str]:
    """Signs in through the real login form, in the client schemathesis itself uses (or
    makes a bearer token, for the `_by_token` person).

    The same client, so the same browser and address: Flask-Login's "strong" session
    protection ends a session whose browser or address changes.
    """
    if request.param.endswith("_by_token"):  # no session at all: the token alone
        user = db.session.scalar(select(User).where(User.email == PEOPLE[request.param]))
        issued = api_tokens.create(user, name="schemathesis", scope="write", request=SYSTEM)
        SIGNED_IN[BEARER] = f"Bearer {issued.secret}"
        yield request.param
        SIGNED_IN.clear()
        return
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
    SIGNED_IN["csrf"] = csrf_token(client.get("/account/security", headers=browser))
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
# The fixtures hold for every generated request of one operation and person. A write may
# change what the next request of that run sees (a second agreement for the same agency is
# refused); each operation and person starts again from an empty database.
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_the_api_does_what_its_document_says(case, records, signed_in):
    if COOKIE in (case.cookies or {}):  # put there by PortalSession, maybe before sign-in
        if BEARER in SIGNED_IN:
            del case.cookies[COOKIE]
            case.headers = {**(case.headers or {}), BEARER: SIGNED_IN[BEARER]}
        else:
            case.cookies[COOKIE] = SIGNED_IN[COOKIE]
            case.headers = {**(case.headers or {}), "X-CSRFToken": SIGNED_IN["csrf"]}
    case.call_and_validate()
