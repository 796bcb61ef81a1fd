"""Requests for HMIS access (workflows/access_request.py), from the agency's request to the
lead agency issuing the account once the four gates of IV.B.4 hold (`gates`).

Requesting opens the new user's onboarding (`onboarding`) and prepares their HMIS User
Agreement (`user_agreements`) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.extensions import db
from portal.models import AccessRequest, Agency, Onboarding, User
from portal.notify import outbox
from portal.processes import Awaiting, Process
from portal.services import (
    agencies,
    agreements,
    audit,
    cases,
    gates,
    keyset,
    links,
    onboarding,
    security_officers,
    standing,
    user_agreements,
    webhooks,
)
from portal.services.access import RequestInfo, is_lead_staff, require_agency_visible, require_role
from portal.services.errors import Forbidden, NotFound, ServiceError
from portal.services.hmis_roles import HMIS_ROLES  # re-exported: pages read it from here
from portal.services.lead import lead_agency_name
from portal.services.next_steps import NextSteps, for_case, state_of
from portal.services.timefmt import local_date, long_date
from portal.services.unit import unit_of_work
from portal.services.validation import clean_email, clean_text, max_length
from workflows.access_request import ACCESS_REQUEST

COLUMNS = AccessRequest.__table__.c


@dataclass(frozen=True)
class NewStaff:
    """The staff member the agency asks HMIS access for."""

    name: str
    email: str
    job_title: str
    hmis_role: str
    programs: str


def get(viewer: User, request_id: int) -> AccessRequest:
    row = db.session.get(AccessRequest, request_id)
    if row is None:
        raise NotFound()
    require_agency_visible(viewer, row.agency_id)
    if not is_lead_staff(viewer) and not _agency_manager(viewer) and viewer.id != row.user_id:
        raise NotFound()  # an agency's HMIS users see their own request only
    return row


def _agency_manager(user: User) -> bool:
    return user.role == "agency_ed" or security_officers.is_officer(user)


def list_for(
    viewer: User,
    *,
    state: str = "",
    agency_id: int | None = None,
    after: int | None = None,
    before: int | None = None,
    per_page: int = 25,
) -> keyset.Page:
    """One page of the HMIS access requests `viewer` may see, newest first."""
    query = select(AccessRequest).options(joinedload(AccessRequest.agency))
    if not is_lead_staff(viewer):
        if not _agency_manager(viewer):
            raise Forbidden(
                "Only the agency's executive director or security officer sees its requests."
            )
        query = query.where(AccessRequest.agency_id == viewer.agency_id)
    elif agency_id is not None:
        query = query.where(AccessRequest.agency_id == agency_id)
    if state:
        ACCESS_REQUEST.state(state)
        query = query.where(AccessRequest.state == state)
    return keyset.paged(query, AccessRequest, after=after, before=before, per_page=per_page)


def refusal_to_request(user: User, agency: Agency) -> str | None:
    """Why `user` may not request HMIS access for `agency`'s staff now, or None."""
    if user.agency_id != agency.id or not _agency_manager(user):
        return "Only the agency's executive director or security officer can request HMIS access."
    if agreements.in_effect(agency) is None:
        return f"{agency.legal_name} has no agreement in effect, so it cannot request HMIS access."
    if standing.active_for_agency(agency.id) is not None:
        return f"{agency.legal_name}'s access is suspended, so it cannot request HMIS access."
    return None


def request_access(
    requester: User, agency_id: int, staff: NewStaff, *, request: RequestInfo
) -> AccessRequest:
    """Opens a request, the new user's account and onboarding, and their user agreement.

    Sending the same request again (a replayed form) returns the request already open.
    """
    with unit_of_work("This person already has an HMIS access request."):
        agency = agencies.get(requester, agency_id)
        refusal = refusal_to_request(requester, agency)
        if refusal:
            raise Forbidden(refusal)
        email = clean_email(staff.email, "E-mail")
        name = clean_text(staff.name, "Name", max_len=max_length(COLUMNS.name))
        job_title = clean_text(staff.job_title, "Job title", max_len=max_length(COLUMNS.job_title))
        if staff.hmis_role not in HMIS_ROLES:
            raise ServiceError("Choose the HMIS role the person needs.")
        programs = clean_text(staff.programs, "Programs", max_len=2000, multiline=True)
        person = db.session.scalar(select(User).where(User.email == email))
        if person is not None:
            if person.agency_id != agency.id:
                raise ServiceError(f"{email} belongs to a person of another agency.")
            if not person.active:
                raise ServiceError(f"{person.name}'s portal account is not active.")
            existing = _open_or_issued(person)
            if existing is not None and existing.state == "in_progress":
                if existing.requested_by_id == requester.id and existing.email == email:
                    return existing  # the same form again: nothing new
                raise ServiceError(
                    f"{person.name} already has request {existing.reference} in progress."
                )
            if existing is not None:
                raise ServiceError(
                    f"{person.name} already has HMIS access ({existing.reference}, issued "
                    f"{long_date(existing.issued_on)})."
                )
        else:
            person = User(
                agency=agency,
                email=email,
                name=name,
                title=job_title,
                role="agency_user",
                active=True,
                created_at=clock.now(),
            )
            db.session.add(person)
            db.session.flush()
        now = clock.now()
        row = AccessRequest(
            reference=_next_reference(agency),
            agency_id=agency.id,
            agreement_id=agreements.in_effect(agency).id,
            state=ACCESS_REQUEST.initial,
            user_id=person.id,
            name=name,
            email=email,
            job_title=job_title,
            hmis_role=staff.hmis_role,
            programs=programs,
            requested_at=now,
            requested_by_id=requester.id,
        )
        db.session.add(row)
        db.session.flush()
        cases.record_creation(ACCESS_REQUEST, row, requester, at=now, request=request)
        audit.record(
            requester,
            "access_request.create",
            row,
            f"Requested HMIS access for {name} ({HMIS_ROLES[staff.hmis_role]}): {row.reference}",
            agency_id=agency.id,
            after={"state": row.state, "email": email, "hmis_role": staff.hmis_role},
            request=request,
            at=now,
        )
        started = onboarding.start(row, requester, request=request)
        user_agreements.prepare(started, at=now)
    return row


def _open_or_issued(person: User) -> AccessRequest | None:
    query = select(AccessRequest).where(
        AccessRequest.user_id == person.id, AccessRequest.state.in_(("in_progress", "issued"))
    )
    return db.session.scalars(query.order_by(AccessRequest.id.desc())).first()


def _next_reference(agency: Agency) -> str:
    """HAR-<agency number>-<its nth request>; a race ends in a unique-key conflict."""
    count = db.session.scalar(
        select(func.count()).select_from(AccessRequest).where(AccessRequest.agency_id == agency.id)
    )
    return f"HAR-{agency.id:04d}-{count + 1:03d}"


def context(row: AccessRequest) -> dict[str, object]:
    return {"gates_met": gates.all_met(gates.for_request(row))}


def next_steps(row: AccessRequest, user: User) -> NextSteps:
    return for_case(ACCESS_REQUEST, row, user, context(row))


def refusal_to_issue(row: AccessRequest) -> str | None:
    """What stands in the way of issuing the account, naming each unmet gate, or None."""
    if state_of(row).terminal:
        return f"This request is {state_of(row).label.lower()}."
    return gates.missing(gates.for_request(row))


def issue(
    admin: User,
    request_id: int,
    *,
    hmis_user_id: str,
    issued_on: date,
    request: RequestInfo,
    expected_version: int | None = None,
) -> AccessRequest:
    """Issues the HMIS account when all four gates hold, recording its HMIS user id."""
    require_role(admin, "ssf_admin", message="Only a lead agency HMIS admin can issue accounts.")
    with unit_of_work():
        row = get(admin, request_id)
        if expected_version is not None and row.lock_version != expected_version:
            raise ServiceError("This request changed since you opened it. Reload and try again.")
        refusal = refusal_to_issue(row)
        if refusal:
            raise ServiceError(refusal)
        hmis_id = clean_text(hmis_user_id, "HMIS user id", max_len=max_length(COLUMNS.hmis_user_id))
        today = local_date(clock.now())
        if issued_on > today:
            raise ServiceError("The issue date cannot be in the future.")
        if issued_on < local_date(row.requested_at):
            raise ServiceError("The issue date cannot be before the request was made.")
        now = clock.now()
        cases.advance(ACCESS_REQUEST, row, "issue", admin, context(row), at=now, request=request)
        row.hmis_user_id, row.issued_on, row.issued_at, row.issued_by_id = (
            hmis_id,
            issued_on,
            now,
            admin.id,
        )
        people = {row.user, *_managers(row.agency)}
        for person in people:
            outbox.queue(
                person.email,
                f"HMIS account issued: {row.name} ({row.reference})",
                f"{lead_agency_name()} issued the HMIS account of {row.name} on "
                f"{long_date(issued_on)}. HMIS user id: {hmis_id}.\n\n"
                f"{links.page(f'/access-requests/{row.id}')}\n",
            )
        webhooks.emit(
            "account.issued",
            {
                "access_request_id": row.id,
                "reference": row.reference,
                "agency_id": row.agency_id,
                "user_id": row.user_id,
                "issued_on": issued_on.isoformat(),
            },
        )
    return row


def withdraw(user: User, request_id: int, *, reason: str, request: RequestInfo) -> AccessRequest:
    with unit_of_work():
        row = get(user, request_id)
        why = clean_text(reason, "Reason", max_len=2000, multiline=True)
        row.closed_reason = why
        cases.advance(
            ACCESS_REQUEST,
            row,
            "withdraw",
            user,
            context(row),
            at=clock.now(),
            request=request,
            reason=why,
        )
    return row


def _managers(agency: Agency) -> list[User]:
    officer = security_officers.current(agency)
    people = [p for p in agency.people if p.active and p.role == "agency_ed"]
    return people + ([officer.user] if officer and officer.user not in people else [])


# -- what awaits a person ---------------------------------------------------------------


def awaiting(user: User) -> list[Awaiting]:
    """For the lead agency's admins: accounts ready to issue. For the agency's ED and
    security officer: every request in progress, with what it still lacks."""
    if user.role == "ssf_admin":
        # Only a request whose signed user agreement the agency approved can be ready (gate
        # c, gates._user_agreement): the database leaves out the others, so the gates are
        # checked for the few near issuing, not for every request in the state.
        query = (
            select(AccessRequest)
            .join(Onboarding, Onboarding.access_request_id == AccessRequest.id)
            .where(
                AccessRequest.state == "in_progress",
                Onboarding.document_id.is_not(None),
                Onboarding.user_signed_at.is_not(None),
                Onboarding.approved_at.is_not(None),
            )
        )
    elif not user.is_lead and _agency_manager(user):
        query = select(AccessRequest).where(
            AccessRequest.state == "in_progress", AccessRequest.agency_id == user.agency_id
        )
    else:
        return []
    query = query.options(
        joinedload(AccessRequest.agency), joinedload(AccessRequest.onboarding)
    ).order_by(AccessRequest.id)
    items = []
    for row in db.session.scalars(query):
        checked = gates.for_request(row)
        ready = gates.all_met(checked)
        if user.is_lead and not ready:
            continue
        lacks = "; ".join(f"({g.letter}) {g.why}" for g in checked if not g.met)
        items.append(
            Awaiting(
                case=row,
                title=(
                    f"Issue the HMIS account of {row.name}"
                    if user.is_lead
                    else f"HMIS access for {row.name}: {row.reference}"
                ),
                url=f"/access-requests/{row.id}",
                since=_waiting_since(row) if user.is_lead else row.requested_at,
                detail=f"Lacks: {lacks}" if lacks else "Ready for the lead agency to issue.",
            )
        )
    return items


def _waiting_since(row: AccessRequest) -> datetime:
    """When a request became ready to issue, as near as the records tell: its last step
    (the approval or the completed training), not the day it was made."""
    ob = row.onboarding
    steps = [
        row.requested_at,
        ob.approved_at if ob else None,
        ob.training_completed_at if ob else None,
    ]
    return max(moment for moment in steps if moment is not None)


PROCESS = Process(
    machine=ACCESS_REQUEST,
    model=AccessRequest,
    documents=("participation_certificate",),
    parent="agreement",
    parent_key="agreement_id",
    on_parent_end="agreement_ended",
    awaiting=awaiting,
)
