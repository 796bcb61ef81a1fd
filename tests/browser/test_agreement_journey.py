"""Steps 3–5 in a real browser: SSF sends, the ED signs, SSF countersigns."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def tick(page, *labels: str) -> None:
    """Ticks checkboxes with the keyboard, as a keyboard-only user would.

    (Headless Chromium's embedded PDF viewer can swallow the mouse click that follows a
    navigation, so the mouse path is flaky here; the keyboard path is what must never break.)
    """
    for label in labels:
        box = page.get_by_label(re.compile(label))
        box.focus()
        page.keyboard.press("Space")
        assert box.is_checked()


def test_send_sign_countersign(app, cast, person, live_server):
    admin = person("admin@ssf.test", PASSWORD)
    admin.goto(f"{live_server}/agencies/{cast.agency.id}")
    admin.get_by_role("button", name=re.compile("Start an agreement")).click()
    admin.get_by_role("button", name=re.compile("Send")).click()
    expect(admin.get_by_text(re.compile("Status:"))).to_contain_text(re.compile("[Aa]waiting"))
    agreement_url = admin.url

    ed = person("ed@hope.test", PASSWORD)
    ed.goto(agreement_url + "/sign")
    tick(ed, "do business electronically", "intend to sign")
    ed.get_by_label("Re-enter your password").fill(PASSWORD)
    ed.get_by_role("button", name="Sign the agreement").click()
    expect(ed.get_by_text("Signed. Thank you.")).to_be_visible()

    ssf = person("sign@ssf.test", PASSWORD)
    ssf.goto(agreement_url)
    ssf.get_by_role("link", name=re.compile("[Cc]ountersign")).click()
    tick(ssf, "do business electronically", "intend to sign")
    ssf.get_by_label("Re-enter your password").fill(PASSWORD)
    ssf.get_by_role("button", name="Sign the agreement").click()
    expect(ssf.get_by_text(re.compile("in effect since"))).to_be_visible()
    expect(ssf.locator("td.sha")).to_have_count(4)  # three agreement versions, the certificate
