"""The CA's revocation data as a library: certificate profiles, CRLs, the root CRL, OCSP.

Checked with cryptography and with OpenSSL's own `crl` and `ocsp` commands, on the session's
test PKI (tests/support/pki.py), whose certificates point at http://portal.test.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from portal.pki import PkiError, certificates, files, revocation
from portal.pki.revocation import GOOD, UNKNOWN, CertificateState, RevokedEntry
from tests.support.pki import SUITE_BASE_URL

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
WHEN = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
R = x509.ReasonFlags


def cert_of(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def ext(cert: x509.Certificate, kind):
    return cert.extensions.get_extension_for_class(kind).value


@pytest.fixture(scope="module")
def chain(pki_dir: Path):
    root = files.read_certs(files.cert_path(pki_dir, files.ROOT))[0]
    issuing = files.read_certs(files.cert_path(pki_dir, files.ISSUING))[0]
    return root, issuing


def verifies(issuer: x509.Certificate, signature: bytes, data: bytes) -> bool:
    try:
        issuer.public_key().verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


def test_a_persons_certificate_names_its_crl_ocsp_issuer_ekus_and_policy(director, chain):
    cert = cert_of(director.identity.cert_pem)
    points = ext(cert, x509.CRLDistributionPoints)
    assert [p.full_name[0].value for p in points] == [f"{SUITE_BASE_URL}/pki/issuing-ca.crl"]
    access = {
        (a.access_method, a.access_location.value)
        for a in ext(cert, x509.AuthorityInformationAccess)
    }
    assert access == {
        (AuthorityInformationAccessOID.OCSP, f"{SUITE_BASE_URL}/pki/ocsp"),
        (AuthorityInformationAccessOID.CA_ISSUERS, f"{SUITE_BASE_URL}/pki/issuing-ca.cer"),
    }
    usages = list(ext(cert, x509.ExtendedKeyUsage))
    assert usages == [DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    policies = [p.policy_identifier.dotted_string for p in ext(cert, x509.CertificatePolicies)]
    assert policies == [certificates.DEFAULT_POLICY_OID]
    assert certificates.DEFAULT_POLICY_OID.startswith("2.25.")
    cert.verify_directly_issued_by(chain[1])


def test_the_seal_tsa_and_issuing_ca_point_at_their_revocation_data(pki_dir, chain):
    root, issuing = chain
    for stem in (files.SEAL, files.TSA):
        cert = files.read_certs(files.cert_path(pki_dir, stem))[0]
        point = ext(cert, x509.CRLDistributionPoints)[0].full_name[0].value
        assert point == f"{SUITE_BASE_URL}/pki/issuing-ca.crl"
        assert ext(cert, x509.AuthorityInformationAccess)
    # The TSA keeps exactly the timeStamping EKU (RFC 3161 §2.3).
    tsa = files.read_certs(files.cert_path(pki_dir, files.TSA))[0]
    assert list(ext(tsa, x509.ExtendedKeyUsage)) == [ExtendedKeyUsageOID.TIME_STAMPING]
    point = ext(issuing, x509.CRLDistributionPoints)[0].full_name[0].value
    assert point == f"{SUITE_BASE_URL}/pki/root-ca.crl"
    with pytest.raises(x509.ExtensionNotFound):
        ext(root, x509.CRLDistributionPoints)


def test_a_policy_oid_setting_is_stated_instead(pki_dir, pki_passphrase):
    from portal.pki import Pki

    other = Pki.load(
        pki_dir, pki_passphrase, base_url="https://hmis.example/", policy_oid="1.2.3.4"
    )
    issued = other.issue_identity(
        common_name="Pat Policy",
        title="Analyst",
        organization="Hope",
        email="pat@hope.test",
        now=datetime.now(UTC),
        password="pat's password",
    )
    cert = cert_of(issued.cert_pem)
    assert [p.policy_identifier.dotted_string for p in ext(cert, x509.CertificatePolicies)] == [
        "1.2.3.4"
    ]
    assert ext(cert, x509.CRLDistributionPoints)[0].full_name[0].value == (
        "https://hmis.example/pki/issuing-ca.crl"
    )


def test_the_issuing_crl_lists_revocations_and_holds_in_force(pki, chain):
    t = WHEN - timedelta(days=3)
    entries = [
        RevokedEntry(0x51, t, R.affiliation_changed),
        RevokedEntry(0x52, t, R.certificate_hold),  # held: listed
        RevokedEntry(0x53, t, R.certificate_hold, released_at=t + timedelta(days=1)),  # lifted
        RevokedEntry(0x54, t, R.certificate_hold),
        RevokedEntry(0x54, t + timedelta(hours=1), R.key_compromise),  # final wins over hold
        RevokedEntry(0x55, t, R.unspecified),
    ]
    der = pki.issuing_crl(entries, WHEN, timedelta(hours=168))
    crl = x509.load_der_x509_crl(der)
    assert crl.is_signature_valid(chain[1].public_key())
    assert crl.issuer == chain[1].subject
    assert crl.last_update_utc == WHEN
    assert crl.next_update_utc == WHEN + timedelta(hours=168)
    assert ext(crl, x509.CRLNumber).crl_number == revocation.crl_number(WHEN)
    listed = {}
    for entry in crl:
        try:
            listed[entry.serial_number] = entry.extensions.get_extension_for_class(
                x509.CRLReason
            ).value.reason
        except x509.ExtensionNotFound:
            listed[entry.serial_number] = None
    assert listed == {
        0x51: R.affiliation_changed,
        0x52: R.certificate_hold,
        0x54: R.key_compromise,
        0x55: None,  # RFC 5280: unspecified is stated by leaving the reason out
    }
    assert crl.get_revoked_certificate_by_serial_number(0x54).revocation_date_utc == (
        t + timedelta(hours=1)
    )


def test_openssl_verifies_the_crls_against_the_chain(pki, pki_dir, tmp_path):
    crl_file = tmp_path / "issuing.crl"
    crl_file.write_bytes(pki.issuing_crl([RevokedEntry(0xABC, WHEN, R.superseded)], WHEN))
    root_file = tmp_path / "root.crl"
    root_file.write_bytes(pki.root_crl())
    bundle = tmp_path / "chain.pem"
    bundle.write_bytes((pki_dir / "issuing-ca.pem").read_bytes() + pki.root_pem())
    for path in (crl_file, root_file):
        out = subprocess.run(
            ["openssl", "crl", "-inform", "DER", "-in", str(path), "-noout", "-text",
             "-CAfile", str(bundle), "-verify"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert "verify OK" in out.stderr + out.stdout
    text = subprocess.run(
        ["openssl", "crl", "-inform", "DER", "-in", str(crl_file), "-noout", "-text"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Serial Number: 0ABC" in text and "Superseded" in text


def test_the_root_crl_is_signed_at_init_and_lasts_as_long_as_the_issuing_ca(pki, pki_dir, chain):
    root, issuing = chain
    crl = x509.load_der_x509_crl(pki.root_crl())
    assert (pki_dir / "root-ca.crl").read_bytes() == pki.root_crl()
    assert crl.issuer == root.subject and crl.is_signature_valid(root.public_key())
    assert len(crl) == 0
    assert crl.next_update_utc == issuing.not_valid_after_utc


def test_the_root_crl_is_signed_again_with_the_root_key_brought_back(
    pki_dir, pki_passphrase, tmp_path, chain
):
    copy = tmp_path / "pki"
    copy.mkdir()
    for name in ("root-ca.pem", "issuing-ca.pem"):
        (copy / name).write_bytes((pki_dir / name).read_bytes())
    key = pki_dir / "root-ca.key.pem"
    revocation.resign_root_crl(copy, key, pki_passphrase, WHEN)
    crl = x509.load_der_x509_crl((copy / "root-ca.crl").read_bytes())
    assert crl.last_update_utc == WHEN and crl.is_signature_valid(chain[0].public_key())
    with pytest.raises(PkiError, match="is not the root CA's key"):
        revocation.resign_root_crl(copy, pki_dir / "seal.key.pem", pki_passphrase, WHEN)


def request_for(cert: x509.Certificate, issuer: x509.Certificate, algorithm=None, nonce=None):
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or hashes.SHA1())
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def test_ocsp_answers_good_revoked_held_and_unknown(pki, director, chain):
    cert = cert_of(director.identity.cert_pem)
    issuing = chain[1]
    states = {
        "good": GOOD,
        "revoked": CertificateState(True, RevokedEntry(cert.serial_number, WHEN, R.key_compromise)),
        "held": CertificateState(True, RevokedEntry(cert.serial_number, WHEN, R.certificate_hold)),
        "unknown": UNKNOWN,
    }
    answers = {}
    for name, state in states.items():
        asked = []

        def lookup(serial: int, state=state, asked=asked) -> CertificateState:
            asked.append(serial)
            return state

        with time_machine.travel(WHEN, tick=False):
            der = pki.ocsp(request_for(cert, issuing, nonce=b"0123456789abcdef"), lookup, WHEN)
        answer = ocsp.load_der_ocsp_response(der)
        assert asked == [cert.serial_number]
        assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
        assert answer.serial_number == cert.serial_number
        assert answer.this_update_utc == WHEN == answer.produced_at_utc
        assert answer.next_update_utc == WHEN + timedelta(hours=168)
        assert answer.responder_key_hash == ext(issuing, x509.SubjectKeyIdentifier).digest
        assert verifies(issuing, answer.signature, answer.tbs_response_bytes)
        nonce = answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        assert nonce == b"0123456789abcdef"
        answers[name] = answer
    assert answers["good"].certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answers["unknown"].certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    for name, reason in (("revoked", R.key_compromise), ("held", R.certificate_hold)):
        assert answers[name].certificate_status == ocsp.OCSPCertStatus.REVOKED
        assert answers[name].revocation_reason == reason
        assert answers[name].revocation_time_utc == WHEN


def test_ocsp_with_sha256_ids_and_openssl_reads_the_answer(pki, pki_dir, director, chain, tmp_path):
    cert = cert_of(director.identity.cert_pem)
    held = CertificateState(True, RevokedEntry(cert.serial_number, WHEN, R.certificate_hold))
    now = datetime.now(UTC)
    der = pki.ocsp(request_for(cert, chain[1], hashes.SHA256()), lambda serial: held, now)
    answer = ocsp.load_der_ocsp_response(der)
    assert answer.hash_algorithm.name == "sha256"
    (tmp_path / "resp.der").write_bytes(der)
    (tmp_path / "person.pem").write_bytes(director.identity.cert_pem)
    (tmp_path / "root.pem").write_bytes(pki.root_pem())
    out = subprocess.run(
        ["openssl", "ocsp", "-respin", str(tmp_path / "resp.der"), "-sha256",
         "-issuer", str(pki_dir / "issuing-ca.pem"), "-cert", str(tmp_path / "person.pem"),
         "-CAfile", str(tmp_path / "root.pem"), "-verify_other", str(pki_dir / "issuing-ca.pem")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert "Response verify OK" in out.stderr + out.stdout
    assert "person.pem: revoked" in out.stdout
    assert "Reason: certificateHold" in out.stdout


def test_ocsp_refuses_what_it_cannot_answer(pki, director, pki_dir):
    status = ocsp.OCSPResponseStatus

    def asked(der: bytes) -> ocsp.OCSPResponseStatus:
        return ocsp.load_der_ocsp_response(pki.ocsp(der, lambda s: GOOD, WHEN)).response_status

    assert asked(b"") == status.MALFORMED_REQUEST
    assert asked(b"\x30\x03\x02\x01\x01") == status.MALFORMED_REQUEST
    assert asked(b"not an ocsp request at all") == status.MALFORMED_REQUEST
    # A certificate of another CA (here the issuing CA itself, whose issuer is the root).
    root = files.read_certs(files.cert_path(pki_dir, files.ROOT))[0]
    issuing = files.read_certs(files.cert_path(pki_dir, files.ISSUING))[0]
    assert asked(request_for(issuing, root)) == status.UNAUTHORIZED
