"""The notice of termination for convenience (VIII.B.1), walked pair by pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows.engine import (
    ROLES,
    SIDES,
    SYSTEM_ACTOR,
    Actor,
    HistoryEntry,
    InvalidHistory,
    Timer,
    TransitionRefused,
    replay,
)
from workflows.termination_notice import TERMINATION_NOTICE

AT = datetime(2026, 5, 29, 23, 30, tzinfo=UTC)
TIMER = Timer("notice_period", "notice_elapsed", "termination_notice")

# Written out by hand from the brief, so the tests do not echo the machine's own declaration.
STATES = ["notice_period", "rescinded", "effective"]
STATE_LABELS = {
    "notice_period": "Notice period running",
    "rescinded": "Notice rescinded",
    "effective": "Termination effective",
}
SOURCES = {"rescind": {"notice_period"}, "notice_elapsed": {"notice_period"}}
TARGET = {"rescind": "rescinded", "notice_elapsed": "effective"}
PARTY_ROLES = {"ssf_admin", "ssf_signatory", "agency_ed", "agency_security_officer", "agency_user"}
RESCIND_ONLY = "Only the party that gave the notice may rescind the notice."
ELAPSE_ONLY = "Only the portal's scheduler may end the notice period."
WHO = {
    "rescind": (PARTY_ROLES, {"lead", "agency"}, RESCIND_ONLY),
    "notice_elapsed": ({"system"}, {"system"}, ELAPSE_ONLY),
}
SIDE_WORDS = {
    "lead": "the HMIS Lead Agency (SSF)",
    "agency": "the partner agency",
    "system": "the portal's scheduler",
}
EVERYONE = [(role, side) for role in sorted(ROLES) for side in sorted(SIDES)]


def actor(role: str, side: str) -> Actor:
    return Actor(
        user_id=None if role == "system" else 1,
        roles=frozenset({role}),
        side=side,
        agency_id=7 if side == "agency" else None,
    )


def expected_refusal(state: str, event: str, role: str, side: str, issuer: bool) -> str | None:
    if state not in SOURCES[event]:
        label = TERMINATION_NOTICE.event(event).label
        return (
            f"“{label}” is not possible while the Notice of Termination is “{STATE_LABELS[state]}”."
        )
    roles, sides, only = WHO[event]
    if role not in roles:
        return only
    if side not in sides:
        return f"{only[:-1]}; you are acting for {SIDE_WORDS[side]}."
    if event == "rescind" and not issuer:
        return RESCIND_ONLY
    return None


def test_declaration_matches_the_brief() -> None:
    assert TERMINATION_NOTICE.name == "termination_notice"
    assert TERMINATION_NOTICE.initial == "notice_period"
    assert [s.name for s in TERMINATION_NOTICE.states] == STATES
    assert {s.name for s in TERMINATION_NOTICE.states if s.terminal} == {"rescinded", "effective"}
    assert {s: TERMINATION_NOTICE.state(s).label for s in STATES} == STATE_LABELS
    assert [e.name for e in TERMINATION_NOTICE.events] == list(SOURCES)
    for e in TERMINATION_NOTICE.events:
        assert set(e.sources) == SOURCES[e.name] and e.target == TARGET[e.name]
        assert e.requires_reason == (e.name == "rescind")
        assert (set(e.roles), set(e.sides)) == WHO[e.name][:2]


def test_timer_runs_during_the_notice_period() -> None:
    assert TERMINATION_NOTICE.timers == (TIMER,)
    assert TERMINATION_NOTICE.timers_for("notice_period") == (TIMER,)
    assert TERMINATION_NOTICE.timers_for("rescinded") == ()
    assert TERMINATION_NOTICE.timers_for("effective") == ()


@pytest.mark.parametrize("event", list(SOURCES))
@pytest.mark.parametrize("state", STATES)
def test_every_state_event_role_side_and_party(state: str, event: str) -> None:
    reason = "We will keep the agreement." if event == "rescind" else None
    for role, side in EVERYONE:
        for issuer in (True, False):
            who, ctx = actor(role, side), {"actor_acts_for_issuer": issuer}
            refusal = expected_refusal(state, event, role, side, issuer)
            if refusal is not None:
                with pytest.raises(TransitionRefused) as refused:
                    TERMINATION_NOTICE.fire(state, event, who, ctx, at=AT, reason=reason)
                assert str(refused.value) == refusal, (role, side, issuer)
                continue
            step = TERMINATION_NOTICE.fire(state, event, who, ctx, at=AT, reason=reason)
            assert (step.source, step.target, step.reason) == (state, TARGET[event], reason)
            assert step.start_timers == () and step.cancel_timers_for_state == "notice_period"


@pytest.mark.parametrize("state", STATES)
def test_options_list_every_event_leaving_with_why(state: str) -> None:
    for role, side in EVERYONE:
        for issuer in (True, False):
            ctx = {"actor_acts_for_issuer": issuer}
            options = TERMINATION_NOTICE.options(state, actor(role, side), ctx)
            assert [o.event for o in options] == [e for e in SOURCES if state in SOURCES[e]]
            for o in options:
                refusal = expected_refusal(state, o.event, role, side, issuer)
                assert (o.allowed, o.reason) == (refusal is None, refusal), (role, side, o)


@pytest.mark.parametrize("ctx", [{}, {"actor_acts_for_issuer": 1}, {"actor_acts_for_issuer": "y"}])
def test_missing_or_loose_issuer_fact_fails_closed(ctx: dict[str, object]) -> None:
    ed = actor("agency_ed", "agency")
    with pytest.raises(TransitionRefused) as refused:
        TERMINATION_NOTICE.fire("notice_period", "rescind", ed, ctx, at=AT, reason="Changed.")
    assert str(refused.value) == RESCIND_ONLY


@pytest.mark.parametrize("blank", [None, "", " \t"])
def test_rescinding_needs_a_reason(blank: str | None) -> None:
    ed, ctx = actor("agency_ed", "agency"), {"actor_acts_for_issuer": True}
    with pytest.raises(TransitionRefused) as refused:
        TERMINATION_NOTICE.fire("notice_period", "rescind", ed, ctx, at=AT, reason=blank)
    assert str(refused.value) == "Give a reason to rescind the notice."


def test_notice_given_then_effective_replays() -> None:
    step = TERMINATION_NOTICE.fire(
        "notice_period", "notice_elapsed", SYSTEM_ACTOR, {}, at=AT + timedelta(days=31)
    )
    assert replay(TERMINATION_NOTICE, "notice_period", [step.history_entry()]) == "effective"


def test_replay_refuses_a_rescission_after_the_notice_took_effect() -> None:
    ssf = actor("ssf_signatory", "lead")
    entries = [
        HistoryEntry("notice_elapsed", "notice_period", "effective", AT, None, SYSTEM_ACTOR),
        HistoryEntry("rescind", "effective", "rescinded", AT, "Too late.", ssf),
    ]
    with pytest.raises(InvalidHistory, match="is not possible while"):
        replay(TERMINATION_NOTICE, "notice_period", entries)
    by_person = [HistoryEntry("notice_elapsed", "notice_period", "effective", AT, None, ssf)]
    with pytest.raises(InvalidHistory, match="scheduler"):
        replay(TERMINATION_NOTICE, "notice_period", by_person)
