import pytest

from portal.documents.notices import NOTICE_TITLES, render_notice
from portal.documents.pdf_layout import SIGNATURE_BOX_SIZE, SIGNATURE_PLACEHOLDER, PartyBlock
from tests.rendering.pdf_text import (
    flat,
    media_box,
    needs_pdftotext,
    page_count,
    page_texts,
    reader,
    words,
)

pytestmark = needs_pdftotext

AGENCY = "Café Ñandú – Hope House <b>&</b> Co"
ISSUER_TEXT = (
    'Staff member "J. <script>alert(1)</script>" left on 11/20 & was not reported; '
    "see <a href='x'>log</a> — Zoë Łukasz Ωmega → ≥ 1 business day, naïve façade, ½ ✓"
)
SSF_SIGNER = PartyBlock(
    "ssf_signature",
    "FOR SACRAMENTO STEPS FORWARD",
    "Pat O'Neil",
    "Chief Executive Officer",
    "Sacramento Steps Forward",
)
PROVISIONS = [
    ("V.E.12", "Notice of user separation"),
    ("VIII.B.3", "Default and cure"),
]
DETAILS = [
    ("Cure period ends", "11:59:59 pm Pacific on Friday, December 4, 2026"),
    ("Rule", "10 calendar days counted from the day after notice is given"),
]


def notice(**overrides):
    kwargs = {
        "kind": "default_notice",
        "title": "Notice of Default",
        "reference": "DN-2026-0003",
        "agreement_reference": "AGR-2025-0007",
        "from_party": "Sacramento Steps Forward",
        "to_party": AGENCY,
        "to_address": "1234 K Street\nSacramento, CA 95814",
        "given_on": "Tuesday, November 24, 2026",
        "paragraphs": [
            "Sacramento Steps Forward gives notice that the Partner Agency is in default.",
            ISSUER_TEXT + "\nSecond line of the issuer's note.",
        ],
        "provisions": PROVISIONS,
        "details": DETAILS,
        "signer": SSF_SIGNER,
        **overrides,
    }
    return render_notice(**kwargs)


@pytest.fixture(scope="module")
def rendered():
    return notice()


@pytest.fixture(scope="module")
def pages(rendered):
    return page_texts(rendered.pdf)


@pytest.fixture(scope="module")
def long_notice():
    sentence = (
        "The Partner Agency did not report the separation of a user within one business day. "
    )
    return notice(paragraphs=[sentence * 160, "Closing paragraph after the long description."])


def test_heading_names_reference_agreement_parties_and_date(pages):
    first = flat(pages[0])
    assert first.startswith("HMIS Partner Agency Agreement Notice of Default")
    for expected in (
        "Reference DN-2026-0003",
        "Agreement AGR-2025-0007",
        "Date given Tuesday, November 24, 2026",
        "From Sacramento Steps Forward",
        f"To {AGENCY} 1234 K Street Sacramento, CA 95814",
    ):
        assert expected in first


def test_provisions_details_and_footer(rendered, pages):
    whole = flat(" ".join(pages))
    assert "V.E.12 Notice of user separation" in whole
    assert "VIII.B.3 Default and cure" in whole
    assert "Cure period ends 11:59:59 pm Pacific on Friday, December 4, 2026" in whole
    assert "Rule 10 calendar days counted from the day after notice is given" in whole
    total = page_count(rendered.pdf)
    assert len(pages) == total
    for number, text in enumerate(pages, start=1):
        assert f"Notice of Default · DN-2026-0003 · Page {number} of {total}" in flat(text)


@pytest.mark.parametrize("title", NOTICE_TITLES)
def test_each_kind_renders(title):
    kind = title.lower().replace(" ", "_")
    result = notice(kind=kind, title=title, provisions=[("VIII.B.1", "Termination")], details=())
    pages = page_texts(result.pdf)
    assert flat(pages[0]).startswith(f"HMIS Partner Agency Agreement {title}")
    assert "VIII.B.1 Termination" in flat(pages[0])
    assert f"{title} · DN-2026-0003 · Page 1 of {len(pages)}" in flat(pages[-1])
    assert str(reader(result.pdf).document_meta_view.title) == f"{title} DN-2026-0003"


def test_issuer_text_prints_literally_with_line_breaks(rendered, pages):
    whole = " ".join(pages)
    assert flat(ISSUER_TEXT) in flat(whole)
    assert AGENCY in flat(whole)
    assert "&amp;" not in whole and "&lt;" not in whole
    # The line break in the issuer's text survives: the second line starts a line of its own.
    assert any(line.strip() == "Second line of the issuer's note." for line in whole.splitlines())
    assert ISSUER_TEXT + "\nSecond line of the issuer's note." in rendered.text


def test_signature_box_is_empty_sized_and_where_it_was_drawn(rendered):
    [field] = rendered.signature_fields
    last = page_count(rendered.pdf) - 1
    assert field.name == "ssf_signature" and field.page == last
    x1, y1, x2, y2 = field.box
    assert (x2 - x1, y2 - y1) == SIGNATURE_BOX_SIZE
    page_height = media_box(rendered.pdf, last)[3]
    page_words = words(rendered.pdf, last)
    # Nothing is printed inside the box; its caption sits right below it.
    inside = [
        w for w in page_words
        if x1 < w.x_min < x2 and y1 < page_height - w.y_max < y2
    ]  # fmt: skip
    assert inside == []
    [caption] = [w for w in page_words if w.text == "Digital"]
    assert caption.x_min == pytest.approx(x1, abs=1)
    assert 0 < caption.y_min - (page_height - y1) < 12


def test_signature_block_names_the_party_and_leaves_the_signer_to_the_signature(pages):
    """Name, title and date print in the box from the signature itself (portal/documents/
    stamp.py): no blank lines, no name the signature could contradict."""
    last = flat(pages[-1])
    assert "FOR SACRAMENTO STEPS FORWARD" in last
    assert "Organization Sacramento Steps Forward" in last
    assert "Pat O'Neil" not in last and "Chief Executive Officer" not in last
    assert " Date " not in last.replace("Date given", "")


def test_long_description_flows_to_three_pages_signature_on_last(long_notice):
    pdf = long_notice.pdf
    total = page_count(pdf)
    assert total >= 3
    pages = page_texts(pdf)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in flat(text)
    assert "Closing paragraph after the long description." in flat(" ".join(pages[-2:]))
    [field] = long_notice.signature_fields
    assert field.page == total - 1
    x_min, y_min, x_max, y_max = media_box(pdf, field.page)
    x1, y1, x2, y2 = field.box
    assert x_min <= x1 < x2 <= x_max and y_min <= y1 < y2 <= y_max
    # The heading stays with its box, and the details travel with the signature.
    last = flat(pages[-1])
    assert "FOR SACRAMENTO STEPS FORWARD" in last
    assert "Cure period ends 11:59:59 pm Pacific" in last


def test_same_input_same_bytes(rendered):
    again = notice()
    assert again.pdf == rendered.pdf
    assert again.signature_fields == rendered.signature_fields
    assert again.text == rendered.text
    assert notice(reference="DN-2026-0004").pdf != rendered.pdf


def test_metadata(rendered):
    meta = reader(rendered.pdf).document_meta_view  # read from the XMP (PDF/A)
    assert str(meta.title) == "Notice of Default DN-2026-0003"
    assert str(meta.author) == "Sacramento Steps Forward"  # the issuer
    assert str(reader(notice(from_party=AGENCY).pdf).document_meta_view.author) == AGENCY
    assert "AGR-2025-0007" in str(meta.subject) and AGENCY in str(meta.subject)


def test_text_is_the_plain_notice(rendered):
    text = rendered.text
    assert text.startswith("Notice of Default\nReference: DN-2026-0003\n")
    assert "To: " + AGENCY + "\n    1234 K Street\n    Sacramento, CA 95814\n" in text
    assert "  V.E.12  Notice of user separation\n" in text
    assert "Cure period ends: 11:59:59 pm Pacific on Friday, December 4, 2026\n" in text
    assert text.endswith(f"{SIGNATURE_PLACEHOLDER}\nOrganization: Sacramento Steps Forward\n")


def test_control_characters_are_dropped_not_fatal():
    result = notice(paragraphs=["Bell\x07 and\r\nCRLF\x00 text"])
    assert "Bell and CRLF text" in flat(page_texts(result.pdf)[0])
    assert "Bell and\nCRLF text" in result.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "Notice of Breach"},
        {"kind": "Default Notice"},
        {"reference": "  "},
        {"paragraphs": ["", "  "]},
        {"signer": PartyBlock("ssf.signature", "SSF", "n", "t", "o")},
    ],
)
def test_bad_input_is_refused(overrides):
    with pytest.raises(ValueError):
        notice(**overrides)


def test_a_detail_taller_than_a_page_splits_instead_of_failing():
    result = notice(details=[("Rule", "word " * 3000), ("Next step", "cure")])
    pages = page_texts(result.pdf)
    assert flat(" ".join(pages)).count("word") == 3000
    assert "Next step cure" in flat(pages[-1])
    assert result.signature_fields[0].page == len(pages) - 1
