"""Durable deadlines: computed by the calendar rules, kept as rows, fired exactly once.

A machine declares its timers ("on entering cure_period, fire cure_lapsed by rule
cure_period"); this module turns them into Deadline rows when a case enters the state,
cancels them when it leaves, and the sweep fires each due row exactly once — under
`FOR UPDATE SKIP LOCKED` on PostgreSQL, and a conditional claim that SQLite's single
writer serialises.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, select, update
from sqlalchemy.exc import OperationalError

from portal import clock
from portal.extensions import db
from portal.models.deadlines import Deadline, Holiday
from portal.processes import registry
from portal.services import unit
from portal.services.timefmt import lead_tz
from workflows.calendar import BusinessCalendar, DeadlineRule, deadline, describe
from workflows.engine import Machine

log = logging.getLogger("portal.deadlines")

REMINDER = "remind"  # a deadline row whose event is this sends a reminder, not a transition


def rule(name: str) -> DeadlineRule:
    """A deadline rule as its process declares it, with its values from settings."""
    declared = registry().rule(name)
    cfg = current_app.config
    return DeadlineRule(
        cfg[f"{declared.setting}_DAYS"],
        cfg[f"{declared.setting}_BUSINESS_DAYS"],
        cfg[f"{declared.setting}_ROLL"],
        name=declared.title,
        counted_from=declared.counted_from,
    )


def business_calendar() -> BusinessCalendar:
    return BusinessCalendar(db.session.scalars(select(Holiday.day)))


@dataclass(frozen=True)
class Computed:
    due_at: datetime
    text: str


def compute(given_at: datetime, period: DeadlineRule) -> Computed:
    """When a period that starts with notice given at `given_at` ends, and the rule in words."""
    tz = lead_tz()
    due = deadline(given_at, period, business_calendar(), tz)
    return Computed(due, describe(period, due, tz))


def compute_from_date(given_on: date, period: DeadlineRule) -> Computed:
    tz = lead_tz()
    noon = datetime(given_on.year, given_on.month, given_on.day, 12, tzinfo=tz)
    return compute(noon, period)


def start_timers(
    machine: Machine, case: Any, state: str, anchor: datetime, *, ends: Computed | None = None
) -> list[Deadline]:
    """Adds rows for the timers of `state`; the period runs from `anchor` (notice given).

    `ends` fixes the end instead of computing it again: a case that re-enters a state keeps
    the end it was given (a rejected cure does not extend the cure period).
    """
    rows = []
    now = clock.now()
    tz = lead_tz()
    for timer in machine.timers_for(state):
        declared = registry().rule(timer.rule_name)
        if ends is None and declared.case_end:
            computed = Computed(*registry().get(machine.name).period_end(case))
        else:
            computed = ends or compute(anchor, rule(timer.rule_name))
        rows.append(_row(machine, case, state, timer.event, timer.rule_name, computed, now))
        for days in current_app.config[declared.reminder_days or "REMINDER_DAYS_BEFORE"]:
            # "3 days before" (or after the start) on the local calendar: the same wall time,
            # whatever DST does.
            if declared.reminders_after_start:
                remind_at = (anchor.astimezone(tz) + timedelta(days=days)).astimezone(UTC)
            else:
                local_end = computed.due_at.astimezone(tz)
                remind_at = (local_end - timedelta(days=days)).astimezone(UTC)
            if now < remind_at < computed.due_at:
                row = _row(machine, case, state, REMINDER, timer.rule_name, computed, now)
                row.due_at = remind_at
                rows.append(row)
    db.session.add_all(rows)
    return rows


def _row(machine, case, state, event, rule_name, computed: Computed, now: datetime) -> Deadline:
    return Deadline(
        case_type=machine.name,
        case_id=case.id,
        state=state,
        event=event,
        rule_name=rule_name,
        rule_text=computed.text,
        due_at=computed.due_at,
        created_at=now,
    )


def cancel_timers(case_type: str, case_id: int, state: str) -> int:
    """A case that left `state` never fires that state's deadlines."""
    result = db.session.execute(
        update(Deadline)
        .where(
            Deadline.case_type == case_type,
            Deadline.case_id == case_id,
            Deadline.state == state,
            Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
        .values(cancelled_at=clock.now())
    )
    return result.rowcount or 0


def after_transition(
    machine: Machine,
    case: Any,
    source: str,
    target: str,
    anchor: datetime,
    *,
    ends: Computed | None = None,
) -> None:
    """Keeps a case's deadlines in step with a transition just recorded: leaving a state
    (even to re-enter it) cancels its timers, entering one starts its own."""
    if machine.timers_for(source):
        cancel_timers(machine.name, case.id, source)
    if machine.timers_for(target):
        start_timers(machine, case, target, anchor, ends=ends)


def pending_for(case_type: str, case_id: int) -> list[Deadline]:
    query = (
        select(Deadline)
        .where(
            Deadline.case_type == case_type,
            Deadline.case_id == case_id,
            Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.event != REMINDER,
        )
        .order_by(Deadline.due_at)
    )
    return list(db.session.scalars(query))


def pending_for_cases(case_type: str, case_ids: Iterable[int]) -> dict[int, list[Deadline]]:
    """`pending_for` of many cases of one type in one query (a list, the home page): case
    id → its pending deadlines, soonest first; a case with none is absent."""
    ids = set(case_ids)
    if not ids:
        return {}
    query = (
        select(Deadline)
        .where(
            Deadline.case_type == case_type,
            Deadline.case_id.in_(ids),
            Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.event != REMINDER,
        )
        .order_by(Deadline.due_at)
    )
    found: dict[int, list[Deadline]] = {}
    for row in db.session.scalars(query):
        found.setdefault(row.case_id, []).append(row)
    return found


# --- the sweep -----------------------------------------------------------------------------


def sweep(limit: int = 10_000) -> int:
    """Fires every due deadline once, each in its own transaction; returns how many fired."""
    fired = 0
    skipped: set[int] = set()
    while fired + len(skipped) < limit:
        deadline_id = _next_due(skipped)
        if deadline_id is None:
            break
        outcome = _fire(deadline_id)
        if outcome == "fired":
            fired += 1
        elif outcome == "failed":
            skipped.add(deadline_id)
    return fired


def due_query(now: datetime, skipped: set[int] | frozenset[int] = frozenset()) -> Select:
    """The next due row. Its WHERE matches the partial index ix_deadline_pending_due, so the
    sweep reads due rows only, however many deadlines are pending."""
    query = (
        select(Deadline.id)
        .where(
            Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.due_at <= now,
        )
        .order_by(Deadline.due_at, Deadline.id)
        .limit(1)
    )
    if skipped:
        query = query.where(Deadline.id.not_in(skipped))
    if db.engine.dialect.name == "postgresql":
        # Other sweepers skip the row this one holds instead of waiting for it.
        query = query.with_for_update(skip_locked=True)
    return query


def _next_due(skipped: set[int]) -> int | None:
    found = db.session.scalar(due_query(clock.now(), skipped))
    if found is None:
        db.session.rollback()
    return found


def _fire(deadline_id: int) -> str:
    """What became of the row: "fired"; "void" (the case had moved on); "taken" (another
    sweeper had it); or "failed" (left pending with last_error, for the next sweep)."""
    now = clock.now()
    try:
        # The claim: only one transaction can turn this row from pending to fired.
        claimed = db.session.execute(
            update(Deadline)
            .where(
                Deadline.id == deadline_id,
                Deadline.fired_at.is_(None),
                Deadline.cancelled_at.is_(None),
            )
            .values(fired_at=now)
        ).rowcount
    except OperationalError:
        # SQLite: another sweeper held the write lock past the busy timeout. Next sweep.
        db.session.rollback()
        log.warning("deadline %s: database busy; left for the next sweep", deadline_id)
        return "failed"
    if claimed != 1:
        db.session.rollback()
        return "taken"
    row = db.session.get(Deadline, deadline_id)
    outcome = "fired"
    try:
        transition = _act(row)
        if transition is None and row.event != REMINDER:
            # The case had already moved on: the deadline is void, not fired.
            row.fired_at = None
            row.cancelled_at = now
            outcome = "void"
        elif transition is not None:
            row.transition_id = transition.id
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        unit.rolled_back()
        log.exception("deadline %s failed; it stays pending", deadline_id)
        db.session.execute(
            update(Deadline).where(Deadline.id == deadline_id).values(last_error=str(exc)[:2000])
        )
        db.session.commit()
        return "failed"
    unit.committed()  # e.g. documents stored by the timer get their full retention
    return outcome


def _act(row: Deadline) -> Any:
    """What the row's process declares for it: its timer handler (returning the transition,
    or None when the case has left the state the deadline belonged to) or its reminder."""
    process = registry().get(row.case_type)
    case = db.session.get(process.model, row.case_id)
    if case is None or case.state != row.state:
        return None
    if row.event == REMINDER:
        if process.on_reminder is not None:
            process.on_reminder(case, row)
        return None
    return process.on_timer(case, row)
