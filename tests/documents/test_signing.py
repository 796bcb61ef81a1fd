"""Certify → approve → approve, checked by pyHanko and by poppler's pdfsig (NSS)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from io import BytesIO

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import TimeStamper

from portal.documents.signing import (
    DocumentSigner,
    SignatureStamp,
    SigningError,
    TimestampError,
)
from portal.documents.verify import verify_pdf
from tests.documents.conftest import AGENCY_FIELD, LEAD_FIELD, three_page_pdf
from tests.support.pki import pdfsig


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(BytesIO(pdf))


def _fields(reader: PdfFileReader) -> list[generic.DictionaryObject]:
    return [ref.get_object() for ref in reader.root["/AcroForm"]["/Fields"]]


def test_each_step_is_one_incremental_update(versions):
    assert versions.certified.startswith(versions.rendered)
    assert versions.agency_signed.startswith(versions.certified)
    assert versions.final.startswith(versions.agency_signed)
    each = (versions.rendered, versions.certified, versions.agency_signed, versions.final)
    revisions = [_reader(v).xrefs.total_revisions for v in each]
    # Each step is one revision: the signature with its validation data in the DSS (B-LT;
    # the portal's own TSA is known before signing, so nothing follows the signature).
    assert revisions == [1, 2, 3, 4]
    # The certification revision already holds both empty fields, with their boxes.
    reader = _reader(versions.certified)
    fields = {f["/T"]: f for f in _fields(reader)}
    assert set(fields) == {"agency_signature", "lead_signature", "certification"}
    assert "/V" not in fields["agency_signature"] and "/V" not in fields["lead_signature"]
    assert [float(x) for x in fields["lead_signature"]["/Rect"]] == list(LEAD_FIELD.box)


def test_final_pdf_validates_in_pyhanko(versions, pki, director, ceo):
    report = verify_pdf(versions.final, pki.trust_roots)
    assert report.error is None and report.all_valid
    assert [s.field_name for s in report.signatures] == [
        "certification",
        AGENCY_FIELD.name,
        LEAD_FIELD.name,
    ]
    certification, agency, lead = report.signatures
    for s in report.signatures:
        assert s.intact and s.valid and s.trusted
        assert s.timestamp_time is not None and s.timestamp_trusted
        assert s.modifications_permitted, s.modification_summary
        assert s.docmdp_level == "FILL_FORMS"
    assert certification.is_certification and not agency.is_certification
    assert certification.signer_name == "Sacramento Steps Forward HMIS Document Seal"
    assert (agency.signer_name, agency.signer_title, agency.signer_organization) == (
        "Eve Director",
        "Executive Director",
        "Hope & Harbor <Shelter>",
    )
    assert agency.signer_email == "ed@hope.test"
    assert (lead.signer_name, lead.signer_title) == ("Sol Signer", "Chief Executive Officer")
    assert lead.covers_whole_document and not agency.covers_whole_document
    # Revisions counted from 1 (the rendered document); each signature is one revision.
    assert [s.revision for s in report.signatures] == [2, 3, 4]


def test_final_pdf_validates_in_pdfsig(versions, nss_db, tmp_path):
    path = tmp_path / "final.pdf"
    path.write_bytes(versions.final)
    out = pdfsig(nss_db, path)
    assert out.count("Signature Validation: Signature is Valid.") == 3, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 3, out
    assert "Signer Certificate Common Name: Eve Director" in out
    assert "title=Executive Director" in out


def test_stamp_shows_name_title_organization_and_date(versions):
    # The appearance is a page drawn with embedded fonts (portal/documents/stamp.py): read
    # what poppler shows on the signed page.
    out = subprocess.run(
        ["pdftotext", "-f", "3", "-l", "3", "-", "-"],
        input=versions.final,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for text in (
        "Digitally signed",
        "Eve Director",
        "Executive Director",
        "Hope & Harbor <Shelter>",
        "November 24, 2026",
    ):
        assert text in out


def _flip_byte_in_first_revision(pdf: bytes) -> bytes:
    data = bytearray(pdf)
    first_eof = data.index(b"%%EOF")
    # A byte of page content (inside a stream), so the file still parses.
    target = data.index(b"stream", 0, first_eof) + 20
    data[target] ^= 0x01
    return bytes(data)


def test_one_byte_changed_in_first_revision_fails_both_validators(versions, pki, nss_db, tmp_path):
    tampered = _flip_byte_in_first_revision(versions.final)
    report = verify_pdf(tampered, pki.trust_roots)
    assert len(report.signatures) == 3
    assert not any(s.intact for s in report.signatures)
    assert not report.all_valid and report.error
    path = tmp_path / "tampered.pdf"
    path.write_bytes(tampered)
    out = pdfsig(nss_db, path)
    assert out.count("Signature Field Name:") == 3, out
    assert "Signature is Valid." not in out


def _add_text_annotation(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    note = writer.add_object(
        generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Text"),
                generic.pdf_name("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (100, 100, 120, 120)]
                ),
                generic.pdf_name("/Contents"): generic.TextStringObject("void"),
            }
        )
    )
    page[generic.pdf_name("/Annots")] = generic.ArrayObject([note])
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _change_page_content(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    stream = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 400 Td (TERMS CHANGED) Tj ET")
    )
    writer.add_stream_to_page(0, stream)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("change", [_add_text_annotation, _change_page_content])
def test_change_not_permitted_after_certification_is_reported(versions, pki, change):
    changed = change(versions.final)
    report = verify_pdf(changed, pki.trust_roots)
    assert len(report.signatures) == 3
    # The signed bytes are untouched, but what came after breaks the certification's rule.
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)
    assert not any(s.modifications_permitted for s in report.signatures)
    assert not report.all_valid
    # In plain words, revisions counted from 1 (tests/documents/test_verdict.py has more).
    summary = report.signatures[0].modification_summary
    assert re.match(r"Revision \d+ (changed the content|added comments) .* certified;", summary)


def test_signing_an_already_signed_field_fails(versions, signer, pki, ceo):
    with pytest.raises(SigningError, match="already signed"):
        signer.approve(
            versions.final,
            signer=pki.signer_for(ceo.identity, ceo.password),
            field_name=LEAD_FIELD.name,
            stamp=ceo.stamp,
            reason="again",
        )


def test_signing_a_missing_field_fails(versions, signer, pki, ceo):
    with pytest.raises(SigningError, match="no field witness_signature"):
        signer.approve(
            versions.certified,
            signer=pki.signer_for(ceo.identity, ceo.password),
            field_name="witness_signature",
            stamp=ceo.stamp,
            reason="x",
        )


def test_certifying_a_signed_document_fails(versions, signer):
    with pytest.raises(SigningError, match="already signed"):
        signer.certify(versions.final, fields=[], reason="again")


def test_not_a_pdf_fails_plainly(signer):
    with pytest.raises(SigningError, match="not a readable PDF"):
        signer.seal(b"%PDF-1.7 but not really", reason="x")


class UnavailableTimeStamper(TimeStamper):
    """A TSA that is down: every request fails, as a real one does when unreachable."""

    async def async_request_tsa_response(self, req):
        raise ConnectionError("TSA unreachable")


class CountingTimeStamper(TimeStamper):
    """Delegates to the portal TSA and counts the tokens it issues."""

    def __init__(self, inner: TimeStamper):
        super().__init__()
        self.inner, self.calls = inner, 0

    async def async_timestamp(self, message_digest, md_algorithm):
        self.calls += 1
        return await self.inner.async_timestamp(message_digest, md_algorithm)


def test_failing_timestamper_raises_timestamp_error(versions, pki, director):
    failing = DocumentSigner(pki, timestamper=UnavailableTimeStamper())
    result = None
    with pytest.raises(TimestampError, match="time-stamping service failed") as caught:
        result = failing.approve(
            versions.certified,
            signer=pki.signer_for(director.identity, director.password),
            field_name=AGENCY_FIELD.name,
            stamp=director.stamp,
            reason="x",
        )
    assert result is None
    assert str(caught.value).startswith("The signature could not be applied")
    with pytest.raises(TimestampError):
        failing.seal(three_page_pdf(), reason="x")


def test_one_timestamp_per_signature_and_tight_reserved_space(versions, pki, ceo):
    """No dry-run signature: after the first (which sizes the token), one TSA call each."""
    counting = CountingTimeStamper(pki.timestamper)
    signer = DocumentSigner(pki, timestamper=counting)
    identity = pki.signer_for(ceo.identity, ceo.password)
    stamp = SignatureStamp("Sol Signer", "CEO", "SSF", "today")
    signer.approve(
        versions.agency_signed, signer=identity, field_name=LEAD_FIELD.name, stamp=stamp, reason="x"
    )
    before = counting.calls
    signed = [
        signer.approve(
            versions.agency_signed,
            signer=identity,
            field_name=LEAD_FIELD.name,
            stamp=stamp,
            reason="x",
        )
        for _ in range(3)
    ]
    assert counting.calls - before == 3
    last = list(_reader(signed[-1]).embedded_signatures)[-1]
    used = len(cms.ContentInfo.load(last.pkcs7_content).dump())
    room = len(last.pkcs7_content)
    assert used <= room < used + 1536


def test_seal_signs_a_fresh_certificate_invisibly(signer, pki):
    sealed = signer.seal(three_page_pdf(), reason="Certificate of completion")
    report = verify_pdf(sealed, pki.trust_roots)
    assert report.all_valid and len(report.signatures) == 1
    seal = report.signatures[0]
    assert seal.field_name == "seal" and not seal.is_certification and seal.docmdp_level is None
    assert seal.signer_name == "Sacramento Steps Forward HMIS Document Seal"
    assert seal.timestamp_trusted and seal.covers_whole_document
    field = _fields(_reader(sealed))[0]
    assert [float(x) for x in field["/Rect"]] == [0, 0, 0, 0]  # invisible


def test_usable_from_inside_an_event_loop(signer, pki):
    """Async servers and Playwright's sync API run a loop in the calling thread."""

    async def inside_a_loop():
        sealed = signer.seal(three_page_pdf(), reason="x")
        return verify_pdf(sealed, pki.trust_roots)

    assert asyncio.run(inside_a_loop()).all_valid
