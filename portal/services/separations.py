"""Separations (V.E.12): the agency reports that a person left, and their last day.

Reporting ends the person's portal access at once, retires their signing identity, closes
their open HMIS access request (and so their onboarding), and records whether the report
came in time: by the end of the first business day after the last day, by the lead
agency's calendar (the SEPARATION_REPORT_* settings). A person with an issued HMIS account
then waits on the lead agency's HMIS admins to deactivate it in the HMIS itself; the list
of such accounts (`to_deactivate`) gathers its rows from several sources, so other reasons
to deactivate (a lapsed recertification) can join it.

A last day in the future is refused: a report ends access at once, so an agency reports on
or after the last day (it has until the end of the next business day).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal import clock, sessions
from portal.extensions import db
from portal.models import AccessRequest, Agency, User
from portal.models.security import Separation
from portal.notify import outbox
from portal.processes import Awaiting, Process, RuleSetting
from portal.services import (
    access_requests,
    agencies,
    audit,
    cases,
    deadlines,
    identities,
    lead,
    links,
    recertification,
    webhooks,
)
from portal.services import awaiting as waits
from portal.services.access import SYSTEM, RequestInfo, is_lead_staff, require_role
from portal.services.errors import Forbidden, NotFound, ServiceError
from portal.services.next_steps import NextSteps, for_case
from portal.services.security_officers import is_officer
from portal.services.timefmt import local_date, long_date
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.access_request import ACCESS_REQUEST
from workflows.separation import SEPARATION

RULE = "separation_report"


def may_report(user: User, agency: Agency) -> bool:
    """The agency's ED or security officer reports for their agency; a lead agency HMIS
    admin reports the lead agency's own staff."""
    if not user.active or user.agency_id != agency.id:
        return False
    if agency.is_lead:
        return user.role == "ssf_admin"
    return user.role == "agency_ed" or is_officer(user)


def _sees_agency_cases(user: User) -> bool:
    return is_lead_staff(user) or user.role == "agency_ed" or is_officer(user)


def get(viewer: User, separation_id: int) -> Separation:
    row = db.session.get(Separation, separation_id)
    if row is None or not _sees_agency_cases(viewer):
        raise NotFound()
    agencies.get(viewer, row.agency_id)  # another agency's id: NotFound
    return row


def list_for(viewer: User, *, page: int = 1):
    """Separations the viewer may see, newest first: all for the lead agency's staff, their
    own agency's for its ED and security officer."""
    if not _sees_agency_cases(viewer):
        raise Forbidden("Only the agency's executive director or security officer sees these.")
    query = select(Separation).order_by(Separation.reported_at.desc(), Separation.id.desc())
    if not is_lead_staff(viewer):
        query = query.where(Separation.agency_id == viewer.agency_id)
    return db.paginate(query, page=max(page, 1), per_page=25, error_out=False)


def choices(reporter: User, agency: Agency) -> list[tuple[str, str]]:
    """The people the reporter may report as separated: active, not themselves."""
    if not may_report(reporter, agency):
        return []
    return [
        (str(p.id), f"{p.name}, {p.title} ({p.role_label})")
        for p in sorted(agency.people, key=lambda p: p.name.casefold())
        if p.active and p.id != reporter.id
    ]


def rule_words() -> str:
    """The rule, in words for the report form."""
    period = deadlines.rule(RULE)
    unit = "business day" if period.business_days else "day"
    plural = "" if period.days == 1 else "s"
    return f"within {period.days} {unit}{plural} after the last day"


def _issued(person: User) -> AccessRequest | None:
    query = select(AccessRequest).where(
        AccessRequest.user_id == person.id, AccessRequest.state == "issued"
    )
    return db.session.scalars(query.order_by(AccessRequest.id.desc())).first()


def _next_reference(agency_id: int) -> str:
    count = db.session.scalar(
        select(func.count()).select_from(Separation).where(Separation.agency_id == agency_id)
    )
    return f"SEP-{agency_id:04d}-{count + 1:03d}"


def report(
    reporter: User,
    agency_id: int,
    *,
    user_id: int,
    last_day: date,
    note: str = "",
    request: RequestInfo,
) -> Separation:
    """Records the separation and ends the person's access, all in one transaction."""
    with unit_of_work("This person's separation was reported at the same moment; reload."):
        agency = agencies.get(reporter, agency_id)
        if not may_report(reporter, agency):
            raise Forbidden(
                "Only the agency's executive director or security officer can report a "
                "separation (for the lead agency's staff, one of its HMIS admins)."
            )
        person = db.session.scalar(select(User).where(User.id == user_id).with_for_update())
        if person is None or person.agency_id != agency.id:
            raise NotFound()
        if person.id == reporter.id:
            raise ServiceError("You cannot report your own separation; ask a colleague who may.")
        earlier = db.session.scalar(select(Separation).where(Separation.user_id == person.id))
        if earlier is not None:
            raise ServiceError(
                f"{person.name}'s separation was already reported ({earlier.reference})."
            )
        now = clock.now()
        if not isinstance(last_day, date):
            raise ServiceError("Give the person's last day as a date.")
        if last_day > local_date(now):
            raise ServiceError(
                "The last day cannot be in the future: a report ends access at once. Report "
                "the separation on or after the last day."
            )
        if last_day < local_date(person.created_at):
            raise ServiceError("The last day cannot be before the person's account was made.")
        why = clean_text(note, "Note", max_len=4000, required=False, multiline=True)
        due = deadlines.compute_from_date(last_day, deadlines.rule(RULE))
        issued = _issued(person)
        row = Separation(
            reference=_next_reference(agency.id),
            agency_id=agency.id,
            user_id=person.id,
            state=SEPARATION.initial,
            last_day=last_day,
            reported_at=now,
            reported_by_id=reporter.id,
            due_at=due.due_at,
            due_rule_text=due.text,
            on_time=now <= due.due_at,
            note=why,
            hmis_user_id=issued.hmis_user_id if issued and issued.hmis_user_id else "",
        )
        db.session.add(row)
        db.session.flush()
        cases.record_creation(SEPARATION, row, reporter, at=now, request=request)
        timing = "on time" if row.on_time else "late"
        audit.record(
            reporter,
            "separation.report",
            row,
            f"Reported {person.name} separated, last day {long_date(last_day)} "
            f"({timing}): {row.reference}",
            agency_id=agency.id,
            after={"state": row.state, "last_day": last_day.isoformat(), "on_time": row.on_time},
            request=request,
            at=now,
        )
        _end_access(reporter, person, row, now, request)
        webhooks.emit(
            "separation.reported",
            {
                "separation_id": row.id,
                "reference": row.reference,
                "agency_id": agency.id,
                "user_id": person.id,
                "last_day": last_day.isoformat(),
                "on_time": row.on_time,
            },
        )
        # Nothing is left to recertify: no reminders, no lapse.
        recertification.end_for(person, f"Separated ({row.reference})", request=request)
        if row.hmis_user_id:
            _tell_admins(row)
        else:
            row.closed_reason = "No HMIS account had been issued."
            cases.advance(
                SEPARATION,
                row,
                "close_no_hmis_account",
                None,
                {},
                at=now,
                request=SYSTEM,
                reason=row.closed_reason,
            )
    return row


def _end_access(
    reporter: User, person: User, row: Separation, now: datetime, request: RequestInfo
) -> None:
    """Portal access ends, the signing identity retires, the open request closes."""
    reason = f"Separated from the agency; last day {long_date(row.last_day)} ({row.reference})"
    person.active = False
    person.deactivated_at = now
    person.deactivated_reason = reason
    sessions.end_for_user(person.id, "separated")
    identities.retire_all(person, "separation", at=now)
    open_requests = select(AccessRequest).where(
        AccessRequest.user_id == person.id,
        AccessRequest.state.in_([s.name for s in ACCESS_REQUEST.states if not s.terminal]),
    )
    for open_request in db.session.scalars(open_requests.order_by(AccessRequest.id)):
        open_request.closed_reason = f"{person.name} left the agency ({row.reference})."
        cases.advance(
            ACCESS_REQUEST,
            open_request,
            "withdraw",
            reporter,
            access_requests.context(open_request),
            at=now,
            request=request,
            reason=open_request.closed_reason,
        )


def _tell_admins(row: Separation) -> None:
    late = "" if row.on_time else " It was reported late."
    for admin in lead.admins():
        outbox.queue(
            admin.email,
            f"Deactivate in the HMIS: {row.user.name} ({row.hmis_user_id})",
            f"{row.agency.legal_name} reported that {row.user.name} left; their last day was "
            f"{long_date(row.last_day)}.{late} Their portal access has ended. Deactivate HMIS "
            f"user {row.hmis_user_id} in the HMIS and record it here:\n"
            f"{links.page('/hmis-accounts/deactivate')}\n",
        )


def record_hmis_deactivation(
    admin: User, separation_id: int, *, request: RequestInfo, expected_version: int | None = None
) -> Separation:
    require_role(
        admin, "ssf_admin", message="Only a lead agency HMIS admin records HMIS deactivations."
    )
    with unit_of_work():
        row = get(admin, separation_id)
        if expected_version is not None and row.lock_version != expected_version:
            raise ServiceError("This separation changed since you opened it. Reload it.")
        now = clock.now()
        cases.advance(
            SEPARATION, row, "record_hmis_deactivation", admin, {}, at=now, request=request
        )
        row.hmis_deactivated_at, row.hmis_deactivated_by_id = now, admin.id
    return row


def next_steps(row: Separation, user: User) -> NextSteps:
    return for_case(SEPARATION, row, user, {})


# -- HMIS accounts to deactivate ------------------------------------------------------------


@dataclass(frozen=True)
class ToDeactivate:
    """One HMIS account the lead agency must deactivate in the HMIS, and why."""

    name: str
    agency: str
    hmis_user_id: str
    why: str
    since: datetime
    late: bool = False
    separation: Separation | None = None  # recorded through the separation, when one


def _separated_rows() -> list[ToDeactivate]:
    query = select(Separation).where(Separation.state == "reported")
    return [
        ToDeactivate(
            name=row.user.name,
            agency=row.agency.legal_name,
            hmis_user_id=row.hmis_user_id,
            why=f"Separated: last day {long_date(row.last_day)} ({row.reference})",
            since=row.reported_at,
            late=not row.on_time,
            separation=row,
        )
        for row in db.session.scalars(query)
    ]


def _lapsed_rows() -> list[ToDeactivate]:
    """People whose yearly recertification lapsed: their HMIS account is deactivated until
    they renew (the lead agency reactivates it then)."""
    rows = []
    for lapse in recertification.lapsed_users():
        issued = _issued(lapse.user)
        rows.append(
            ToDeactivate(
                name=lapse.user.name,
                agency=lapse.agency.legal_name,
                hmis_user_id=issued.hmis_user_id if issued else "",
                why=f"Recertification {lapse.year} lapsed "
                f"on {long_date(local_date(lapse.lapses_at))}",
                since=lapse.lapses_at,
            )
        )
    return rows


# Each source gives rows for the list.
SOURCES: list[Callable[[], list[ToDeactivate]]] = [_separated_rows, _lapsed_rows]


def to_deactivate(viewer: User) -> list[ToDeactivate]:
    """Every HMIS account awaiting deactivation in the HMIS, oldest first."""
    require_role(viewer, "ssf_admin", "ssf_signatory", "auditor")
    rows = [row for source in SOURCES for row in source()]
    return sorted(rows, key=lambda r: r.since)


def awaiting(user: User) -> list[Awaiting]:
    """For the lead agency's HMIS admins: separated people whose HMIS account awaits
    deactivation (the machine says who may record it)."""
    states = waits.states_for(SEPARATION, user.role)
    if not states:
        return []
    query = (
        select(Separation)
        .where(Separation.state.in_(states))
        .options(joinedload(Separation.user), joinedload(Separation.agency))
        .order_by(Separation.id)
    )
    items = []
    for row in db.session.scalars(query):
        if not waits.awaited_steps(SEPARATION, cases.options(SEPARATION, row, user, {})):
            continue
        items.append(
            Awaiting(
                case=row,
                title=f"Deactivate in the HMIS: {row.user.name} ({row.agency.legal_name}), "
                f"HMIS user {row.hmis_user_id}",
                url="/hmis-accounts/deactivate",
                since=row.reported_at,
                detail=f"Last day {long_date(row.last_day)}"
                + ("; reported late" if not row.on_time else ""),
            )
        )
    return items


PROCESS = Process(
    machine=SEPARATION,
    model=Separation,
    rules={
        RULE: RuleSetting("SEPARATION_REPORT", "Separation report", counted_from="the last day")
    },
    awaiting=awaiting,
)
