"""What a machine is declared from, and the checks a declaration must pass.

States, events (who may fire each, from where, to where, under which guards) and timers;
the actors events and guards name, the portal among them; and `check`, which refuses a
declaration that could strand a case (see `workflows.engine.Machine`, which runs it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

# The portal itself (the deadline sweep) acts as this role and side in every machine.
SYSTEM = "system"


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


# -- declaration checks -----------------------------------------------------------------


def check(
    name: str,
    label: str,
    states: tuple[State, ...],
    events: tuple[Event, ...],
    timers: tuple[Timer, ...],
    *,
    initial: str,
    roles: Mapping[str, str],
    sides: Mapping[str, str],
) -> None:
    """Raise ValueError, naming the fault, unless the declaration makes a sound machine:
    names unique, every state reachable from `initial`, terminal states (and only they) with
    nothing leaving them, and every event and timer naming what the machine declares."""
    where = f"Machine {name!r}"
    if not name or not label:
        raise ValueError("A machine needs a name and a label.")
    if not states:
        raise ValueError(f"{where} declares no states.")
    for kind, names in (
        ("state", [s.name for s in states]),
        ("event", [e.name for e in events]),
    ):
        seen: set[str] = set()
        for n in names:
            if not n:
                raise ValueError(f"{where} has a {kind} without a name.")
            if n in seen:
                raise ValueError(f"{where} declares the {kind} {n!r} twice.")
            seen.add(n)
    state_names = {s.name for s in states}
    if initial not in state_names:
        raise ValueError(f"{where}: the initial state {initial!r} is not declared.")
    for e in events:
        _check_event(where, e, state_names, roles, sides)
    for s in states:
        leaving = _events_from(events, s.name)
        if s.terminal and leaving:
            raise ValueError(f"{where}: terminal state {s.name!r} has events leaving it.")
        if not s.terminal and not leaving:
            raise ValueError(f"{where}: state {s.name!r} is not terminal but nothing leaves it.")
    by_name = {e.name: e for e in events}
    for t in timers:
        _check_timer(where, t, state_names, by_name)
    reachable = _reachable(events, initial)
    unreachable = [s.name for s in states if s.name not in reachable]
    if unreachable:
        raise ValueError(f"{where}: unreachable states {unreachable}.")


def _events_from(events: Iterable[Event], state: str) -> list[Event]:
    return [e for e in events if state in e.sources]


def _check_event(
    machine: str,
    e: Event,
    states: set[str],
    roles: Mapping[str, str],
    sides: Mapping[str, str],
) -> None:
    where = f"{machine}, event {e.name!r}"
    if not e.sources:
        raise ValueError(f"{where} leaves from no state.")
    if len(set(e.sources)) != len(e.sources):
        raise ValueError(f"{where} lists a source state twice.")
    for s in (*e.sources, e.target):
        if s not in states:
            raise ValueError(f"{where} names the unknown state {s!r}.")
    all_roles, all_sides = {*roles, SYSTEM}, {*sides, SYSTEM}
    if not e.roles or not e.roles <= all_roles:
        raise ValueError(f"{where}: roles must be a non-empty subset of {sorted(all_roles)}.")
    if not e.sides or not e.sides <= all_sides:
        raise ValueError(f"{where}: sides must be a non-empty subset of {sorted(all_sides)}.")
    if (SYSTEM in e.roles) != (SYSTEM in e.sides):
        raise ValueError(f"{where}: the portal is named in its roles or sides, not both.")
    for g in e.guards:
        if not isinstance(g, Guard):
            raise ValueError(f"{where}: {g!r} is not a Guard (use guard() or fact()).")


def _check_timer(machine: str, t: Timer, states: set[str], events: Mapping[str, Event]) -> None:
    where = f"{machine}, timer on {t.state!r}"
    if t.state not in states:
        raise ValueError(f"{where} names an unknown state.")
    e = events.get(t.event)
    if e is None:
        raise ValueError(f"{where} fires the unknown event {t.event!r}.")
    if t.state not in e.sources:
        raise ValueError(f"{where}: event {t.event!r} does not leave that state.")
    # The scheduler fires timers, so it must be allowed to.
    if SYSTEM not in e.sides or SYSTEM not in e.roles:
        raise ValueError(f"{where}: event {t.event!r} cannot be fired by the system.")
    if not t.rule_name:
        raise ValueError(f"{where} names no deadline rule.")


def _reachable(events: tuple[Event, ...], initial: str) -> set[str]:
    seen = {initial}
    queue = deque([initial])
    while queue:
        for e in _events_from(events, queue.popleft()):
            if e.target not in seen:
                seen.add(e.target)
                queue.append(e.target)
    return seen
