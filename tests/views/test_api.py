"""The JSON API answers through the same services, with the same access rules."""

import io
from datetime import timedelta

import pytest
import schemathesis
import time_machine

from portal import clock
from portal.services import documents
from tests import factories
from tests.services.helpers import sent_agreement


def test_openapi_describes_the_paths(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/api/v1/verify" in spec["paths"]


def test_agreements_need_login_and_stay_within_the_agency(client, app, cast, auth):
    agreement = factories.agreement(cast.agency, state="sent", documents=True)
    assert client.get("/api/v1/agreements").status_code == 401
    auth.login("ed@hope.test")
    response = client.get(f"/api/v1/agreements/{agreement.id}")
    spec = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    spec["/api/v1/agreements/{id}"]["GET"].validate_response(response)  # documents and all
    mine = response.get_json()
    assert mine["state"] == "sent" and mine["documents"][0]["sha256"]
    auth.logout()
    auth.login("ed@other.test")
    assert client.get("/api/v1/agreements").get_json()["items"] == []
    assert client.get(f"/api/v1/agreements/{agreement.id}").status_code == 404


def test_verify_reports_signatures_and_the_record(client, app, cast):
    agreement = sent_agreement(cast)
    pdf = documents.read_bytes(agreement.document.current)
    response = client.post(
        "/api/v1/verify",
        data={"pdf": (io.BytesIO(pdf), "a.pdf")},
        content_type="multipart/form-data",
    )
    # A real signature, described as the document says (schemathesis sends no real PDFs).
    spec = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    spec["/api/v1/verify"]["POST"].validate_response(response)
    answer = response.get_json()
    [certification] = answer["signatures"]
    assert certification["certification"] and certification["trusted"] and certification["intact"]
    assert answer["on_record"]["reference"] == agreement.reference
    missing = client.post("/api/v1/verify", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400 and missing.get_json()["error"]["code"] == "bad_request"


# --- errors: JSON with a code and a message, whatever refused the request -------------------


def _error(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/json"
    error = answer.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def test_errors_before_any_view_are_json(client, app, cast, auth):
    auth.login("ed@hope.test")
    for path in ("/api/v1/agreements/9223372036854775808", "/api/v1/agreements/2147483648"):
        _error(client.get(path), 404, "not_found")  # beyond any id column: no route at all
    _error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    refused = client.delete("/api/v1/agreements/1")
    _error(refused, 405, "method_not_allowed")
    assert "GET" in refused.headers["Allow"]
    assert client.get("/agreements/2147483648").mimetype == "text/html"  # pages stay pages


def test_signing_in_is_required_and_said_so_in_json(client, app, cast):
    error = _error(client.get("/api/v1/agreements"), 401, "unauthenticated")
    assert "session" in error["message"]
    _error(client.get("/api/v1/access-requests/1"), 401, "unauthenticated")


def test_a_failure_is_a_json_500(client, app, cast, auth, monkeypatch):
    from portal.services import agreements

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    auth.login("ed@hope.test")
    monkeypatch.setattr(agreements, "count_for", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    error = _error(client.get("/api/v1/agreements"), 500, "internal_error")
    assert "database" not in error["message"]  # no internals in the answer


def test_verify_refuses_other_media_types_and_large_files(client, app, monkeypatch):
    _error(client.post("/api/v1/verify", data=b"%PDF-"), 415, "unsupported_media_type")
    _error(client.post("/api/v1/verify", json={"pdf": "x"}), 415, "unsupported_media_type")
    _error(
        client.post("/api/v1/verify", data={}, content_type="multipart/form-data"),
        400,
        "bad_request",
    )
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    big = {"pdf": (io.BytesIO(b"%PDF-" + b"0" * 2000), "a.pdf")}
    answer = client.post("/api/v1/verify", data=big, content_type="multipart/form-data")
    _error(answer, 413, "payload_too_large")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page=2", "page"),  # not a parameter of this list: never quietly page 1
        ("page=junk", "page"),
        ("after=junk", "after"),
        ("after=-1", "after"),
        ("after=0", "after"),
        ("after=1.5", "after"),
        ("after=9223372036854775808", "after"),
        ("after=", "after"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("limit=ten", "limit"),
        ("limit=5&limit=6", "limit"),
    ],
)
def test_bad_query_parameters_are_named(client, app, cast, auth, query, parameter):
    auth.login("ed@hope.test")
    error = _error(client.get(f"/api/v1/agreements?{query}"), 400, "invalid_parameter")
    assert error["parameter"] == parameter and parameter in error["message"]


def test_a_record_takes_no_query_parameters(client, app, cast, auth):
    agreement = factories.agreement(cast.agency, state="sent")
    auth.login("ed@hope.test")
    answer = client.get(f"/api/v1/agreements/{agreement.id}?fields=all")
    assert _error(answer, 400, "invalid_parameter")["parameter"] == "fields"


# --- lists: a total, a page size, and keyset links ------------------------------------------


def test_the_list_pages_by_cursor_with_a_total(client, app, cast, auth):
    more = [factories.agency(f"Agency {n}", created_by=cast.admin) for n in range(3)]
    agencies = [cast.agency, cast.other_agency, *more]  # one open agreement each
    for n, agency in enumerate(more):
        factories.person(
            agency, email=f"ed{n}@more.test", name="Ed", title="Director", role="agency_ed"
        )
    every = [factories.agreement(agency, state="sent").id for agency in agencies]
    auth.login("admin@ssf.test")  # SSF sees every agency's
    seen, url, pages = [], "/api/v1/agreements?limit=2", 0
    while url:
        page = client.get(url).get_json()
        assert page["total"] == 5 and page["limit"] == 2 and len(page["items"]) <= 2
        assert page["links"]["first"] == "/api/v1/agreements?limit=2"
        seen += [a["id"] for a in page["items"]]
        url, pages = page["links"]["next"], pages + 1
        assert (url is None) == (page["older"] is None)
    assert seen == sorted(every, reverse=True) and pages == 3
    everything = client.get("/api/v1/agreements").get_json()
    assert everything["limit"] == 25 and everything["links"]["next"] is None
    auth.logout()
    auth.login("ed@hope.test")  # a director sees the agency's own
    mine = client.get("/api/v1/agreements").get_json()
    assert mine["total"] == 1 and [a["id"] for a in mine["items"]] == [every[0]]


def test_the_document_describes_sign_in_and_errors(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    scheme = spec["components"]["securitySchemes"]["session"]
    assert scheme == {**scheme, "type": "apiKey", "in": "cookie", "name": "session"}
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "Error" in spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert "security" in operation, (method, path)
            declared = set(operation["responses"])
            assert {"400", "401", "403", "404", "405", "413", "415", "429", "500"} <= declared
            for parameter in operation["parameters"]:
                assert "type" in parameter["schema"], (method, path, parameter["name"])
    [id_param] = spec["paths"]["/api/v1/agreements/{id}"]["get"]["parameters"]
    assert id_param["schema"]["maximum"] == 2**31 - 1


def test_an_unfinished_sign_in_is_a_json_403(client, app, cast, auth):
    days = app.config["PASSWORD_MAX_AGE_DAYS"]
    with time_machine.travel(clock.now() + timedelta(days=days + 1), tick=False):
        auth.login("admin@ssf.test")  # the password is too old: a new one is due first
        _error(client.get("/api/v1/agreements"), 403, "sign_in_incomplete")
