"""Suspending an agency's or a person's access pending investigation (IV.B.1, VIII.B.3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import clock, sessions
from portal.extensions import db
from portal.models import Agency, User
from portal.models.remedies import Suspension
from portal.processes import Awaiting, Process
from portal.services import agencies, audit, cases, form_keys, revocation, standing
from portal.services import awaiting as waits
from portal.services.access import RequestInfo, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.next_steps import NextSteps, for_case, state_of
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.suspension import SUSPENSION

ONLY_ADMINS = "Only a lead agency HMIS admin can suspend access."


def for_agency(agency_id: int) -> list[Suspension]:
    query = (
        select(Suspension).where(Suspension.agency_id == agency_id).order_by(Suspension.id.desc())
    )
    return list(db.session.scalars(query))


def next_steps(suspension: Suspension, user: User) -> NextSteps:
    """Whether this person may lift the suspension, and otherwise who may."""
    return for_case(SUSPENSION, suspension, user, {})


def may_suspend(user: User, agency: Agency) -> bool:
    """Whether the agency page should offer this person to suspend access (`suspend` checks
    the same again, with the reasons)."""
    return user.active and user.role == "ssf_admin" and not agency.is_lead


@dataclass(frozen=True)
class Row:
    """One suspension on the agency page, with what this person may do about it."""

    suspension: Suspension
    steps: NextSteps
    in_force: bool


@dataclass
class AgencySuspensions:
    """The agency page's suspensions: every one on record, those in force, and whose access
    this person may suspend now (value, words) — empty when they may not suspend."""

    rows: list[Row]
    agency: Suspension | None  # a suspension of the whole agency, in force
    people: dict[int, Suspension] = field(default_factory=dict)  # user id → in force
    choices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def may_lift(self) -> bool:
        return any(row.steps.allows("lift") for row in self.rows)


def of_agency(viewer: User, agency: Agency) -> AgencySuspensions:
    """The suspensions of an agency the viewer may see, for its page."""
    agencies.get(viewer, agency.id)
    rows = []
    for suspension in for_agency(agency.id):
        open_ = not state_of(suspension).terminal
        rows.append(Row(suspension, next_steps(suspension, viewer), open_))
    in_force = [row.suspension for row in rows if row.in_force]
    shown = AgencySuspensions(
        rows=rows,
        agency=next((s for s in in_force if s.user_id is None), None),
        people={s.user_id: s for s in in_force if s.user_id is not None},
    )
    if may_suspend(viewer, agency):
        whole = [] if shown.agency else [("", f"The whole agency: {agency.legal_name}")]
        shown.choices = whole + [
            (str(p.id), f"{p.name}, {p.title} ({p.role_label})")
            for p in agency.people
            if p.active and p.id not in shown.people
        ]
    return shown


def _suspended_with(admin: User, agency_id: int, key: str) -> Suspension | None:
    """The suspension an earlier submission of the same form made (its one-time key), if
    any. Only the admin who sent that form, for that agency, sends it again: any other use
    is refused."""
    require_role(admin, "ssf_admin", message=ONLY_ADMINS)
    suspension = db.session.scalar(select(Suspension).where(Suspension.form_key == key))
    if suspension is not None and (suspension.started_by_id, suspension.agency_id) != (
        admin.id,
        agency_id,
    ):
        raise ServiceError(form_keys.USED)
    return suspension


@form_keys.one_per_key(_suspended_with)
def suspend(
    admin: User,
    agency_id: int,
    *,
    user_id: int | None,
    reason: str,
    request: RequestInfo,
    form_key: str | None = None,
) -> Suspension:
    """Suspends the agency, or one of its people. `form_key` is the suspending form's one-time
    key: sent again, even at the same moment, it returns the suspension it made,
    `already_given`, and nothing is ended, held or recorded twice (see form_keys)."""
    require_role(admin, "ssf_admin", message=ONLY_ADMINS)
    with unit_of_work():
        agency = agencies.get(admin, agency_id)
        if agency.is_lead:
            raise ServiceError("The lead agency cannot be suspended.")
        why = clean_text(reason, "Reason", max_len=4000, multiline=True)
        person = None
        if user_id is not None:
            person = db.session.get(User, user_id)
            if person is None or person.agency_id != agency.id:
                raise NotFound()
            if standing.active_for_user(person) is not None:
                raise ServiceError(f"{person.name}'s access is already suspended.")
        elif standing.active_for_agency(agency.id) is not None:
            raise ServiceError(f"{agency.legal_name} is already suspended.")
        now = clock.now()
        suspension = Suspension(
            agency_id=agency.id,
            user_id=person.id if person else None,
            reason=why,
            started_at=now,
            started_by_id=admin.id,
            state="suspended",
            form_key=form_key,
        )
        # form_keys' flag, as DefaultNotice.already_given (not stored); set here while the
        # model has no class default for it.
        suspension.already_given = False  # type: ignore[attr-defined]
        db.session.add(suspension)
        db.session.flush()
        cases.record_creation(SUSPENSION, suspension, admin, at=now, request=request)
        # Signed-in people are turned away at their next request (the user loader asks the
        # standing); their sessions end here too, so none outlives the suspension's lifting.
        for suspended in [person] if person else list(agency.people):
            sessions.end_for_user(suspended.id, "suspended")
            # Their certificates are on hold meanwhile: nothing they signed before is
            # undone, but no one can rely on their key while it is investigated.
            revocation.hold_user(suspended, f"Suspended: {why}", now, admin)
        whom = person.name if person else agency.legal_name
        audit.record(
            admin,
            "suspension.start",
            suspension,
            f"Suspended {whom}: {why}",
            agency_id=agency.id,
            after={"state": "suspended"},
            request=request,
            at=now,
        )
    return suspension


def lift(admin: User, suspension_id: int, *, reason: str, request: RequestInfo) -> Suspension:
    with unit_of_work():
        suspension = db.session.get(Suspension, suspension_id)
        if suspension is None:
            raise NotFound()
        agencies.get(admin, suspension.agency_id)
        now = clock.now()
        why = clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)
        cases.advance(
            SUSPENSION, suspension, "lift", admin, {}, at=now, request=request, reason=why
        )
        suspension.lifted_at, suspension.lifted_by_id, suspension.lift_reason = now, admin.id, why
        people = [suspension.user] if suspension.user else list(suspension.agency.people)
        for person in people:
            # Held certificates are released unless another suspension still covers them.
            if standing.active_for_user(person) is None:
                revocation.release_user(person, now, admin)
    return suspension


def awaiting(user: User) -> list[Awaiting]:
    """Suspensions in force wait on the lead agency's admins to end the investigation and
    lift them (the machine says who may lift)."""
    states = waits.states_for(SUSPENSION, user.role)
    if not states:
        return []
    query = (
        select(Suspension)
        .where(Suspension.state.in_(states))
        .options(joinedload(Suspension.user), joinedload(Suspension.agency))
        .order_by(Suspension.id)
    )
    items = []
    for suspension in db.session.scalars(query):
        steps = waits.awaited_steps(SUSPENSION, cases.options(SUSPENSION, suspension, user, {}))
        if not steps:
            continue
        whom = suspension.user.name if suspension.user else "the whole agency"
        label = SUSPENSION.event(steps[0].event).label
        items.append(
            Awaiting(
                case=suspension,
                title=f"{label}: {whom} ({suspension.agency.legal_name})",
                url=f"/agencies/{suspension.agency_id}",
                since=suspension.started_at,
                detail=f"Suspended pending investigation: {suspension.reason}",
            )
        )
    return items


PROCESS = Process(machine=SUSPENSION, model=Suspension, awaiting=awaiting)
