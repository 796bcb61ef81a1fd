"""A small, pure state-machine engine for the portal's processes.

A machine is a declaration: states, events (who may fire each, from where, to where, under
which guards), and timers. The engine answers three questions and nothing more: "what may
this person do now, and why not the rest?" (`Machine.options`), "who else must act?"
(`Machine.waiting_for`) and "may this step happen now?" (`Machine.fire`, which returns the
`Step` to record or raises `TransitionRefused`). Case
state, history and pending deadlines are kept by the caller (portal/), so the engine is
deterministic: the same state, actor, facts and time always give the same answer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

# The portal itself (the deadline sweep) acts as this role and side in every machine.
SYSTEM = "system"


class TransitionRefused(Exception):
    """A step that may not happen now; the message is written for the person who tried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Actor:
    """Who is acting: a person with some roles, for one side of the case, or the portal.

    The side is the actor's part in this case (the service decides it: "lead" or "agency"
    for the agreement's parties; "releasing" or "acquiring" in a reallocation).
    """

    user_id: int | None
    roles: frozenset[str]
    side: str
    agency_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", frozenset(self.roles))
        if not self.side:
            raise ValueError("An actor acts for a side.")


SYSTEM_ACTOR = Actor(user_id=None, roles=frozenset({SYSTEM}), side=SYSTEM, agency_id=None)

Predicate = Callable[[Mapping[str, object], Actor], bool]


@dataclass(frozen=True)
class Guard:
    """A named condition; calling it gives the unmet reason in plain words, or None if met.

    `who` marks a guard that decides who may take the step (which party the person acts for,
    whether they may sign), not whether the case allows it now: a person such a guard refuses
    is not the one the case waits for (see `Machine.waiting_for`).
    """

    name: str
    predicate: Predicate = field(repr=False)
    reason: str
    who: bool = False

    def __call__(self, ctx: Mapping[str, object], actor: Actor) -> str | None:
        return None if self.predicate(ctx, actor) else self.reason


def guard(
    reason: str, *, name: str | None = None, who: bool = False
) -> Callable[[Predicate], Guard]:
    """Decorator: turns a predicate `(ctx, actor) -> bool` into a `Guard` with its reason."""

    def wrap(predicate: Predicate) -> Guard:
        return Guard(name or predicate.__name__, predicate, reason, who)

    return wrap


def fact(key: str, reason: str, *, expected: object = True, who: bool = False) -> Guard:
    """A guard on one fact the service computed: met only when ctx[key] is `expected`.

    A missing fact counts as unmet, so a service that forgets to compute it fails closed.
    """

    def predicate(ctx: Mapping[str, object], actor: Actor) -> bool:
        return key in ctx and ctx[key] == expected and type(ctx[key]) is type(expected)

    return Guard(key, predicate, reason, who)


@dataclass(frozen=True)
class State:
    name: str
    label: str
    terminal: bool = False
    description: str = ""


@dataclass(frozen=True)
class Event:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]
    sides: frozenset[str]
    guards: tuple[Guard, ...] = ()
    requires_reason: bool = False
    description: str = ""
    # Who may fire it, in words for refusals, when the role names alone would mislead
    # (e.g. "a representative the lead agency has designated", whatever their role).
    who: str = ""
    # False for a way out a party may take at any time (voiding, withdrawing, rescinding):
    # the case does not wait for it, so "Waiting for …" lines leave it out.
    awaited: bool = True

    def __post_init__(self) -> None:
        # Accept any iterables in declarations; store immutable, order-keeping forms.
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(self, "roles", frozenset(self.roles))
        object.__setattr__(self, "sides", frozenset(self.sides))
        object.__setattr__(self, "guards", tuple(self.guards))

    @property
    def verb(self) -> str:
        """The label as it reads after "may …": "Send for signature" → "send for signature"."""
        label = self.label
        if len(label) > 1 and label[1].isupper():  # an acronym such as "SSF …" stays
            return label
        return label[:1].lower() + label[1:]


@dataclass(frozen=True)
class Timer:
    """On entering `state`, fire `event` at the deadline computed by the rule `rule_name`.

    `says` is what happens then, in words for the case's page ("The cure period ends by
    itself"); the page adds when. Wording only, so timers compare without it.
    """

    state: str
    event: str
    rule_name: str
    says: str = field(default="", compare=False)


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


def _join(phrases: Iterable[str], word: str = "or") -> str:
    items = list(phrases)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _verbs(verbs: Iterable[str]) -> str:
    """Verbs joined with "or", sharing what follows the first word when they can:
    "accept the cure", "reject the cure" → "accept or reject the cure"."""
    tails: dict[str, list[str]] = {}
    for verb in verbs:
        head, _, tail = verb.partition(" ")
        tails.setdefault(tail, []).append(head)
    return _join(f"{_join(heads)} {tail}".rstrip() for tail, heads in tails.items())


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
        self._validate()

    # -- declaration checks -------------------------------------------------------------

    def _validate(self) -> None:
        where = f"Machine {self.name!r}"
        if not self.name or not self.label:
            raise ValueError("A machine needs a name and a label.")
        if not self.states:
            raise ValueError(f"{where} declares no states.")
        for kind, names in (
            ("state", [s.name for s in self.states]),
            ("event", [e.name for e in self.events]),
        ):
            seen: set[str] = set()
            for n in names:
                if not n:
                    raise ValueError(f"{where} has a {kind} without a name.")
                if n in seen:
                    raise ValueError(f"{where} declares the {kind} {n!r} twice.")
                seen.add(n)
        if self.initial not in self._states:
            raise ValueError(f"{where}: the initial state {self.initial!r} is not declared.")
        for e in self.events:
            self._validate_event(e)
        for s in self.states:
            leaving = self.events_from(s.name)
            if s.terminal and leaving:
                raise ValueError(f"{where}: terminal state {s.name!r} has events leaving it.")
            if not s.terminal and not leaving:
                raise ValueError(
                    f"{where}: state {s.name!r} is not terminal but nothing leaves it."
                )
        for t in self.timers:
            self._validate_timer(t)
        unreachable = [s.name for s in self.states if s.name not in self._reachable()]
        if unreachable:
            raise ValueError(f"{where}: unreachable states {unreachable}.")

    def _validate_event(self, e: Event) -> None:
        where = f"Machine {self.name!r}, event {e.name!r}"
        if not e.sources:
            raise ValueError(f"{where} leaves from no state.")
        if len(set(e.sources)) != len(e.sources):
            raise ValueError(f"{where} lists a source state twice.")
        for s in (*e.sources, e.target):
            if s not in self._states:
                raise ValueError(f"{where} names the unknown state {s!r}.")
        roles, sides = {*self.roles, SYSTEM}, {*self.sides, SYSTEM}
        if not e.roles or not e.roles <= roles:
            raise ValueError(f"{where}: roles must be a non-empty subset of {sorted(roles)}.")
        if not e.sides or not e.sides <= sides:
            raise ValueError(f"{where}: sides must be a non-empty subset of {sorted(sides)}.")
        if (SYSTEM in e.roles) != (SYSTEM in e.sides):
            raise ValueError(f"{where}: the portal is named in its roles or sides, not both.")
        for g in e.guards:
            if not isinstance(g, Guard):
                raise ValueError(f"{where}: {g!r} is not a Guard (use guard() or fact()).")

    def _validate_timer(self, t: Timer) -> None:
        where = f"Machine {self.name!r}, timer on {t.state!r}"
        if t.state not in self._states:
            raise ValueError(f"{where} names an unknown state.")
        e = self._events.get(t.event)
        if e is None:
            raise ValueError(f"{where} fires the unknown event {t.event!r}.")
        if t.state not in e.sources:
            raise ValueError(f"{where}: event {t.event!r} does not leave that state.")
        # The scheduler fires timers, so it must be allowed to.
        if SYSTEM not in e.sides or SYSTEM not in e.roles:
            raise ValueError(f"{where}: event {t.event!r} cannot be fired by the system.")
        if not t.rule_name:
            raise ValueError(f"{where} names no deadline rule.")

    def _reachable(self) -> set[str]:
        seen = {self.initial}
        queue = deque([self.initial])
        while queue:
            for e in self.events_from(queue.popleft()):
                if e.target not in seen:
                    seen.add(e.target)
                    queue.append(e.target)
        return seen

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
        return event.who or _join(self.roles[r] for r in sorted(event.roles - {SYSTEM}))

    def _actor_blocker(self, event: Event, actor: Actor) -> str | None:
        if self.by_portal_only(event):
            if SYSTEM in actor.roles and actor.side == SYSTEM:
                return None
            return f"“{event.label}” is not a step a person takes: the portal does it by itself."
        if not actor.roles & event.roles:
            return f"Only {self.who_may(event)} may {event.verb}."
        if actor.side not in event.sides:
            who = event.who or _join(self.sides[s] for s in sorted(event.sides - {SYSTEM}))
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
        if not waited:
            return None
        parts = [f"{who} to {_verbs(verbs)}" for who, verbs in waited.items()]
        if len(parts) > 1:
            return f"Waiting for {', for '.join(parts[:-1])}, or for {parts[-1]}."
        return f"Waiting for {parts[0]}."

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
