"""The engine on its own: declaration checks, parties, guards, timers, walks, graph."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.workflows.people import PORTAL_WORDS, portal_only
from workflows import engine
from workflows.engine import (
    SYSTEM,
    SYSTEM_ACTOR,
    Actor,
    Edge,
    Event,
    Guard,
    Machine,
    Option,
    State,
    Timer,
    TransitionRefused,
    fact,
    guard,
)

AT = datetime(2026, 10, 28, 16, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
ADMIN = Actor(user_id=1, roles=frozenset({"ssf_admin"}), side="lead", agency_id=None)
ED = Actor(user_id=2, roles=frozenset({"agency_ed"}), side="agency", agency_id=9)
# The roles and sides the small notice machine declares, with their names in refusals.
ROLES = {"ssf_admin": "a lead agency HMIS admin", "agency_ed": "the agency's executive director"}
SIDES = {"lead": "the HMIS Lead Agency", "agency": "the partner agency"}


@guard("The notice must name the clause in default.")
def names_clause(ctx, actor) -> bool:
    return bool(ctx.get("clause"))


def notice_parts() -> tuple[list[State], list[Event], list[Timer]]:
    """A small default-notice process: issued → cure period → cured, or lapsed by the timer."""
    states = [
        State("drafted", "Drafted"),
        State("cure_period", "Cure period running"),
        State("cured", "Cured", terminal=True),
        State("lapsed", "Cure period lapsed", terminal=True),
    ]
    events = [
        Event(
            "issue",
            "Issue the notice",
            ["drafted"],
            "cure_period",
            {"ssf_admin"},
            {"lead"},
            guards=[names_clause],
        ),
        Event(
            "extend",
            "Extend the cure period",
            ["cure_period"],
            "cure_period",
            {"ssf_admin"},
            {"lead"},
            requires_reason=True,
        ),
        Event(
            "cure",
            "Record the cure",
            ["cure_period"],
            "cured",
            {"ssf_admin", "agency_ed"},
            {"lead", "agency"},
        ),
        Event(
            "cure_lapsed", "Cure period lapses", ["cure_period"], "lapsed", {"system"}, {"system"}
        ),
    ]
    return states, events, [Timer("cure_period", "cure_lapsed", "cure_10_days")]


def notice_machine() -> Machine:
    states, events, timers = notice_parts()
    return Machine(
        "notice",
        "Default notice",
        states,
        events,
        timers,
        initial="drafted",
        roles=ROLES,
        sides=SIDES,
    )


def test_guard_decorator_names_the_guard_and_gives_its_reason() -> None:
    assert isinstance(names_clause, Guard) and names_clause.name == "names_clause"
    assert names_clause({"clause": "V.E.12"}, ADMIN) is None
    assert names_clause({}, ADMIN) == "The notice must name the clause in default."
    custom = guard("Closed.", name="office_open")(lambda ctx, actor: False)
    assert custom.name == "office_open" and custom({}, ADMIN) == "Closed."


def test_fact_guard_is_strict_and_fails_closed() -> None:
    paid = fact("fee_paid", "The participation fee is unpaid.")
    assert paid({"fee_paid": True}, ADMIN) is None
    for ctx in ({}, {"fee_paid": 1}, {"fee_paid": "True"}, {"fee_paid": False}):
        assert paid(ctx, ADMIN) == "The participation fee is unpaid."


def test_actor_acts_for_some_side() -> None:
    with pytest.raises(ValueError, match="An actor acts for a side."):
        Actor(user_id=1, roles=frozenset({"ssf_admin"}), side="", agency_id=None)
    assert Actor(1, {"auditor"}, "lead", None).roles == frozenset({"auditor"})  # type: ignore[arg-type]
    # The service decides the side for the case; the engine takes any the machine may name.
    assert Actor(3, frozenset({"agency_ed"}), "releasing", 9).side == "releasing"


def test_the_portal_is_one_built_in_role_and_side() -> None:
    assert SYSTEM == "system"
    assert Actor(None, frozenset({SYSTEM}), SYSTEM, None) == SYSTEM_ACTOR
    # No global lists of roles or sides: each machine declares its own.
    for gone in ("ROLES", "SIDES", "ROLE_NAMES", "SIDE_NAMES"):
        assert not hasattr(engine, gone), gone
    m = notice_machine()
    assert (dict(m.roles), dict(m.sides)) == (ROLES, SIDES)


def test_entering_a_state_starts_its_timers_and_leaving_cancels_them() -> None:
    m = notice_machine()
    step = m.fire("drafted", "issue", ADMIN, {"clause": "V.E.12"}, at=AT)
    assert step.start_timers == (Timer("cure_period", "cure_lapsed", "cure_10_days"),)
    assert step.cancel_timers_for_state is None
    step = m.fire("cure_period", "cure", ED, {}, at=AT)
    assert step.start_timers == () and step.cancel_timers_for_state == "cure_period"
    step = m.fire("cure_period", "cure_lapsed", SYSTEM_ACTOR, {}, at=AT)
    assert step.target == "lapsed" and step.cancel_timers_for_state == "cure_period"


def test_re_entering_a_state_restarts_its_timers() -> None:
    step = notice_machine().fire("cure_period", "extend", ADMIN, {}, at=AT, reason="Agreed.")
    assert step.cancel_timers_for_state == "cure_period"
    assert [t.event for t in step.start_timers] == ["cure_lapsed"]


def test_guard_reason_is_the_refusal() -> None:
    m = notice_machine()
    with pytest.raises(TransitionRefused) as refused:
        m.fire("drafted", "issue", ADMIN, {}, at=AT)
    assert refused.value.reason == "The notice must name the clause in default."
    assert m.options("drafted", ADMIN, {}) == [Option("issue", False, refused.value.reason)]


def test_several_roles_are_named_in_the_refusal() -> None:
    officer = Actor(4, frozenset({"agency_security_officer"}), "agency", 9)
    with pytest.raises(TransitionRefused) as refused:
        notice_machine().fire("cure_period", "cure", officer, {}, at=AT)
    assert str(refused.value) == (
        "Only the agency's executive director or a lead agency HMIS admin may record the cure."
    )


@pytest.mark.parametrize("who", [ADMIN, ED, Actor(5, frozenset({"ssf_admin"}), "system", None)])
def test_people_cannot_fire_a_portal_only_event(who: Actor) -> None:
    m = notice_machine()
    assert m.by_portal_only(m.event("cure_lapsed"))
    with pytest.raises(TransitionRefused) as refused:
        m.fire("cure_period", "cure_lapsed", who, {}, at=AT)
    assert str(refused.value) == portal_only("Cure period lapses")
    assert str(refused.value) == (
        "“Cure period lapses” is not a step a person takes: the portal does it by itself."
    )
    words = str(refused.value).lower()
    assert not any(w in words for w in PORTAL_WORDS), words
    [*_, lapse] = m.options("cure_period", who, {})
    assert (lapse.event, lapse.allowed, lapse.reason) == (
        "cure_lapsed",
        False,
        refused.value.reason,
    )


def test_the_portal_fires_a_portal_only_event_but_no_person_step() -> None:
    m = notice_machine()
    step = m.fire("cure_period", "cure_lapsed", SYSTEM_ACTOR, {}, at=AT)
    assert (step.target, step.actor) == ("lapsed", SYSTEM_ACTOR)
    assert [(o.event, o.allowed) for o in m.options("cure_period", SYSTEM_ACTOR, {})] == [
        ("extend", False),
        ("cure", False),
        ("cure_lapsed", True),
    ]
    # A person's step is refused to the portal by role, named without the portal's own words.
    with pytest.raises(TransitionRefused) as refused:
        m.fire("cure_period", "cure", SYSTEM_ACTOR, {}, at=AT)
    assert str(refused.value) == (
        "Only the agency's executive director or a lead agency HMIS admin may record the cure."
    )


def test_only_an_event_of_the_portal_alone_is_portal_only() -> None:
    m = notice_machine()
    assert [e.name for e in m.events if m.by_portal_only(e)] == ["cure_lapsed"]
    # An event open to a person and to the portal is not portal-only.
    states, events, timers = notice_parts()
    events.append(
        Event(
            "close",
            "Close the notice",
            ["cure_period"],
            "cured",
            {"ssf_admin", SYSTEM},
            {"lead", SYSTEM},
        )
    )
    shared = Machine(
        "notice",
        "Default notice",
        states,
        events,
        timers,
        initial="drafted",
        roles=ROLES,
        sides=SIDES,
    )
    assert not shared.by_portal_only(shared.event("close"))
    assert shared.fire("cure_period", "close", ADMIN, {}, at=AT).target == "cured"
    assert shared.fire("cure_period", "close", SYSTEM_ACTOR, {}, at=AT).target == "cured"
    # Refusals name the people who may act, never the portal.
    with pytest.raises(TransitionRefused) as refused:
        shared.fire("cure_period", "close", ED, {}, at=AT)
    assert str(refused.value) == "Only a lead agency HMIS admin may close the notice."
    stray = Actor(6, frozenset({"ssf_admin"}), "agency", 9)
    with pytest.raises(TransitionRefused) as refused:
        shared.fire("cure_period", "close", stray, {}, at=AT)
    assert str(refused.value) == (
        "Only the HMIS Lead Agency may close the notice; you are acting for the partner agency."
    )


def test_the_portal_role_acting_for_a_person_side_is_refused() -> None:
    # The portal's role belongs with the portal's side; an actor pairing it with a party's
    # side is a mistake the engine should refuse, as it did before sides were declared.
    odd = Actor(None, frozenset({SYSTEM}), "lead", None)
    with pytest.raises(TransitionRefused):
        notice_machine().fire("cure_period", "cure_lapsed", odd, {}, at=AT)


def test_time_must_be_aware_and_state_known() -> None:
    m = notice_machine()
    with pytest.raises(ValueError, match="timezone-aware"):
        m.fire("cure_period", "cure", ED, {}, at=datetime(2026, 10, 28, 16))
    with pytest.raises(ValueError, match="no state 'limbo'"):
        m.fire("limbo", "cure", ED, {}, at=AT)
    with pytest.raises(ValueError, match="no state 'limbo'"):
        m.options("limbo", ED, {})


def test_graph_has_every_state_and_one_edge_per_source() -> None:
    g = notice_machine().graph()
    assert [n.name for n in g.nodes] == ["drafted", "cure_period", "cured", "lapsed"]
    assert [n.name for n in g.nodes if n.initial] == ["drafted"]
    assert [n.name for n in g.nodes if n.terminal] == ["cured", "lapsed"]
    assert Edge("cure_period", "cure_period", "extend", "Extend the cure period") in g.edges
    assert len(g.edges) == 4


def _with(change) -> None:  # builds a machine after one change to a valid declaration
    states, events, timers = notice_parts()
    kwargs = {"initial": "drafted", "roles": dict(ROLES), "sides": dict(SIDES)}
    change(states, events, timers, kwargs)
    Machine("notice", "Default notice", states, events, timers, **kwargs)


def _event(events: list[Event], name: str) -> int:
    return next(i for i, e in enumerate(events) if e.name == name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s, e, t, k: s.append(State("cured", "Again", terminal=True)),
            "state 'cured' twice",
        ),
        (lambda s, e, t, k: e.append(e[0]), "event 'issue' twice"),
        (lambda s, e, t, k: k.update(initial="nowhere"), "initial state 'nowhere'"),
        (
            lambda s, e, t, k: e.__setitem__(0, replace(e[0], sources=("nowhere",))),
            "unknown state 'nowhere'",
        ),
        (
            lambda s, e, t, k: e.__setitem__(0, replace(e[0], target="nowhere")),
            "unknown state 'nowhere'",
        ),
        (lambda s, e, t, k: e.__setitem__(0, replace(e[0], sources=())), "leaves from no state"),
        (
            lambda s, e, t, k: s.append(State("orphan", "Orphan", terminal=True)),
            "unreachable states ['orphan']",
        ),
        (
            lambda s, e, t, k: e.append(
                Event("reopen", "Reopen", ["cured"], "cure_period", {"ssf_admin"}, {"lead"})
            ),
            "terminal state 'cured' has events leaving it",
        ),
        (
            lambda s, e, t, k: (
                s.append(State("stuck", "Stuck"))
                or e.append(Event("park", "Park", ["drafted"], "stuck", {"ssf_admin"}, {"lead"}))
            ),
            "'stuck' is not terminal but nothing leaves it",
        ),
        (
            lambda s, e, t, k: e.__setitem__(0, replace(e[0], roles=frozenset({"ssf_boss"}))),
            "roles must be",
        ),
        (lambda s, e, t, k: e.__setitem__(0, replace(e[0], roles=frozenset())), "roles must be"),
        (
            lambda s, e, t, k: e.__setitem__(0, replace(e[0], sides=frozenset({"ssf"}))),
            "sides must be",
        ),
        (lambda s, e, t, k: e.__setitem__(0, replace(e[0], sides=frozenset())), "sides must be"),
        # A role or side the machine does not declare, even one the portal knows elsewhere.
        (lambda s, e, t, k: k["roles"].pop("agency_ed"), "'cure': roles must be"),
        (lambda s, e, t, k: k["sides"].pop("agency"), "'cure': sides must be"),
        (
            lambda s, e, t, k: e.__setitem__(0, replace(e[0], roles=frozenset({"auditor"}))),
            "'issue': roles must be",
        ),
        # The portal is named in both an event's roles and its sides, or in neither.
        (
            lambda s, e, t, k: e.__setitem__(3, replace(e[3], sides=frozenset({"lead"}))),
            "'cure_lapsed': the portal is named in its roles or sides, not both",
        ),
        (
            lambda s, e, t, k: e.__setitem__(0, replace(e[0], sides=frozenset({"lead", SYSTEM}))),
            "'issue': the portal is named in its roles or sides, not both",
        ),
        (
            lambda s, e, t, k: e.__setitem__(0, replace(e[0], guards=(lambda c, a: None,))),
            "is not a Guard",
        ),
        (lambda s, e, t, k: t.append(Timer("nowhere", "cure_lapsed", "r")), "unknown state"),
        (lambda s, e, t, k: t.append(Timer("cure_period", "nothing", "r")), "unknown event"),
        (
            lambda s, e, t, k: t.append(Timer("drafted", "cure_lapsed", "r")),
            "does not leave that state",
        ),
        (
            lambda s, e, t, k: t.append(Timer("cure_period", "cure", "r")),
            "cannot be fired by the system",
        ),
        (lambda s, e, t, k: t.append(Timer("cure_period", "cure_lapsed", "")), "no deadline rule"),
        (lambda s, e, t, k: s.clear(), "declares no states"),
    ],
)
def test_bad_declarations_are_refused(change, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _with(change)


def test_valid_declaration_builds() -> None:
    _with(lambda s, e, t, k: None)


# -- declared roles and sides ----------------------------------------------------------------


def test_an_undeclared_role_fails_at_declaration_naming_what_is_declared() -> None:
    states, events, timers = notice_parts()
    with pytest.raises(ValueError) as err:
        Machine(
            "notice",
            "Default notice",
            states,
            events,
            timers,
            initial="drafted",
            roles={"ssf_admin": "a lead agency HMIS admin"},
            sides=SIDES,
        )
    assert str(err.value) == (
        "Machine 'notice', event 'cure': roles must be a non-empty subset of "
        "['ssf_admin', 'system']."
    )


def test_an_undeclared_side_fails_at_declaration_naming_what_is_declared() -> None:
    states, events, timers = notice_parts()
    with pytest.raises(ValueError) as err:
        Machine(
            "notice",
            "Default notice",
            states,
            events,
            timers,
            initial="drafted",
            roles=ROLES,
            sides={"agency": "the partner agency"},
        )
    assert str(err.value) == (
        "Machine 'notice', event 'issue': sides must be a non-empty subset of ['agency', 'system']."
    )


def test_the_portal_in_roles_but_not_sides_fails_at_declaration() -> None:
    states, events, timers = notice_parts()
    events[3] = replace(events[3], roles=frozenset({SYSTEM}), sides=frozenset({"lead"}))
    with pytest.raises(ValueError) as err:
        Machine(
            "notice",
            "Default notice",
            states,
            events,
            timers,
            initial="drafted",
            roles=ROLES,
            sides=SIDES,
        )
    assert str(err.value) == (
        "Machine 'notice', event 'cure_lapsed': the portal is named in its roles or sides, "
        "not both."
    )


RELEASING, ACQUIRING = "the agency releasing the program", "the agency acquiring the program"


def reallocation() -> Machine:
    """A process between two agencies, each a side of its own, with the same roles."""
    return Machine(
        "reallocation",
        "Program reallocation",
        [
            State("proposed", "Proposed"),
            State("released", "Released, awaiting acceptance"),
            State("moved", "Moved", terminal=True),
        ],
        [
            Event(
                "release",
                "Release the program",
                ["proposed"],
                "released",
                {"agency_ed"},
                {"releasing"},
            ),
            Event(
                "accept", "Accept the program", ["released"], "moved", {"agency_ed"}, {"acquiring"}
            ),
        ],
        initial="proposed",
        roles={"agency_ed": "the agency's executive director"},
        sides={"releasing": RELEASING, "acquiring": ACQUIRING},
    )


def test_two_agency_sides_refuse_the_wrong_side_by_name_and_accept_the_right_one() -> None:
    m = reallocation()
    releasing = Actor(10, frozenset({"agency_ed"}), "releasing", 1)
    acquiring = Actor(20, frozenset({"agency_ed"}), "acquiring", 2)
    with pytest.raises(TransitionRefused) as refused:
        m.fire("proposed", "release", acquiring, {}, at=AT)
    assert str(refused.value) == (
        f"Only {RELEASING} may release the program; you are acting for {ACQUIRING}."
    )
    [release] = m.options("proposed", acquiring, {})
    assert (release.allowed, release.reason) == (False, refused.value.reason)
    step = m.fire("proposed", "release", releasing, {}, at=AT)
    assert (step.target, step.actor) == ("released", releasing)

    with pytest.raises(TransitionRefused) as refused:
        m.fire("released", "accept", releasing, {}, at=AT)
    assert str(refused.value) == (
        f"Only {ACQUIRING} may accept the program; you are acting for {RELEASING}."
    )
    assert m.fire("released", "accept", acquiring, {}, at=AT).target == "moved"


def test_a_side_the_machine_does_not_know_is_another_party() -> None:
    lead = Actor(30, frozenset({"agency_ed"}), "lead", None)
    with pytest.raises(TransitionRefused) as refused:
        reallocation().fire("proposed", "release", lead, {}, at=AT)
    assert str(refused.value) == (
        f"Only {RELEASING} may release the program; you are acting for another party."
    )


# -- walks: a path of steps, each fired from where the last one ended -----------------------


def walk(machine: Machine, start: str, path) -> list:
    """Fires each (event, actor, ctx, at, reason) from where the previous step ended."""
    state, steps = start, []
    for event, who, ctx, at, reason in path:
        step = machine.fire(state, event, who, ctx, at=at, reason=reason)
        assert step.source == state
        steps.append(step)
        state = step.target
    return steps


def good_path() -> list[tuple]:
    return [
        ("issue", ADMIN, {"clause": "V.E.12"}, AT, None),
        ("extend", ADMIN, {}, AT + timedelta(days=2), "Asked."),
        ("cure_lapsed", SYSTEM_ACTOR, {}, AT + timedelta(days=12), None),
    ]


def test_a_valid_walk_ends_where_it_should() -> None:
    m = notice_machine()
    steps = walk(m, "drafted", good_path())
    assert [s.target for s in steps] == ["cure_period", "cure_period", "lapsed"]
    assert [s.reason for s in steps] == [None, "Asked.", None]
    assert walk(m, "drafted", []) == []
    assert walk(m, "cure_period", good_path()[1:])[-1].target == "lapsed"
    assert m.options("lapsed", ADMIN, {}) == []  # a final state


@pytest.mark.parametrize(
    ("index", "change", "message"),
    [
        (1, {0: "vanish"}, "There is no step “vanish” in the Default notice."),
        (
            0,
            {0: "cure"},
            "“Record the cure” is not possible while the Default notice is “Drafted”.",
        ),
        (1, {4: "  "}, "Give a reason to extend the cure period."),
        (2, {1: ED}, portal_only("Cure period lapses")),
        (0, {1: ED}, "Only a lead agency HMIS admin may issue the notice."),
        (0, {2: {}}, "The notice must name the clause in default."),
    ],
)
def test_a_walk_stops_at_the_first_step_refused(index: int, change: dict, message: str) -> None:
    path = good_path()
    path[index] = tuple(change.get(i, part) for i, part in enumerate(path[index]))
    with pytest.raises(TransitionRefused) as refused:
        walk(notice_machine(), "drafted", path)
    assert str(refused.value) == message
    # Every step before it is still allowed.
    walk(notice_machine(), "drafted", path[:index])


def test_a_walk_refuses_a_naive_time() -> None:
    path = good_path()
    path[1] = (*path[1][:3], datetime(2026, 10, 30, 9), path[1][4])
    with pytest.raises(ValueError, match="timezone-aware"):
        walk(notice_machine(), "drafted", path)


def test_nothing_follows_a_final_state() -> None:
    path = [*good_path(), ("cure", ED, {}, AT + timedelta(days=20), None)]
    with pytest.raises(TransitionRefused) as refused:
        walk(notice_machine(), "drafted", path)
    assert str(refused.value) == (
        "“Record the cure” is not possible while the Default notice is “Cure period lapsed”."
    )


def test_a_step_keeps_the_time_and_actor_it_was_fired_with() -> None:
    m = notice_machine()
    utc = AT.astimezone(UTC)
    first, second = walk(
        m,
        "drafted",
        [
            ("issue", ADMIN, {"clause": "IV.B"}, utc, None),
            ("cure", ED, {}, AT + timedelta(days=1), None),
        ],
    )
    assert (first.at, first.at.tzinfo, first.actor) == (utc, UTC, ADMIN)
    assert (second.source, second.target, second.actor) == ("cure_period", "cured", ED)
    assert second.at == AT + timedelta(days=1)
