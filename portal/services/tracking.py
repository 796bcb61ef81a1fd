"""SSF's tracking view (issue 9, item 4): every agency with its agreement state, open
defaults with their cure deadlines, pending terminations with their effective dates,
hand-overs, access requests awaiting issuance and late separations — overdue items first.

Each kind of row is a `Source`: a SELECT giving the same columns. The page is their UNION
ALL, ordered by (group, when, kind, key) and paged by that key (keyset, no OFFSET, no
count). A new kind of row is one more entry in `SOURCES`. Agencies see their own rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from portal import clock
from portal.extensions import db
from portal.models import (
    AccessRequest,
    Agency,
    Agreement,
    Deadline,
    DefaultNotice,
    Reallocation,
    Separation,
    TerminationNotice,
    User,
)
from portal.models.agreements import PENDING_STATES
from portal.processes import registry
from portal.services.access import is_lead_staff, require_agency_visible
from portal.services.case_pages import case_url
from portal.services.deadlines import REMINDER
from portal.services.errors import NotFound, ServiceError

PAGE_SIZE = 50
OVERDUE, DUE, UNDATED = 0, 1, 2


@dataclass(frozen=True)
class Source:
    """One kind of row. `query(now)` selects: key, agency_id, process, case_id, state, at,
    grp — `at` is the deadline (or, for an undated row, when it began) and `grp` is
    OVERDUE, DUE or UNDATED."""

    kind: str
    title: str
    query: Callable[[datetime], Select]
    process: str = ""  # a process that must be registered for these rows to be read


def _grp(due, now: datetime):
    return case((due < now, OVERDUE), (due.is_not(None), DUE), else_=UNDATED)


def _agencies(now: datetime) -> Select:
    """Each partner agency with its open agreement (or none): the one in effect, else the
    one on its way. During a re-signing campaign an agency has both; it is listed once, by
    the agreement that binds it (the campaign's page follows the new one)."""
    agreement = aliased(Agreement)
    effective = aliased(Agreement)
    has_effective = (
        select(effective.id)
        .where(effective.agency_id == Agency.id, effective.state == "effective")
        .exists()
    )
    binding = or_(
        agreement.state == "effective",
        and_(agreement.state.in_(PENDING_STATES), ~has_effective),
    )
    return (
        select(
            Agency.id.label("key"),
            Agency.id.label("agency_id"),
            literal("agreement").label("process"),
            agreement.id.label("case_id"),
            agreement.state.label("state"),
            Agency.created_at.label("at"),
            literal(UNDATED).label("grp"),
        )
        .outerjoin(agreement, and_(agreement.agency_id == Agency.id, binding))
        .where(Agency.is_lead.is_(False))
    )


def _with_deadline(process: str, model, since: str) -> Callable:
    """Open cases (not in a final state) of `process`, each with its pending deadline (not a
    reminder), if it has one; else when it began (the column `since`)."""

    def query(now: datetime) -> Select:
        machine = registry().get(process).machine
        open_states = [state.name for state in machine.states if not state.terminal]
        due = (
            select(func.min(Deadline.due_at))
            .where(
                Deadline.case_type == process,
                Deadline.case_id == model.id,
                Deadline.fired_at.is_(None),
                Deadline.cancelled_at.is_(None),
                Deadline.event != REMINDER,
            )
            .scalar_subquery()
        )
        return select(
            model.id.label("key"),
            model.agency_id.label("agency_id"),
            literal(process).label("process"),
            model.id.label("case_id"),
            model.state.label("state"),
            func.coalesce(due, getattr(model, since)).label("at"),
            _grp(due, now).label("grp"),
        ).where(model.state.in_(open_states))

    return query


def _terminations(now: datetime) -> Select:
    t = TerminationNotice
    return select(
        t.id.label("key"),
        t.agency_id.label("agency_id"),
        literal("termination_notice").label("process"),
        t.id.label("case_id"),
        t.state.label("state"),
        t.effective_at.label("at"),
        _grp(t.effective_at, now).label("grp"),
    ).where(t.state == "notice_period")


def _access_requests(now: datetime) -> Select:
    r = AccessRequest
    return select(
        r.id.label("key"),
        r.agency_id.label("agency_id"),
        literal("access_request").label("process"),
        r.id.label("case_id"),
        r.state.label("state"),
        r.requested_at.label("at"),
        literal(UNDATED).label("grp"),
    ).where(r.state == "in_progress")


def _late_separations(now: datetime) -> Select:
    """Separations reported late; overdue while the HMIS account is still to deactivate."""
    s = Separation
    return select(
        s.id.label("key"),
        s.agency_id.label("agency_id"),
        literal("separation").label("process"),
        s.id.label("case_id"),
        s.state.label("state"),
        case((s.state == "reported", s.due_at), else_=s.reported_at).label("at"),
        case((s.state == "reported", OVERDUE), else_=UNDATED).label("grp"),
    ).where(s.on_time.is_(False))


SOURCES: list[Source] = [
    Source("agency", "Agency and agreement", _agencies),
    Source(
        "default",
        "Open default",
        _with_deadline("default_notice", DefaultNotice, "given_at"),
    ),
    Source("termination", "Pending termination", _terminations),
    Source("access_request", "Access awaiting issuance", _access_requests),
    Source("separation", "Late separation", _late_separations),
    Source(
        "handover",
        "Hand-over",
        _with_deadline("reallocation", Reallocation, "opened_at"),
        process="reallocation",
    ),
]

KINDS = {s.kind: s.title for s in SOURCES}


@dataclass(frozen=True)
class Filters:
    agency_id: int | None = None
    kind: str = ""
    overdue_only: bool = False


@dataclass(frozen=True)
class Row:
    kind: str
    kind_title: str
    key: int
    agency_id: int
    agency_name: str
    case_title: str
    state_label: str
    at: datetime
    dated: bool
    overdue: bool
    url: str

    @property
    def cursor(self) -> str:
        grp = OVERDUE if self.overdue else (DUE if self.dated else UNDATED)
        return f"{grp}.{self.at.strftime('%Y%m%dT%H%M%S%f')}.{self.kind}.{self.key}"


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_cursor: str | None
    filters: Filters


def parse_cursor(raw: str) -> tuple[int, datetime, str, int] | None:
    """The row after which a page starts, or None for the first page."""
    if not raw:
        return None
    try:
        grp, stamp, kind, key = raw.split(".")
        at = datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        return int(grp), at, kind, int(key)
    except ValueError:
        raise ServiceError(
            "That page address is not valid; start again from the first page."
        ) from None


def filters_for(user: User, agency: str, kind: str, overdue: str) -> Filters:
    """The filters from a query string, checked: an agency's people see their own agency
    only (another agency's id is 404); an unknown kind is refused in words."""
    agency_id = int(agency) if agency.isdigit() and int(agency) < 2**31 else None
    if agency and agency_id is None:
        raise ServiceError("Choose an agency from the list.")
    if agency_id is not None:
        require_agency_visible(user, agency_id)
    if not is_lead_staff(user):
        agency_id = user.agency_id
    if kind and kind not in KINDS:
        raise ServiceError("Choose a kind of item from the list.")
    return Filters(agency_id, kind, overdue in ("1", "on", "y", "true"))


def page(user: User, filters: Filters, after: str = "", size: int = PAGE_SIZE) -> Page:
    """One page of rows; queries: one for the rows (agency names joined)."""
    if not user.is_authenticated or not user.active:
        raise NotFound()
    if not is_lead_staff(user) and filters.agency_id != user.agency_id:
        raise NotFound()
    cursor = parse_cursor(after)
    now = clock.now()
    registered = {p.name for p in registry()}
    sources = [
        s
        for s in SOURCES
        if (not filters.kind or s.kind == filters.kind)
        and (not s.process or s.process in registered)
    ]
    if not sources:
        return Page([], None, filters)
    parts = [s.query(now).add_columns(literal(s.kind).label("kind")) for s in sources]
    union = parts[0].union_all(*parts[1:]).subquery() if len(parts) > 1 else parts[0].subquery()
    u = union.c
    query = select(union, Agency.legal_name).join(Agency, Agency.id == u.agency_id)
    if filters.agency_id is not None:
        query = query.where(u.agency_id == filters.agency_id)
    if filters.overdue_only:
        query = query.where(u.grp == OVERDUE)
    if cursor is not None:
        g, at, kind, key = cursor
        query = query.where(
            or_(
                u.grp > g,
                and_(
                    u.grp == g,
                    or_(
                        u.at > at,
                        and_(u.at == at, or_(u.kind > kind, and_(u.kind == kind, u.key > key))),
                    ),
                ),
            )
        )
    query = query.order_by(u.grp, u.at, u.kind, u.key).limit(size + 1)
    found = [_row(r) for r in db.session.execute(query)]
    more = len(found) > size
    rows = found[:size]
    return Page(rows, rows[-1].cursor if more else None, filters)


def every_row(user: User, filters: Filters) -> Iterator[Row]:
    """All rows in page order, a page at a time (for the CSV export)."""
    after = ""
    while True:
        current = page(user, filters, after, size=500)
        yield from current.rows
        if current.next_cursor is None:
            return
        after = current.next_cursor


def _row(r) -> Row:
    machine = registry().get(r.process).machine
    if r.state is None:
        state_label, title = "No agreement in force", "—"
    else:
        state_label, title = machine.state(r.state).label, f"{machine.label} {r.case_id}"
    at = r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)
    url = case_url(r.process, r.case_id) if r.case_id else case_url("agency", r.agency_id)
    return Row(
        kind=r.kind,
        kind_title=KINDS.get(r.kind, r.kind),
        key=r.key,
        agency_id=r.agency_id,
        agency_name=r.legal_name,
        case_title=title,
        state_label=state_label,
        at=at,
        dated=r.grp != UNDATED,
        overdue=r.grp == OVERDUE,
        url=url,
    )


def agency_choices(user: User) -> list[tuple[int, str]]:
    """The agencies the filter offers: every partner agency to SSF staff, none to an agency
    (its view is its own)."""
    if not is_lead_staff(user):
        return []
    query = select(Agency.id, Agency.legal_name).where(Agency.is_lead.is_(False))
    return [(r.id, r.legal_name) for r in db.session.execute(query.order_by(Agency.legal_name))]
