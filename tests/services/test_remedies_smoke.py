"""A first walk through the remedies: default notice → lapse → declaration; 30-day notice."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from portal.services import deadlines, default_notices, terminations
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, effective

PACIFIC = ZoneInfo("America/Los_Angeles")  # the lead agency's time zone (LEAD_TIMEZONE)


def test_uncured_default_lapses_then_termination_is_declared(app, cast):
    with time_machine.travel(datetime(2026, 11, 24, 18, 0, tzinfo=UTC), tick=False):
        agreement = effective(cast)
        notice = default_notices.give(
            cast.signatory,
            agreement.id,
            provisions=["V.E.12"],
            description="Late separation",
            cure_required="Report it",
            password=PASSWORD,
            intent=True,
            consent=True,
            request=REQ,
        )
        assert notice.state == "cure_period"
        # The end of the last day in Sacramento, with its offset (not the server's zone).
        assert notice.cure_ends_at.astimezone(PACIFIC).isoformat() == "2026-12-04T23:59:59-08:00"
        assert notice.cure_ends_at == datetime(2026, 12, 5, 7, 59, 59, tzinfo=UTC)
        assert deadlines.sweep() == 0
    with time_machine.travel(datetime(2026, 12, 5, 8, 0, tzinfo=UTC), tick=False):
        assert deadlines.sweep() >= 1
        assert notice.state == "lapsed"
        default_notices.declare_termination(
            cast.signatory, notice.id, password=PASSWORD, intent=True, consent=True, request=REQ
        )
        assert notice.state == "terminated" and agreement.state == "terminated"
        assert not cast.ed.active


def test_thirty_day_notice_ends_the_agreement_by_itself(app, cast):
    with time_machine.travel(datetime(2026, 11, 24, 18, 0, tzinfo=UTC), tick=False):
        agreement = effective(cast)
        notice = terminations.give(
            cast.ed,
            agreement.id,
            reason="Closing program",
            password=PASSWORD,
            intent=True,
            consent=True,
            request=REQ,
        )
    with time_machine.travel(notice.effective_at + timedelta(seconds=1), tick=False):
        assert deadlines.sweep() == 3  # the two reminders, then the end of the notice period
        assert deadlines.sweep() == 0
        assert notice.state == "effective" and agreement.state == "terminated"
