"""When periods end, in Sacramento: DST changes, holidays with and without roll (settings),
month and year ends, notices given late in the evening; and a sweep that survives failure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from portal import jobs
from portal.documents.verify import verify_pdf
from portal.extensions import db
from portal.models import Deadline, DefaultNotice, OutboxMessage, Transition
from portal.services import deadlines, documents, holidays
from tests import factories
from tests.notices import give_default
from tests.services.helpers import REQ

PACIFIC = ZoneInfo("America/Los_Angeles")


def at(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    """A wall-clock time in Sacramento."""
    return datetime(y, m, d, hh, mm, tzinfo=PACIFIC)


@pytest.fixture
def federal_holidays(app):
    holidays.seed_federal(range(2026, 2029))


ROLL = {"CURE_PERIOD_ROLL": True}
BUSINESS_DAYS = {"CURE_PERIOD_BUSINESS_DAYS": True}


def period(what: str, given: datetime, settings: dict, last_day: date):
    return pytest.param(given, settings, last_day, id=what)


# When notice given at a moment ends, under the settings: the last day in Sacramento.
PERIODS = [
    period("10 days over the fall DST change", at(2026, 10, 28), {}, date(2026, 11, 7)),
    period("10 days over the spring DST change", at(2027, 3, 6), {}, date(2027, 3, 16)),
    period("ends on Thanksgiving, no roll", at(2026, 11, 16), {}, date(2026, 11, 26)),
    period("Thanksgiving rolls to Friday", at(2026, 11, 16), ROLL, date(2026, 11, 27)),
    period("ends on Christmas, no roll", at(2026, 12, 15), {}, date(2026, 12, 25)),
    period("Christmas rolls past the weekend", at(2026, 12, 15), ROLL, date(2026, 12, 28)),
    period("New Year's Day, no roll", at(2026, 12, 22), {}, date(2027, 1, 1)),
    period("New Year's Day rolls into 2027", at(2026, 12, 22), ROLL, date(2027, 1, 4)),
    period("a Sunday at the month's end rolls", at(2027, 1, 21), ROLL, date(2027, 2, 1)),
    period("February's end", at(2027, 2, 18), {}, date(2027, 2, 28)),
    period("leap day", at(2028, 2, 19), {}, date(2028, 2, 29)),
    period(
        "given 11:30 pm Pacific (next day in UTC)", at(2026, 12, 1, 23, 30), {}, date(2026, 12, 11)
    ),
    period("given 12:30 am Pacific", at(2026, 12, 2, 0, 30), {}, date(2026, 12, 12)),
    period(
        "10 business days skip Thanksgiving", at(2026, 11, 20), BUSINESS_DAYS, date(2026, 12, 7)
    ),
    period("5 days by setting", at(2026, 12, 1), {"CURE_PERIOD_DAYS": 5}, date(2026, 12, 6)),
]


@pytest.mark.parametrize(("given", "settings", "last_day"), PERIODS)
def test_cure_period_ends_at_the_end_of_its_last_day_in_sacramento(
    app, federal_holidays, monkeypatch, given, settings, last_day
):
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    period = deadlines.compute(given.astimezone(UTC), deadlines.rule("cure_period"))
    local = period.due_at.astimezone(PACIFIC)
    assert period.due_at.tzinfo is UTC or period.due_at.utcoffset() == timedelta(0)
    assert (local.date(), local.time()) == (last_day, time(23, 59, 59))
    assert f"on {last_day:%A, %B} {last_day.day}, {last_day.year}" in period.text
    rolls = settings.get("CURE_PERIOD_ROLL", False)
    assert ("rolls to the next business day" in period.text) == rolls
    # The calculator page asks by date; the answer is the same.
    assert deadlines.compute_from_date(given.date(), deadlines.rule("cure_period")) == period


def test_dst_changes_keep_the_end_at_1159_pm_local(app):
    rule = deadlines.rule("cure_period")
    fall = deadlines.compute(at(2026, 10, 28).astimezone(UTC), rule)
    assert fall.due_at == datetime(2026, 11, 8, 7, 59, 59, tzinfo=UTC)  # PST, UTC-8
    spring = deadlines.compute(at(2027, 3, 6).astimezone(UTC), rule)
    assert spring.due_at == datetime(2027, 3, 17, 6, 59, 59, tzinfo=UTC)  # PDT, UTC-7
    assert spring.text.endswith("ends 11:59:59 pm Pacific on Tuesday, March 16, 2027")


@pytest.mark.parametrize(
    ("given", "roll", "last_day"),
    [
        (at(2026, 12, 1), False, date(2026, 12, 31)),  # year end (Jan 1 is the holiday)
        (at(2027, 1, 30), False, date(2027, 3, 1)),  # over a 28-day February
        (at(2027, 11, 5), False, date(2027, 12, 5)),  # a Sunday
        (at(2027, 11, 5), True, date(2027, 12, 6)),
    ],
)
def test_thirty_days_notice(app, federal_holidays, monkeypatch, given, roll, last_day):
    monkeypatch.setitem(app.config, "TERMINATION_NOTICE_ROLL", roll)
    period = deadlines.compute(given.astimezone(UTC), deadlines.rule("termination_notice"))
    local = period.due_at.astimezone(PACIFIC)
    assert (local.date(), local.time()) == (last_day, time(23, 59, 59))
    assert period.text.startswith("30 calendar days counted from the day after notice")


def test_a_holiday_ssf_adds_or_removes_moves_a_rolled_end(app, cast, monkeypatch):
    monkeypatch.setitem(app.config, "CURE_PERIOD_ROLL", True)
    rule = deadlines.rule("cure_period")
    given = at(2026, 11, 16).astimezone(UTC)  # ten days later is Thanksgiving
    assert deadlines.compute(given, rule).due_at.astimezone(PACIFIC).date() == date(2026, 11, 27)
    added = holidays.add(cast.admin, date(2026, 11, 27), "Day after Thanksgiving", REQ)
    assert deadlines.compute(given, rule).due_at.astimezone(PACIFIC).date() == date(2026, 11, 30)
    holidays.remove(cast.admin, added.id, REQ)
    assert deadlines.compute(given, rule).due_at.astimezone(PACIFIC).date() == date(2026, 11, 27)


# --- end to end: notices given, swept by the scheduler's own code, across the calendar ----


def give(cast, agreement) -> DefaultNotice:
    return give_default(cast.signatory, agreement)


def sweep(app) -> int:
    fired = jobs.sweep(app)["deadlines_fired"]
    db.session.expire_all()
    return fired


def reminders(notice) -> list[datetime]:
    query = select(Deadline.due_at).where(
        Deadline.case_type == "default_notice",
        Deadline.case_id == notice.id,
        Deadline.event == deadlines.REMINDER,
    )
    return list(db.session.scalars(query.order_by(Deadline.due_at)))


def test_notice_given_before_the_fall_dst_change_lapses_after_it(app, cast, pki):
    given = at(2026, 10, 28, 9, 15)  # Wednesday, PDT
    end = datetime(2026, 11, 8, 7, 59, 59, tzinfo=UTC)  # Saturday, Nov 7, 11:59:59 pm PST
    with time_machine.travel(given, tick=False) as traveller:
        notice = give(cast, factories.agreement(cast.agency))
        assert notice.cure_ends_at == end
        assert notice.cure_rule_text.endswith("on Saturday, November 7, 2026")
        report = verify_pdf(documents.read_bytes(notice.document.current), pki.trust_roots)
        assert report.all_valid
        traveller.move_to(end - timedelta(seconds=1))
        assert sweep(app) == 2  # the two reminders only
        assert notice.state == "cure_period"
        traveller.move_to(end)
        assert sweep(app) == 1
        assert notice.state == "lapsed"


def test_reminders_keep_the_local_time_across_the_spring_dst_change(app, cast):
    end = datetime(2027, 3, 16, 6, 59, 59, tzinfo=UTC)  # Monday, Mar 15, 11:59:59 pm PDT
    three_days_before = datetime(2027, 3, 13, 7, 59, 59, tzinfo=UTC)  # Fri, Mar 12, PST
    with time_machine.travel(at(2027, 3, 5, 10), tick=False) as traveller:
        notice = give(cast, factories.agreement(cast.agency))
        assert notice.cure_ends_at == end
        assert [r.astimezone(PACIFIC).time() for r in reminders(notice)] == [time(23, 59, 59)] * 2
        assert reminders(notice) == [three_days_before, end - timedelta(days=1)]
        traveller.move_to(three_days_before - timedelta(seconds=1))
        assert sweep(app) == 0
        traveller.move_to(three_days_before)
        assert sweep(app) == 1
        traveller.move_to(end)
        assert sweep(app) == 2
        assert notice.state == "lapsed"


def test_notice_given_at_1130_pm_pacific_counts_from_that_local_day(app, cast):
    given = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)  # Tuesday, Dec 1, 11:30 pm PST
    end = datetime(2026, 12, 12, 7, 59, 59, tzinfo=UTC)  # Friday, Dec 11, 11:59:59 pm PST
    with time_machine.travel(given, tick=False) as traveller:
        notice = give(cast, factories.agreement(cast.agency))
        assert notice.given_at == given and notice.cure_ends_at == end
        traveller.move_to(end - timedelta(seconds=1))
        sweep(app)
        assert notice.state == "cure_period"
        traveller.move_to(end)
        sweep(app)
        assert notice.state == "lapsed"


def test_a_rolled_end_over_new_year_holds_until_the_next_business_day(app, cast, monkeypatch):
    monkeypatch.setitem(app.config, "CURE_PERIOD_ROLL", True)
    end = datetime(2027, 1, 5, 7, 59, 59, tzinfo=UTC)  # Monday, Jan 4, 2027, 11:59:59 pm PST
    with time_machine.travel(at(2026, 12, 22, 10), tick=False) as traveller:
        notice = give(cast, factories.agreement(cast.agency))
        assert notice.cure_ends_at == end
        assert "rolls to the next business day" in notice.cure_rule_text
        assert notice.cure_rule_text.endswith("on Monday, January 4, 2027")
        # Without the roll it would have ended at the end of New Year's Day.
        traveller.move_to(datetime(2027, 1, 2, 8, 0, tzinfo=UTC))
        assert sweep(app) == 1  # only the reminder three days before
        assert notice.state == "cure_period"
        traveller.move_to(end)
        assert sweep(app) == 2
        assert notice.state == "lapsed"


def test_a_failing_handler_leaves_the_deadline_pending_and_it_fires_later(app, cast):
    def database_drops_the_transition(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO TRANSITION"):
            raise OperationalError(statement, params, Exception("server closed the connection"))

    with time_machine.travel(at(2026, 12, 1, 10), tick=False) as traveller:
        notice = give(cast, factories.agreement(cast.agency))
        traveller.move_to(notice.cure_ends_at + timedelta(minutes=1))
        event.listen(db.engine, "before_cursor_execute", database_drops_the_transition)
        try:
            assert deadlines.sweep() == 2  # the reminders go; the lapse does not
        finally:
            event.remove(db.engine, "before_cursor_execute", database_drops_the_transition)
        db.session.expire_all()
        [row] = deadlines.pending_for("default_notice", notice.id)
        assert row.fired_at is None and row.cancelled_at is None
        assert "server closed the connection" in row.last_error
        assert notice.state == "cure_period"
        lapsed_mail = select(OutboxMessage).where(OutboxMessage.subject.like("Cure period lapsed%"))
        assert db.session.scalars(lapsed_mail).all() == []

        traveller.move_to(notice.cure_ends_at + timedelta(minutes=2))  # the next sweep
        assert sweep(app) == 1
        assert notice.state == "lapsed"
        lapses = db.session.scalars(
            select(Transition).where(Transition.event == "cure_lapsed")
        ).all()
        assert len(lapses) == 1 and db.session.get(Deadline, row.id).transition_id == lapses[0].id
        assert len(db.session.scalars(lapsed_mail).all()) == 4  # two people on each side
        assert sweep(app) == 0
