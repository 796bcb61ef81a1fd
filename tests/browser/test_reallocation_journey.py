"""A program's reallocation in a real browser (VIII.B.7): the lead agency adds a program and
reallocates it; the releasing agency records the delivery of the signed forms; the acquiring
agency confirms receipt; both sign the receipt, which ends with three valid signatures."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.documents.verify import verify_pdf
from portal.extensions import db
from portal.models import Reallocation
from portal.services import documents
from portal.services.timefmt import local_date
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def tick(page, label: str) -> None:
    """Ticks a checkbox with the keyboard (see test_agreement_journey.tick)."""
    box = page.get_by_label(re.compile(label))
    box.focus()
    page.keyboard.press("Space")
    assert box.is_checked()


def sign_receipt(page) -> None:
    if page.get_by_label(re.compile("do business electronically")).count():
        tick(page, "do business electronically")
    tick(page, "intend to sign")
    page.get_by_label("Re-enter your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign the hand-over receipt").click()


def test_a_program_is_reallocated_and_its_hand_over_signed(app, cast, person, live_server, pki):
    admin = person("admin@ssf.test", PASSWORD)
    admin.goto(f"{live_server}/agencies/{cast.agency.id}")
    admin.get_by_role("link", name="Add a program").click()
    admin.get_by_label("Program name").fill("Street Outreach")
    admin.get_by_label("Funding source").fill("HUD CoC Program")
    admin.get_by_label("HUD grant number").fill("CA0777L9T011900")
    admin.get_by_label("Start date").fill("2021-07-01")
    admin.get_by_role("button", name="Save the program").click()
    admin.get_by_role("link", name="Street Outreach").click()
    admin.get_by_label("Agency that acquires the program").select_option(label="Other Agency")
    admin.get_by_role("button", name="Reallocate the program").click()
    expect(admin.get_by_text(re.compile("Hand-over — waiting")).first).to_be_visible()
    url = admin.url

    releasing = person("so@hope.test", PASSWORD)
    releasing.goto(url)
    releasing.get_by_label(re.compile("Number of signed")).fill("12")
    releasing.get_by_label("How they were delivered").select_option("encrypted_transfer")
    releasing.get_by_label("Date delivered").fill(
        local_date(db.session.get(Reallocation, int(url.rsplit("/", 1)[1])).opened_at).isoformat()
    )
    releasing.get_by_role("button", name="Record the delivery").click()
    expect(releasing.get_by_text(re.compile("delivery is recorded")).first).to_be_visible()

    acquiring = person("ed@other.test", PASSWORD)
    acquiring.goto(url)
    acquiring.get_by_role("button", name="We received the forms").click()
    expect(acquiring.get_by_text(re.compile("ready to sign")).first).to_be_visible()

    releasing.goto(url)
    sign_receipt(releasing)
    expect(releasing.get_by_text("You signed the hand-over receipt.")).to_be_visible()
    acquiring.goto(url)
    sign_receipt(acquiring)
    expect(acquiring.get_by_text("Hand-over complete").first).to_be_visible()

    db.session.expire_all()
    row = db.session.get(Reallocation, int(url.rsplit("/", 1)[1]))
    assert row.state == "complete"
    report = verify_pdf(documents.read_bytes(row.document.current), pki.trust_roots)
    assert report.all_valid and len(report.signatures) == 3
    link = acquiring.get_by_role("link", name="Hand-over receipt (PDF)")
    response = acquiring.context.request.get(live_server + link.get_attribute("href"))
    assert response.ok and response.body() == documents.read_bytes(row.document.current)
