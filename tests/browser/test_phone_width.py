"""The case pages fit a 390px-wide phone: nothing makes the page scroll sideways."""

import pytest

from portal.services import suspensions
from tests import factories
from tests.conftest import PASSWORD
from tests.notices import give_default
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
