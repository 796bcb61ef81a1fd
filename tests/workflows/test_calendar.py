"""Deadline arithmetic: the day after notice, end of the local day, DST, holidays, rolling."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.calendar import (
    BusinessCalendar,
    DeadlineRule,
    deadline,
    describe,
    us_federal_holidays,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
TEN_DAYS = DeadlineRule(10, name="cure_10_days")
TEN_DAYS_ROLLING = DeadlineRule(10, roll=True, name="cure_10_days_rolling")
FEDERAL = BusinessCalendar(d for d, _ in us_federal_holidays(range(2025, 2030)))
NO_HOLIDAYS = BusinessCalendar([])


def pacific(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PACIFIC)


def ends(given: datetime, rule: DeadlineRule, calendar: BusinessCalendar = FEDERAL) -> datetime:
    return deadline(given, rule, calendar, PACIFIC)


@pytest.mark.parametrize("hour_minute", [(0, 0), (9, 15), (23, 59)])
def test_ten_days_count_from_the_day_after_notice(hour_minute: tuple[int, int]) -> None:
    due = ends(pacific(2026, 11, 24, *hour_minute), TEN_DAYS)
    assert due.isoformat() == "2026-12-05T07:59:59+00:00"
    assert due.astimezone(PACIFIC).isoformat() == "2026-12-04T23:59:59-08:00"
    assert due.tzinfo is UTC


def test_notice_late_in_the_evening_counts_by_the_pacific_date() -> None:
    # 23:30 Pacific on Nov 24 is already Nov 25 in UTC; the Pacific date decides.
    given = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)
    assert given.astimezone(PACIFIC).date() == date(2026, 11, 24)
    assert ends(given, TEN_DAYS) == ends(pacific(2026, 11, 24, 23, 30), TEN_DAYS)
    assert ends(given, TEN_DAYS).astimezone(PACIFIC).isoformat() == "2026-12-04T23:59:59-08:00"
    # …and a notice at 00:30 UTC on Nov 25 is still the afternoon of Nov 24 in Sacramento.
    assert ends(datetime(2026, 11, 25, 0, 30, tzinfo=UTC), TEN_DAYS) == ends(given, TEN_DAYS)


def test_period_across_the_end_of_daylight_saving() -> None:
    given = pacific(2026, 10, 28, 10)  # PDT, UTC-7
    assert given.utcoffset() == timedelta(hours=-7)
    due = ends(given, TEN_DAYS)  # clocks fell back on Sunday, Nov 1
    assert due.astimezone(PACIFIC).isoformat() == "2026-11-07T23:59:59-08:00"
    assert due == datetime(2026, 11, 8, 7, 59, 59, tzinfo=UTC)


def test_period_across_the_start_of_daylight_saving() -> None:
    due = ends(pacific(2026, 3, 1, 10), TEN_DAYS)  # clocks sprang forward on Sunday, March 8
    assert due.astimezone(PACIFIC).isoformat() == "2026-03-11T23:59:59-07:00"
    assert due == datetime(2026, 3, 12, 6, 59, 59, tzinfo=UTC)


def test_period_ending_on_the_day_daylight_saving_starts() -> None:
    due = ends(pacific(2026, 2, 26, 10), TEN_DAYS)  # last day: March 8, a 23-hour day
    assert due.astimezone(PACIFIC).isoformat() == "2026-03-08T23:59:59-07:00"


def test_thanksgiving_as_last_day_with_and_without_roll() -> None:
    given = pacific(2026, 11, 16, 12)  # + 10 days = Thursday, Nov 26, Thanksgiving
    assert ends(given, TEN_DAYS).astimezone(PACIFIC).date() == date(2026, 11, 26)
    assert ends(given, TEN_DAYS_ROLLING).astimezone(PACIFIC).date() == date(2026, 11, 27)
    # If SSF also observes the day after Thanksgiving, it rolls past the weekend.
    ssf = BusinessCalendar([*FEDERAL.holidays, date(2026, 11, 27)])
    assert ends(given, TEN_DAYS_ROLLING, ssf).astimezone(PACIFIC).date() == date(2026, 11, 30)


def test_christmas_observed_rolls_past_the_weekend() -> None:
    given = pacific(2027, 12, 14, 12)  # + 10 = Friday, Dec 24, Christmas observed
    assert ends(given, TEN_DAYS).astimezone(PACIFIC).date() == date(2027, 12, 24)
    due = ends(given, TEN_DAYS_ROLLING).astimezone(PACIFIC)
    assert due.isoformat() == "2027-12-27T23:59:59-08:00"


def test_new_year_observed_rolls_into_the_next_year() -> None:
    given = pacific(2027, 12, 21, 12)  # + 10 = Friday, Dec 31, New Year's Day 2028 observed
    assert ends(given, TEN_DAYS).astimezone(PACIFIC).date() == date(2027, 12, 31)
    due = ends(given, TEN_DAYS_ROLLING).astimezone(PACIFIC)
    assert due.isoformat() == "2028-01-03T23:59:59-08:00"


def test_weekend_rolls_only_when_the_rule_says_so() -> None:
    given = pacific(2026, 11, 25, 12)  # + 10 = Saturday, Dec 5
    assert ends(given, TEN_DAYS).astimezone(PACIFIC).date() == date(2026, 12, 5)
    assert ends(given, TEN_DAYS_ROLLING).astimezone(PACIFIC).date() == date(2026, 12, 7)


def test_business_days_skip_weekends_and_holidays() -> None:
    three = DeadlineRule(3, business_days=True)
    # Tue Nov 24: Wed 25 (1), Thanksgiving skipped, Fri 27 (2), weekend skipped, Mon 30 (3).
    assert ends(pacific(2026, 11, 24, 9), three).astimezone(PACIFIC).date() == date(2026, 11, 30)
    assert ends(pacific(2026, 11, 24, 9), three, NO_HOLIDAYS).astimezone(PACIFIC).date() == date(
        2026, 11, 27
    )
    # Across the year end: Dec 24 (observed) and the weekend skipped.
    assert ends(pacific(2027, 12, 23, 9), three).astimezone(PACIFIC).date() == date(2027, 12, 29)


def test_one_business_day_to_report_a_separation() -> None:
    one = DeadlineRule(1, business_days=True, name="separation_report")
    friday = pacific(2026, 1, 16, 16)  # Monday Jan 19 is Martin Luther King Jr. Day
    assert ends(friday, one).astimezone(PACIFIC).isoformat() == "2026-01-20T23:59:59-08:00"
    # A notice given on a Saturday still counts from the next day, Sunday.
    saturday = pacific(2026, 11, 28, 10)
    assert ends(saturday, one).astimezone(PACIFIC).date() == date(2026, 11, 30)


def test_business_days_starting_on_a_holiday() -> None:
    five = DeadlineRule(5, business_days=True)
    # Given on Thanksgiving itself: Fri 27 (1), Mon 30 … Thu Dec 3 (5).
    assert ends(pacific(2026, 11, 26, 9), five).astimezone(PACIFIC).date() == date(2026, 12, 3)


@pytest.mark.parametrize(
    ("given", "last"),
    [
        (date(2028, 2, 19), date(2028, 2, 29)),  # ends on the leap day
        (date(2028, 2, 20), date(2028, 3, 1)),
        (date(2027, 2, 19), date(2027, 3, 1)),  # no leap day in 2027
        (date(2028, 2, 28), date(2028, 3, 9)),
    ],
)
def test_leap_day_is_an_ordinary_day(given: date, last: date) -> None:
    due = ends(pacific(given.year, given.month, given.day, 12), TEN_DAYS)
    assert due.astimezone(PACIFIC).date() == last


def test_other_time_zones_end_at_their_own_midnight() -> None:
    eastern = ZoneInfo("America/New_York")
    due = deadline(pacific(2026, 11, 24, 22), TEN_DAYS, FEDERAL, eastern)
    # 22:00 Pacific on Nov 24 is Nov 25 in New York, so New York counts from Nov 26.
    assert due.astimezone(eastern).isoformat() == "2026-12-05T23:59:59-05:00"


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(datetime(2026, 11, 24, 9), TEN_DAYS, FEDERAL, PACIFIC)
    with pytest.raises(ValueError, match="at least one day"):
        DeadlineRule(0)


def test_business_calendar() -> None:
    cal = BusinessCalendar([date(2026, 11, 26)])
    assert cal.is_business_day(date(2026, 11, 25))
    assert not cal.is_business_day(date(2026, 11, 26))  # holiday
    assert not cal.is_business_day(date(2026, 11, 28))  # Saturday
    assert not cal.is_business_day(date(2026, 11, 29))  # Sunday
    assert cal.next_business_day(date(2026, 11, 25)) == date(2026, 11, 27)
    assert cal.next_business_day(date(2026, 11, 27)) == date(2026, 11, 30)
    # The holiday list is data, not code: another calendar, other answers.
    assert NO_HOLIDAYS.is_business_day(date(2026, 11, 26))


def test_describe_calendar_days() -> None:
    due = ends(pacific(2026, 11, 24, 9), TEN_DAYS)
    assert describe(TEN_DAYS, due, PACIFIC) == (
        "10 calendar days counted from the day after notice; "
        "ends 11:59:59 pm Pacific on Friday, December 4, 2026"
    )


def test_describe_rolling_and_business_days() -> None:
    due = ends(pacific(2027, 12, 14, 12), TEN_DAYS_ROLLING)
    assert describe(TEN_DAYS_ROLLING, due, PACIFIC) == (
        "10 calendar days counted from the day after notice; rolls to the next business day if "
        "the last day is a weekend or holiday; ends 11:59:59 pm Pacific on Monday, "
        "December 27, 2027"
    )
    one = DeadlineRule(1, business_days=True)
    due = ends(pacific(2026, 7, 2, 12), one)  # July 3 is Independence Day observed
    assert describe(one, due, PACIFIC) == (
        "1 business day (Monday–Friday except holidays) counted from the day after notice; "
        "ends 11:59:59 pm Pacific on Monday, July 6, 2026"
    )


def test_describe_names_other_zones_by_their_abbreviation() -> None:
    london = ZoneInfo("Europe/London")
    due = deadline(datetime(2026, 11, 24, 9, tzinfo=london), TEN_DAYS, FEDERAL, london)
    assert describe(TEN_DAYS, due, london).endswith(
        "ends 11:59:59 pm GMT on Friday, December 4, 2026"
    )


def test_federal_holidays_for_seeding() -> None:
    days = us_federal_holidays([2026, 2027])
    assert days == sorted(days)
    assert (date(2026, 11, 26), "Thanksgiving Day") in days
    assert (date(2026, 7, 3), "Independence Day (observed)") in days
    assert (date(2027, 12, 31), "New Year's Day (observed)") in days
    assert all(isinstance(d, date) and name for d, name in days)
    assert {d.year for d, _ in days} == {2026, 2027}
