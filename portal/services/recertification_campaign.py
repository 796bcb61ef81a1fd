"""The year's recertification campaign: opening it (see `recertification` for why a lead
agency admin opens it), and its lists: every agency's users with what lapses when and where
each stands, filtered by agency and state, a page at a time, and as CSV. The lead agency's
staff see every agency; an agency's executive director and security officer see their own
agency's people; anyone else sees only their own recertification."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select

from portal import clock
from portal.extensions import db
from portal.models import AccessRequest, Agency, Recertification, User
from portal.notify import outbox
from portal.services import (
    audit,
    cases,
    links,
    recertification,
    recertification_dates,
    security_officers,
)
from portal.services.access import RequestInfo, is_lead_staff, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_date, local_datetime, local_instant, long_date, short_date
from portal.services.unit import unit_of_work
from workflows.recertification import RECERTIFICATION

MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Filters:
    year: int
    agency_id: int | None = None
    state: str = ""


# -- opening the campaign -----------------------------------------------------------------------


def _issued_people() -> list[User]:
    query = (
        select(User)
        .join(AccessRequest, AccessRequest.user_id == User.id)
        .where(AccessRequest.state == "issued", User.active.is_(True))
        .distinct()
        .order_by(User.id)
    )
    return list(db.session.scalars(query))


def open_campaign(admin: User, year: int, *, request: RequestInfo) -> list[Recertification]:
    """Opens the year's recertification for every issued HMIS user whose first lapse falls
    in `year` or before and who has none open; again later, it adds the people issued since.
    Returns the recertifications it opened."""
    require_role(admin, "ssf_admin", message="Only a lead agency HMIS admin opens a campaign.")
    now = clock.now()
    if not isinstance(year, int) or not local_date(now).year - 1 <= year <= 2100:
        raise ServiceError("Open a campaign for this year or a later one.")
    opened: list[Recertification] = []
    with unit_of_work():
        for person in _issued_people():
            lapses = recertification_dates.lapses_of(person)
            if lapses is None or lapses.first_on.year > year:
                continue
            if recertification.current_of(person) is not None or _has(person, year):
                continue
            opened.append(_open(person, year, lapses, admin, now, request))
        audit.record(
            admin,
            "recertification.campaign",
            admin,
            f"Opened the {year} recertification campaign: {len(opened)} recertification(s)",
            agency_id=None,
            after={"year": year, "opened": len(opened)},
            request=request,
            at=now,
        )
    return opened


def _has(person: User, year: int) -> bool:
    query = select(Recertification.id).where(
        Recertification.user_id == person.id, Recertification.year == year
    )
    return db.session.scalar(query) is not None


def _open(
    person: User,
    year: int,
    lapses: recertification_dates.Lapses,
    admin: User,
    now: datetime,
    request: RequestInfo,
) -> Recertification:
    row = Recertification(
        year=year,
        agency_id=person.agency_id,
        user_id=person.id,
        state=RECERTIFICATION.initial,
        opened_at=now,
        user_agreement_lapses_on=lapses.user_agreement_on,
        training_lapses_on=lapses.training_on,
        lapses_at=lapses.at,
    )
    db.session.add(row)
    db.session.flush()
    cases.record_creation(RECERTIFICATION, row, admin, at=now, request=request)
    outbox.queue(
        person.email,
        f"Your yearly HMIS recertification: renew by {long_date(lapses.first_on)}",
        f"Hello {person.name},\n\n{lead_agency_name()} opened the {year} recertification of "
        f"HMIS users. Your HMIS User Agreement lapses on {long_date(lapses.user_agreement_on)} "
        f"and your privacy and security training on {long_date(lapses.training_on)}.\n\n"
        f"To keep your HMIS access, sign the renewed user agreement (your agency then "
        f"approves it) and pass the privacy and security test again before "
        f"{local_instant(lapses.at)}:\n{links.page(f'/recertification/{row.id}')}\n",
    )
    return row


def this_year() -> int:
    return local_date(clock.now()).year


def years(viewer: User) -> list[int]:
    """The years with a campaign the viewer can see, newest first (this year always)."""
    query = _visible(viewer, select(Recertification.year).distinct())
    found = set(db.session.scalars(query))
    return sorted(found | {this_year()}, reverse=True)


def _visible(viewer: User, query: Select) -> Select:
    if is_lead_staff(viewer):
        return query
    if viewer.role == "agency_ed" or security_officers.is_officer(viewer):
        return query.where(Recertification.agency_id == viewer.agency_id)
    return query.where(Recertification.user_id == viewer.id)


def check(viewer: User, filters: Filters) -> Filters:
    """The filters, refused with a clear message when they make no sense; another agency's
    id is NotFound for an agency's people, as everywhere."""
    if not 2000 <= filters.year <= 2100:
        raise ServiceError("Choose a year between 2000 and 2100.")
    if filters.state and filters.state not in {s.name for s in RECERTIFICATION.states}:
        raise ServiceError("Choose a state from the list.")
    if filters.agency_id is not None:
        if not 0 < filters.agency_id <= MAX_ID or db.session.get(Agency, filters.agency_id) is None:
            raise NotFound()
        if not is_lead_staff(viewer) and filters.agency_id != viewer.agency_id:
            raise NotFound()
    return filters


def _query(viewer: User, filters: Filters) -> Select:
    query = _visible(viewer, select(Recertification)).where(Recertification.year == filters.year)
    if filters.agency_id is not None:
        query = query.where(Recertification.agency_id == filters.agency_id)
    if filters.state:
        query = query.where(Recertification.state == filters.state)
    return query.order_by(Recertification.lapses_at, Recertification.id)


def page(viewer: User, filters: Filters, *, page: int = 1, per_page: int = 25):
    check(viewer, filters)
    return db.paginate(_query(viewer, filters), page=max(page, 1), per_page=per_page,
                       error_out=False)  # fmt: skip


def counts(viewer: User, year: int) -> dict[str, int]:
    """How many of the year's recertifications the viewer sees, by state."""
    query = _visible(
        viewer,
        select(Recertification.state, func.count()).where(Recertification.year == year),
    ).group_by(Recertification.state)
    return {state: n for state, n in db.session.execute(query)}


def agencies(viewer: User) -> list[Agency]:
    """The agencies the filter offers the viewer."""
    if is_lead_staff(viewer):
        return list(db.session.scalars(select(Agency).order_by(Agency.legal_name)))
    return [viewer.agency] if viewer.agency is not None else []


def _date(day) -> str:
    return short_date(day) if day is not None else ""


def csv_text(viewer: User, filters: Filters) -> str:
    """The filtered campaign as CSV, one recertification a row."""
    check(viewer, filters)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["Year", "Agency", "User", "E-mail", "User agreement lapses", "Training lapses",
         "Lapses at", "State", "User agreement renewed", "Training renewed"]
    )  # fmt: skip
    for row in db.session.scalars(_query(viewer, filters)):
        writer.writerow(
            [
                row.year,
                _safe(row.agency.legal_name),
                _safe(row.user.name),
                _safe(row.user.email),
                _date(row.user_agreement_lapses_on),
                _date(row.training_lapses_on),
                local_datetime(row.lapses_at),
                RECERTIFICATION.state(row.state).label,
                local_datetime(row.user_agreement_renewed_at),
                local_datetime(row.training_renewed_at),
            ]
        )
    return out.getvalue()


def _safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
