"""POST /tsa: RFC 3161 over HTTP, open to anyone (no sign-in, no CSRF token), throttled, and
never a server error whatever the body."""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import tsp
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

from portal import runtime
from portal.documents.signing import run_sync
from portal.pki.tsa import DEFAULT_POLICY_OID
from portal.views.tsa import MAX_REQUEST_BYTES
from tests.support.sign_in import throttled

QUERY = "application/timestamp-query"


def _query(digest: bytes, **more: object) -> bytes:
    imprint = {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest}
    fields = {"version": "v1", "message_imprint": imprint, "nonce": 4242, "cert_req": True}
    return tsp.TimeStampReq({**fields, **more}).dump()


def _post(client, body: bytes, content_type: str = QUERY):
    return client.post("/tsa", data=body, content_type=content_type)


def test_a_query_gets_a_token_that_validates(app, client):
    digest = hashlib.sha256(b"a document").digest()
    answer = _post(client, _query(digest))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/timestamp-reply"
    assert answer.headers["Cache-Control"] == "no-store"
    response = tsp.TimeStampResp.load(answer.data)
    assert response["status"]["status"].native == "granted"
    token = response["time_stamp_token"]
    info = token["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 4242 and info["policy"].dotted == DEFAULT_POLICY_OID
    context = ValidationContext(trust_roots=runtime.pki().trust_roots)
    status = run_sync(validate_tst_signed_data(token["content"], context, lambda _: digest))
    assert status["intact"] and status["valid"] and status["trust_problem_indic"] is None


def test_the_policy_and_accuracy_come_from_the_settings(app, client):
    parts = app.extensions["portal"]
    saved = {k: app.config[k] for k in ("TSA_POLICY_OID", "TSA_ACCURACY_SECONDS")}
    app.config.update(TSA_POLICY_OID="1.3.6.1.4.1.99999.7", TSA_ACCURACY_SECONDS=0.25)
    parts.pop("pki", None)  # loaded again with these settings
    try:
        response = tsp.TimeStampResp.load(_post(client, _query(b"\x01" * 32)).data)
        info = response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
        assert info["policy"].dotted == "1.3.6.1.4.1.99999.7"
        assert info["accuracy"].native == {"seconds": None, "millis": 250, "micros": None}
    finally:
        app.config.update(saved)
        parts.pop("pki", None)


@pytest.mark.parametrize(
    ("body", "fail_info"),
    [
        (b"", "bad_data_format"),
        (b"\x00\xff garbage \x30", "bad_data_format"),
        (b"%PDF-1.7", "bad_data_format"),
        (
            tsp.TimeStampReq(
                {
                    "version": "v1",
                    "message_imprint": {
                        "hash_algorithm": {"algorithm": "sha1"},
                        "hashed_message": hashlib.sha1(b"x").digest(),
                    },
                }
            ).dump(),
            "bad_alg",
        ),
    ],
    ids=["empty", "garbage", "a-pdf", "sha1"],
)
def test_a_bad_body_gets_a_rejection_not_an_error(client, body, fail_info):
    answer = _post(client, body)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/timestamp-reply"
    status = tsp.TimeStampResp.load(answer.data)["status"].native
    assert status["status"] == "rejection" and status["fail_info"] == {fail_info}


def test_other_content_types_methods_and_sizes_are_refused_plainly(client):
    wrong_type = _post(client, _query(b"\x00" * 32), content_type="application/octet-stream")
    assert wrong_type.status_code == 415 and QUERY in wrong_type.get_data(as_text=True)
    too_big = _post(client, b"\x30" * (MAX_REQUEST_BYTES + 1))
    assert too_big.status_code == 413
    assert client.get("/tsa").status_code == 405


def test_no_sign_in_or_csrf_token_is_needed(app, client, cast):
    # The suite's client sends no CSRF token: a form post without one is refused...
    assert client.post("/verify").status_code == 400
    # ...but /tsa answers, and asks no one to sign in.
    answer = _post(client, _query(b"\x02" * 32))
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers


def test_tsa_is_throttled_per_client_address(app, client):
    with throttled(app, TSA_RATE_LIMIT="2 per minute"):
        for _ in range(2):
            assert _post(client, _query(b"\x03" * 32)).status_code == 200
        assert _post(client, _query(b"\x03" * 32)).status_code == 429
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "192.0.2.99"
        assert _post(other, _query(b"\x03" * 32)).status_code == 200
