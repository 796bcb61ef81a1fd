"""What a case page says about where a case stands and what comes next, for one person.

Every case page (agreement, notice of default, notice of termination, suspension) asks here,
through its process's service, so none of them decides from roles or state names itself:

- `state_of(case)`: the case's state as its machine declares it (name, label, description);
  every page shows `state_of(case).label` (the `state_label` filter).
- `for_case(machine, case, user, ctx)`: the steps this person may take now, and otherwise
  one line saying who else must act, or what happens by itself and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.models import User
from portal.processes import Process, registry
from portal.services import deadlines
from portal.services.access import actor_for
from portal.services.timefmt import local_instant
from workflows.engine import Machine, State


@dataclass(frozen=True)
class Action:
    """A step this person may take now, with its label (the button's words)."""

    event: str
    label: str


@dataclass(frozen=True)
class NextSteps:
    """What a case page offers one person: the steps they may take now (`actions`), and
    `note`, one line saying who else must act, why this person's own step must wait, or
    what happens by itself and when (None when there is nothing to say)."""

    actions: tuple[Action, ...]
    note: str | None

    def allows(self, event: str) -> bool:
        return any(action.event == event for action in self.actions)


def process_of(case: Any) -> Process:
    """The registered process whose cases `case` is one of."""
    for process in registry():
        if isinstance(case, process.model):
            return process
    raise KeyError(f"No process is registered for {type(case).__name__}.")


def state_of(case: Any) -> State:
    """The case's current state as its machine declares it."""
    return process_of(case).machine.state(case.state)


def for_case(machine: Machine, case: Any, user: User, ctx: dict[str, Any]) -> NextSteps:
    """The steps `user` may take on `case` now, and the one line for the rest.

    The line says, in this order and as far as each applies: why a step this person would
    take cannot happen yet (the guard's reason), who else the case waits for (built by the
    machine from its declared events), and what the portal does by itself at a deadline.
    """
    actor = actor_for(user)
    actions: list[Action] = []
    held: list[str] = []
    for event in machine.events_from(case.state):
        reason = machine.blocker(event, actor, ctx)
        if reason is None:
            actions.append(Action(event.name, event.label))
        elif machine.is_actor_for(event, actor, ctx):
            held.append(reason)
    lines = [*held, machine.waiting_for(case.state, actor, ctx), *_by_itself(machine, case)]
    return NextSteps(tuple(actions), " ".join(line for line in lines if line) or None)


def _by_itself(machine: Machine, case: Any) -> list[str]:
    """What the portal does by itself at the case's pending deadlines, and when."""
    timers = {timer.event: timer for timer in machine.timers_for(case.state)}
    lines = []
    for row in deadlines.pending_for(machine.name, case.id):
        timer = timers.get(row.event)
        if timer is not None and row.state == case.state:
            what = machine.deadline_words(timer)
            lines.append(f"{what} on {local_instant(row.due_at)} ({_rule(row.rule_text)}).")
    return lines


def _rule(text: str) -> str:
    """The rule of a deadline without its end, which the line already gives: "10 calendar days
    counted from the day after notice; ends 11:59:59 pm … on …" → "10 calendar days counted
    from the day after notice" (workflows.calendar.describe puts the end last)."""
    rule, _, _ = text.rpartition("; ends ")
    return rule or text
