"""An amendment in a real browser (VIII.B.2): SSF drafts and sends it, the ED signs, SSF
countersigns, and the agreement's page shows the amended text in force."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_agreement_journey import tick
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

NEW_TEXT = "Each user has their own account; no one shares a password."


def sign(page, button: str) -> None:
    # Both signers consented to e-business when they signed the agreement, so only the
    # intent is asked for again.
    expect(page.get_by_label(re.compile("do business electronically"))).to_have_count(0)
    tick(page, "intend to sign")
    page.get_by_label("Re-enter your password").fill(PASSWORD)
    page.get_by_role("button", name=button).click()


def test_draft_send_sign_countersign_in_force(app, cast, person, live_server):
    agreement = factories.agreement(cast.agency, documents=True)
    agreement_url = f"{live_server}/agreements/{agreement.id}"

    admin = person("admin@ssf.test", PASSWORD)
    admin.goto(agreement_url)
    admin.get_by_role("link", name="Draft an amendment").click()
    admin.get_by_label("Sections that change").fill("IV.B.8")
    admin.get_by_label("New text of those sections").fill(NEW_TEXT)
    admin.get_by_label("Reason for the amendment").fill("The HUD data standards changed.")
    admin.get_by_role("button", name="Save the draft").click()
    admin.get_by_role("button", name="Send for signature").click()
    expect(admin.get_by_text(re.compile("Status:"))).to_contain_text(re.compile("[Aa]waiting"))
    amendment_url = admin.url

    ed = person("ed@hope.test", PASSWORD)
    ed.goto(amendment_url)
    ed.get_by_role("link", name="Sign the amendment").click()
    sign(ed, "Sign the amendment")
    expect(ed.get_by_text("Signed. Thank you.")).to_be_visible()

    ssf = person("sign@ssf.test", PASSWORD)
    ssf.goto(amendment_url)
    ssf.get_by_role("link", name=re.compile("Countersign")).click()
    sign(ssf, "Sign the amendment")
    expect(ssf.get_by_text(re.compile("in effect since"))).to_be_visible()

    ssf.goto(agreement_url)
    in_force = ssf.locator("section", has=ssf.get_by_role("heading", name="Text in force"))
    expect(in_force).to_contain_text(re.compile(r"as amended by\s+AMD-\S+\s+\(sections IV\.B\.8"))
    in_force.locator("summary").first.click()  # opens the new text
    expect(in_force.get_by_text(NEW_TEXT)).to_be_visible()
    expect(ssf.get_by_role("link", name=re.compile("^PDF of "))).to_have_count(1)
