"""/pki: the CA's certificates, CRLs and OCSP responder over HTTP, open to anyone; and the
agency page's form by which the lead agency declares a key compromised."""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from portal import runtime
from portal.extensions import db
from portal.models import CertificateRevocation
from portal.services import identities
from tests.conftest import PASSWORD, csrf_token

NOW = datetime(2027, 3, 10, 18, 0, tzinfo=UTC)
Status = ocsp.OCSPResponseStatus


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def person_cert(cast, travel) -> x509.Certificate:
    identity = identities.current_identity(identities.ConfirmedSigner(cast.ed, PASSWORD))
    db.session.commit()
    return x509.load_pem_x509_certificate(identity.cert_pem)


def issuing_ca() -> x509.Certificate:
    return x509.load_pem_x509_certificate(runtime.pki().issuing_pem())


def ocsp_request(cert: x509.Certificate) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuing_ca(), hashes.SHA1())
    return builder.build().public_bytes(serialization.Encoding.DER)


def post_ocsp(client, body: bytes):
    return client.post("/pki/ocsp", data=body, headers={"Content-Type": "application/ocsp-request"})


def test_the_crls_are_served_der_with_cache_headers_until_next_update(client, travel):
    response = client.get("/pki/issuing-ca.crl")
    assert response.status_code == 200 and response.mimetype == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.data)
    assert crl.is_signature_valid(issuing_ca().public_key())
    assert crl.last_update_utc == NOW and crl.next_update_utc == NOW + timedelta(hours=168)
    assert response.headers["Cache-Control"] == "public, max-age=3600, no-transform"
    assert response.expires == crl.next_update_utc
    root = client.get("/pki/root-ca.crl")
    assert root.status_code == 200 and root.mimetype == "application/pkix-crl"
    assert root.data == runtime.pki().root_crl()
    assert x509.load_der_x509_crl(root.data).issuer == issuing_ca().issuer


def test_the_ca_certificates_are_served_pem_and_der(client):
    pki = runtime.pki()
    assert client.get("/pki/root-ca.pem").data == pki.root_pem()
    assert client.get("/pki/issuing-ca.pem").data == pki.issuing_pem()
    der = client.get("/pki/issuing-ca.cer")
    assert der.mimetype == "application/pkix-cert"
    assert x509.load_der_x509_certificate(der.data) == issuing_ca()
    root = x509.load_der_x509_certificate(client.get("/pki/root-ca.cer").data)
    assert root.subject == issuing_ca().issuer


def test_ocsp_by_post_and_get_without_signing_in(app, client, cast, person_cert, tmp_path):
    response = post_ocsp(client, ocsp_request(person_cert))
    assert response.status_code == 200 and response.mimetype == "application/ocsp-response"
    assert response.headers["Cache-Control"] == "no-store"
    answer = ocsp.load_der_ocsp_response(response.data)
    assert answer.response_status == Status.SUCCESSFUL
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD

    # RFC 6960 A.1: GET with the request base64-encoded and URL-encoded after the path.
    encoded = quote(base64.b64encode(ocsp_request(person_cert)).decode(), safe="")
    got = client.get(f"/pki/ocsp/{encoded}")
    assert got.status_code == 200 and got.mimetype == "application/ocsp-response"
    assert "max-age=3600" in got.headers["Cache-Control"]
    assert ocsp.load_der_ocsp_response(got.data).certificate_status == ocsp.OCSPCertStatus.GOOD

    # Revoked: the live answer changes at once, and OpenSSL accepts it against the root.
    db.session.add(
        CertificateRevocation(
            serial_hex=format(person_cert.serial_number, "x"),
            cert_sha256="0" * 64,
            reason="key_compromise",
            why="test",
            revoked_at=NOW - timedelta(hours=1),
        )
    )
    db.session.commit()
    live = post_ocsp(client, ocsp_request(person_cert)).data
    (tmp_path / "resp.der").write_bytes(live)
    (tmp_path / "person.pem").write_bytes(person_cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "issuing.pem").write_bytes(runtime.pki().issuing_pem())
    (tmp_path / "root.pem").write_bytes(runtime.pki().root_pem())
    out = subprocess.run(
        ["openssl", "ocsp", "-respin", str(tmp_path / "resp.der"),
         "-issuer", str(tmp_path / "issuing.pem"), "-cert", str(tmp_path / "person.pem"),
         "-CAfile", str(tmp_path / "root.pem"), "-verify_other", str(tmp_path / "issuing.pem"),
         # OpenSSL checks thisUpdate against the machine's clock, not the travelled one: any
         # day the suite runs is allowed (the signature and status are what is checked here).
         "-validity_period", str(100 * 366 * 86400)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert "Response verify OK" in out.stderr
    assert "person.pem: revoked" in out.stdout and "Reason: keyCompromise" in out.stdout


def test_malformed_requests_get_an_ocsp_answer_not_an_error(client, travel):
    def status(response) -> Status:
        assert response.status_code == 200
        assert response.mimetype == "application/ocsp-response"
        assert response.headers["Cache-Control"] == "no-store"
        return ocsp.load_der_ocsp_response(response.data).response_status

    assert status(post_ocsp(client, b"")) == Status.MALFORMED_REQUEST
    assert status(post_ocsp(client, b"\x30\x82\xff\xff garbage")) == Status.MALFORMED_REQUEST
    assert status(client.post("/pki/ocsp", data="x" * 100_000)) == Status.MALFORMED_REQUEST
    assert status(client.get("/pki/ocsp/not%20base64!!")) == Status.MALFORMED_REQUEST
    assert status(client.get("/pki/ocsp/" + "A" * 40)) == Status.MALFORMED_REQUEST
    # A certificate of another CA: the responder is not authoritative for it.
    other = ocsp.OCSPRequestBuilder().add_certificate(
        issuing_ca(),
        x509.load_pem_x509_certificate(runtime.pki().root_pem()),
        hashes.SHA256(),
    )
    answer = post_ocsp(client, other.build().public_bytes(serialization.Encoding.DER))
    assert status(answer) == Status.UNAUTHORIZED


def test_the_lead_agencys_admin_declares_a_key_compromised_from_the_agency_page(
    app, client, cast, auth, person_cert
):
    url = f"/pki/agencies/{cast.agency.id}/compromise"
    auth.login("admin@ssf.test")
    page = client.get(f"/agencies/{cast.agency.id}")
    assert b"Declare a signing key compromised" in page.data
    # Without the form's CSRF token nothing happens.
    refused = client.post(url, data={"person": cast.ed.id, "reason": "Stolen laptop"})
    assert refused.status_code == 400
    assert db.session.query(CertificateRevocation).count() == 0
    done = client.post(
        url,
        data={"csrf_token": csrf_token(page), "person": cast.ed.id, "reason": "Stolen laptop"},
    )
    assert done.status_code == 302 and done.location.endswith(f"/agencies/{cast.agency.id}")
    row = db.session.query(CertificateRevocation).one()
    assert (row.reason, row.why) == ("key_compromise", "Stolen laptop")
    answer = ocsp.load_der_ocsp_response(post_ocsp(client, ocsp_request(person_cert)).data)
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise


def test_an_agency_cannot_declare_a_compromise(app, client, cast, auth, person_cert):
    auth.login("ed@other.test")
    page = client.get("/")
    response = client.post(
        f"/pki/agencies/{cast.agency.id}/compromise",
        data={"csrf_token": csrf_token(page), "person": cast.ed.id, "reason": "Not mine"},
    )
    assert response.status_code in (302, 404)
    assert db.session.query(CertificateRevocation).count() == 0
    auth.logout()
    auth.login("ed@hope.test")
    assert (
        b"Declare a signing key compromised" not in client.get(f"/agencies/{cast.agency.id}").data
    )
