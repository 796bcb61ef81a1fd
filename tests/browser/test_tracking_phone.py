"""The tracking view, the deadlines calendar, the feed page, programs, hand-overs and site
visits fit a 390px-wide phone."""

from datetime import timedelta

import pytest

from portal import clock
from portal.services import site_visits
from portal.services.access import RequestInfo
from tests import factories
from tests.conftest import PASSWORD
from tests.notices import give_default
from tests.support import programs

pytestmark = pytest.mark.browser


def test_tracking_and_calendar_fit_a_phone(app, cast, person, live_server, pki):
    agreement = factories.agreement(cast.agency, state="effective")
    notice = give_default(cast.signatory, agreement)
    due = notice.cure_ends_at
    handover = programs.reallocated(cast)
    visit = site_visits.schedule(
        cast.admin,
        cast.agency.id,
        visit_at=clock.now() + timedelta(days=14),
        visitors="Ada Admin, Sol Signer and a very long list of other visitors " * 2,
        request=RequestInfo(ip="127.0.0.1", user_agent="pytest"),
    )
    for email in ("admin@ssf.test", "ed@hope.test"):
        page = person(email, PASSWORD)
        page.set_viewport_size({"width": 390, "height": 844})
        for path in (
            "/tracking/",
            f"/calendar/?year={due.year}&month={due.month}",
            "/calendar/feed",
            f"/programs/{handover.program_id}",
            f"/reallocations/{handover.id}",
            f"/site-visits/{visit.id}",
        ):
            page.goto(live_server + path)
            page.wait_for_load_state()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (email, path, width)
