"""The portal's RFC 3161 time-stamping authority: its tokens validate in pyHanko and OpenSSL,
carry the portal's policy, an accuracy, the nonce and an ESSCertIDv2, and every bad request
gets a rejection that says why."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from asn1crypto import algos, cms, tsp
from pyhanko.sign.general import find_unique_cms_attribute
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

from portal.documents.signing import run_sync
from portal.pki import files
from portal.pki.tsa import (
    DEFAULT_POLICY_OID,
    InProcessTimeStamper,
    TimeStampAuthority,
    rsa_signer,
)


def _request(
    digest: bytes,
    algorithm: str = "sha256",
    *,
    nonce: int | None = 0x1234_5678_9ABC_DEF0,
    cert_req: bool = True,
    **more: object,
) -> tsp.TimeStampReq:
    fields: dict[str, object] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": algorithm},
            "hashed_message": digest,
        },
        "cert_req": cert_req,
        **more,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    return tsp.TimeStampReq(fields)


def _tst_info(response: tsp.TimeStampResp) -> tsp.TSTInfo:
    return response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed


def _signed_attrs(response: tsp.TimeStampResp) -> cms.CMSAttributes:
    return response["time_stamp_token"]["content"]["signer_infos"][0]["signed_attrs"]


def _granted(tsa: TimeStampAuthority, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
    # Through DER, as a client would send it and read the answer.
    response = tsp.TimeStampResp.load(tsa.respond_der(req.dump()))
    assert response["status"]["status"].native == "granted", response["status"].native
    return response


def _refused(tsa: TimeStampAuthority, body: bytes) -> dict:
    response = tsp.TimeStampResp.load(tsa.respond_der(body))
    status = response["status"].native
    assert status["status"] == "rejection" and response["time_stamp_token"].native is None
    assert status["status_string"], "a rejection says why"
    return status


def test_a_pyhanko_client_gets_a_token_that_pyhanko_validates(pki):
    digest = hashlib.sha256(b"an agreement").digest()
    token = run_sync(InProcessTimeStamper(pki.tsa).async_timestamp(digest, "sha256"))
    status = run_sync(
        validate_tst_signed_data(
            token["content"],
            ValidationContext(trust_roots=pki.trust_roots),
            lambda algorithm: digest,
        )
    )
    assert status["intact"] and status["valid"]
    assert status["trust_problem_indic"] is None
    assert status["signing_cert"].subject == pki.tsa.cert.subject
    info = token["content"]["encap_content_info"]["content"].parsed
    assert info["policy"].dotted == DEFAULT_POLICY_OID


def test_openssl_verifies_a_token_for_its_own_query(pki, pki_dir, tmp_path: Path):
    data = tmp_path / "agreement.pdf"
    data.write_bytes(b"%PDF-1.7 the bytes a signature covers")
    query, reply = tmp_path / "query.tsq", tmp_path / "reply.tsr"
    openssl = ["openssl", "ts"]
    subprocess.run(
        [*openssl, "-query", "-data", data, "-sha256", "-cert", "-out", query],
        check=True,
        capture_output=True,
    )
    reply.write_bytes(pki.tsa.respond_der(query.read_bytes()))
    chain = tmp_path / "chain.pem"
    chain.write_bytes((pki_dir / "issuing-ca.pem").read_bytes() + pki.root_pem())
    verified = subprocess.run(
        [*openssl, "-verify", "-data", data, "-in", reply, "-CAfile", chain],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0 and "Verification: OK" in verified.stdout, verified.stderr
    text = subprocess.run(
        [*openssl, "-reply", "-in", reply, "-text"], check=True, capture_output=True, text=True
    ).stdout
    assert "Status: Granted." in text
    assert f"Policy OID: {DEFAULT_POLICY_OID}" in text
    assert "Accuracy: 0x01 seconds" in text
    assert "Ordering: no" in text
    assert "Nonce: 0x" in text
    assert "Hash Algorithm: sha256" in text

    # A changed document no longer matches the token.
    data.write_bytes(b"%PDF-1.7 other bytes")
    refused = subprocess.run(
        [*openssl, "-verify", "-data", data, "-in", reply, "-CAfile", chain],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0


def test_the_token_names_its_certificate_by_ess_cert_id_v2_only(pki):
    response = _granted(pki.tsa, _request(hashlib.sha256(b"x").digest()))
    attrs = _signed_attrs(response)
    assert {a["type"].native for a in attrs} == {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate_v2",
    }
    cert_id = find_unique_cms_attribute(attrs, "signing_certificate_v2")["certs"][0]
    assert cert_id["hash_algorithm"]["algorithm"].native == "sha256"
    assert cert_id["cert_hash"].native == hashlib.sha256(pki.tsa.cert.dump()).digest()
    issuer_serial = cert_id["issuer_serial"]
    assert issuer_serial["serial_number"].native == pki.tsa.cert.serial_number
    assert issuer_serial["issuer"][0].chosen == pki.tsa.cert.issuer
    # SHA-256 is ESSCertIDv2's DEFAULT, so DER leaves the algorithm out (RFC 5035).
    assert b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01" not in cert_id.dump()


def test_token_fields_nonce_accuracy_serial_and_time(pki):
    digest = hashlib.sha512(b"y").digest()
    moment = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        first = _tst_info(_granted(pki.tsa, _request(digest, "sha512", nonce=987654321)))
        second = _tst_info(_granted(pki.tsa, _request(digest, "sha512", nonce=None)))
    assert first["nonce"].native == 987654321
    assert second["nonce"].native is None
    assert first["gen_time"].native == moment
    assert first["accuracy"].native == {"seconds": 1, "millis": None, "micros": None}
    assert first["ordering"].native is False
    assert first["message_imprint"]["hashed_message"].native == digest
    assert first["tsa"].chosen == pki.tsa.cert.subject
    assert first["serial_number"].native > 0
    assert first["serial_number"].native != second["serial_number"].native


def test_certificates_are_embedded_only_when_asked_for(pki):
    digest = hashlib.sha256(b"z").digest()
    with_certs = _granted(pki.tsa, _request(digest))["time_stamp_token"]["content"]
    embedded = {c.chosen.dump() for c in with_certs["certificates"]}
    # The TSA and its issuing CA; the root stays out (a verifier must hold it already).
    assert embedded == {pki.tsa.cert.dump(), pki.chain[0].dump()}
    without = _granted(pki.tsa, _request(digest, cert_req=False))["time_stamp_token"]["content"]
    assert not without["certificates"]


def test_policy_and_accuracy_are_settings(pki, pki_dir, pki_passphrase):
    key = files.read_key(files.key_path(pki_dir, files.TSA), pki_passphrase)
    tsa = TimeStampAuthority(
        pki.tsa.cert,
        rsa_signer(key),
        pki.chain,
        lambda: datetime.now(UTC),
        policy="1.3.6.1.4.1.99999.1",
        accuracy=timedelta(seconds=2, milliseconds=500),
    )
    info = _tst_info(_granted(tsa, _request(hashlib.sha256(b"w").digest())))
    assert info["policy"].dotted == "1.3.6.1.4.1.99999.1"
    assert info["accuracy"].native == {"seconds": 2, "millis": 500, "micros": None}
    with pytest.raises(ValueError, match="not an object identifier"):
        tsa.configure(policy="GlobalSign")


@pytest.mark.parametrize("algorithm", ["sha1", "md5"])
def test_weak_hash_algorithms_are_refused_as_bad_alg(pki, algorithm):
    digest = hashlib.new(algorithm, b"v").digest()
    status = _refused(pki.tsa, _request(digest, algorithm).dump())
    assert status["fail_info"] == {"bad_alg"}
    assert algorithm in status["status_string"][0]


def test_pyhanko_reports_a_rejection_with_its_reason(pki):
    timestamper = InProcessTimeStamper(pki.tsa)
    with pytest.raises(TimestampRequestError, match="bad_alg"):
        run_sync(timestamper.async_timestamp(hashlib.sha1(b"u").digest(), "sha1"))


def _unknown_algorithm() -> bytes:
    req = _request(b"\x00" * 32)
    req["message_imprint"]["hash_algorithm"] = algos.DigestAlgorithm({"algorithm": "1.2.3.4.5"})
    return req.dump(force=True)


@pytest.mark.parametrize(
    ("body", "fail_info"),
    [
        (b"", "bad_data_format"),
        (b"this is not DER", "bad_data_format"),
        (b"\x30\x03\x02\x01\x01", "bad_data_format"),  # a SEQUENCE with no imprint
        (b"\x30\x82\xff\xff\x02\x01", "bad_data_format"),  # a length past the end
        (_request(b"\x00" * 20).dump(), "bad_data_format"),  # 20 bytes are no SHA-256
        (_request(b"\x00" * 32, version="v2").dump(), "bad_request"),
        (_unknown_algorithm(), "bad_alg"),
        (_request(b"\x00" * 32, req_policy="1.3.6.1.4.1.4146.2.2").dump(), "unaccepted_policy"),
        (
            _request(
                b"\x00" * 32,
                extensions=[{"extn_id": "1.2.3.4", "critical": False, "extn_value": b"\x05\x00"}],
            ).dump(),
            "unaccepted_extensions",
        ),
    ],
    ids=[
        "empty",
        "text",
        "no-imprint",
        "truncated",
        "wrong-length",
        "version-2",
        "unknown-alg",
        "other-policy",
        "extension",
    ],
)
def test_bad_requests_get_a_rejection_with_its_fail_info(pki, body, fail_info):
    assert _refused(pki.tsa, body)["fail_info"] == {fail_info}


def test_trailing_bytes_after_a_request_are_refused(pki):
    body = _request(hashlib.sha256(b"t").digest()).dump() + b"\x00"
    assert _refused(pki.tsa, body)["fail_info"] == {"bad_data_format"}


def test_a_request_for_our_own_policy_is_granted(pki):
    req = _request(hashlib.sha256(b"s").digest(), req_policy=DEFAULT_POLICY_OID)
    assert _tst_info(_granted(pki.tsa, req))["policy"].dotted == DEFAULT_POLICY_OID


def test_a_key_that_cannot_sign_gives_a_system_failure_not_an_exception(pki):
    def unavailable(data: bytes, hash_name: str) -> bytes:
        raise OSError("the HSM does not answer")

    tsa = TimeStampAuthority(pki.tsa.cert, unavailable, pki.chain, lambda: datetime.now(UTC))
    status = _refused(tsa, _request(hashlib.sha256(b"r").digest()).dump())
    assert status["fail_info"] == {"system_failure"}


def test_a_renewed_certificate_is_used_from_then_on(pki, pki_dir, pki_passphrase):
    key = files.read_key(files.key_path(pki_dir, files.TSA), pki_passphrase)
    tsa = TimeStampAuthority(pki.chain[0], rsa_signer(key), pki.chain, lambda: datetime.now(UTC))
    tsa.use(pki.tsa.cert, rsa_signer(key), pki.chain)
    digest = hashlib.sha256(b"q").digest()
    token = _granted(tsa, _request(digest))["time_stamp_token"]
    sid = token["content"]["signer_infos"][0]["sid"].chosen
    assert sid["serial_number"].native == pki.tsa.cert.serial_number
    context = ValidationContext(trust_roots=pki.trust_roots)
    status = run_sync(validate_tst_signed_data(token["content"], context, lambda _: digest))
    assert status["intact"] and status["valid"] and status["trust_problem_indic"] is None
