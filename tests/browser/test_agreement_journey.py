"""Steps 3–5 in a real browser: SSF sends, the ED signs, SSF countersigns."""

import re

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_send_sign_countersign(app, cast, person, live_server):
    admin = person("admin@ssf.test", PASSWORD)
    admin.goto(f"{live_server}/agencies/{cast.agency.id}")
    admin.get_by_role("button", name=re.compile("Start an agreement")).click()
    admin.get_by_role("button", name=re.compile("Send")).click()
    status = admin.get_by_text(re.compile("Status:"))
    assert "Awaiting" in status.inner_text() or "awaiting" in status.inner_text()
    agreement_url = admin.url

    ed = person("ed@hope.test", PASSWORD)
    ed.goto(agreement_url + "/sign")
    ed.get_by_label(re.compile("do business electronically")).check()
    ed.get_by_label(re.compile("intend to sign")).check()
    ed.get_by_label("Re-enter your password").fill(PASSWORD)
    ed.get_by_role("button", name="Sign the agreement").click()
    assert ed.get_by_text("Signed. Thank you.").is_visible()

    ssf = person("sign@ssf.test", PASSWORD)
    ssf.goto(agreement_url)
    ssf.get_by_role("link", name=re.compile("[Cc]ountersign")).click()
    # The signatory uses the keyboard: the form must work without a mouse.
    for label in ("do business electronically", "intend to sign"):
        box = ssf.get_by_label(re.compile(label))
        box.focus()
        ssf.keyboard.press("Space")
        assert box.is_checked()
    ssf.get_by_label("Re-enter your password").fill(PASSWORD)
    ssf.get_by_role("button", name="Sign the agreement").click()
    assert ssf.get_by_text(re.compile("in effect since")).is_visible()
    assert ssf.locator("td.sha").count() >= 4  # three agreement versions and the certificate
