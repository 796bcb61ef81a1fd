"""Deadline arithmetic for the agreement's notice periods (VIII.B and footnote 1).

The rules, each explicit because each decides whether a party acted in time:
- days count from the day after the notice is given, that day being the local date in the
  lead agency's time zone;
- business days are Monday to Friday except the holidays SSF observes (an editable list,
  passed in; `us_federal_holidays` only seeds it);
- a period ends at the end of its last day, 23:59:59 local time, whatever the UTC offset is
  that day (so daylight saving changes inside the period do not move it);
- whether a last day on a weekend or holiday rolls to the next business day is per rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_data

END_OF_DAY = time(23, 59, 59)

# Named in words for people; PST/PDT would be wrong half of the year, "Pacific" never is.
ZONE_WORDS = {
    "America/Los_Angeles": "Pacific",
    "US/Pacific": "Pacific",
    "America/Denver": "Mountain",
    "America/Phoenix": "Mountain",
    "America/Chicago": "Central",
    "America/New_York": "Eastern",
    "America/Anchorage": "Alaska",
    "Pacific/Honolulu": "Hawaii",
}
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class BusinessCalendar:
    """Monday–Friday except the given holidays."""

    def __init__(self, holidays: Iterable[date]) -> None:
        self.holidays = frozenset(holidays)

    def is_business_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.holidays

    def next_business_day(self, d: date) -> date:
        """The first business day strictly after `d`."""
        d += timedelta(days=1)
        while not self.is_business_day(d):
            d += timedelta(days=1)
        return d


@dataclass(frozen=True)
class DeadlineRule:
    days: int
    business_days: bool = False
    roll: bool = False
    name: str = ""
    # What the period counts from, in words: "notice" for the agreement's notices, "the
    # invitation" or "the approval" for onboarding.
    counted_from: str = field(default="notice", compare=False)

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("A deadline rule counts at least one day.")


def last_day(given_on: date, rule: DeadlineRule, calendar: BusinessCalendar) -> date:
    """The last day of the period for a notice given on the local date `given_on`."""
    if rule.business_days:
        d, counted = given_on, 0
        while counted < rule.days:
            d += timedelta(days=1)
            if calendar.is_business_day(d):
                counted += 1
    else:
        d = given_on + timedelta(days=rule.days)
    if rule.roll and not calendar.is_business_day(d):
        d = calendar.next_business_day(d)
    return d


def deadline(
    given_at: datetime, rule: DeadlineRule, calendar: BusinessCalendar, tz: ZoneInfo
) -> datetime:
    """When the period for a notice given at `given_at` ends, as an aware UTC datetime."""
    if given_at.tzinfo is None or given_at.utcoffset() is None:
        raise ValueError("The time a notice was given must be timezone-aware.")
    end = last_day(given_at.astimezone(tz).date(), rule, calendar)
    # The wall time is built in the zone itself, so the offset is the one in force that day.
    # fold=1: should the clock ever repeat 23:59:59, the period ends at the later instant.
    local = datetime.combine(end, END_OF_DAY, tzinfo=tz).replace(fold=1)
    return local.astimezone(UTC)


def _zone_words(tz: ZoneInfo, local: datetime) -> str:
    return ZONE_WORDS.get(tz.key) or local.tzname() or tz.key


def _clock(t: datetime) -> str:
    hour = t.hour % 12 or 12
    return f"{hour}:{t.minute:02d}:{t.second:02d} {'am' if t.hour < 12 else 'pm'}"


def long_date(d: date) -> str:
    """ "Friday, December 4, 2026" — spelled out here so the server's locale never matters."""
    return f"{DAY_NAMES[d.weekday()]}, {MONTH_NAMES[d.month - 1]} {d.day}, {d.year}"


def describe(rule: DeadlineRule, due: datetime, tz: ZoneInfo) -> str:
    """The rule and its end, in the words shown beside the date."""
    local = due.astimezone(tz)
    unit = "business day" if rule.business_days else "calendar day"
    count = f"{rule.days} {unit}{'' if rule.days == 1 else 's'}"
    if rule.business_days:
        count += " (Monday–Friday except holidays)"
    parts = [f"{count} counted from the day after {rule.counted_from}"]
    if rule.roll:
        parts.append("rolls to the next business day if the last day is a weekend or holiday")
    parts.append(f"ends {_clock(local)} {_zone_words(tz, local)} on {long_date(local.date())}")
    return "; ".join(parts)


_ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def number_words(n: int) -> str:
    """A whole number from 0 to 999 in words, as a legal text spells it: "forty-five"."""
    if not 0 <= n <= 999:
        raise ValueError("number_words spells 0 to 999.")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")


def period_words(rule: DeadlineRule) -> str:
    """The period as a notice states it: "ten (10) days", "fifteen (15) business days"."""
    unit = "business day" if rule.business_days else "day"
    return f"{number_words(rule.days)} ({rule.days}) {unit}{'' if rule.days == 1 else 's'}"


def us_federal_holidays(years: Iterable[int]) -> list[tuple[date, str]]:
    """U.S. federal holidays, observed days included, to seed SSF's editable holiday list."""
    days = holiday_data.country_holidays("US", years=list(years), observed=True)
    return sorted(days.items())
