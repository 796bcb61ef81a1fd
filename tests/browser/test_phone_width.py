"""The case pages fit a 390px-wide phone: nothing makes the page scroll sideways."""

import pytest
from playwright.sync_api import expect

from portal.services import suspensions
from tests import factories
from tests.conftest import PASSWORD
from tests.notices import give_default
from tests.services import awaiting_rows
from tests.services.helpers import REQ

pytestmark = pytest.mark.browser


def test_case_pages_fit_a_phone(app, cast, person, live_server, pki):
    agreement = factories.agreement(cast.agency, state="effective")
    notice = give_default(cast.signatory, agreement)
    suspensions.suspend(
        cast.admin, cast.agency.id, user_id=cast.officer.id, reason="Check", request=REQ
    )
    sent = factories.agreement(cast.other_agency, state="sent")
    for email, paths in (
        ("ed@hope.test", [f"/notices/default/{notice.id}", f"/agencies/{cast.agency.id}"]),
        (
            "admin@ssf.test",
            ["/", "/agreements/", f"/agreements/{agreement.id}", f"/agreements/{sent.id}"],
        ),
        ("sign@ssf.test", [f"/notices/default/{notice.id}", f"/agencies/{cast.agency.id}"]),
    ):
        page = person(email, PASSWORD)
        page.set_viewport_size({"width": 390, "height": 844})
        for path in paths:
            page.goto(live_server + path)
            page.wait_for_load_state()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (email, path, width)


PHONE = {"width": 390, "height": 844}


def width_of(page, url: str) -> int:
    page.goto(url)
    page.wait_for_load_state()
    return page.evaluate("document.documentElement.scrollWidth")


def test_every_persons_pages_fit_a_phone(app, cast, person, live_server, pki):
    """Home (each role), the agency page, the audit log, an agreement, the access requests
    and training: none wider than the phone, with long names, addresses and reasons."""
    agreement = factories.agreement(cast.agency, state="effective", documents=True)
    notice = give_default(cast.signatory, agreement)
    gone = factories.person(
        cast.agency, email="gone@hope.test", name="Gil Gone", title="Intake", role="agency_user"
    )
    suspensions.suspend(
        cast.admin, cast.agency.id, user_id=gone.id, reason="Check " * 40, request=REQ
    )
    factories.agreement(cast.other_agency, state="sent")
    request = awaiting_rows.open_request(
        cast.agency,
        agreement,
        cast.ed,
        email="a.very.long.address.for.a.new.hmis.user@hope-and-harbor-shelter.test",
        name="Maximiliana Bartholomew-Featherstonehaugh",
        onboarding_state="signing",
    )
    everyone = [
        "/",
        "/access-requests/",
        "/training/",
        f"/agreements/{agreement.id}",
        "/account/security",
        "/account/password",
        "/recertification/",
    ]
    agency_pages = [
        f"/agencies/{cast.agency.id}",
        f"/notices/default/{notice.id}",
        f"/access-requests/{request.id}",
        f"/onboarding/{request.onboarding.id}",
        "/separations/",
        f"/agencies/{cast.agency.id}/separations/new",
        "/self-assessment/",
    ]
    lead_pages = [
        "/audit/",
        "/agencies/",
        "/hmis-accounts/deactivate",
        "/hmis-accounts/reconcile",
        "/accounts/deactivated",
    ]
    for email, paths in (
        ("ed@hope.test", everyone + agency_pages),
        ("so@hope.test", everyone + agency_pages),
        ("a.very.long.address.for.a.new.hmis.user@hope-and-harbor-shelter.test", ["/"]),
        ("admin@ssf.test", everyone + agency_pages + lead_pages),
        ("sign@ssf.test", everyone + ["/audit/"]),
        ("audit@ssf.test", everyone + ["/audit/"]),
        ("ed@other.test", everyone),
    ):
        page = person(email, PASSWORD)
        page.set_viewport_size(PHONE)
        for path in paths:
            width = width_of(page, live_server + path)
            assert width <= 390, (email, path, width)


def test_the_navigation_collapses_on_a_phone(app, cast, browser, person, live_server):
    page = person("admin@ssf.test", PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/")
    audit_link = page.get_by_role("link", name="Audit log")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(audit_link).to_be_hidden()
    menu.click()
    expect(audit_link).to_be_visible()
    expect(page.get_by_role("link", name="Access requests")).to_be_visible()
    expect(page.get_by_role("link", name="Training")).to_be_visible()

    # Without JavaScript the button could not open the menu, so the links show instead.
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        bare = context.new_page()
        bare.goto(live_server + "/login")
        bare.get_by_label("E-mail").fill("admin@ssf.test")
        bare.get_by_label("Password").fill(PASSWORD)
        bare.get_by_role("button", name="Log in").click()
        bare.wait_for_load_state()
        expect(bare.get_by_role("link", name="Audit log")).to_be_visible()
        expect(bare.get_by_role("button", name="Menu")).to_be_hidden()
        assert bare.evaluate("document.documentElement.scrollWidth") <= 390

        # On a wide screen the links show beside the brand, no button.
        wide = browser.new_context(viewport={"width": 1280, "height": 800})
        try:
            desk = wide.new_page()
            desk.goto(live_server + "/verify")
            expect(desk.get_by_role("link", name="Verify a PDF")).to_be_visible()
            expect(desk.get_by_role("button", name="Menu")).to_be_hidden()
        finally:
            wide.close()
    finally:
        context.close()
