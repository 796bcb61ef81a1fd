"""The API's writes: bearer tokens and their scopes, the four write endpoints, the rules of
the pages, and the Idempotency-Key (a retry acts once; a reused key with another body is
refused)."""

from __future__ import annotations

import re
import threading
import uuid

import pytest
import schemathesis
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import AccessRequest, Agency, Agreement, OutboxMessage, Separation
from portal.models.integrations import ApiToken, IdempotentRequest
from portal.services import api_tokens, idempotency
from portal.services.timefmt import local_date
from tests import factories
from tests.conftest import csrf_token
from tests.services.helpers import REQ
from tests.support.access import in_effect


def _token(user, scope: str = "write") -> str:
    return api_tokens.create(user, name="test", scope=scope, request=REQ).secret


def _post(client, path: str, body: dict, *, token: str | None = None, key: str | None = "k1",
          headers: dict | None = None):  # fmt: skip
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if key is not None:
        sent["Idempotency-Key"] = key
    return client.post(path, json=body, headers=sent)


def _error(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def _valid(client, answer, path: str, method: str = "POST") -> None:
    spec = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    spec[path][method].validate_response(answer)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


AGENCY = {
    "legal_name": "New Dawn Housing",
    "address": "1 Main St\nSpringfield",
    "vawa_provider": False,
    "executive_director": {"name": "Dee Director", "title": "ED", "email": "dee@dawn.test"},
    "security_officer": {"name": "Sy Officer", "title": "SO", "email": "sy@dawn.test"},
}
STAFF = {
    "agency_id": 0,  # set per test
    "name": "Nia Newhire",
    "email": "nia@hope.test",
    "job_title": "Case Manager",
    "hmis_role": "case_manager",
    "programs": "Rapid Re-Housing",
}


# --- bearer tokens --------------------------------------------------------------------------


def test_a_bearer_token_reads_as_its_owner(client, app, cast):
    mine = in_effect(cast.agency)
    theirs = in_effect(cast.other_agency)
    token = _token(cast.ed, "read")
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/agreements", headers=headers).get_json()
    assert [a["id"] for a in listed["items"]] == [mine.id]  # the ED's agency only
    assert client.get(f"/api/v1/agreements/{theirs.id}", headers=headers).status_code == 404
    assert db.session.get(ApiToken, api_tokens.list_for(cast.ed)[0].id).last_used_at
    assert client.get_cookie("session") is None  # a token makes no session


@pytest.mark.parametrize("bad", ["hpp_unknown", "Basic abc", "Bearer", "Bearer hpp_nope"])
def test_unknown_or_malformed_tokens_are_a_json_401(client, app, cast, bad):
    header = bad if " " in bad or bad == "Bearer" else f"Bearer {bad}"
    answer = client.get("/api/v1/agreements", headers={"Authorization": header})
    _error(answer, 401, "invalid_token")


def test_revoked_and_expired_tokens_are_a_json_401(client, app, cast):
    issued = api_tokens.create(cast.ed, name="t", scope="read", request=REQ)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert client.get("/api/v1/agreements", headers=headers).status_code == 200
    api_tokens.revoke(cast.ed, issued.token.id, request=REQ)
    assert "revoked" in _error(client.get("/api/v1/agreements", headers=headers), 401,
                               "invalid_token")["message"]  # fmt: skip


def test_a_read_token_cannot_write(client, app, cast):
    answer = _post(client, "/api/v1/agencies", AGENCY, token=_token(cast.admin, "read"))
    _error(answer, 403, "read_only_token")
    assert _count(Agency) == 3  # the lead agency and the cast's two


def test_cookie_writes_still_need_the_csrf_token(client, app, cast, auth):
    auth.login("admin@ssf.test")
    _error(_post(client, "/api/v1/agencies", AGENCY), 400, "csrf_failed")
    assert _count(Agency) == 3
    page = client.get("/account/security")
    answer = _post(client, "/api/v1/agencies", AGENCY, headers={"X-CSRFToken": csrf_token(page)})
    assert answer.status_code == 201, answer.get_data(as_text=True)


def test_writes_need_sign_in(client, app, cast):
    _error(_post(client, "/api/v1/agencies", AGENCY), 401, "unauthenticated")


# --- the four writes ------------------------------------------------------------------------


def test_registering_an_agency(client, app, cast):
    answer = _post(client, "/api/v1/agencies", AGENCY, token=_token(cast.admin))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    _valid(client, answer, "/api/v1/agencies")
    made = answer.get_json()
    assert made["legal_name"] == "New Dawn Housing"
    assert sorted(p["role"] for p in made["people"]) == ["agency_ed", "agency_security_officer"]
    # Not a lead agency HMIS admin: refused as on the pages.
    refused = _post(client, "/api/v1/agencies", {**AGENCY, "legal_name": "X"},
                    token=_token(cast.ed), key="k2")  # fmt: skip
    _error(refused, 403, "forbidden")
    # A rule of the service (a VAWA provider may not partner) is a 422 with its words.
    vawa = _post(client, "/api/v1/agencies", {**AGENCY, "vawa_provider": True},
                 token=_token(cast.admin), key="k3")  # fmt: skip
    assert "VAWA" in _error(vawa, 422, "refused")["message"]


def test_sending_an_agreement(client, app, cast):
    token = _token(cast.admin)
    answer = _post(client, "/api/v1/agreements", {"agency_id": cast.agency.id}, token=token)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    _valid(client, answer, "/api/v1/agreements")
    sent = answer.get_json()
    assert sent["state"] == "sent" and sent["agency"]["id"] == cast.agency.id
    assert sent["documents"][0]["sha256"]
    refused = _post(client, "/api/v1/agreements", {"agency_id": cast.agency.id},
                    token=_token(cast.ed), key="k2")  # fmt: skip
    _error(refused, 403, "forbidden")
    assert _count(Agreement) == 1


def test_requesting_access_for_ones_own_agency_only(client, app, cast):
    in_effect(cast.agency)
    in_effect(cast.other_agency)
    token = _token(cast.ed)
    answer = _post(client, "/api/v1/access-requests", {**STAFF, "agency_id": cast.agency.id},
                   token=token)  # fmt: skip
    assert answer.status_code == 201, answer.get_data(as_text=True)
    _valid(client, answer, "/api/v1/access-requests")
    assert answer.get_json()["state"] == "in_progress"
    other = _post(client, "/api/v1/access-requests",
                  {**STAFF, "agency_id": cast.other_agency.id, "email": "x@other.test"},
                  token=token, key="k2")  # fmt: skip
    _error(other, 404, "not_found")  # another agency's id reveals nothing
    assert _count(AccessRequest) == 1


def test_reporting_a_separation_for_ones_own_agency_only(client, app, cast):
    token = _token(cast.ed)
    body = {"agency_id": cast.agency.id, "user_id": cast.officer.id,
            "last_day": local_date(clock.now()).isoformat(), "note": "Moved away"}  # fmt: skip
    other = _post(client, "/api/v1/separations",
                  {**body, "agency_id": cast.other_agency.id}, token=token)  # fmt: skip
    _error(other, 404, "not_found")
    answer = _post(client, "/api/v1/separations", body, token=token, key="k2")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    _valid(client, answer, "/api/v1/separations")
    assert answer.get_json()["user_id"] == cast.officer.id
    assert _count(Separation) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.legal_name"),
        ({**AGENCY, "extra": 1}, "body.extra"),
        ({**AGENCY, "vawa_provider": "no"}, "body.vawa_provider"),
        ({**AGENCY, "legal_name": "   "}, "body.legal_name"),
        ({**AGENCY, "legal_name": "x" * 201}, "body.legal_name"),
        ({**AGENCY, "executive_director": {"name": "A"}}, "body.executive_director.title"),
        ([], "body"),
    ],
)
def test_bodies_that_do_not_fit_the_document_are_named_400s(client, app, cast, body, field):
    answer = _post(client, "/api/v1/agencies", body, token=_token(cast.admin))
    assert field in _error(answer, 400, "invalid_body")["message"]
    assert _count(IdempotentRequest) == 0  # nothing claimed for a request never acted on


def test_media_type_and_json_are_checked(client, app, cast):
    headers = {"Authorization": f"Bearer {_token(cast.admin)}", "Idempotency-Key": "k"}
    _error(client.post("/api/v1/agencies", data="x", headers=headers), 415,
           "unsupported_media_type")  # fmt: skip
    broken = client.post("/api/v1/agencies", data="{", headers=headers,
                         content_type="application/json")  # fmt: skip
    _error(broken, 400, "invalid_body")


# --- Idempotency-Key ------------------------------------------------------------------------


def test_the_key_is_required_and_checked(client, app, cast):
    token = _token(cast.admin)
    error = _error(_post(client, "/api/v1/agencies", AGENCY, token=token, key=None), 400,
                   "idempotency_key_missing")  # fmt: skip
    assert "Idempotency-Key" in error["message"]
    _error(_post(client, "/api/v1/agencies", AGENCY, token=token, key="a b"), 400,
           "invalid_header")  # fmt: skip
    assert _count(Agency) == 3


def test_a_retry_gets_the_same_answer_and_acts_once(client, app, cast):
    token, key = _token(cast.admin), str(uuid.uuid4())
    first = _post(client, "/api/v1/agencies", AGENCY, token=token, key=key)
    invited = _count(OutboxMessage)
    again = _post(client, "/api/v1/agencies", AGENCY, token=token, key=key)
    assert (
        (again.status_code, again.get_json())
        == (first.status_code, first.get_json())
        == (
            201,
            first.get_json(),
        )
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(Agency) == 4 and _count(OutboxMessage) == invited  # one agency, one invitation
    # Another person's key space is their own: the same key is a new request for them.
    other = _post(client, "/api/v1/agencies", {**AGENCY, "legal_name": "Elsewhere"},
                  token=_token(cast.ed), key=key)  # fmt: skip
    _error(other, 403, "forbidden")


def test_the_same_key_with_another_body_is_a_422(client, app, cast):
    token = _token(cast.admin)
    assert _post(client, "/api/v1/agencies", AGENCY, token=token).status_code == 201
    changed = _post(client, "/api/v1/agencies", {**AGENCY, "legal_name": "Other Name"},
                    token=token)  # fmt: skip
    assert "another request" in _error(changed, 422, "idempotency_key_reused")["message"]
    elsewhere = _post(client, "/api/v1/agreements", {"agency_id": cast.agency.id}, token=token)
    _error(elsewhere, 422, "idempotency_key_reused")  # same key, another path
    assert _count(Agency) == 4 and _count(Agreement) == 0


def test_a_refusal_is_not_remembered(client, app, cast):
    token = _token(cast.ed)
    body = {**STAFF, "agency_id": cast.agency.id}
    refused = _post(client, "/api/v1/access-requests", body, token=token)
    _error(refused, 403, "forbidden")  # no agreement in effect yet: nothing done
    in_effect(cast.agency)
    retried = _post(client, "/api/v1/access-requests", body, token=token)
    assert retried.status_code == 201 and _count(AccessRequest) == 1


def test_a_key_in_progress_is_a_409_and_never_acts(client, app, cast):
    # Another request holds the key and has not answered yet (it claimed it and is acting).
    token = _token(cast.admin)
    raw = {"method": "POST", "path": "/api/v1/agencies"}
    fingerprint = idempotency.fingerprint(raw["method"], raw["path"], AGENCY)
    assert idempotency.claim(cast.admin, "busy", request_sha256=fingerprint, **raw) is None
    answer = _post(client, "/api/v1/agencies", AGENCY, token=token, key="busy")
    _error(answer, 409, "idempotency_key_in_progress")
    assert _count(Agency) == 3


def test_the_document_declares_both_schemes_and_the_writes(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    for path in ("agencies", "agreements", "access-requests", "separations"):
        operation = spec["paths"][f"/api/v1/{path}"]["post"]
        assert {"bearer": []} in operation["security"]
        [key] = operation["parameters"]
        assert key["name"] == "Idempotency-Key" and key["required"]
        assert {"201", "400", "401", "403", "404", "409", "422"} <= set(operation["responses"])
    assert re.search("Bearer", schemes["bearer"]["description"])


# --- the page that makes and revokes tokens -------------------------------------------------


def test_the_token_page_shows_a_new_token_once_and_revokes(client, app, cast, auth):
    auth.login("ed@hope.test")
    page = client.get("/account/api-tokens")
    assert page.status_code == 200 and b"no API tokens" in page.data
    made = client.post(
        "/account/api-tokens",
        data={"name": "Nightly sync", "scope": "write", "csrf_token": csrf_token(page)},
    )
    secret = re.search(rb'id="new-token">(hpp_[A-Za-z0-9_-]+)<', made.data).group(1).decode()
    [token] = api_tokens.list_for(cast.ed)
    assert token.token_sha256 == api_tokens.digest(secret) and token.scope == "write"
    again = client.get("/account/api-tokens")
    assert secret.encode() not in again.data and token.prefix.encode() in again.data
    bearer = {"Authorization": f"Bearer {secret}"}
    # With the session cookie too, the API will not guess which of the two should act.
    _error(client.get("/api/v1/agreements", headers=bearer), 401, "unauthenticated")
    program = app.test_client()  # a program: the token alone
    assert program.get("/api/v1/agreements", headers=bearer).status_code == 200
    # Without the form's CSRF token, nothing is revoked.
    client.post(f"/account/api-tokens/{token.id}/revoke", data={})
    assert api_tokens.authenticate(secret)[1].id == token.id
    client.post(f"/account/api-tokens/{token.id}/revoke", data={"csrf_token": csrf_token(again)})
    _error(program.get("/api/v1/agreements", headers=bearer), 401, "invalid_token")
    assert b"Revoked" in client.get("/account/api-tokens").data


def test_one_cannot_revoke_anothers_token(client, app, cast, auth):
    issued = api_tokens.create(cast.other_ed, name="Theirs", scope="read", request=REQ)
    auth.login("ed@hope.test")
    page = client.get("/account/api-tokens")
    answer = client.post(
        f"/account/api-tokens/{issued.token.id}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert answer.status_code == 404
    assert api_tokens.state(db.session.get(ApiToken, issued.token.id)) == "active"


def test_the_page_needs_sign_in_and_checks_the_form(client, app, cast, auth):
    assert client.get("/account/api-tokens").status_code == 302
    auth.login("ed@hope.test")
    page = client.get("/account/api-tokens")
    refused = client.post(
        "/account/api-tokens",
        data={"name": "", "scope": "write", "csrf_token": csrf_token(page)},
    )
    assert refused.status_code == 400 and api_tokens.list_for(cast.ed) == []


def test_the_key_ignores_the_order_of_the_bodys_fields(client, app, cast):
    token = _token(cast.admin)
    first = _post(client, "/api/v1/agencies", AGENCY, token=token)
    reordered = dict(reversed(list(AGENCY.items())))
    again = _post(client, "/api/v1/agencies", reordered, token=token)
    assert again.get_json() == first.get_json() and _count(Agency) == 4


def test_a_send_that_fails_keeps_the_draft_and_says_so(client, app, cast):
    lone = factories.agency("No Director Yet", created_by=cast.admin)  # no ED to sign
    answer = _post(client, "/api/v1/agreements", {"agency_id": lone.id}, token=_token(cast.admin))
    message = _error(answer, 422, "refused")["message"]
    [draft] = db.session.scalars(select(Agreement).where(Agreement.agency_id == lone.id)).all()
    assert "executive director" in message and f"Draft {draft.reference} was kept" in message
    assert draft.state == "draft" and _count(IdempotentRequest) == 0  # the key is free again


def test_two_requests_at_once_with_one_key_act_once(app, cast):
    token = _token(cast.admin)
    start = threading.Barrier(2)
    answers: list[tuple[int, dict]] = []

    def request() -> None:
        with app.app_context():  # each its own context and session, as two requests are
            try:
                start.wait(timeout=30)
                answer = _post(app.test_client(), "/api/v1/agencies", AGENCY, token=token)
                answers.append((answer.status_code, answer.get_json()))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = sorted(status for status, _ in answers)
    # One acted; the other got its stored answer, or was told the key is in progress.
    assert statuses in ([201, 201], [201, 409]), answers
    if statuses == [201, 201]:
        assert answers[0][1] == answers[1][1]
    else:
        assert next(b for s, b in answers if s == 409)["error"]["code"] == (
            "idempotency_key_in_progress"
        )
    assert _count(Agency) == 4
