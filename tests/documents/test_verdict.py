"""The overall verdict: one per way a signed PDF can be right or wrong, in plain words.

Whether a file is on record is the service's lookup (tests/views/test_verify_page.py checks
it against stored versions); here it is given, so each verdict is drawn from real PDFs.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator import ValidationContext

from portal.documents import issuance
from portal.documents.issuance import IssuedCertificate, Revocation
from portal.documents.signing import run_sync
from portal.documents.verdict import Verdict, format_text, judge
from portal.documents.verify import verify_pdf
from tests.documents.conftest import AGENCY_FIELD, three_page_pdf
from tests.support.tampering import Forgery, appended, byte_flipped, page_drawn_on

RAW_PYHANKO = re.compile(r"Reference\(|idnum|unexplained xrefs|Traceback|Error\(|<[a-z_.]+ object")


def judged(data: bytes, roots, *, on_record: bool):
    report = verify_pdf(data, roots)
    judgement = judge(report, on_record)
    text = format_text(report, judgement)
    assert not RAW_PYHANKO.search(text), text
    return report, judgement, text


def test_a_genuine_stored_pdf_is_valid_and_on_record(versions, pki):
    report, judgement, text = judged(versions.final, pki.trust_roots, on_record=True)
    assert judgement.verdict is Verdict.VALID_ON_RECORD and judgement.findings == ()
    assert text.splitlines()[0] == "Verdict: Valid and on record"
    assert judgement.verdict.exit_code == 0
    # Each row names its certificate and its issuer's by SHA-256, as openssl would print them.
    issuing = pki.trust_roots[0]  # the root; signers' certificates come from the issuing CA
    for s in report.signatures:
        assert re.fullmatch(r"[0-9a-f]{64}", s.cert_sha256)
        assert re.fullmatch(r"[0-9a-f]{64}", s.issuer_sha256)
        assert s.issuer_sha256 != issuing.sha256.hex() and not s.is_document_timestamp
    assert len({s.issuer_sha256 for s in report.signatures}) == 1


def test_the_same_pdf_not_stored_is_valid_but_not_on_record(versions, pki):
    _, judgement, text = judged(versions.final, pki.trust_roots, on_record=False)
    assert judgement.verdict is Verdict.VALID_NOT_ON_RECORD and judgement.verdict.valid
    assert judgement.verdict.exit_code == 3
    assert text.startswith("Verdict: Valid signatures, but this file is not on record")


def test_a_signature_under_a_forgers_own_ca_is_an_unknown_ca(pki):
    forgery = Forgery("Maria Delgado")
    report, judgement, text = judged(
        forgery.sign(three_page_pdf()), pki.trust_roots, on_record=False
    )
    assert judgement.verdict is Verdict.UNKNOWN_CA and not judgement.verdict.valid
    [row] = report.signatures
    assert row.intact and row.valid and not row.trusted
    assert row.signer_name == "Maria Delgado"
    assert row.cert_sha256 == forgery.leaf.sha256.hex()
    assert row.issuer_sha256 == forgery.root.sha256.hex()
    assert "not issued under the portal's root certificate authority" in text
    assert judgement.verdict.exit_code == 1
    # Even if the file were somehow on record, an unknown CA is not valid.
    assert judge(report, True).verdict is Verdict.UNKNOWN_CA


def test_a_changed_byte_is_broken_and_said_in_those_words(versions, pki):
    report, judgement, text = judged(byte_flipped(versions.final), pki.trust_roots, on_record=False)
    assert judgement.verdict is Verdict.BYTES_CHANGED
    assert text.startswith("Verdict: Broken: the signed bytes were changed")
    assert all(not s.intact for s in report.signatures)
    assert "digest does not match" in judgement.explanation
    assert all("digest does not match" in f for f in judgement.findings)
    # Not blamed on the certificate: the chain is simply not checked for a broken signature.
    assert "does not chain" not in text and "Trusted: No: the chain" not in text


def test_page_content_added_after_certification_is_explained_in_plain_words(versions, pki):
    revisions_before = versions.final.count(b"%%EOF")
    tampered = page_drawn_on(versions.final, page_index=1)
    report, judgement, text = judged(tampered, pki.trust_roots, on_record=False)
    assert judgement.verdict is Verdict.CHANGED_AFTER_SIGNING
    # Revisions count from 1: the drawing is the revision after the last one signed.
    expected = (
        f"Revision {revisions_before + 1} changed the content of page 2 after the document was "
        "certified; the certification allowed only filling in form and signature fields."
    )
    assert judgement.findings == (expected,)
    assert all(s.intact and s.trusted and not s.modifications_permitted for s in report.signatures)
    assert expected in text


def test_bytes_appended_after_eof_are_a_finding_of_their_own(versions, pki):
    report, judgement, text = judged(appended(versions.final), pki.trust_roots, on_record=False)
    assert report.appended_bytes == len(b"% appended after signing")
    assert judgement.verdict is Verdict.BYTES_APPENDED and not judgement.verdict.valid
    assert "follow the end of the PDF (after its last %%EOF marker)" in judgement.findings[-1]
    assert all(s.intact and s.trusted for s in report.signatures)
    # A file stored exactly so is on record, but the finding stays in view.
    on_record = judge(report, True)
    assert on_record.verdict is Verdict.VALID_ON_RECORD and on_record.findings
    # Line endings after %%EOF are not appended bytes.
    assert verify_pdf(versions.final + b"\r\n", pki.trust_roots).appended_bytes == 0


def test_a_document_timestamp_and_its_validation_data_are_normal(versions, pki):
    out = BytesIO()
    run_sync(
        signers.PdfTimeStamper(pki.timestamper).async_timestamp_pdf(
            IncrementalPdfFileWriter(BytesIO(versions.final)),
            "sha256",
            validation_context=ValidationContext(trust_roots=pki.trust_roots, allow_fetching=False),
            output=out,
        )
    )
    report, judgement, text = judged(out.getvalue(), pki.trust_roots, on_record=True)
    assert judgement.verdict is Verdict.VALID_ON_RECORD, text
    # People's signatures stay three; the timestamp is a row of its own, marked as such.
    assert len(report.signatures) == 3 and not any(
        s.is_document_timestamp for s in report.signatures
    )
    [stamp] = report.document_timestamps
    assert report.rows[-1] is stamp and report.all_valid
    assert stamp.is_document_timestamp and stamp.timestamp_trusted and stamp.ok
    assert "Document timestamp 4" in text
    # Whether the portal issued a certificate is asked of signatures, not of timestamps.
    issued = _all_issued(report)
    assert stamp.cert_sha256 not in issued
    assert judge(report, True, issued).verdict is Verdict.VALID_ON_RECORD
    assert issuance.issuance_words(stamp, issued) is None


def _all_issued(report, **revocations) -> dict[str, IssuedCertificate]:
    """The record of a portal that issued every signature's certificate in `report`;
    `revocations` by field name."""
    return {
        s.cert_sha256: IssuedCertificate(
            s.cert_sha256,
            f"{s.signer_name} ({s.signer_organization})",
            s.timestamp_time - timedelta(days=2),
            tuple(revocations.get(s.field_name, ())),
        )
        for s in report.signatures
    }


def test_a_certificate_the_portal_never_issued_is_not_valid_even_on_record(versions, pki):
    report = verify_pdf(versions.final, pki.trust_roots)
    issued = _all_issued(report)
    judgement = judge(report, True, issued)
    assert judgement.verdict is Verdict.VALID_ON_RECORD and judgement.findings == ()
    text = format_text(report, judgement, issued=issued)
    agency = next(s for s in report.signatures if s.field_name == AGENCY_FIELD.name)
    day = (agency.timestamp_time - timedelta(days=2)).date().isoformat()
    assert (
        f"  Portal record: Certificate issued by the portal to {agency.signer_name} "
        f"({agency.signer_organization}) on {day}"
    ) in text.splitlines()
    # The same file, but the portal has no record of the agency signer's certificate: it
    # chains to the root all the same (as one minted with the CA key would).
    del issued[agency.cert_sha256]
    minted = judge(report, True, issued)
    assert minted.verdict is Verdict.UNISSUED_CERTIFICATE and minted.verdict.exit_code == 1
    assert minted.headline == (
        "Not valid: a signer's certificate was never issued by the portal (it may be forged)"
    )
    n = report.rows.index(agency) + 1
    assert minted.findings == (f"Signature {n} ({agency.signer_name}): {issuance.UNISSUED_WORDS}",)
    assert agency.trusted and issuance.unissued(agency, issued)
    # Without a record to ask (library use), issuance is not judged.
    assert judge(report, True).verdict is Verdict.VALID_ON_RECORD


def test_a_revocation_counts_only_if_in_force_when_it_signed(versions, pki):
    report = verify_pdf(versions.final, pki.trust_roots)
    agency = next(s for s in report.signatures if s.field_name == AGENCY_FIELD.name)
    signed = agency.timestamp_time
    cases = {
        # (reason, revoked, released) relative to the signing time -> verdict, effect words
        ("affiliation_changed", timedelta(days=30), None): (
            Verdict.VALID_ON_RECORD,
            "after this was signed, so the signature stays valid",
        ),
        ("key_compromise", -timedelta(hours=1), None): (
            Verdict.CERTIFICATE_PROBLEM,
            "in force when this was signed, so the signature is not valid",
        ),
        ("certificate_hold", -timedelta(days=3), -timedelta(days=1)): (
            Verdict.VALID_ON_RECORD,
            "lifted before this was signed",
        ),
        ("certificate_hold", -timedelta(days=3), timedelta(days=1)): (
            Verdict.CERTIFICATE_PROBLEM,
            "in force when this was signed, so the signature is not valid",
        ),
    }
    for (reason, revoked, released), (verdict, effect) in cases.items():
        revocation = Revocation(
            reason, "Why", signed + revoked, signed + released if released else None
        )
        issued = _all_issued(report, **{AGENCY_FIELD.name: [revocation]})
        judgement = judge(report, True, issued)
        assert judgement.verdict is verdict, (reason, judgement.findings)
        words = issuance.revocation_words(agency, issued)
        assert words == f"{revocation.words} — {effect}.", words
        assert f"  Revocation: {words}" in format_text(report, judgement, issued=issued)
        if verdict is Verdict.CERTIFICATE_PROBLEM:
            assert any("not in good standing when it signed" in f for f in judgement.findings)


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.7\n%%EOF"])
def test_garbage_is_not_signed(data, pki):
    _, judgement, text = judged(data, pki.trust_roots, on_record=False)
    assert judgement.verdict is Verdict.NOT_SIGNED and judgement.verdict.exit_code == 1
    assert text.startswith("Verdict: Not verifiable")
