"""Writing and reading the audit log (IV.B.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, User
from portal.services.access import RequestInfo, require_role
from portal.services.validation import fit


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
    when one is given."""
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
    (session or db.session).add(event)
    return event


@dataclass
class AuditPage:
    events: list[AuditEvent]
    page: int
    pages: int
    total: int


def search(
    viewer: User,
    *,
    action: str = "",
    agency_id: int | None = None,
    actor_email: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """The audit log for SSF staff and auditors, newest first, filtered and paged."""
    require_role(viewer, "ssf_admin", "ssf_signatory", "auditor")
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    if agency_id:
        query = query.where(AuditEvent.agency_id == agency_id)
    if actor_email:
        query = query.join(User, AuditEvent.actor_id == User.id).where(
            User.email == actor_email.strip().lower()
        )
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    result = db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)
    return AuditPage(list(result.items), result.page, result.pages or 1, result.total or 0)


def actions() -> list[str]:
    return list(
        db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    )
