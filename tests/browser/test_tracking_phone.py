"""The tracking view, the deadlines calendar and the feed page fit a 390px-wide phone."""

import pytest

from tests import factories
from tests.conftest import PASSWORD
from tests.notices import give_default

pytestmark = pytest.mark.browser


def test_tracking_and_calendar_fit_a_phone(app, cast, person, live_server, pki):
    agreement = factories.agreement(cast.agency, state="effective")
    notice = give_default(cast.signatory, agreement)
    due = notice.cure_ends_at
    for email in ("admin@ssf.test", "ed@hope.test"):
        page = person(email, PASSWORD)
        page.set_viewport_size({"width": 390, "height": 844})
        for path in (
            "/tracking/",
            f"/calendar/?year={due.year}&month={due.month}",
            "/calendar/feed",
        ):
            page.goto(live_server + path)
            page.wait_for_load_state()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (email, path, width)
