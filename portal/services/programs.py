"""Programs of partner agencies (VIII.B.5): the lead agency's HMIS admins add and edit them;
an agency's people see their own. A program whose grant was terminated or reallocated is
read-only: it stays on the agency's page with its history, and nothing new is entered for
it (it is no longer offered for new HMIS access requests)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Agency, Program, User
from portal.services import agencies, audit
from portal.services.access import RequestInfo, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text

EDITOR = "Only a lead agency HMIS admin adds or changes programs."


def for_agency(viewer: User, agency_id: int) -> list[Program]:
    """The agency's programs, active first, then by name; another agency's: NotFound."""
    agencies.get(viewer, agency_id)
    query = select(Program).where(Program.agency_id == agency_id)
    rows = list(db.session.scalars(query))
    return sorted(rows, key=lambda p: (p.read_only, p.name.casefold(), p.id))


def active_names(agency: Agency) -> list[str]:
    """The names of the agency's active programs: the ones new records may name."""
    query = select(Program.name).where(Program.agency_id == agency.id, Program.state == "active")
    return sorted(db.session.scalars(query), key=str.casefold)


def get(viewer: User, program_id: int) -> Program:
    row = db.session.get(Program, program_id)
    if row is None:
        raise NotFound()
    agencies.get(viewer, row.agency_id)  # another agency's id: NotFound
    return row


def _fields(name: str, funding_source: str, hud_grant_number: str, start_date: date | None):
    if not isinstance(start_date, date):
        raise ServiceError("Give the program's start date.")
    return {
        "name": clean_text(name, "Program name", max_len=200),
        "funding_source": clean_text(funding_source, "Funding source", max_len=200),
        "hud_grant_number": clean_text(
            hud_grant_number, "HUD grant number", max_len=60, required=False
        ),
        "start_date": start_date,
    }


def _snapshot(row: Program) -> dict:
    return {
        "name": row.name,
        "funding_source": row.funding_source,
        "hud_grant_number": row.hud_grant_number,
        "start_date": row.start_date.isoformat(),
        "state": row.state,
    }


def add(
    admin: User,
    agency_id: int,
    *,
    name: str,
    funding_source: str,
    hud_grant_number: str = "",
    start_date: date | None,
    request: RequestInfo,
) -> Program:
    require_role(admin, "ssf_admin", message=EDITOR)
    with unit_of_work():
        agency = agencies.get(admin, agency_id)
        if agency.is_lead:
            raise ServiceError("Programs belong to partner agencies, not the lead agency.")
        if agency.closed_at is not None:
            raise ServiceError(f"{agency.legal_name} ceased to operate; it takes no programs.")
        now = clock.now()
        row = Program(
            agency_id=agency.id,
            state="active",
            created_at=now,
            created_by_id=admin.id,
            ended_reason="",
            **_fields(name, funding_source, hud_grant_number, start_date),
        )
        db.session.add(row)
        db.session.flush()
        audit.record(
            admin,
            "program.add",
            row,
            f"Added the program {row.name} to {agency.legal_name}",
            agency_id=agency.id,
            after=_snapshot(row),
            request=request,
            at=now,
        )
    return row


def edit(
    admin: User,
    program_id: int,
    *,
    name: str,
    funding_source: str,
    hud_grant_number: str = "",
    start_date: date | None,
    request: RequestInfo,
) -> Program:
    require_role(admin, "ssf_admin", message=EDITOR)
    with unit_of_work():
        row = get(admin, program_id)
        before = _snapshot(row)
        for key, value in _fields(name, funding_source, hud_grant_number, start_date).items():
            setattr(row, key, value)
        audit.record(
            admin,
            "program.edit",
            row,
            f"Changed the program {row.name} of {row.agency.legal_name}",
            agency_id=row.agency_id,
            before=before,
            after=_snapshot(row),
            request=request,
        )
    return row


def terminate_grant(admin: User, program_id: int, *, reason: str, request: RequestInfo) -> Program:
    """The program's HUD grant was terminated: the program becomes read-only (VIII.B.5)."""
    require_role(admin, "ssf_admin", message=EDITOR)
    with unit_of_work():
        row = get(admin, program_id)
        refuse_unless_active(row)
        why = clean_text(reason, "Reason", max_len=2000, multiline=True)
        end(row, "grant_terminated", why)
        audit.record(
            admin,
            "program.grant_terminated",
            row,
            f"Grant terminated for the program {row.name} of {row.agency.legal_name}: {why}",
            agency_id=row.agency_id,
            before={"state": "active"},
            after={"state": row.state},
            request=request,
        )
    return row


def refuse_unless_active(row: Program) -> None:
    """Nothing new is entered for a read-only program (VIII.B.5)."""
    if row.read_only:
        raise ServiceError(
            f"The program {row.name} is read-only ({row.state_label.split(' —')[0].lower()}); "
            "nothing new can be entered for it."
        )


def end(row: Program, state: str, reason: str) -> None:
    """Makes the program read-only, in the caller's transaction."""
    row.state, row.ended_at, row.ended_reason = state, clock.now(), reason
