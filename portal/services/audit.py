"""Writing and reading the audit log (IV.B.3)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, User
from portal.services import audit_chain, keyset
from portal.services.access import RequestInfo, require_role
from portal.services.audit_display import Entry, describe
from portal.services.timefmt import lead_tz, short_date
from portal.services.validation import fit

READERS = ("ssf_admin", "ssf_signatory", "auditor")


def record(
    actor: User | None,
    action: str,
    obj: Any,
    summary: str,
    *,
    agency_id: int | None,
    before: dict | None = None,
    after: dict | None = None,
    request: RequestInfo | None = None,
    at: datetime | None = None,
    session: Session | None = None,
) -> AuditEvent:
    """Adds an audit row to the current transaction (the caller commits); to `session`'s
    when one is given. The row joins the hash chain when that transaction commits."""
    request = request or RequestInfo()
    event = AuditEvent(
        at=at or clock.now(),
        actor_id=actor.id if actor else None,
        actor_label=fit(
            f"{actor.name} <{actor.email}> ({actor.role_label})" if actor else "Portal",
            AuditEvent.__table__.c.actor_label,
        ),
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=getattr(obj, "id", None),
        agency_id=agency_id,
        summary=summary,
        before=before,
        after=after,
        ip=request.ip[:64],
        user_agent=request.user_agent[:1000],
    )
    audit_chain.add(event, session or db.session())
    return event


@dataclass(frozen=True)
class Filters:
    """What a reader narrowed the log to; `problems` says which inputs were not understood."""

    action: str = ""
    agency_id: int | None = None
    person: str = ""
    since: date | None = None
    until: date | None = None
    problems: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        problems: list[str] = []

        def day(name: str, label: str) -> date | None:
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw[:10])
            except ValueError:
                problems.append(f"The {label} date “{raw[:40]}” is not a date (YYYY-MM-DD).")
                return None

        agency = (args.get("agency") or "").strip()
        return cls(
            action=(args.get("action") or "").strip()[:60],
            agency_id=int(agency) if agency.isdigit() and int(agency) < 2**31 else None,
            person=(args.get("actor") or "").strip()[:254],
            since=day("since", "start"),
            until=day("until", "end"),
            problems=tuple(problems),
        )

    @property
    def reversed(self) -> bool:
        return self.since is not None and self.until is not None and self.since > self.until

    def as_args(self) -> dict[str, str]:
        return {
            "action": self.action,
            "agency": str(self.agency_id or ""),
            "actor": self.person,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=lead_tz())


def _query(filters: Filters) -> Select:
    query = select(AuditEvent)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.agency_id:
        query = query.where(AuditEvent.agency_id == filters.agency_id)
    if filters.person:
        words = filters.person.lower()
        people = select(User.id).where(
            or_(func.lower(User.name).contains(words), func.lower(User.email).contains(words))
        )
        query = query.where(AuditEvent.actor_id.in_(people))
    if filters.since:
        query = query.where(AuditEvent.at >= _start_of(filters.since))
    if filters.until:
        query = query.where(AuditEvent.at < _start_of(filters.until + timedelta(days=1)))
    return query


def _explain_empty(filters: Filters) -> str:
    """Why a page has no entries, in words."""
    if filters.reversed:
        assert filters.since and filters.until
        return (
            f"The start date ({short_date(filters.since)}) is after the end date "
            f"({short_date(filters.until)}): no entry can fall in that range. "
            "Swap the dates to see the entries between them."
        )
    if filters.since and filters.until:
        return (
            f"No entries between {short_date(filters.since)} and {short_date(filters.until)} match."
        )
    if filters.since:
        return f"No entries since {short_date(filters.since)} match."
    if filters.until:
        return f"No entries up to {short_date(filters.until)} match."
    return "No entries match."


@dataclass
class AuditPage:
    entries: list[Entry]
    page: keyset.Page
    empty_message: str = ""
    problems: list[str] = field(default_factory=list)


def search(
    viewer: User,
    filters: Filters,
    *,
    after: int | None = None,
    before: int | None = None,
    per_page: int = 50,
) -> AuditPage:
    """The audit log for SSF staff and auditors, newest first, filtered, a keyset page at
    a time (no OFFSET, no count)."""
    require_role(viewer, *READERS)
    if filters.reversed:
        page = keyset.Page()
    else:
        page = keyset.paged(
            _query(filters), AuditEvent, after=after, before=before, per_page=per_page
        )
    entries = describe(page.items)
    empty = "" if entries else _explain_empty(filters)
    return AuditPage(entries, page, empty, list(filters.problems))


def export(viewer: User, filters: Filters, *, batch: int = 500) -> Iterator[Entry]:
    """Every entry the filters select, newest first, for the CSV export. The role is
    checked now; the entries are read a batch at a time as they are consumed."""
    require_role(viewer, *READERS)
    if filters.reversed:
        return iter(())
    return _export(filters, batch)


def _export(filters: Filters, batch: int) -> Iterator[Entry]:
    last: int | None = None
    while True:
        query = _query(filters).order_by(AuditEvent.id.desc()).limit(batch)
        if last is not None:
            query = query.where(AuditEvent.id < last)
        events = list(db.session.scalars(query))
        if not events:
            return
        yield from describe(events)
        last = events[-1].id
        for event in events:
            db.session.expunge(event)
