"""Archival PDFs in any language: PDF/A-3b furniture on every renderer's output, names in six
scripts and emoji that come back out of poppler's pdftotext, stamps that say who signed and
when, and the certificate of completion carrying the signed agreement inside it."""

from __future__ import annotations

import hashlib
import re
import subprocess
import unicodedata
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from pyhanko.pdf_utils.reader import PdfFileReader

from portal.documents.certificate import CertificateDocument, CertificateEvent, render_certificate
from portal.documents.cff_fonts import cff_to_truetype
from portal.documents.fonts import CJK_COLLECTION, CJK_FACE_INDEX
from portal.documents.handover_receipt import HandoverFacts, render_receipt
from portal.documents.notices import NOTICE_OF_DEFAULT, render_notice
from portal.documents.participation import Participation, render_participation_certificate
from portal.documents.pdf_layout import SIGNATURE_BOX_SIZE, PartyBlock
from portal.documents.pdfa import Attachment, srgb_profile
from portal.documents.render import render_agreement
from portal.documents.self_assessment import Facts, officer_block, render_self_assessment
from portal.documents.signing import DocumentSigner, SignatureField, SignatureStamp
from portal.documents.stamp import render_stamp
from portal.documents.template_text import load_sample_template
from portal.documents.user_agreement import UserDetails, render_user_agreement
from portal.pki import Pki
from tests.support.pki import pdfsig

NAMES = {
    "Spanish": "José Núñez",
    "Vietnamese": "Nguyễn Thị Minh Khai",
    "Russian": "Мария Дельгадо",
    "Chinese": "王小明",
    "Arabic": "مريم الحسيني",
    "Hebrew": "דוד כהן",
    "emoji": "Hope 😊 House",
}
NO_GLYPH = "Café 🦄"  # no embeddable font has a unicorn: its name prints instead
LEAD = "Sacramento Steps Forward"
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _text(pdf: bytes, page: int | None = None) -> str:
    """pdftotext's text, NFKC-normalised (Arabic presentation forms back to letters) and
    without the bidi marks poppler puts around right-to-left runs."""
    pages = [] if page is None else ["-f", str(page + 1), "-l", str(page + 1)]
    out = subprocess.run(
        ["pdftotext", *pages, "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return BIDI_CONTROLS.sub("", unicodedata.normalize("NFKC", out))


def _lines(pdf: bytes, page: int | None = None) -> list[str]:
    return [" ".join(line.split()) for line in _text(pdf, page).splitlines()]


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(BytesIO(pdf))


def _xmp(pdf: bytes) -> dict[str, object]:
    """The XMP properties by expanded name, parsed (pyHanko rewrites the packet when it
    signs, as rdf:Description attributes instead of elements)."""
    return {
        f"{k.ns}{k.local_name}": v.value for s in _reader(pdf).root["/Metadata"].xmp for k, v in s
    }


PDFAID = "http://www.aiim.org/pdfa/ns/id/"


# ---------------------------------------------------------------- one of every document


def _party(field: str, name: str = "José Núñez") -> PartyBlock:
    return PartyBlock(field, "PARTNER AGENCY", name, "Executive Director", "Café Ñandú")


def _agreement(name: str = "José Núñez") -> bytes:
    sample = load_sample_template()
    values = {
        "agency_name": "Café Ñandú",
        "agency_address": "1234 K Street, Sacramento",
        "executive_director_name": name,
        "executive_director_title": "Executive Director",
        "lead_agency_name": LEAD,
    }
    return render_agreement(
        sample.body,
        values,
        title=sample.title,
        template_version=sample.template_version,
        revised_date=sample.revised_date,
        parties=[_party("agency_signature", name), PartyBlock("lead_signature", LEAD.upper(),
                                                              "", "", LEAD)],
    ).pdf  # fmt: skip


def _notice(paragraphs: list[str] | None = None, to_party: str = "Café Ñandú"):
    return render_notice(
        kind="default_notice",
        title=NOTICE_OF_DEFAULT,
        reference="ND-0001",
        agreement_reference="PAA-0001-01",
        from_party=LEAD,
        to_party=to_party,
        to_address="1234 K Street",
        given_on="December 2, 2026",
        paragraphs=paragraphs or ["The agency has not completed its yearly training."],
        signer=PartyBlock("issuer_signature", "HMIS LEAD AGENCY", "", "", LEAD),
    )


def _certificate(attachments=()) -> bytes:
    return render_certificate(
        lead_agency_name=LEAD,
        case_title="HMIS Partner Agency Agreement PAA-0001-01",
        case_reference="PAA-0001-01",
        agency_name="Café Ñandú",
        status="In effect",
        events=[CertificateEvent("December 2, 2026, 9:14 am PST", "王小明 <w@x.test>",
                                 "Executive director", "Signed", "203.0.113.9", "Firefox")],
        documents=[CertificateDocument("Signed by both", "ab" * 32, 1234, "December 2, 2026")],
        generated_at="December 2, 2026, 9:20 am PST",
        attachments=attachments,
    )  # fmt: skip


def _user_agreement() -> bytes:
    sample = load_sample_template("hmis-user-agreement-v1")
    return render_user_agreement(
        sample.body,
        {"agency_name": "Café Ñandú", "lead_agency_name": LEAD},
        title=sample.title,
        template_version=sample.template_version,
        revised_date=sample.revised_date,
        user=UserDetails("مريم الحسيني", "Case Manager", "Case manager", "Café Ñandú"),
        parties=[_party("user_signature", "مريم الحسيني"), _party("agency_approval")],
    ).pdf


def _participation() -> bytes:
    return render_participation_certificate(
        Participation(LEAD, "Café Ñandú", "PAA-0001-01", "March 2, 2026", "דוד כהן",
                      "Case Manager", "HMIS-0042", "April 1, 2026", "HAR-0001-001",
                      "April 3, 2026")
    )  # fmt: skip


def _self_assessment() -> bytes:
    facts = Facts(LEAD, "Café Ñandú", 2026, officer_block("Мария Дельгадо", "SO", "Café Ñandú"))
    answers = {"p1": {"answer": "yes", "comment": "Мария Дельгадо, 王小明"}}
    return render_self_assessment(facts, answers).pdf


def _receipt() -> bytes:
    facts = HandoverFacts(LEAD, "RA-0001", "Rapid Rehousing", "CA0001", "Café Ñandú",
                          "Nguyễn Thị Minh Khai", "May 1, 2026", 12, "hand delivery",
                          "May 2, 2026", "May 3, 2026")  # fmt: skip
    return render_receipt(facts, [_party("releasing_signature"), _party("acquiring_signature")]).pdf


RENDERERS = {
    "agreement": _agreement,
    "notice": lambda: _notice().pdf,
    "certificate": _certificate,
    "user_agreement": _user_agreement,
    "participation": _participation,
    "self_assessment": _self_assessment,
    "receipt": _receipt,
}


@pytest.fixture(scope="module", params=sorted(RENDERERS))
def rendered(request) -> tuple[str, bytes]:
    return request.param, RENDERERS[request.param]()


# ---------------------------------------------------------------- PDF/A-3b


def _fonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    return [line.split() for line in out.stdout.splitlines()[2:]]


def test_every_font_is_embedded(rendered, tmp_path):
    kind, pdf = rendered
    fonts = _fonts(pdf, tmp_path)
    assert fonts, kind
    for row in fonts:
        # name type encoding emb sub uni id gen: the "emb" column, from the right.
        assert row[-5] == "yes", f"{kind}: {row[0]} is not embedded"
        assert row[-3] == "yes", f"{kind}: {row[0]} has no ToUnicode map"
    assert not any("Helvetica" in row[0] or "Courier" in row[0] for row in fonts)


def test_the_stamp_embeds_its_fonts_too(tmp_path):
    """The stamp is a page of its own, imported into the signature's appearance."""
    stamp = render_stamp(300, 74, [("Name", "مريم الحسيني 王小明"), ("Date", "today")])
    fonts = _fonts(stamp, tmp_path)
    assert len(fonts) >= 3 and all(row[-5] == "yes" for row in fonts)


def test_output_intent_is_srgb_with_an_icc_profile(rendered):
    kind, pdf = rendered
    root = _reader(pdf).root
    [intent] = root["/OutputIntents"]
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"]
    assert profile["/N"] == 3
    data = profile.data
    assert data[36:40] == b"acsp" and data[16:20] == b"RGB ", kind


def test_xmp_says_pdfa_3b_and_matches_the_info_dictionary(rendered):
    kind, pdf = rendered
    xmp = _xmp(pdf)
    assert xmp[PDFAID + "part"] == "3" and xmp[PDFAID + "conformance"] == "B"
    info = _reader(pdf).trailer["/Info"]
    [title] = xmp["http://purl.org/dc/elements/1.1/title"].entries
    assert title.value == str(info["/Title"]), kind
    [author] = xmp["http://purl.org/dc/elements/1.1/creator"].entries
    assert author.value == str(info["/Author"])
    assert "/Producer" not in info and "http://ns.adobe.com/pdf/1.3/Producer" not in xmp
    assert xmp["http://ns.adobe.com/xap/1.0/CreateDate"] == "2000-01-01T00:00:00+00:00"
    assert str(info["/CreationDate"]).startswith("D:20000101000000")


def test_the_output_stays_deterministic():
    assert _notice().pdf == _notice().pdf
    assert _self_assessment() == _self_assessment()  # CJK font converted per character set


def test_the_icc_profile_has_a_fixed_date_and_a_valid_profile_id():
    profile = srgb_profile()
    assert profile[24:36] == bytes.fromhex("07d0 0001 0001 0000 0000 0000")  # 2000-01-01
    hashed = bytearray(profile)
    hashed[44:48] = hashed[64:68] = bytes(4)
    hashed[84:100] = bytes(16)
    assert profile[84:100] == hashlib.md5(hashed, usedforsecurity=False).digest()


def test_the_converted_cjk_font_does_not_depend_on_the_day():
    """fontTools stamps fonts with the time they are saved; the portal's must not be."""
    chars = frozenset(NAMES["Chinese"])
    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC)):
        first = cff_to_truetype(CJK_COLLECTION, CJK_FACE_INDEX, chars)
    with time_machine.travel(datetime(2031, 6, 1, tzinfo=UTC)):
        assert cff_to_truetype(CJK_COLLECTION, CJK_FACE_INDEX, chars) == first


# ---------------------------------------------------------------- any language


def test_names_in_six_scripts_and_emoji_come_back_out_of_pdftotext():
    names = list(NAMES.values())
    rendered = _notice([*names, NO_GLYPH], to_party=NAMES["Arabic"])
    lines = _lines(rendered.pdf)
    for name in names:
        assert name in lines, f"{name!r} not in {lines}"
    assert "Café [UNICORN FACE]" in lines
    assert f"To {NAMES['Arabic']}" in lines or NAMES["Arabic"] in lines


def test_names_in_tables_bold_and_footers(tmp_path):
    text = _text(_self_assessment()) + _text(_participation()) + _text(_receipt())
    for name in ("Мария Дельгадо", "王小明", "דוד כהן", "Nguyễn Thị Minh Khai"):
        assert name in text
    assert NAMES["Arabic"] in _text(_user_agreement())


def test_a_page_in_six_scripts_renders(tmp_path):
    """Poppler draws the page without complaint (looked at by eye when this was written)."""
    path = tmp_path / "notice.pdf"
    path.write_bytes(_notice(list(NAMES.values())).pdf)
    result = subprocess.run(
        ["pdftoppm", "-png", "-r", "30", str(path), str(tmp_path / "page")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "Error" not in result.stderr
    assert (tmp_path / "page-1.png").stat().st_size > 1000


# ---------------------------------------------------------------- signature blocks and stamps


def test_signature_blocks_print_no_blank_name_title_or_date():
    text = _text(_agreement())
    assert "Authorized signatory" not in text
    assert not re.search(r"^(Name|Title|Date)\s*$", text, re.M)


@pytest.fixture(scope="module")
def arabic_signer(pki: Pki):
    identity = pki.issue_identity(
        common_name=NAMES["Arabic"],
        title="مديرة تنفيذية",
        organization="Café Ñandú",
        email="maryam@cafe.test",
        now=datetime.now(UTC),
        password="maryam's own password",
    )
    return pki.signer_for(identity, "maryam's own password")


@pytest.fixture(scope="module")
def signed_notice(signer: DocumentSigner, arabic_signer) -> bytes:
    rendered = _notice()
    [placement] = rendered.signature_fields
    certified = signer.certify(
        rendered.pdf,
        fields=[SignatureField(placement.name, placement.page, placement.box)],
        reason="Issued",
    )
    stamp = SignatureStamp("ignored", "ignored", "ignored", "December 2, 2026, 9:14 am PST")
    return signer.approve(
        certified, signer=arabic_signer, field_name=placement.name, stamp=stamp, reason="Signed"
    )


def test_the_stamp_prints_name_title_agency_and_time_with_zone(signed_notice):
    lines = _lines(signed_notice, page=0)
    stamp = lines[lines.index("Digitally signed") :]
    for text in ("Name", "Title", "Organization", "Date"):
        assert text in stamp
    # The signer's name, title and agency come from the certificate, not the stamp's values.
    assert NAMES["Arabic"] in stamp
    assert "مديرة تنفيذية" in stamp
    assert "Café Ñandú" in stamp
    assert "December 2, 2026, 9:14 am PST" in stamp
    assert not any("ignored" in line for line in lines)


def test_the_signed_document_stays_pdfa_and_valid(signed_notice, nss_db, tmp_path):
    xmp = _xmp(signed_notice)
    assert xmp[PDFAID + "part"] == "3" and xmp[PDFAID + "conformance"] == "B"
    # pyHanko moved ModifyDate in the XMP together with the Info dictionary's ModDate.
    mod = str(_reader(signed_notice).trailer["/Info"]["/ModDate"])
    modified = re.fullmatch(
        r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d).*", xmp["http://ns.adobe.com/xap/1.0/ModifyDate"]
    )
    assert mod.startswith("D:" + "".join(modified.groups()))
    producer = str(_reader(signed_notice).trailer["/Info"]["/Producer"])
    assert xmp["http://ns.adobe.com/pdf/1.3/Producer"] == producer
    assert all(row[-5] == "yes" for row in _fonts(signed_notice, tmp_path))
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_notice)
    report = pdfsig(nss_db, path)
    assert report.count("Signature Validation: Signature is Valid.") == 2, report


def test_the_field_covers_the_signature_block():
    [placement] = _notice().signature_fields
    x1, y1, x2, y2 = placement.box
    assert (x2 - x1, y2 - y1) == SIGNATURE_BOX_SIZE


# ---------------------------------------------------------------- the certificate's evidence


def test_the_certificate_carries_the_signed_agreement(signed_notice, signer, tmp_path):
    modified = datetime(2026, 12, 2, 17, 14, tzinfo=UTC)
    attachment = Attachment("PAA-0001-01-signed-agreement.pdf", signed_notice, "final", modified)
    sealed = signer.seal(_certificate([attachment]), reason="Certificate of completion")

    root = _reader(sealed).root
    [spec] = [ref.get_object() for ref in root["/AF"]]
    assert spec["/AFRelationship"] == "/Source"
    assert spec["/F"] == "PAA-0001-01-signed-agreement.pdf"
    stream = spec["/EF"]["/F"]
    assert stream["/Subtype"] == "/application/pdf"
    assert stream["/Params"]["/ModDate"] == "D:20261202171400+00'00'"
    assert stream.data == signed_notice

    path = tmp_path / "certificate.pdf"
    path.write_bytes(sealed)
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["pdfdetach", "-saveall", "-o", str(out), str(path)], check=True)
    assert (out / "PAA-0001-01-signed-agreement.pdf").read_bytes() == signed_notice
