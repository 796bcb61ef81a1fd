"""A new HMIS user in a real browser, from the agency's request to the issued account:
the invitation link, the password, the signed user agreement, the agency's approval, a
failed test and a passed retake, and the lead agency issuing the account."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage, Question, TestAttempt
from tests.conftest import PASSWORD
from tests.support.access import in_effect

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a long new-user passphrase 42"


def tick(page, label: str) -> None:
    """Ticks a checkbox with the keyboard (see test_agreement_journey.tick)."""
    box = page.get_by_label(re.compile(label))
    box.focus()
    page.keyboard.press("Space")
    assert box.is_checked()


def invitation_path(email: str) -> str:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.to_addr == email)
    for message in db.session.scalars(query.order_by(OutboxMessage.id.desc())):
        found = re.search(r"/onboarding/invitation/[A-Za-z0-9_\-]+", message.body)
        if found:
            return found.group(0)
    raise AssertionError(f"no invitation was e-mailed to {email}")


def answer_the_test(page, *, right: bool) -> None:
    """Answers the test on the page: every answer right, or every answer wrong."""
    db.session.expire_all()
    attempt = db.session.scalars(select(TestAttempt).order_by(TestAttempt.id.desc())).first()
    for question_id in attempt.question_ids:
        question = db.session.get(Question, question_id)
        choice = question.correct if right else (question.correct + 1) % len(question.choices)
        page.locator(f"#q{question.id}-{choice}").check()
    page.get_by_role("button", name="Submit my answers").click()


def test_a_new_user_from_the_invitation_to_the_issued_account(app, cast, browser, live_server):

    in_effect(cast.agency)
    contexts = []

    def open_page(email: str | None = None):
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        if email:
            page.goto(live_server + "/login")
            page.get_by_label("E-mail").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
        return page

    try:
        ed = open_page("ed@hope.test")
        ed.goto(f"{live_server}/agencies/{cast.agency.id}")
        ed.get_by_role("link", name="Request HMIS access for a staff member").click()
        ed.get_by_label("Full name").fill("Nia Newhire")
        ed.get_by_label("E-mail").fill("nia@hope.test")
        ed.get_by_label("Job title").fill("Case Manager")
        ed.get_by_label("Requested HMIS role").select_option("case_manager")
        ed.get_by_label("Programs the person will enter data for").fill("Rapid Re-Housing")
        ed.get_by_role("button", name="Request HMIS access").click()
        expect(ed.get_by_text("Not met").first).to_be_visible()
        request_url = ed.url

        newcomer = open_page()
        newcomer.goto(live_server + invitation_path("nia@hope.test"))
        newcomer.get_by_label("New password").fill(NEW_PASSWORD)
        newcomer.get_by_label("Repeat the password").fill(NEW_PASSWORD)
        newcomer.get_by_role("button", name="Set password").click()
        tick(newcomer, "do business electronically")
        tick(newcomer, "intend to sign")
        newcomer.get_by_label("Re-enter your password").fill(NEW_PASSWORD)
        newcomer.get_by_role("button", name="Sign the HMIS User Agreement").click()
        expect(newcomer.get_by_text(re.compile("[Aa]pprove")).first).to_be_visible()

        officer = open_page("so@hope.test")
        officer.goto(newcomer.url)
        if officer.get_by_label(re.compile("do business electronically")).count():
            tick(officer, "do business electronically")  # asked once, before a first signature
        tick(officer, "approve it for the agency")
        officer.get_by_label("Re-enter your password").fill(PASSWORD)
        officer.get_by_role("button", name="Approve the user agreement").click()
        expect(officer.get_by_text(re.compile("Training and tests")).first).to_be_visible()

        newcomer.goto(live_server + "/training/")
        starts = newcomer.get_by_role("button", name="Start the test")
        starts.first.click()
        answer_the_test(newcomer, right=False)
        expect(
            newcomer.get_by_text(re.compile("not passed|did not pass", re.I)).first
        ).to_be_visible()
        while True:
            newcomer.goto(live_server + "/training/")
            if newcomer.get_by_role("button", name="Start the test").count() == 0:
                break
            newcomer.get_by_role("button", name="Start the test").first.click()
            answer_the_test(newcomer, right=True)
            expect(newcomer.get_by_text(re.compile("passed", re.I)).first).to_be_visible()

        admin = open_page("admin@ssf.test")
        admin.goto(request_url)
        expect(admin.get_by_text("Not met")).to_have_count(0)
        admin.get_by_label("HMIS user id").fill("HMIS-4242")
        admin.get_by_role("button", name="Issue the HMIS account").click()
        expect(admin.get_by_text("The HMIS account is issued.")).to_be_visible()
        expect(admin.get_by_text("HMIS-4242")).to_be_visible()
    finally:
        for context in contexts:
            context.close()
