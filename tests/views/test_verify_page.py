"""/verify and /api/v1/verify: the verdict first, one per way a PDF can be right or wrong,
each signature's fingerprints, and plain words for every problem."""

from __future__ import annotations

import io
import re
from html import unescape

from portal import runtime
from portal.documents.signing import DocumentSigner
from portal.services import documents
from tests.conftest import csrf_token
from tests.documents.conftest import three_page_pdf
from tests.services.helpers import sent_agreement
from tests.support.tampering import Forgery, appended, byte_flipped, page_drawn_on

RAW_PYHANKO = re.compile(r"Reference\(|idnum|unexplained xrefs|Traceback|SuspiciousModification")


def check(client, data: bytes) -> str:
    page = client.get("/verify")
    response = client.post(
        "/verify",
        data={"csrf_token": csrf_token(page), "pdf": (io.BytesIO(data), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert not RAW_PYHANKO.search(html)
    return html


def verdict_of(html: str) -> str:
    """The verdict heading: the first heading after the page's title, inside role=status."""
    found = re.search(
        r'<section aria-labelledby="h-verdict" class="alert alert-(\w+)[^"]*" role="status">'
        r'\s*<h2 id="h-verdict"[^>]*><span aria-hidden="true">.</span> Verdict: ([^<]+)</h2>',
        html,
    )
    assert found, html
    assert html.index('id="h-verdict"') < html.index("<form"), "the verdict comes first"
    assert html.index("<h1") < html.index('id="h-verdict"') < html.index('id="h-signatures"')
    return found.group(2)


def stored_pdf(cast) -> tuple[object, bytes]:
    agreement = sent_agreement(cast)
    return agreement, documents.read_bytes(agreement.document.current)


def test_a_stored_pdf_is_valid_and_on_record(client, app, cast):
    agreement, pdf = stored_pdf(cast)
    html = check(client, pdf)
    assert verdict_of(html) == "Valid and on record"
    assert f"On record: {agreement.reference}, version" in html
    assert 'class="alert alert-success' in html
    assert "1. Certification: Sacramento Steps Forward" in html
    assert html.count("Certificate SHA-256</dt>") == 1
    assert re.search(r'<dd class="col-sm-8 sha">[0-9a-f]{64}</dd>', html)
    assert 'Document timestamp</dt><dd class="col-sm-8">No' in html


def test_a_valid_pdf_the_portal_never_stored_is_not_on_record(client, app, cast):
    unstored = DocumentSigner(runtime.pki()).certify(
        three_page_pdf(), fields=[], reason="Issued elsewhere"
    )
    html = check(client, unstored)
    assert verdict_of(html) == "Valid signatures, but this file is not on record"
    assert "On record: no" in html and 'class="alert alert-warning' in html


def test_a_forged_signature_is_an_unknown_ca_with_its_fingerprints(client, app, cast):
    forgery = Forgery("Maria Delgado")
    html = check(client, forgery.sign(three_page_pdf()))
    assert verdict_of(html) == "Not valid: signed under an unknown certificate authority"
    assert 'class="alert alert-danger' in html
    assert forgery.leaf.sha256.hex() in html and forgery.root.sha256.hex() in html
    assert "not issued under the portal's root certificate authority" in html


def test_changed_bytes_are_broken(client, app, cast):
    _, pdf = stored_pdf(cast)
    html = check(client, byte_flipped(pdf))
    assert verdict_of(html) == "Broken: the signed bytes were changed"
    assert "digest does not match" in html and "does not chain" not in html


def test_a_page_drawn_on_after_certification_is_explained(client, app, cast):
    _, pdf = stored_pdf(cast)
    revisions = pdf.count(b"%%EOF")
    html = check(client, page_drawn_on(pdf))
    assert verdict_of(html) == "Not valid: the document was changed after signing"
    assert (
        f"Revision {revisions + 1} changed the content of page 1 after the document was "
        "certified; the certification allowed only filling in form and signature fields."
    ) in html


def test_bytes_appended_after_eof_are_reported(client, app, cast):
    _, pdf = stored_pdf(cast)
    html = check(client, appended(pdf))
    assert verdict_of(html) == "Not valid: unsigned bytes were added after the signed document"
    assert "after its last %%EOF marker" in html


def test_garbage_gets_a_verdict_too(client, app, cast):
    html = check(client, b"hello, not a pdf")
    assert verdict_of(html).startswith("Not verifiable")
    assert "This file is not a readable PDF." in html


def test_the_api_returns_the_same_verdict(client, app, cast):
    agreement, pdf = stored_pdf(cast)

    def api(data: bytes) -> dict:
        return client.post(
            "/api/v1/verify",
            data={"pdf": (io.BytesIO(data), "a.pdf")},
            content_type="multipart/form-data",
        ).get_json()

    answer = api(pdf)
    assert answer["verdict"]["code"] == "valid_on_record" and answer["verdict"]["valid"]
    assert answer["verdict"]["headline"] == "Valid and on record"
    [row] = answer["signatures"]
    assert re.fullmatch(r"[0-9a-f]{64}", row["certificate_sha256"])
    assert re.fullmatch(r"[0-9a-f]{64}", row["issuer_certificate_sha256"])
    assert row["problems"] == [] and row["document_timestamp"] is False
    broken = api(byte_flipped(pdf))
    assert broken["verdict"]["code"] == "bytes_changed" and not broken["verdict"]["valid"]
    assert api(appended(pdf))["appended_bytes"] > 0
    spec = client.get("/api/v1/openapi.json").get_json()
    described = spec["paths"]["/api/v1/verify"]["post"]["responses"]["200"]["description"]
    assert "valid_on_record" in described and "bytes_changed" in described
