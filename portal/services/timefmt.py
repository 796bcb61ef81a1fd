"""Instants are stored in UTC and shown in the lead agency's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def lead_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["LEAD_TIMEZONE"])


def local(instant: datetime) -> datetime:
    return instant.astimezone(lead_tz())


def local_date(instant: datetime) -> date:
    return local(instant).date()


def long_date(day: date | None) -> str:
    return "" if day is None else f"{day:%A, %B} {day.day}, {day.year}"


def short_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def local_datetime(instant: datetime | None) -> str:
    """E.g. 'November 24, 2026, 3:05 pm PST'."""
    if instant is None:
        return ""
    moment = local(instant)
    hour = moment.strftime("%I").lstrip("0")
    return (
        f"{short_date(moment.date())}, {hour}:{moment:%M} {moment:%p}".replace("AM", "am").replace(
            "PM", "pm"
        )
        + f" {moment.tzname()}"
    )
