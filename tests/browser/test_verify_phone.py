"""/verify on a 390 px phone with JavaScript off: the verdict is the status, read first, in
words as well as colour, and nothing (not even a 64-digit fingerprint) scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.services import documents
from tests.documents.conftest import three_page_pdf
from tests.services.helpers import sent_agreement
from tests.support.tampering import Forgery

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_the_verdict_reads_first_on_a_phone_without_javascript(
    app, cast, browser, live_server, tmp_path
):
    stored = tmp_path / "stored.pdf"
    stored.write_bytes(documents.read_bytes(sent_agreement(cast).document.current))
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(Forgery("Maria Delgado").sign(three_page_pdf()))
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        for path, headline in (
            (stored, "Verdict: Valid and on record"),
            (forged, "Verdict: Not valid: signed under an unknown certificate authority"),
        ):
            page.goto(live_server + "/verify")
            page.get_by_label("PDF file").set_input_files(str(path))
            page.get_by_role("button", name="Check signatures").click()
            page.wait_for_load_state()
            expect(page.get_by_role("status").get_by_role("heading", level=2)).to_contain_text(
                headline
            )
            # The first h2 on the page is the verdict.
            assert page.locator("h2").first.inner_text().endswith(headline)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path.name
    finally:
        context.close()
