"""Issue 3 in a real browser: a notice cured and accepted; another lapses and is declared."""

import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from portal.extensions import db
from portal.models.remedies import DefaultNotice
from portal.services import deadlines, default_notices
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, effective

pytestmark = pytest.mark.browser


def tick(page, *labels: str) -> None:
    """Ticks checkboxes with the keyboard (see test_agreement_journey.tick for why)."""
    for label in labels:
        box = page.get_by_label(re.compile(label))
        box.focus()
        page.keyboard.press("Space")
        assert box.is_checked()


def test_default_cured_then_another_lapses_and_is_declared(app, cast, person, live_server):
    agreement = effective(cast)

    ssf = person("sign@ssf.test", PASSWORD)
    ssf.goto(f"{live_server}/agreements/{agreement.id}")
    ssf.get_by_role("link", name="Give notice of default").click()
    tick(ssf, re.escape("V.E.12 — Separation notice"))
    ssf.get_by_label("Describe the default").fill("Two separations were reported a week late.")
    ssf.get_by_label("What would cure it").fill("Report both and confirm the accounts are closed.")
    tick(ssf, "intend to sign this notice")
    ssf.get_by_label("Re-enter your password").fill(PASSWORD)
    ssf.get_by_role("button", name="Sign and give notice of default").click()
    expect(
        ssf.get_by_text(re.compile(r"Notice of default ND-\S+ given and signed"))
    ).to_be_visible()
    expect(ssf.get_by_text(re.compile(r"Time left: \d+ days"))).to_be_visible()
    notice_url = ssf.url

    ed = person("ed@hope.test", PASSWORD)
    ed.goto(notice_url)
    ed.get_by_label("What was done to cure the default").fill("Both reported; accounts closed.")
    ed.get_by_label(re.compile("Attachments")).set_input_files(
        [{"name": "separations.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%\n"}]
    )
    ed.get_by_role("button", name="Submit the cure").click()
    expect(ed.get_by_text("Cure submitted.", exact=False)).to_be_visible()
    expect(ed.get_by_role("link", name="separations.pdf")).to_be_visible()

    ssf.reload()
    ssf.get_by_role("button", name="Accept the cure").click()
    expect(ssf.get_by_text("Cure accepted", exact=False)).to_be_visible()
    expect(ssf.get_by_text("Cured — the agreement continues").first).to_be_visible()

    second = default_notices.give(
        cast.signatory,
        agreement.id,
        provisions=["V.C.2"],
        description="Entries are months late.",
        cure_required="Enter the backlog.",
        password=PASSWORD,
        intent=True,
        consent=True,
        request=REQ,
    )
    # Time moves past the cure period; the scheduler's sweep (run here) lapses the notice.
    with time_machine.travel(second.cure_ends_at + timedelta(minutes=1), tick=False):
        assert deadlines.sweep() >= 1
    db.session.expire_all()
    assert db.session.get(DefaultNotice, second.id).state == "lapsed"

    ssf.goto(f"{live_server}/notices/default/{second.id}")
    expect(ssf.get_by_text("Cure period lapsed").first).to_be_visible()
    ssf.get_by_role("link", name="Declare the agreement terminated").click()
    tick(ssf, "intend to sign this declaration")
    ssf.get_by_label("Re-enter your password").fill(PASSWORD)
    ssf.get_by_role("button", name="Sign and declare the agreement terminated").click()
    expect(ssf.get_by_text("Declared: the agreement is terminated.")).to_be_visible()
    expect(ssf.get_by_role("heading", name="The declaration of termination")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(DefaultNotice, second.id).agreement.state == "terminated"
