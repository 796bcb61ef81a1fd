import pytest

from portal.documents.certificate import (
    CertificateDocument,
    CertificateEvent,
    render_certificate,
)
from tests.rendering.pdf_text import flat, needs_pdftotext, page_count, page_texts, reader

pytestmark = needs_pdftotext

LEAD = "Valley Housing <Collaborative> & Co"
LONG_TOKEN = "Z" * 240  # no spaces: the cell must still wrap it, not cut it
NAME = "Ana <b>&</b> Ruiz"


def event(number: int) -> CertificateEvent:
    agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"
    return CertificateEvent(
        when=f"2025-03-{number % 28 + 1:02d} 10:{number % 60:02d} PDT",
        who=NAME if number % 2 else "Pat Lee",
        role="Executive director, Hope House" if number % 2 else "SSF signatory",
        action=f"action-{number:03d}",
        ip=f"203.0.113.{number}",
        user_agent=agent + (f" {LONG_TOKEN}" if number == 7 else ""),
    )


DOCUMENTS = [
    CertificateDocument("Agreement <final> & countersigned", "ab" * 32, 123456, "2025-03-02"),
    CertificateDocument("Agreement, agency signature", "cd" * 32, 65432, "2025-03-01"),
]


def certificate(events=None) -> bytes:
    return render_certificate(
        lead_agency_name=LEAD,
        case_title="Partner Agency Agreement – Café Ñandú",
        case_reference="AGR-2025-0007",
        agency_name="Café Ñandú <b>&</b> Co",
        status="In effect",
        events=[event(n) for n in range(90)] if events is None else events,
        documents=DOCUMENTS,
        generated_at="2025-03-03 09:00 PST",
    )


@pytest.fixture(scope="module")
def pdf():
    return certificate()


@pytest.fixture(scope="module")
def pages(pdf):
    return page_texts(pdf)


def test_many_events_span_pages_with_numbered_footers(pdf, pages):
    total = page_count(pdf)
    assert total >= 3 and len(pages) == total
    for number, text in enumerate(pages, start=1):
        assert f"Certificate of Completion · AGR-2025-0007 · Page {number} of {total}" in flat(text)
    # The table header repeats on every page the events continue onto.
    continued = [text for text in pages[1:] if "action-" in text]
    assert len(continued) >= 2
    assert all("IP address and browser" in text for text in continued)


def test_every_event_is_listed_once(pages):
    whole = " ".join(pages)
    for number in range(90):
        assert whole.count(f"action-{number:03d}") == 1


def test_long_user_agents_are_wrapped_not_truncated(pages):
    whole = " ".join(pages)
    assert whole.count("Z") == len(LONG_TOKEN)
    token_lines = [line for line in whole.splitlines() if "Z" in line]
    assert len(token_lines) > 3 and max(len(line) for line in token_lines) < 60


def test_html_ish_text_prints_literally(pages):
    whole = flat(" ".join(pages))
    assert "Certificate of Completion" in flat(pages[0])
    assert "Café Ñandú <b>&</b> Co" in whole
    assert NAME in whole
    assert "Agreement <final> & countersigned" in whole
    assert "&amp;" not in whole and "&lt;" not in whole


def test_documents_table_has_full_digests(pages):
    compact = "".join(" ".join(pages).split())
    assert "ab" * 32 in compact and "cd" * 32 in compact
    assert "123,456 bytes" in flat(pages[0])


def test_deterministic_and_titled(pdf):
    assert certificate() == pdf
    meta = reader(pdf).document_meta_view
    assert str(meta.title) == "Certificate of Completion: Partner Agency Agreement – Café Ñandú"
    assert str(meta.author) == LEAD


def test_the_lead_agency_issues_it(pages):
    assert flat(pages[0]).startswith(f"{LEAD} · HMIS Partner Portal Certificate of Completion")


def test_empty_case_still_renders():
    pdf = render_certificate(
        lead_agency_name="L",
        case_title="t", case_reference="R-1", agency_name="a", status="draft",
        events=[], documents=[], generated_at="now",
    )  # fmt: skip
    text = flat(page_texts(pdf)[0])
    assert "No events were recorded" in text and "Page 1 of 1" in text
