"""Instants are stored in UTC and shown in the lead agency's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from workflows import calendar


def lead_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["LEAD_TIMEZONE"])


def local(instant: datetime) -> datetime:
    return instant.astimezone(lead_tz())


def local_date(instant: datetime) -> date:
    return local(instant).date()


def long_date(day: date | None) -> str:
    """ "Friday, December 4, 2026" (the calendar's wording, whatever the server's locale)."""
    return "" if day is None else calendar.long_date(day)


def short_date(day: date) -> str:
    """ "December 4, 2026"."""
    return f"{calendar.MONTH_NAMES[day.month - 1]} {day.day}, {day.year}"


def _clock(moment: datetime, *, seconds: bool) -> str:
    hour = moment.hour % 12 or 12
    tail = f":{moment:%S}" if seconds else ""
    return f"{hour}:{moment:%M}{tail} {'am' if moment.hour < 12 else 'pm'} {moment.tzname()}"


def local_datetime(instant: datetime | None) -> str:
    """E.g. 'November 24, 2026, 3:05 pm PST'."""
    if instant is None:
        return ""
    moment = local(instant)
    return f"{short_date(moment.date())}, {_clock(moment, seconds=False)}"


def local_instant(instant: datetime) -> str:
    """To the second, with the weekday: 'Friday, December 4, 2026, 11:59:59 pm PST'."""
    moment = local(instant)
    return f"{long_date(moment.date())}, {_clock(moment, seconds=True)}"
