"""Program reallocation (VIII.B.7): the lead agency moves a program from one partner agency
to another, and the releasing agency hands the signed client consent and release-of-
information forms to the acquiring agency within the hand-over period (HANDOVER_* settings).

Opening a reallocation makes the releasing agency's program read-only (state "reallocated")
and gives the acquiring agency a new program row of its own (`reallocated_from_id` points
back), so each agency's records stay under its own row. The hand-over records only facts
of the delivery: how many forms, how, when, and an optional PDF; never client data. An
overdue hand-over is escalated to the lead agency's HMIS admins. The receipt and its two
signatures are in `reallocation_receipt`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from portal import clock
from portal.extensions import db
from portal.models import Agency, Program, Reallocation, User
from portal.notify import outbox
from portal.processes import Awaiting, Process, RuleSetting
from portal.services import agencies, audit, cases, deadlines, handover_files, lead, links, programs
from portal.services.access import SYSTEM, RequestInfo, is_lead_staff, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.security_officers import is_officer
from portal.services.timefmt import local_date, long_date
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.reallocation import REALLOCATION

RULE = "handover"
METHODS = {
    "in_person": "In person",
    "secure_courier": "Secure courier",
    "encrypted_transfer": "Encrypted electronic transfer",
    "certified_mail": "Certified mail",
}


def is_manager(user: User, agency_id: int) -> bool:
    """The agency's executive director or its security officer."""
    return (
        user.active
        and user.agency_id == agency_id
        and (user.role == "agency_ed" or is_officer(user))
    )


def managers(agency: Agency) -> list[User]:
    return [p for p in agency.people if is_manager(p, agency.id)]


def get(viewer: User, reallocation_id: int) -> Reallocation:
    """For the lead agency's staff and the people of either agency; others: NotFound."""
    row = db.session.get(Reallocation, reallocation_id)
    if row is None or not viewer.is_authenticated or not viewer.active:
        raise NotFound()
    if not is_lead_staff(viewer) and viewer.agency_id not in (
        row.agency_id,
        row.acquiring_agency_id,
    ):
        raise NotFound()
    return row


def list_for(viewer: User) -> list[Reallocation]:
    query = select(Reallocation).order_by(Reallocation.opened_at.desc(), Reallocation.id.desc())
    if not is_lead_staff(viewer):
        mine = viewer.agency_id
        query = query.where(
            or_(Reallocation.agency_id == mine, Reallocation.acquiring_agency_id == mine)
        )
    return list(db.session.scalars(query.limit(200)))


def for_agency(viewer: User, agency_id: int, *, limit: int = 50) -> list[Reallocation]:
    """The newest reallocations from or to the agency, for its page (a bounded number of
    queries, whatever their count)."""
    agencies.get(viewer, agency_id)
    query = (
        select(Reallocation)
        .where(
            or_(Reallocation.agency_id == agency_id, Reallocation.acquiring_agency_id == agency_id)
        )
        .options(
            selectinload(Reallocation.program),
            selectinload(Reallocation.agency),
            selectinload(Reallocation.acquiring_agency),
        )
        .order_by(Reallocation.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def acquiring_choices(viewer: User, releasing_id: int) -> list[tuple[str, str]]:
    """The partner agencies that may acquire a program of `releasing_id`, by name."""
    if viewer.role != "ssf_admin":
        return []
    query = select(Agency).where(
        Agency.is_lead.is_(False), Agency.closed_at.is_(None), Agency.id != releasing_id
    )
    return [
        (str(a.id), a.legal_name) for a in db.session.scalars(query.order_by(Agency.legal_name))
    ]


def context(row: Reallocation, user: User) -> dict[str, object]:
    """The facts the machine's guards read."""
    return {
        "acting_for_releasing": is_manager(user, row.agency_id),
        "acting_for_acquiring": is_manager(user, row.acquiring_agency_id),
        "esign_consent": user.esign_consent_at is not None,
    }


def advance(
    row: Reallocation, event: str, user: User | None, *, at: datetime, request, reason=None
):
    ctx = context(row, user) if user is not None else {}
    return cases.advance(REALLOCATION, row, event, user, ctx, at=at, request=request, reason=reason)


def _next_reference() -> str:
    count = db.session.scalar(select(func.count()).select_from(Reallocation))
    return f"REA-{count + 1:04d}"


def open_(
    admin: User, program_id: int, *, acquiring_agency_id: int, reason: str, request: RequestInfo
) -> Reallocation:
    """Moves the program: A's row becomes read-only, B gets its own, the hand-over opens."""
    require_role(admin, "ssf_admin", message="Only a lead agency HMIS admin reallocates programs.")
    with unit_of_work("This program changed at the same moment; reload it."):
        program = programs.get(admin, program_id)
        programs.refuse_unless_active(program)
        try:
            acquiring = agencies.get(admin, int(acquiring_agency_id))
        except (TypeError, ValueError):
            raise ServiceError("Choose the agency that acquires the program.") from None
        if acquiring.id == program.agency_id:
            raise ServiceError("Choose another agency: the program is already this agency's.")
        if acquiring.is_lead or acquiring.closed_at is not None:
            raise ServiceError(f"{acquiring.legal_name} cannot acquire a program.")
        why = clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)
        now = clock.now()
        new_program = Program(
            agency_id=acquiring.id,
            name=program.name,
            funding_source=program.funding_source,
            hud_grant_number=program.hud_grant_number,
            start_date=local_date(now),
            state="active",
            created_at=now,
            created_by_id=admin.id,
            ended_reason="",
            reallocated_from_id=program.id,
        )
        db.session.add(new_program)
        programs.end(program, "reallocated", f"Reallocated to {acquiring.legal_name}")
        db.session.flush()
        due = deadlines.compute(now, deadlines.rule(RULE))
        row = Reallocation(
            reference=_next_reference(),
            agency_id=program.agency_id,
            acquiring_agency_id=acquiring.id,
            program_id=program.id,
            new_program_id=new_program.id,
            state=REALLOCATION.initial,
            reason=why,
            opened_at=now,
            opened_by_id=admin.id,
            due_at=due.due_at,
            due_rule_text=due.text,
            delivered_method="",
            delivered_note="",
            closed_reason="",
        )
        db.session.add(row)
        db.session.flush()
        cases.record_creation(REALLOCATION, row, admin, at=now, request=request)
        audit.record(
            admin,
            "reallocation.open",
            row,
            f"Reallocated the program {program.name} from {program.agency.legal_name} to "
            f"{acquiring.legal_name}: {row.reference}",
            agency_id=row.agency_id,
            after={"state": row.state, "acquiring_agency_id": acquiring.id},
            request=request,
            at=now,
        )
        _tell_agencies(row)
    return row


def _tell_agencies(row: Reallocation) -> None:
    url = links.page(f"/reallocations/{row.id}")
    for person in managers(row.agency):
        outbox.queue(
            person.email,
            f"Program reallocated: hand over its forms by {long_date(local_date(row.due_at))}",
            f"{lead.lead_agency_name()} reallocated the program {row.program.name} to "
            f"{row.acquiring_agency.legal_name} ({row.reference}). The program is now "
            f"read-only for {row.agency.legal_name}. Deliver its signed client consent and "
            f"release-of-information forms to {row.acquiring_agency.legal_name} and record "
            f"the delivery {row.due_rule_text}:\n{url}\n",
        )
    for person in managers(row.acquiring_agency):
        outbox.queue(
            person.email,
            f"Program reallocated to {row.acquiring_agency.legal_name}: {row.program.name}",
            f"{lead.lead_agency_name()} reallocated the program {row.program.name} from "
            f"{row.agency.legal_name} to your agency ({row.reference}). Confirm receipt of "
            f"its signed client consent and release-of-information forms here once they "
            f"arrive:\n{url}\n",
        )


@dataclass(frozen=True)
class Delivery:
    count: int | None
    method: str
    delivered_on: date | None
    note: str = ""
    filename: str = ""
    data: bytes = b""


def record_delivery(
    user: User, reallocation_id: int, delivery: Delivery, *, request: RequestInfo
) -> Reallocation:
    with unit_of_work("This hand-over changed at the same moment; reload it."):
        row = get(user, reallocation_id)
        now = clock.now()
        count = delivery.count
        if not isinstance(count, int) or count < 1 or count > 1_000_000:
            raise ServiceError(
                "Give the number of signed forms delivered (a whole number, 1 or more)."
            )
        if delivery.method not in METHODS:
            raise ServiceError("Choose how the forms were delivered.")
        if not isinstance(delivery.delivered_on, date):
            raise ServiceError("Give the date the forms were delivered.")
        if delivery.delivered_on > local_date(now):
            raise ServiceError("The delivery date cannot be in the future.")
        if delivery.delivered_on < local_date(row.opened_at):
            raise ServiceError("The delivery date cannot be before the reallocation.")
        note = clean_text(delivery.note, "Note", max_len=2000, required=False, multiline=True)
        advance(row, "record_delivery", user, at=now, request=request)
        row.delivered_count, row.delivered_method = count, delivery.method
        row.delivered_on, row.delivered_note = delivery.delivered_on, note
        row.delivered_at, row.delivered_by_id = now, user.id
        if delivery.data:
            row.attachment = handover_files.store(delivery.filename, delivery.data)
        for person in managers(row.acquiring_agency):
            outbox.queue(
                person.email,
                f"Confirm receipt: forms of the program {row.program.name} ({row.reference})",
                f"{row.agency.legal_name} recorded that it delivered {count} signed consent "
                f"and release-of-information forms on {long_date(delivery.delivered_on)} "
                f"({METHODS[delivery.method].lower()}). Confirm receipt here:\n"
                f"{links.page(f'/reallocations/{row.id}')}\n",
            )
    return row


def read_attachment(viewer: User, reallocation_id: int) -> tuple[bytes, str]:
    """The delivery's file, for the people who may see the reallocation."""
    return handover_files.read(get(viewer, reallocation_id).attachment)


def cancel(admin: User, reallocation_id: int, *, reason: str, request: RequestInfo) -> Reallocation:
    """Ends the hand-over only: the program stays with the acquiring agency."""
    require_role(admin, "ssf_admin", message="Only a lead agency HMIS admin cancels this.")
    with unit_of_work():
        row = get(admin, reallocation_id)
        why = clean_text(reason, "Reason", max_len=2000, required=False, multiline=True)
        row.closed_reason = why
        advance(row, "cancel", admin, at=clock.now(), request=request, reason=why)
    return row


def close_for_agency(agency: Agency, reason: str, *, at: datetime) -> None:
    """Closes the open reallocations of an agency that ceased to operate (either side)."""
    open_states = [s.name for s in REALLOCATION.states if not s.terminal]
    query = select(Reallocation).where(
        or_(Reallocation.agency_id == agency.id, Reallocation.acquiring_agency_id == agency.id),
        Reallocation.state.in_(open_states),
    )
    for row in db.session.scalars(query.order_by(Reallocation.id)):
        row.closed_reason = reason
        advance(row, "agency_closed", None, at=at, request=SYSTEM, reason=reason)


# -- timers, reminders, what awaits ---------------------------------------------------


def _timer(row: Reallocation, deadline_row):
    transition = advance(row, deadline_row.event, None, at=clock.now(), request=SYSTEM)
    url = links.page(f"/reallocations/{row.id}")
    for admin in lead.admins():
        outbox.queue(
            admin.email,
            f"Hand-over overdue: {row.program.name} ({row.reference})",
            f"{row.agency.legal_name} has not recorded the delivery of the signed consent and "
            f"release-of-information forms of the program {row.program.name} to "
            f"{row.acquiring_agency.legal_name}. The hand-over was due {row.due_rule_text}.\n"
            f"{url}\n",
        )
    for person in managers(row.agency):
        outbox.queue(
            person.email,
            f"Overdue: hand over the forms of {row.program.name} ({row.reference})",
            f"The hand-over was due {row.due_rule_text}; {lead.lead_agency_name()} has been "
            f"told. Deliver the forms and record it here:\n{url}\n",
        )
    return transition


def _remind(row: Reallocation, deadline_row) -> None:
    for person in managers(row.agency):
        outbox.queue(
            person.email,
            f"Reminder: hand over the forms of {row.program.name} ({row.reference})",
            f"The hand-over of the signed consent and release-of-information forms to "
            f"{row.acquiring_agency.legal_name} ends {deadline_row.rule_text}.\n"
            f"{links.page(f'/reallocations/{row.id}')}\n",
        )


_TITLES = {
    "handover": "Hand over the consent and release forms of {program} to {other}",
    "overdue": "Overdue: hand over the consent and release forms of {program} to {other}",
    "delivered": "Confirm receipt of the forms of {program} from {other}",
    "releasing_signs": "Sign the hand-over receipt of {program}",
    "acquiring_signs": "Sign the hand-over receipt of {program}",
}


def awaiting(user: User) -> list[Awaiting]:
    """Open hand-overs that wait on this person's agency (or, overdue, on the lead agency)."""
    open_states = list(_TITLES)
    if user.role == "ssf_admin":
        query = select(Reallocation).where(Reallocation.state == "overdue")
    elif user.agency_id is not None and is_manager(user, user.agency_id):
        mine = user.agency_id
        query = select(Reallocation).where(
            or_(Reallocation.agency_id == mine, Reallocation.acquiring_agency_id == mine),
            Reallocation.state.in_(open_states),
        )
    else:
        return []
    items = []
    for row in db.session.scalars(query.order_by(Reallocation.id)):
        ctx = context(row, user)
        ctx["esign_consent"] = True
        options = cases.options(REALLOCATION, row, user, ctx)
        if user.role != "ssf_admin" and not any(o.allowed for o in options if o.event != "cancel"):
            continue
        releasing = row.agency_id == user.agency_id
        other = row.acquiring_agency if releasing else row.agency
        items.append(
            Awaiting(
                case=row,
                title=_TITLES[row.state].format(program=row.program.name, other=other.legal_name),
                url=f"/reallocations/{row.id}",
                since=row.opened_at,
                due_at=row.due_at if row.state in ("handover", "overdue") else None,
                rule=row.due_rule_text if row.state in ("handover", "overdue") else "",
            )
        )
    return items


PROCESS = Process(
    machine=REALLOCATION,
    model=Reallocation,
    period_start=lambda row: row.opened_at,
    period_end=lambda row: (row.due_at, row.due_rule_text),
    rules={RULE: RuleSetting("HANDOVER", "Program hand-over", counted_from="the reallocation")},
    on_timer=_timer,
    on_reminder=_remind,
    documents=("handover_receipt",),
    awaiting=awaiting,
)
