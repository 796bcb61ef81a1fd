"""Moving a case through its machine: the one place a state changes.

Each step asks the machine (which may refuse with a reason), then records the transition
with who, when, from where and why, and an audit event — all in the caller's transaction.
What a step means for the case's deadlines and for its open child cases comes from the
process registry, so no process's service is imported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Transition, User
from portal.processes import Process, registry
from portal.services import audit, deadlines, signature_requests
from portal.services.access import SYSTEM, RequestInfo, actor_for
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
) -> Transition:
    """Fires `event`; `user` None means the portal itself (the scheduler).

    The case's deadlines follow the step: leaving a state cancels its timers, entering one
    starts them, counted from the moment its process declares (an end the case already has,
    e.g. when a rejected cure re-enters the cure period, is kept). A step into a final state
    closes the case's open children (an open notice when its agreement ends).
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
        agency_id=getattr(case, "agency_id", None),  # None: a campaign spans agencies
        before={"state": before},
        after={"state": step.target},
        request=request,
        at=at,
    )
    db.session.flush()
    process = registry().get(machine.name)
    anchor = process.period_start(case)
    if anchor is not None:
        kept = process.period_end(case)
        ends = deadlines.Computed(*kept) if kept else None
        deadlines.after_transition(machine, case, step.source, step.target, anchor, ends=ends)
    if machine.state(step.target).terminal:
        # A case that ended waits for no signature: every link asking for one stops working.
        signature_requests.end(machine.name, case.id, at=at)
        _close_children(process, case, at=at)
    return transition


def _close_children(parent: Process, case: Any, *, at: datetime) -> None:
    """Fires each child process's closing event on the children of `case` still open."""
    for child in registry().children_of(parent.name):
        open_states = [s.name for s in child.machine.states if not s.terminal]
        query = select(child.model).where(
            getattr(child.model, child.parent_key) == case.id,
            child.model.state.in_(open_states),
        )
        reason = f"{parent.machine.label} {getattr(case, 'reference', case.id)} ended."
        for open_case in db.session.scalars(query.order_by(child.model.id)):
            if hasattr(open_case, "closed_reason"):  # cases that say why they closed
                open_case.closed_reason = reason
            advance(
                child.machine,
                open_case,
                child.on_parent_end,
                None,
                {},
                at=at,
                request=SYSTEM,
                reason=reason,
            )


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
    anchor = registry().get(machine.name).period_start(case)
    if anchor is not None:
        deadlines.start_timers(machine, case, case.state, anchor)


def options(machine: Machine, case: Any, user: User, ctx: dict[str, Any]) -> list[Option]:
    return machine.options(case.state, actor_for(user), ctx)


def history(case_type: str, case_id: int) -> list[Transition]:
    query = (
        select(Transition)
        .where(Transition.case_type == case_type, Transition.case_id == case_id)
        .order_by(Transition.id)
    )
    return list(db.session.scalars(query))


def last_entered(case_type: str, case_ids: Iterable[int]) -> dict[int, datetime]:
    """When each of many cases of one type took its last step (the time of its last
    transition), in one query: case id → that time."""
    ids = set(case_ids)
    if not ids:
        return {}
    last = (
        select(Transition.case_id, func.max(Transition.id).label("last_id"))
        .where(Transition.case_type == case_type, Transition.case_id.in_(ids))
        .group_by(Transition.case_id)
        .subquery()
    )
    query = select(Transition.case_id, Transition.at).join(last, Transition.id == last.c.last_id)
    return {case_id: at for case_id, at in db.session.execute(query)}
