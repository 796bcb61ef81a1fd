import re

import pytest

from portal.documents.pdf_layout import SIGNATURE_BOX_SIZE, PartyBlock, document_fonts
from portal.documents.render import render_agreement
from portal.documents.template_markup import TemplateError
from portal.documents.template_text import load_sample_template
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
VALUES = {
    "agency_name": AGENCY,
    "agency_address": "1234 K Street\nSacramento, CA 95814",
    "executive_director_name": "María José Núñez",
    "executive_director_title": "Executive Director",
    "lead_agency_name": "Sacramento Steps Forward",
}
PARTIES = [
    PartyBlock(
        "agency_signature", "PARTNER AGENCY", "María José Núñez", "Executive Director", AGENCY
    ),
    PartyBlock(
        "ssf_signature", "SACRAMENTO STEPS FORWARD", "Pat O'Neil", "CEO", "Sacramento Steps Forward"
    ),
]


def render(values=VALUES, parties=PARTIES, **overrides):
    sample = load_sample_template()
    kwargs = {
        "title": sample.title,
        "template_version": sample.template_version,
        "revised_date": sample.revised_date,
        "parties": parties,
        **overrides,
    }
    return render_agreement(sample.body, values, **kwargs)


@pytest.fixture(scope="module")
def rendered():
    return render()


@pytest.fixture(scope="module")
def pages(rendered):
    return page_texts(rendered.pdf)


def test_every_page_has_the_footer_with_the_right_total(rendered, pages):
    total = page_count(rendered.pdf)
    assert total >= 5 and len(pages) == total
    for number, text in enumerate(pages, start=1):
        footer = f"Template version 1 · Revised 06/19/2015 · Page {number} of {total}"
        assert footer in flat(text), f"page {number}"


def test_title_block_names_both_parties(pages):
    first = flat(pages[0])
    assert "HMIS Partner Agency Agreement" in first
    assert "Sacramento Steps Forward as the HMIS Lead Agency for the Sacramento Continuum" in first
    assert AGENCY in first
    assert "1234 K Street, Sacramento, CA 95814 (the Partner Agency)" in first


def test_html_ish_names_render_literally(pages):
    whole = flat(" ".join(pages))
    assert whole.count(AGENCY) >= 3  # title block, article II, signature block
    assert "&amp;" not in whole and "&lt;" not in whole


def test_numbered_articles_and_provisions_are_in_the_pdf(pages):
    whole = flat(" ".join(pages))
    assert "VIII. Term of Agreement" in whole
    assert "Default and cure. A party that believes the other is in default" in whole
    assert "Separation notice. Tell SSF within one (1) business day" in whole
    assert "Business Days means Monday to Friday" in whole


def test_signature_page_lists_every_party(pages):
    last = flat(pages[-1])
    for party in PARTIES:
        for text in (party.heading, party.organization):
            assert text in last
        # The signer's name, title and date print in the box from the signature itself.
        assert party.name not in last
    assert "Date" not in last


def test_signature_boxes_are_on_the_last_page_inside_the_media_box(rendered):
    last = page_count(rendered.pdf) - 1
    x_min, y_min, x_max, y_max = media_box(rendered.pdf, last)
    assert [f.name for f in rendered.signature_fields] == ["agency_signature", "ssf_signature"]
    for field in rendered.signature_fields:
        x1, y1, x2, y2 = field.box
        assert field.page == last
        assert x_min <= x1 < x2 <= x_max and y_min <= y1 < y2 <= y_max
        assert (x2 - x1, y2 - y1) == SIGNATURE_BOX_SIZE
    upper, lower = (f.box for f in rendered.signature_fields)
    assert lower[3] < upper[1]  # stacked, not overlapping


def test_signature_boxes_sit_right_above_their_captions(rendered):
    """The returned boxes are where the rectangles were really drawn."""
    last = page_count(rendered.pdf) - 1
    page_height = media_box(rendered.pdf, last)[3]
    captions = [w for w in words(rendered.pdf, last) if w.text == "Digital"]
    assert len(captions) == len(rendered.signature_fields)
    for field, caption in zip(rendered.signature_fields, captions, strict=True):
        x1, y1, _, _ = field.box
        box_bottom_from_top = page_height - y1
        assert caption.x_min == pytest.approx(x1, abs=1)
        assert 0 < caption.y_min - box_bottom_from_top < 12


def test_same_input_same_bytes(rendered):
    again = render()
    assert again.pdf == rendered.pdf
    assert again.signature_fields == rendered.signature_fields
    other = render(values={**VALUES, "agency_name": "Another Agency"})
    assert other.pdf != rendered.pdf


def test_metadata(rendered):
    meta = reader(rendered.pdf).document_meta_view  # read from the XMP (PDF/A)
    assert str(meta.title) == "HMIS Partner Agency Agreement"
    assert str(meta.author) == "Sacramento Steps Forward"  # the lead agency issues it
    assert AGENCY in str(meta.subject) and "template version 1" in str(meta.subject)


def test_unicode_font_is_embedded(rendered):
    assert document_fonts().embedded
    assert b"/FontFile2" in rendered.pdf and b"NotoSans-Regular" in rendered.pdf
    assert b"Helvetica" not in rendered.pdf


def test_text_is_the_filled_agreement(rendered):
    assert rendered.text.startswith("HMIS Partner Agency Agreement\n")
    assert "3. Default and cure. A party that believes" in rendered.text
    assert f"By signing this agreement, {AGENCY}" in rendered.text
    assert "Organization: Sacramento Steps Forward" in rendered.text
    assert "{{" not in rendered.text


def test_three_parties_get_three_boxes():
    witness = PartyBlock("witness_signature", "WITNESS", "Lee Chan", "Clerk", "CoC Board")
    result = render(parties=[*PARTIES, witness])
    assert [f.name for f in result.signature_fields][-1] == "witness_signature"
    boxes = sorted((f.page, f.box[1]) for f in result.signature_fields)
    assert len(set(boxes)) == 3


def test_missing_value_is_a_template_error():
    values = {k: v for k, v in VALUES.items() if k != "executive_director_name"}
    with pytest.raises(TemplateError, match=r"line \d+: no value given.*executive_director_name"):
        render(values=values)


@pytest.mark.parametrize(
    "parties",
    [
        [],
        [PARTIES[0], PARTIES[0]],
        [PartyBlock("agency.signature", "X", "n", "t", "o")],
    ],
)
def test_bad_parties_are_refused(parties):
    with pytest.raises(ValueError, match=re.compile("party|unique|field name")):
        render(parties=parties)


def test_values_must_agree_with_the_version_arguments():
    with pytest.raises(ValueError, match="template_version"):
        render(values={**VALUES, "template_version": "2"})
