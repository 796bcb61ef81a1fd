"""The engine on its own: declaration checks, guards, timers, replay, graph."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.engine import (
    SYSTEM_ACTOR,
    Actor,
    Edge,
    Event,
    Guard,
    HistoryEntry,
    InvalidHistory,
    Machine,
    Option,
    State,
    Timer,
    TransitionRefused,
    fact,
    guard,
    replay,
)

AT = datetime(2026, 10, 28, 16, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
ADMIN = Actor(user_id=1, roles=frozenset({"ssf_admin"}), side="lead", agency_id=None)
ED = Actor(user_id=2, roles=frozenset({"agency_ed"}), side="agency", agency_id=9)


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
    return Machine("notice", "Default notice", states, events, timers, initial="drafted")


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


def test_actor_side_must_be_known() -> None:
    with pytest.raises(ValueError, match="Unknown side"):
        Actor(user_id=1, roles=frozenset({"ssf_admin"}), side="ssf", agency_id=None)
    assert Actor(1, {"auditor"}, "lead", None).roles == frozenset({"auditor"})  # type: ignore[arg-type]


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
        "Only the agency's executive director or an SSF HMIS admin may record the cure."
    )


def test_people_cannot_fire_the_timer_event() -> None:
    with pytest.raises(TransitionRefused, match="Only the portal's scheduler"):
        notice_machine().fire("cure_period", "cure_lapsed", ADMIN, {}, at=AT)


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
    kwargs = {"initial": "drafted"}
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


# -- replay ----------------------------------------------------------------------------------


def good_path() -> list[HistoryEntry]:
    return [
        HistoryEntry("issue", "drafted", "cure_period", AT, None, ADMIN),
        HistoryEntry("extend", "cure_period", "cure_period", AT + timedelta(days=2), "Asked."),
        HistoryEntry(
            "cure_lapsed", "cure_period", "lapsed", AT + timedelta(days=12), None, SYSTEM_ACTOR
        ),
    ]


def test_replay_of_a_valid_path_ends_where_it_should() -> None:
    m = notice_machine()
    assert replay(m, "drafted", good_path()) == "lapsed"
    assert replay(m, "drafted", []) == "drafted"
    assert replay(m, "cure_period", good_path()[1:]) == "lapsed"


@pytest.mark.parametrize(
    ("index", "change", "message"),
    [
        (1, {"source": "drafted"}, "starts from 'drafted', but the case was 'cure_period'"),
        (1, {"event": "vanish", "source": "cure_period"}, "There is no step “vanish”"),
        (0, {"event": "cure", "target": "cured"}, "not possible while"),
        (2, {"target": "cured"}, "ends in 'cured', not 'lapsed'"),
        (1, {"at": AT - timedelta(minutes=1)}, "dated before the step before it"),
        (1, {"at": datetime(2026, 10, 30, 9)}, "without a time zone"),
        (1, {"reason": "  "}, "needed a reason"),
        (2, {"actor": ED}, "Only the portal's scheduler"),
    ],
)
def test_replay_rejects_an_impossible_path(index: int, change: dict, message: str) -> None:
    path = good_path()
    path[index] = replace(path[index], **change)
    with pytest.raises(InvalidHistory, match=message) as err:
        replay(notice_machine(), "drafted", path)
    assert f"Step {index + 1}" in str(err.value)


def test_replay_rejects_a_step_after_a_final_state() -> None:
    path = [*good_path(), HistoryEntry("cure", "lapsed", "cured", AT + timedelta(days=20))]
    with pytest.raises(InvalidHistory, match="Step 4"):
        replay(notice_machine(), "drafted", path)


def test_replay_accepts_steps_as_returned_by_fire() -> None:
    m = notice_machine()
    first = m.fire("drafted", "issue", ADMIN, {"clause": "IV.B"}, at=AT.astimezone(UTC))
    second = m.fire("cure_period", "cure", ED, {}, at=AT + timedelta(days=1))
    assert replay(m, "drafted", [first, second.history_entry()]) == "cured"
