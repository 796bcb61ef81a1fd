"""Training sessions (V.D.1): the lead agency schedules a class of a course, in person or by
webinar, with a capacity; people enrol (themselves, or their agency's executive director or
security officer enrols them) and the lead agency records who attended.

Who sees whom: the lead agency's staff see every seat; an agency's executive director and
security officer see their own agency's seats; anyone else sees only their own. A person of
another agency, by id, is NotFound.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from urllib.parse import urlparse

from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import SessionSeat, TrainingSession, User
from portal.notify import outbox
from portal.services import audit, links, security_officers
from portal.services.access import RequestInfo, is_lead_staff, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.timefmt import lead_tz, local_datetime
from portal.services.training import MAX_ID, get_course, tell_onboarding
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text

MODES = {"in_person": "In person", "webinar": "Webinar"}
AGENCY_ENROLLERS = ("agency_ed", "agency_security_officer")
FULL = "This session is full: all {n} seats are taken. Choose another session."


def may_enrol_others(actor: User) -> bool:
    """The agency's executive director or security officer enrols the agency's people; the
    lead agency's HMIS admins enrol anyone."""
    if not actor.active:
        return False
    return (
        actor.role == "ssf_admin"
        or actor.role in AGENCY_ENROLLERS
        or security_officers.is_officer(actor)
    )


def sees_agency_seats(viewer: User) -> bool:
    return may_enrol_others(viewer) and not viewer.is_lead


def get(viewer: User, session_id: int) -> TrainingSession:
    """A session's details are not any agency's: every person with an account sees them."""
    if not viewer.is_authenticated or not viewer.active:
        raise NotFound()
    row = db.session.get(TrainingSession, session_id) if 0 < session_id <= MAX_ID else None
    if row is None:
        raise NotFound()
    return row


def visible_seats(viewer: User, row: TrainingSession) -> list[SessionSeat]:
    if is_lead_staff(viewer):
        return list(row.seats)
    if sees_agency_seats(viewer):
        return [s for s in row.seats if s.user.agency_id == viewer.agency_id]
    return [s for s in row.seats if s.user_id == viewer.id]


def taken(row: TrainingSession) -> int:
    return db.session.scalar(
        select(func.count()).select_from(SessionSeat).where(SessionSeat.session_id == row.id)
    )


def is_open(row: TrainingSession, now: datetime | None = None) -> bool:
    return row.cancelled_at is None and (now or clock.now()) < row.starts_at


def upcoming(course_id: int | None = None) -> list[TrainingSession]:
    query = select(TrainingSession).where(
        TrainingSession.cancelled_at.is_(None), TrainingSession.starts_at > clock.now()
    )
    if course_id is not None:
        query = query.where(TrainingSession.course_id == course_id)
    return list(db.session.scalars(query.order_by(TrainingSession.starts_at)))


def of_course(course_id: int) -> list[TrainingSession]:
    """Every session of a course, newest first (for the lead agency's course page)."""
    query = select(TrainingSession).where(TrainingSession.course_id == course_id)
    return list(db.session.scalars(query.order_by(TrainingSession.starts_at.desc())))


def seats_of(user: User) -> list[SessionSeat]:
    """The person's own seats, soonest first."""
    query = (
        select(SessionSeat)
        .join(TrainingSession)
        .where(SessionSeat.user_id == user.id)
        .order_by(TrainingSession.starts_at)
    )
    return list(db.session.scalars(query))


def enrollable_people(actor: User) -> list[User]:
    """Whom the actor may enrol besides themselves: their agency's active people."""
    if not may_enrol_others(actor) or actor.is_lead:
        return []
    query = select(User).where(User.agency_id == actor.agency_id, User.active.is_(True))
    return list(db.session.scalars(query.order_by(User.name)))


# -- scheduling ------------------------------------------------------------------------


def _starts_at(day: date, at: time) -> datetime:
    """The instant a local date and time name in the lead agency's time zone; a time the
    clocks skip (spring forward) is refused rather than moved."""
    zone = lead_tz()
    local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ServiceError(
            f"{at:%H:%M} does not exist on {day.isoformat()} in {zone.key}: the clocks move "
            "forward then. Choose another time."
        )
    return instant


def _location(mode: str, location: str) -> str:
    if mode not in MODES:
        raise ServiceError("Choose in person or webinar.")
    if mode == "in_person":
        return clean_text(location, "The address", max_len=500, multiline=True)
    link = clean_text(location, "The webinar link", max_len=500)
    parsed = urlparse(link)
    if parsed.scheme != "https" or not parsed.netloc:
        raise ServiceError("The webinar link must be a full https:// address.")
    return link


def schedule(
    admin: User,
    course_id: int,
    *,
    day: date,
    at: time,
    minutes: int,
    mode: str,
    location: str,
    capacity: int,
    request: RequestInfo,
) -> TrainingSession:
    require_role(
        admin, "ssf_admin", message="Only the lead agency's HMIS admins schedule sessions."
    )
    with unit_of_work():
        course = get_course(course_id)
        starts_at = _starts_at(day, at)
        now = clock.now()
        if starts_at <= now:
            raise ServiceError("A session is scheduled in the future.")
        if not 15 <= minutes <= 600:
            raise ServiceError("A session lasts from 15 to 600 minutes.")
        if not 1 <= capacity <= 1000:
            raise ServiceError("The capacity is from 1 to 1,000 seats.")
        row = TrainingSession(
            course_id=course.id,
            starts_at=starts_at,
            minutes=minutes,
            mode=mode,
            location=_location(mode, location),
            capacity=capacity,
            created_at=now,
            created_by_id=admin.id,
        )
        db.session.add(row)
        db.session.flush()
        audit.record(
            admin,
            "training.session_schedule",
            row,
            f"Scheduled a session of {course.title} on {local_datetime(starts_at)} "
            f"({MODES[mode].lower()}, {capacity} seats)",
            agency_id=None,
            after={"starts_at": starts_at.isoformat(), "mode": mode, "capacity": capacity},
            request=request,
            at=now,
        )
    return row


# -- enrolling -------------------------------------------------------------------------


def _lock(row: TrainingSession) -> None:
    """Holds the session's row until the transaction ends (PostgreSQL), so the seats are
    counted and taken by one enrolment at a time: a full session stays full under a race."""
    db.session.execute(
        select(TrainingSession.id).where(TrainingSession.id == row.id).with_for_update()
    )


def _person_for(actor: User, user_id: int | None) -> User:
    if user_id is None or user_id == actor.id:
        return actor
    person = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if person is None or not may_enrol_others(actor):
        raise NotFound()
    if actor.role != "ssf_admin" and person.agency_id != actor.agency_id:
        raise NotFound()
    if not person.active:
        raise ServiceError(f"{person.name}'s account is not active.")
    return person


def enrol(
    actor: User, session_id: int, *, user_id: int | None = None, request: RequestInfo
) -> SessionSeat:
    """Takes a seat for the actor, or for one of their agency's people."""
    with unit_of_work("That person was enrolled in this session at the same moment."):
        row = get(actor, session_id)
        person = _person_for(actor, user_id)
        _lock(row)
        if row.cancelled_at is not None:
            raise ServiceError("This session was cancelled.")
        now = clock.now()
        if now >= row.starts_at:
            raise ServiceError("This session has already begun; enrolment is closed.")
        already = db.session.scalar(
            select(SessionSeat.id).where(
                SessionSeat.session_id == row.id, SessionSeat.user_id == person.id
            )
        )
        if already is not None:
            who = "You are" if person.id == actor.id else f"{person.name} is"
            raise ServiceError(f"{who} already enrolled in this session.")
        if taken(row) >= row.capacity:
            raise ServiceError(FULL.format(n=row.capacity))
        seat = SessionSeat(session_id=row.id, user_id=person.id, enrolled_at=now)
        db.session.add(seat)
        db.session.flush()
        audit.record(
            actor,
            "training.enrol",
            seat,
            f"Enrolled {person.name} in {row.course.title} on {local_datetime(row.starts_at)}",
            agency_id=person.agency_id,
            after={"session": row.id, "user": person.email},
            request=request,
            at=now,
        )
    return seat


def _seat(actor: User, seat_id: int) -> SessionSeat:
    seat = db.session.get(SessionSeat, seat_id) if 0 < seat_id <= MAX_ID else None
    if seat is None or seat not in visible_seats(actor, seat.session):
        raise NotFound()
    return seat


def withdraw(actor: User, seat_id: int, *, request: RequestInfo) -> TrainingSession:
    """Gives a seat back before the session begins."""
    with unit_of_work():
        seat = _seat(actor, seat_id)
        row = seat.session
        if not is_open(row):
            raise ServiceError("A seat can be given back only before the session begins.")
        person = seat.user
        audit.record(
            actor,
            "training.withdraw",
            seat,
            f"Withdrew {person.name} from {row.course.title} on {local_datetime(row.starts_at)}",
            agency_id=person.agency_id,
            before={"session": row.id, "user": person.email},
            request=request,
        )
        db.session.delete(seat)
    return row


# -- attendance and cancelling ---------------------------------------------------------


def record_attendance(
    admin: User, session_id: int, attended: Mapping[int, bool | None], *, request: RequestInfo
) -> TrainingSession:
    """Records who attended (True), who did not (False); None leaves a seat unrecorded.
    A course that needs a session may be complete now, so each person's onboarding hears."""
    require_role(
        admin, "ssf_admin", message="Only the lead agency's HMIS admins record attendance."
    )
    with unit_of_work():
        row = get(admin, session_id)
        if row.cancelled_at is not None:
            raise ServiceError("This session was cancelled.")
        now = clock.now()
        if now < row.starts_at:
            begins = local_datetime(row.starts_at)
            raise ServiceError(f"Attendance is recorded once the session has begun ({begins}).")
        seats = {seat.id: seat for seat in row.seats}
        if any(seat_id not in seats for seat_id in attended):
            raise NotFound()
        changes = []
        for seat_id, value in attended.items():
            seat = seats[seat_id]
            if value is None or seat.attended is value:
                continue
            seat.attended = value
            seat.attendance_recorded_at, seat.attendance_recorded_by_id = now, admin.id
            changes.append(seat)
            audit.record(
                admin,
                "training.attendance",
                seat,
                f"{seat.user.name} {'attended' if value else 'did not attend'} "
                f"{row.course.title} on {local_datetime(row.starts_at)}",
                agency_id=seat.user.agency_id,
                after={"attended": value},
                request=request,
                at=now,
            )
        if not changes:
            raise ServiceError("Nothing was changed.")
        db.session.flush()
        for seat in changes:
            tell_onboarding(seat.user, request)
    return row


def cancel(admin: User, session_id: int, *, reason: str, request: RequestInfo) -> TrainingSession:
    """Cancels a session that has not begun and e-mails everyone enrolled."""
    require_role(admin, "ssf_admin", message="Only the lead agency's HMIS admins cancel sessions.")
    with unit_of_work():
        row = get(admin, session_id)
        _lock(row)
        why = clean_text(reason, "Reason", max_len=2000, multiline=True)
        if not is_open(row):
            raise ServiceError("Only a session that has not begun can be cancelled.")
        now = clock.now()
        row.cancelled_at = now
        when = local_datetime(row.starts_at)
        for seat in row.seats:
            outbox.queue(
                seat.user.email,
                f"Cancelled: {row.course.title} on {when}",
                f"Hello {seat.user.name},\n\nThe {row.course.title} session on {when} is "
                f"cancelled: {why}\n\nChoose another session here:\n{links.page('/training/')}\n",
            )
        audit.record(
            admin,
            "training.session_cancel",
            row,
            f"Cancelled the session of {row.course.title} on {when} "
            f"({len(row.seats)} enrolled told): {why}",
            agency_id=None,
            after={"cancelled_at": now.isoformat(), "reason": why},
            request=request,
            at=now,
        )
    return row
