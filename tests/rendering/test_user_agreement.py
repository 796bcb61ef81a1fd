"""The HMIS User Agreement and the certificate of participation as PDFs: what they say, and
that names from people (HTML-ish, right-to-left, very long) print literally and fit."""

from __future__ import annotations

import pytest

from portal.documents.participation import Participation, render_participation_certificate
from portal.documents.pdf_layout import PartyBlock
from portal.documents.template_markup import PLACEHOLDER, parse_template
from portal.documents.template_text import load_sample_template
from portal.documents.user_agreement import (
    UserDetails,
    render_user_agreement,
    user_agreement_text,
)
from tests.rendering.pdf_text import flat, needs_pdftotext, page_count, page_texts

pytestmark = needs_pdftotext

SAMPLE = "hmis-user-agreement-v1"
AGENCY = "Café Ñandú – Hope House <b>&</b> Co"
LEAD = "Sacramento Steps Forward"
HTMLISH = "Nia <i>Newhire</i> & Sons"
RTL = "نادية الحسن שרה כהן"
LONG = "Maximiliana " + "Featherstonehaugh-" * 10 + "Wolfeschlegelsteinhausen Jr."


def _render(name: str = HTMLISH, job_title: str = "Case Manager"):
    sample = load_sample_template(SAMPLE)
    kwargs = {
        "title": sample.title,
        "template_version": sample.template_version,
        "revised_date": sample.revised_date,
        "user": UserDetails(name, job_title, "Case manager", AGENCY),
        "parties": [
            PartyBlock("user_signature", "HMIS USER", name, job_title, AGENCY),
            PartyBlock("agency_approval", "FOR THE PARTNER AGENCY", "", "ED or SO", AGENCY),
        ],
    }
    values = {"agency_name": AGENCY, "lead_agency_name": LEAD}
    return render_user_agreement(sample.body, values, **kwargs), user_agreement_text(
        sample.body, values, **kwargs
    )


@pytest.fixture(scope="module")
def rendered():
    return _render()


def test_the_head_names_the_user_their_role_agency_and_lead(rendered):
    document, _ = rendered
    first = flat(page_texts(document.pdf)[0])
    assert "HMIS User Agreement" in first
    assert HTMLISH in first and "Case Manager · HMIS role: Case manager (the User)" in first
    assert AGENCY in first and f"{LEAD} as the HMIS Lead Agency" in first
    assert "&amp;" not in first and "&lt;" not in first


def test_two_signature_fields_on_the_last_page_and_a_footer_on_every_page(rendered):
    document, _ = rendered
    pages = page_texts(document.pdf)
    total = page_count(document.pdf)
    assert [f.name for f in document.signature_fields] == ["user_signature", "agency_approval"]
    assert {f.page for f in document.signature_fields} == {total - 1}
    for number, text in enumerate(pages, start=1):
        assert f"Revised 12/01/2026 · Page {number} of {total}" in flat(text)
    last = flat(pages[-1])
    assert "HMIS USER" in last and "FOR THE PARTNER AGENCY" in last
    assert "By signing, the User accepts every term above" in last


def test_the_text_matches_the_pdf(rendered):
    document, text = rendered
    assert document.text == text
    whole = flat(" ".join(page_texts(document.pdf)))
    for line in ("III. Consequences of a Breach", "Reporting Security Lapses"):
        assert line in whole
    assert "III. CONSEQUENCES OF A BREACH" in text


@pytest.mark.parametrize("name", [RTL, LONG, "<script>alert(1)</script>"])
def test_names_from_people_render_without_crashing(name):
    document, text = _render(name=name, job_title=name)
    assert document.pdf.startswith(b"%PDF") and name in text
    assert len(document.signature_fields) == 2
    if name != RTL:  # pdftotext reorders right-to-left runs; the text above has it whole
        assert name.split()[0] in flat(" ".join(page_texts(document.pdf)))


def test_the_sample_covers_what_an_hmis_user_agreement_requires():
    sample = load_sample_template(SAMPLE)
    assert (sample.title, sample.template_version) == ("HMIS User Agreement", "1")
    doc = parse_template(sample.body)
    titles = {
        provision.title
        for article in doc.articles
        for section in article.sections
        for provision in section.provisions
    }
    for expected in (
        "Confidential information",
        "Data used only for the job",
        "Consent before entry",
        "No sharing of passwords",
        "Log out",
        "Lock the screen",
        "Report promptly",
        "Before access",
        "Suspension",
        "Termination of access",
        "Agency remedies",
        "Legal consequences",
    ):
        assert expected in titles, expected
    assert "security officer" in sample.body
    used = {match.group(1) for match in PLACEHOLDER.finditer(sample.body)}
    assert used == {"agency_name", "lead_agency_name"}


def _facts(**overrides) -> Participation:
    base = {
        "lead_agency_name": LEAD,
        "agency_name": AGENCY,
        "agreement_reference": "PAA-0002-01",
        "agreement_since": "March 2, 2026",
        "user_name": HTMLISH,
        "job_title": "Case Manager",
        "hmis_user_id": "HMIS-0042",
        "access_issued_on": "April 1, 2026",
        "request_reference": "HAR-0002-001",
        "issued_on": "April 3, 2026",
    }
    return Participation(**{**base, **overrides})


def test_the_certificate_of_participation_says_what_it_certifies():
    pdf = render_participation_certificate(_facts())
    assert page_count(pdf) == 1
    text = flat(page_texts(pdf)[0])
    assert "Certificate of Participation" in text
    assert f"{AGENCY} participates in the Homeless Management Information System" in text
    assert "PAA-0002-01, in effect since March 2, 2026" in text
    assert f"{HTMLISH} was issued HMIS access on April 1, 2026 with HMIS user id HMIS-0042" in text
    assert "Issued on April 3, 2026." in text


@pytest.mark.parametrize("name", [RTL, LONG, "Z" * 200])
def test_the_certificate_stays_on_one_page_with_long_or_rtl_names(name):
    pdf = render_participation_certificate(
        _facts(user_name=name, agency_name=name, job_title=name, hmis_user_id="X" * 100)
    )
    assert page_count(pdf) == 1
