"""The JSON API answers through the same services, with the same access rules."""

import io

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
    mine = client.get(f"/api/v1/agreements/{agreement.id}").get_json()
    assert mine["state"] == "sent" and mine["documents"][0]["sha256"]
    auth.logout()
    auth.login("ed@other.test")
    assert client.get("/api/v1/agreements").get_json()["items"] == []
    assert client.get(f"/api/v1/agreements/{agreement.id}").status_code == 404


def test_verify_reports_signatures_and_the_record(client, app, cast):
    agreement = sent_agreement(cast)
    pdf = documents.read_bytes(agreement.document.current)
    answer = client.post(
        "/api/v1/verify",
        data={"pdf": (io.BytesIO(pdf), "a.pdf")},
        content_type="multipart/form-data",
    ).get_json()
    [certification] = answer["signatures"]
    assert certification["certification"] and certification["trusted"] and certification["intact"]
    assert answer["on_record"]["reference"] == agreement.reference
    assert client.post("/api/v1/verify", data={}).status_code == 400
