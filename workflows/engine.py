"""A small, pure state-machine engine for the portal's processes.

A machine is a declaration: states, events (who may fire each, from where, to where, under
which guards), and timers, each declared with the types of workflows/declarations.py. The
engine answers three questions and nothing more: "what may this person do now, and why not
the rest?" (`Machine.options`), "who else must act?" (`Machine.waiting_for`, put into words by
workflows/wording.py) and "may this step happen now?" (`Machine.fire`, which returns the `Step`
to record or raises `TransitionRefused`). Case state, history and pending deadlines are kept
by the caller (portal/), so the engine is deterministic: the same state, actor, facts and time
always give the same answer.

A machine is declared and asked through this one module, so it offers the declaration types
too (see `__all__`): callers need not know which module defines each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from workflows.declarations import (
    SYSTEM,
    SYSTEM_ACTOR,
    Actor,
    Event,
    Guard,
    State,
    Timer,
    check,
    fact,
    guard,
)
from workflows.wording import join_words, waiting_line

__all__ = [
    # Declared in workflows/declarations.py, offered here with the machine that runs them.
    "SYSTEM",
    "SYSTEM_ACTOR",
    "Actor",
    "Event",
    "Guard",
    "State",
    "Timer",
    "fact",
    "guard",
    # The machine and its answers.
    "Edge",
    "Graph",
    "Machine",
    "Node",
    "Option",
    "Step",
    "TransitionRefused",
]


class TransitionRefused(Exception):
    """A step that may not happen now; the message is written for the person who tried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Option:
    """One event leaving the current state: whether this actor may fire it, and if not why."""

    event: str
    allowed: bool
    reason: str | None


@dataclass(frozen=True)
class Step:
    """An accepted transition, for the caller to record and act on."""

    event: str
    source: str
    target: str
    actor: Actor
    at: datetime
    reason: str | None
    start_timers: tuple[Timer, ...]
    cancel_timers_for_state: str | None


@dataclass(frozen=True)
class Node:
    name: str
    label: str
    terminal: bool
    initial: bool


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    event: str
    label: str


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("The time of a step must be timezone-aware.")


class Machine:
    """A declared process, validated when built so a bad declaration never reaches a case."""

    def __init__(
        self,
        name: str,
        label: str,
        states: Iterable[State],
        events: Iterable[Event],
        timers: Iterable[Timer] = (),
        *,
        initial: str,
        roles: Mapping[str, str],
        sides: Mapping[str, str],
    ) -> None:
        self.name = name
        self.label = label
        self.states: tuple[State, ...] = tuple(states)
        self.events: tuple[Event, ...] = tuple(events)
        self.timers: tuple[Timer, ...] = tuple(timers)
        self.initial = initial
        # The roles and sides this machine's events name, each with its name in refusals.
        self.roles: Mapping[str, str] = dict(roles)
        self.sides: Mapping[str, str] = dict(sides)
        self._states = {s.name: s for s in self.states}
        self._events = {e.name: e for e in self.events}
        check(
            self.name,
            self.label,
            self.states,
            self.events,
            self.timers,
            initial=self.initial,
            roles=self.roles,
            sides=self.sides,
        )

    # -- lookups --------------------------------------------------------------------------

    def state(self, name: str) -> State:
        try:
            return self._states[name]
        except KeyError:
            raise ValueError(f"{self.label} has no state {name!r}.") from None

    def event(self, name: str) -> Event:
        try:
            return self._events[name]
        except KeyError:
            raise ValueError(f"{self.label} has no event {name!r}.") from None

    def events_from(self, state: str) -> list[Event]:
        return [e for e in self.events if state in e.sources]

    def timers_for(self, state: str) -> tuple[Timer, ...]:
        return tuple(t for t in self.timers if t.state == state)

    # -- questions ------------------------------------------------------------------------

    def by_portal_only(self, event: Event) -> bool:
        """Whether only the portal itself fires `event` (at a deadline, or as a consequence)."""
        return event.roles == {SYSTEM}

    def who_may(self, event: Event) -> str:
        """Who may take `event`, in words: its declared `who`, else its roles' names."""
        return event.who or join_words(self.roles[r] for r in sorted(event.roles - {SYSTEM}))

    def _actor_blocker(self, event: Event, actor: Actor) -> str | None:
        if self.by_portal_only(event):
            if SYSTEM in actor.roles and actor.side == SYSTEM:
                return None
            return f"“{event.label}” is not a step a person takes: the portal does it by itself."
        if not actor.roles & event.roles:
            return f"Only {self.who_may(event)} may {event.verb}."
        if actor.side not in event.sides:
            who = event.who or join_words(self.sides[s] for s in sorted(event.sides - {SYSTEM}))
            acting = self.sides.get(actor.side, "another party")
            return f"Only {who} may {event.verb}; you are acting for {acting}."
        return None

    def blocker(self, event: Event, actor: Actor, ctx: Mapping[str, object]) -> str | None:
        """Why this actor may not fire `event` (role, side, then guards in order), or None."""
        reason = self._actor_blocker(event, actor)
        if reason is not None:
            return reason
        for g in event.guards:
            reason = g(ctx, actor)
            if reason is not None:
                return reason
        return None

    def is_actor_for(self, event: Event, actor: Actor, ctx: Mapping[str, object]) -> bool:
        """Whether `actor` is one of the people who may take `event` (its roles, its sides and
        its guards on who), whether or not the case allows the step now."""
        if self._actor_blocker(event, actor) is not None:
            return False
        return all(g(ctx, actor) is None for g in event.guards if g.who)

    def waiting_for(self, state: str, actor: Actor, ctx: Mapping[str, object]) -> str | None:
        """Who else the case waits for in `state`, and to do what, in one line built from the
        declared events (who may take each, and its verb), e.g. "Waiting for the party that
        gave the notice to accept or reject the cure."

        Only steps the case waits for count: not a way out such as withdrawing (`awaited`
        False), nor a step the portal takes by itself (`deadline_words` says those). Steps
        `actor` is one of the people for are left out, so the line names others; None when
        the case waits for nobody else.
        """
        self.state(state)
        waited: dict[str, list[str]] = {}
        for e in self.events_from(state):
            if e.awaited and not self.by_portal_only(e) and not self.is_actor_for(e, actor, ctx):
                waited.setdefault(self.who_may(e), []).append(e.verb)
        return waiting_line(waited)

    def deadline_words(self, timer: Timer) -> str:
        """What happens by itself when `timer` runs out, in words a page completes with when:
        the timer's `says`, else its event's verb ("The portal will end the cure period")."""
        return timer.says or f"The portal will {self.event(timer.event).verb} by itself"

    def options(self, state: str, actor: Actor, ctx: Mapping[str, object]) -> list[Option]:
        """Every event leaving `state`, in declaration order, with why each is blocked."""
        self.state(state)
        options = []
        for e in self.events_from(state):
            reason = self.blocker(e, actor, ctx)
            options.append(Option(e.name, reason is None, reason))
        return options

    def _leaving(self, state: str, event_name: str) -> Event:
        """The event, if it exists and leaves `state`; otherwise a refusal a person can read."""
        current = self.state(state)
        event = self._events.get(event_name)
        if event is None:
            raise TransitionRefused(f"There is no step “{event_name}” in the {self.label}.")
        if state not in event.sources:
            raise TransitionRefused(
                f"“{event.label}” is not possible while the {self.label} is “{current.label}”."
            )
        return event

    def fire(
        self,
        state: str,
        event_name: str,
        actor: Actor,
        ctx: Mapping[str, object],
        *,
        at: datetime,
        reason: str | None = None,
    ) -> Step:
        """The step to record if `actor` may fire `event_name` now; else `TransitionRefused`."""
        _require_aware(at)
        event = self._leaving(state, event_name)
        blocked = self.blocker(event, actor, ctx)
        if blocked is not None:
            raise TransitionRefused(blocked)
        given = (reason or "").strip() or None
        if event.requires_reason and given is None:
            raise TransitionRefused(f"Give a reason to {event.verb}.")
        # Leaving a state (even to re-enter it) ends its timers; entering one starts its own.
        return Step(
            event=event.name,
            source=state,
            target=event.target,
            actor=actor,
            at=at,
            reason=given,
            start_timers=self.timers_for(event.target),
            cancel_timers_for_state=state if self.timers_for(state) else None,
        )

    def graph(self) -> Graph:
        nodes = tuple(
            Node(s.name, s.label, s.terminal, s.name == self.initial) for s in self.states
        )
        edges = tuple(
            Edge(source, e.target, e.name, e.label) for e in self.events for source in e.sources
        )
        return Graph(nodes, edges)
