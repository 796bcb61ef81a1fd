"""SSF's editable holiday calendar (footnote 1: business days exclude SSF-observed holidays)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import extract, select

from portal import clock
from portal.extensions import db
from portal.models import User
from portal.models.deadlines import Holiday
from portal.services import audit
from portal.services.access import LEAD_STAFF, RequestInfo, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text, max_length
from workflows.calendar import us_federal_holidays

# Federal holidays are on the calendar from the year of the agreement template's revision, so
# a deadline computed for any date the portal can hold (a notice given years ago, a date typed
# into the calculator) sees them, and five years ahead of the year `init` last ran.
FEDERAL_HOLIDAYS_FROM = 2015
FEDERAL_HOLIDAYS_AHEAD = 5


def federal_years(this_year: int) -> range:
    return range(min(FEDERAL_HOLIDAYS_FROM, this_year), this_year + FEDERAL_HOLIDAYS_AHEAD + 1)


def for_year(year: int) -> list[Holiday]:
    query = select(Holiday).where(extract("year", Holiday.day) == year).order_by(Holiday.day)
    return list(db.session.scalars(query))


def seed_federal(years: range) -> int:
    """Adds US federal holidays (observed days included) that are not on the calendar yet."""
    with unit_of_work():
        have = set(db.session.scalars(select(Holiday.day)))
        now = clock.now()
        added = [
            Holiday(day=day, name=name, source="federal", created_at=now)
            for day, name in us_federal_holidays(years)
            if day not in have
        ]
        db.session.add_all(added)
    return len(added)


def add(admin: User, day: date, name: str, request: RequestInfo) -> Holiday:
    require_role(admin, "ssf_admin", message="Only a lead agency HMIS admin can edit the holidays.")
    with unit_of_work("That day is already a holiday."):
        label = clean_text(name, "Name", max_len=max_length(Holiday.__table__.c.name))
        if db.session.scalar(select(Holiday).where(Holiday.day == day)):
            raise ServiceError(f"{day:%B} {day.day}, {day.year} is already a holiday.")
        holiday = Holiday(
            day=day, name=label, source="ssf", created_at=clock.now(), created_by_id=admin.id
        )
        db.session.add(holiday)
        db.session.flush()
        audit.record(
            admin,
            "holiday.add",
            holiday,
            f"Added holiday {day.isoformat()} {label}",
            agency_id=None,
            after={"day": day.isoformat(), "name": label},
            request=request,
        )
    return holiday


def remove(admin: User, holiday_id: int, request: RequestInfo) -> None:
    require_role(admin, "ssf_admin", message="Only a lead agency HMIS admin can edit the holidays.")
    with unit_of_work():
        holiday = db.session.get(Holiday, holiday_id)
        if holiday is None:
            raise NotFound()
        audit.record(
            admin,
            "holiday.remove",
            holiday,
            f"Removed holiday {holiday.day.isoformat()} {holiday.name}",
            agency_id=None,
            before={"day": holiday.day.isoformat(), "name": holiday.name},
            request=request,
        )
        db.session.delete(holiday)


def may_edit(user: User) -> bool:
    """Whether the calendar page should offer this person to add and remove holidays (`add`
    and `remove` check the same again, with the reason)."""
    return user.active and user.role == "ssf_admin"


def for_year_seen_by(viewer: User, year: int) -> list[Holiday]:
    """The calendar page: SSF staff see it (business days are SSF's to define)."""
    require_role(
        viewer, *LEAD_STAFF, message="The holiday calendar is kept by the lead agency's staff."
    )
    return for_year(year)
