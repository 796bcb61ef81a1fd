"""Moving a case through its machine: the one place a state changes.

Each step asks the machine (which may refuse with a reason), then records the transition
with who, when, from where and why, and an audit event — all in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal.extensions import db
from portal.models import Transition, User
from portal.services import audit, deadlines
from portal.services.access import RequestInfo, actor_for
from portal.services.errors import ServiceError
from workflows.engine import SYSTEM_ACTOR, Machine, Option, TransitionRefused


def advance(
    machine: Machine,
    case: Any,
    event: str,
    user: User | None,
    ctx: dict[str, Any],
    *,
    at: datetime,
    request: RequestInfo,
    reason: str | None = None,
    ends: deadlines.Computed | None = None,
) -> Transition:
    """Fires `event`; `user` None means the portal itself (the scheduler).

    The case's deadlines follow the step: leaving a state cancels its timers, entering one
    starts them, counted from when the case's notice was given (`ends` keeps an end already
    given, e.g. when a rejected cure re-enters the cure period).
    """
    actor = actor_for(user) if user is not None else SYSTEM_ACTOR
    try:
        step = machine.fire(case.state, event, actor, ctx, at=at, reason=reason)
    except TransitionRefused as refused:
        raise ServiceError(str(refused)) from refused
    before = case.state
    case.state = step.target
    transition = Transition(
        case_type=machine.name,
        case_id=case.id,
        event=event,
        source=step.source,
        target=step.target,
        at=at,
        actor_id=user.id if user else None,
        actor_role=user.role if user else "system",
        reason=(reason or "").strip(),
        ip=request.ip[:64],
        user_agent=request.user_agent[:1000],
    )
    db.session.add(transition)
    label = next(e.label for e in machine.events if e.name == event)
    audit.record(
        user,
        f"{machine.name}.{event}",
        case,
        f"{label}: {getattr(case, 'reference', case.id)}"
        + (f" — {reason.strip()}" if reason else ""),
        agency_id=case.agency_id,
        before={"state": before},
        after={"state": step.target},
        request=request,
        at=at,
    )
    db.session.flush()
    anchor = getattr(case, "given_at", None)
    if anchor is not None:
        deadlines.after_transition(machine, case, step.source, step.target, anchor, ends=ends)
    return transition


def record_creation(
    machine: Machine, case: Any, user: User, *, at: datetime, request: RequestInfo
) -> None:
    db.session.add(
        Transition(
            case_type=machine.name,
            case_id=case.id,
            event="create",
            source="",
            target=case.state,
            at=at,
            actor_id=user.id,
            actor_role=user.role,
            ip=request.ip[:64],
            user_agent=request.user_agent[:1000],
        )
    )
    anchor = getattr(case, "given_at", None)
    if anchor is not None:
        deadlines.start_timers(machine, case, case.state, anchor)


def options(machine: Machine, case: Any, user: User, ctx: dict[str, Any]) -> list[Option]:
    return machine.options(case.state, actor_for(user), ctx)


def history(case_type: str, case_id: int) -> list[Transition]:
    from sqlalchemy import select

    query = (
        select(Transition)
        .where(Transition.case_type == case_type, Transition.case_id == case_id)
        .order_by(Transition.id)
    )
    return list(db.session.scalars(query))
