"""The notice of termination for convenience (VIII.B.1), walked pair by pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.workflows.people import EVERYONE, SIDE_WORDS, portal_only
from workflows.default_notice import AGREEMENT_ENDED
from workflows.engine import SYSTEM_ACTOR, Actor, Timer, TransitionRefused
from workflows.termination_notice import TERMINATION_NOTICE

AT = datetime(2026, 5, 29, 23, 30, tzinfo=UTC)
TIMER = Timer("notice_period", "notice_elapsed", "termination_notice")

# Written out by hand from the brief, so the tests do not echo the machine's own declaration.
STATES = ["notice_period", "rescinded", "effective", "agreement_ended"]
TERMINAL = {"rescinded", "effective", "agreement_ended"}
STATE_LABELS = {
    "notice_period": "Notice period running",
    "rescinded": "Notice rescinded",
    "effective": "Termination effective",
    "agreement_ended": "Closed — the agreement ended",
}
SOURCES = {
    "rescind": {"notice_period"},
    "notice_elapsed": {"notice_period"},
    "agreement_ended": {"notice_period"},
}
TARGET = {
    "rescind": "rescinded",
    "notice_elapsed": "effective",
    "agreement_ended": "agreement_ended",
}
PARTY_ROLES = {"ssf_admin", "ssf_signatory", "agency_ed", "agency_security_officer", "agency_user"}
RESCIND_ONLY = "Only the party that gave the notice may rescind the notice."
ELAPSE_ONLY = portal_only("End the notice period")
CLOSE_ONLY = portal_only("Close the notice: the agreement ended")
WHO = {
    "rescind": (PARTY_ROLES, {"lead", "agency"}, RESCIND_ONLY),
    "notice_elapsed": ({"system"}, {"system"}, ELAPSE_ONLY),
    "agreement_ended": ({"system"}, {"system"}, CLOSE_ONLY),
}
BY_PORTAL = {"notice_elapsed", "agreement_ended"}


def actor(role: str, side: str) -> Actor:
    return Actor(
        user_id=1,
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
    if event in BY_PORTAL:
        return None if (role, side) == ("system", "system") else only
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
    assert {s.name for s in TERMINATION_NOTICE.states if s.terminal} == TERMINAL
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
    assert TERMINATION_NOTICE.timers_for("agreement_ended") == ()


@pytest.mark.parametrize("event", list(SOURCES))
@pytest.mark.parametrize("state", STATES)
def test_every_state_event_role_side_and_party(state: str, event: str) -> None:
    reason = "We will keep the agreement." if event == "rescind" else None
    for role, side, who in EVERYONE:
        for issuer in (True, False):
            ctx = {"actor_acts_for_issuer": issuer}
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
    for role, side, who in EVERYONE:
        for issuer in (True, False):
            ctx = {"actor_acts_for_issuer": issuer}
            options = TERMINATION_NOTICE.options(state, who, ctx)
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


def test_notice_given_then_effective() -> None:
    step = TERMINATION_NOTICE.fire(
        "notice_period", "notice_elapsed", SYSTEM_ACTOR, {}, at=AT + timedelta(days=31)
    )
    assert (step.source, step.target, step.actor) == ("notice_period", "effective", SYSTEM_ACTOR)
    assert TERMINATION_NOTICE.state(step.target).terminal


def test_no_rescission_after_the_notice_took_effect_and_no_person_ends_the_period() -> None:
    ssf = actor("ssf_signatory", "lead")
    issuer = {"actor_acts_for_issuer": True}
    step = TERMINATION_NOTICE.fire("notice_period", "notice_elapsed", SYSTEM_ACTOR, {}, at=AT)
    with pytest.raises(TransitionRefused) as refused:
        TERMINATION_NOTICE.fire(step.target, "rescind", ssf, issuer, at=AT, reason="Too late.")
    assert str(refused.value) == (
        "“Rescind the notice” is not possible while the Notice of Termination is "
        "“Termination effective”."
    )
    with pytest.raises(TransitionRefused) as refused:
        TERMINATION_NOTICE.fire("notice_period", "notice_elapsed", ssf, issuer, at=AT)
    assert str(refused.value) == ELAPSE_ONLY
    assert "scheduler" not in str(refused.value) and "system" not in str(refused.value)


# -- the agreement ended another way ----------------------------------------------------------


def test_the_portal_closes_the_open_notice_when_the_agreement_ends() -> None:
    event = TERMINATION_NOTICE.event(AGREEMENT_ENDED)
    assert TERMINATION_NOTICE.by_portal_only(event)
    assert (event.sources, event.target) == (("notice_period",), AGREEMENT_ENDED)
    ended = TERMINATION_NOTICE.state(AGREEMENT_ENDED)
    assert (ended.label, ended.terminal) == ("Closed — the agreement ended", True)
    # The only state a notice of termination is open in has this way out.
    assert set(event.sources) == {s.name for s in TERMINATION_NOTICE.states if not s.terminal}
    step = TERMINATION_NOTICE.fire("notice_period", AGREEMENT_ENDED, SYSTEM_ACTOR, {}, at=AT)
    assert (step.target, step.actor, step.reason) == (AGREEMENT_ENDED, SYSTEM_ACTOR, None)
    # The notice period's timer ends with it.
    assert (step.cancel_timers_for_state, step.start_timers) == ("notice_period", ())


def test_no_person_closes_the_notice_for_the_portal() -> None:
    for role, _side, who in EVERYONE:
        if role == "system":
            continue
        for issuer in (True, False):
            with pytest.raises(TransitionRefused) as refused:
                TERMINATION_NOTICE.fire(
                    "notice_period",
                    AGREEMENT_ENDED,
                    who,
                    {"actor_acts_for_issuer": issuer},
                    at=AT,
                )
            assert str(refused.value) == (
                "“Close the notice: the agreement ended” is not a step a person takes: the "
                "portal does it by itself."
            )


def test_nothing_leaves_a_notice_closed_because_the_agreement_ended() -> None:
    assert TERMINATION_NOTICE.events_from(AGREEMENT_ENDED) == []
    for _role, _side, who in EVERYONE:
        assert (
            TERMINATION_NOTICE.options(AGREEMENT_ENDED, who, {"actor_acts_for_issuer": True}) == []
        )
    for event in SOURCES:
        with pytest.raises(TransitionRefused) as refused:
            TERMINATION_NOTICE.fire(AGREEMENT_ENDED, event, SYSTEM_ACTOR, {}, at=AT, reason="R.")
        assert str(refused.value).endswith(
            "is not possible while the Notice of Termination is “Closed — the agreement ended”."
        )
    for state in ("rescinded", "effective"):
        with pytest.raises(TransitionRefused, match="is not possible while"):
            TERMINATION_NOTICE.fire(state, AGREEMENT_ENDED, SYSTEM_ACTOR, {}, at=AT)
