"""verify_pdf: any bytes in, a report out; trust only in the given roots; text for the CLI
(the verdict drawn from it: tests/documents/test_verdict.py)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import time_machine
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from portal.documents.verdict import format_text, judge
from portal.documents.verify import verify_pdf
from tests.documents.conftest import three_page_pdf


def _stranger_root() -> asn1_x509.Certificate:
    """A self-signed root that signed nothing in these documents."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Somebody Else Root CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def test_garbage_is_reported_not_raised(pki):
    for data in (b"", b"hello, world", b"%PDF-1.7\n%%EOF"):
        report = verify_pdf(data, pki.trust_roots)
        assert report.signatures == [] and report.error and not report.all_valid
        assert report.sha256 == hashlib.sha256(data).hexdigest()


def test_unsigned_pdf_has_no_signatures(pki):
    report = verify_pdf(three_page_pdf(), pki.trust_roots)
    assert report.signatures == [] and "no digital signatures" in report.error
    assert not report.all_valid


def test_truncated_signed_pdf_does_not_raise(versions, pki):
    for cut in (len(versions.final) // 2, len(versions.final) - 200):
        report = verify_pdf(versions.final[:cut], pki.trust_roots)
        assert not report.all_valid


def test_untrusted_root_gives_intact_but_untrusted(versions):
    report = verify_pdf(versions.final, [_stranger_root()])
    assert len(report.signatures) == 3
    assert all(s.intact and s.valid and not s.trusted for s in report.signatures)
    assert not any(s.timestamp_trusted for s in report.signatures)
    assert not report.all_valid


def test_earlier_version_verifies_on_its_own(versions, pki):
    report = verify_pdf(versions.agency_signed, pki.trust_roots)
    assert report.all_valid and len(report.signatures) == 2
    last = report.signatures[-1]
    # Only validation data (a DSS, PAdES B-LT) may follow the last signature.
    assert last.covers_whole_document or last.modification_summary.startswith(
        "Later revisions only added validation data"
    )


def test_still_valid_after_the_signers_certificate_expired(versions, pki):
    """Checked at the trusted timestamp, a signature outlives its 3-year certificate."""
    with time_machine.travel(datetime.now(UTC) + timedelta(days=4 * 365), tick=False):
        report = verify_pdf(versions.final, pki.trust_roots)
    assert report.all_valid, format_text(report, judge(report, False))


def test_format_text_lists_every_signature_after_the_verdict(versions, pki):
    report = verify_pdf(versions.final, pki.trust_roots)
    text = format_text(report, judge(report, True), "On record: PAA-0001-01, version 3.")
    lines = text.splitlines()
    assert lines[0] == "Verdict: Valid and on record"
    assert lines[2] == "On record: PAA-0001-01, version 3."
    assert lines[3].startswith("SHA-256: ")
    assert "Certification 1 (field certification, revision 2)" in text
    assert re.search(
        r"Signature 2 \(field agency_signature, revision \d+\): Eve Director, Exec", text
    )
    assert "E-mail: sign@ssf.test" in text
    assert "DocMDP: FILL_FORMS (form filling and signing allowed)" in text
    assert text.count("Status: In order") == 3
    assert text.count("(trusted timestamp)") == 3
    assert text.count("Certificate SHA-256: ") == 3
    unsigned = verify_pdf(three_page_pdf(), pki.trust_roots)
    assert "This PDF carries no digital signatures." in format_text(
        unsigned, judge(unsigned, False)
    )
