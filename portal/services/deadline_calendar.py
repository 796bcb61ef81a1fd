"""Every pending deadline (not reminders) a person may see, for the month calendar and the
ICS feed (issue 9, item 5).

A deadline row names its case by (type, id); each registered process whose cases belong to
an agency is joined once, so a page costs one query per process whatever the number of
deadlines. A termination's effective date is its notice period's deadline row.
"""

from __future__ import annotations

import calendar as pycal
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import Agency, Deadline, User
from portal.processes import registry
from portal.services.access import is_lead_staff
from portal.services.case_pages import case_url
from portal.services.deadlines import REMINDER
from portal.services.errors import NotFound
from portal.services.timefmt import lead_tz, local_date
from workflows.calendar import MONTH_NAMES


@dataclass(frozen=True)
class Entry:
    deadline_id: int
    due_at: datetime
    case_type: str
    case_id: int
    case_title: str  # "Notice of Default 7"
    agency_name: str
    rule: str  # the rule's title, e.g. "Cure period (VIII.B.3)"
    rule_text: str  # the rule in words, as computed
    url: str  # the case's page (a path)

    @property
    def summary(self) -> str:
        return f"{self.case_title} ({self.agency_name}): {self.rule}"


def entries(user: User, start: datetime, end: datetime) -> list[Entry]:
    """The pending deadlines due in [start, end) that `user` may see, soonest first."""
    if not user.is_authenticated or not user.active:
        raise NotFound()
    found: list[Entry] = []
    for process in registry():
        model = process.model
        if not hasattr(model, "agency_id"):
            continue
        query = (
            select(Deadline, model.agency_id, Agency.legal_name)
            .join(model, model.id == Deadline.case_id)
            .join(Agency, Agency.id == model.agency_id)
            .where(
                Deadline.case_type == process.name,
                Deadline.fired_at.is_(None),
                Deadline.cancelled_at.is_(None),
                Deadline.event != REMINDER,
                Deadline.due_at >= start,
                Deadline.due_at < end,
            )
        )
        if not is_lead_staff(user):
            query = query.where(model.agency_id == user.agency_id)
        for row, agency_id, agency_name in db.session.execute(query):
            found.append(_entry(process, row, agency_id, agency_name))
    return sorted(found, key=lambda e: (e.due_at, e.deadline_id))


def _entry(process, row: Deadline, agency_id: int, agency_name: str) -> Entry:
    try:
        rule = registry().rule(row.rule_name).title
    except KeyError:
        rule = row.rule_name
    return Entry(
        deadline_id=row.id,
        due_at=row.due_at,
        case_type=row.case_type,
        case_id=row.case_id,
        case_title=f"{process.machine.label} {row.case_id}",
        agency_name=agency_name,
        rule=rule,
        rule_text=row.rule_text,
        url=case_url(row.case_type, row.case_id, agency_id=agency_id),
    )


@dataclass(frozen=True)
class Day:
    day: date
    in_month: bool
    today: bool
    entries: list[Entry]


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    title: str  # "March 2027"
    weeks: list[list[Day]]  # Sunday first
    previous: tuple[int, int]
    next: tuple[int, int]

    @property
    def days_with_entries(self) -> list[Day]:
        return [d for week in self.weeks for d in week if d.in_month and d.entries]


def month_of(user: User, year: int, month: int, now: datetime) -> Month:
    """The month's grid (whole weeks, Sunday first) with each day's deadlines, in the lead
    agency's time zone."""
    tz = lead_tz()
    grid = pycal.Calendar(firstweekday=6).monthdatescalendar(year, month)
    first, last = grid[0][0], grid[-1][-1] + timedelta(days=1)
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last, time(), tz)
    by_day: dict[date, list[Entry]] = {}
    for entry in entries(user, start, end):
        by_day.setdefault(local_date(entry.due_at), []).append(entry)
    today = local_date(now)
    weeks = [
        [Day(d, d.month == month, d == today, by_day.get(d, [])) for d in week] for week in grid
    ]
    previous = (year - 1, 12) if month == 1 else (year, month - 1)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return Month(year, month, f"{MONTH_NAMES[month - 1]} {year}", weeks, previous, following)
