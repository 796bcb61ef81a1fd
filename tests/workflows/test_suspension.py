"""The suspension of HMIS access (IV.B.1, VIII.B.3), walked pair by pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.workflows.people import EVERYONE, SIDE_WORDS
from workflows.engine import Actor, TransitionRefused
from workflows.suspension import SUSPENSION

AT = datetime(2026, 7, 6, 16, 0, tzinfo=UTC)
LIFT_ONLY = "Only a lead agency HMIS admin may lift the suspension."


def actor(role: str, side: str) -> Actor:
    return Actor(
        user_id=None if role == "system" else 1,
        roles=frozenset({role}),
        side=side,
        agency_id=7 if side == "agency" else None,
    )


def test_declaration_matches_the_brief() -> None:
    assert SUSPENSION.name == "suspension"
    assert SUSPENSION.initial == "suspended"
    assert [(s.name, s.terminal) for s in SUSPENSION.states] == [
        ("suspended", False),
        ("lifted", True),
    ]
    [lift] = SUSPENSION.events
    assert (lift.name, lift.sources, lift.target) == ("lift", ("suspended",), "lifted")
    assert (set(lift.roles), set(lift.sides), lift.requires_reason) == (
        {"ssf_admin"},
        {"lead"},
        True,
    )
    # Nothing lifts a suspension by itself.
    assert SUSPENSION.timers == ()


@pytest.mark.parametrize(("role", "side", "who"), EVERYONE)
@pytest.mark.parametrize("state", ["suspended", "lifted"])
def test_every_state_role_and_side(state: str, role: str, side: str, who: Actor) -> None:
    if state == "lifted":
        refusal = (
            "“Lift the suspension” is not possible while the Suspension of HMIS Access is "
            "“Suspension lifted”."
        )
    elif role != "ssf_admin":
        refusal = LIFT_ONLY
    elif side != "lead":
        refusal = (
            "Only the HMIS Lead Agency may lift the suspension; you are acting for "
            f"{SIDE_WORDS[side]}."
        )
    else:
        refusal = None
    if refusal is None:
        step = SUSPENSION.fire(state, "lift", who, {}, at=AT, reason="Investigation closed.")
        assert (step.target, step.reason, step.start_timers) == (
            "lifted",
            "Investigation closed.",
            (),
        )
    else:
        with pytest.raises(TransitionRefused) as refused:
            SUSPENSION.fire(state, "lift", who, {}, at=AT, reason="Investigation closed.")
        assert str(refused.value) == refusal
    options = SUSPENSION.options(state, who, {})
    if state == "lifted":
        assert options == []
    else:
        [option] = options
        assert (option.event, option.allowed, option.reason) == ("lift", refusal is None, refusal)


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_lifting_needs_a_reason(blank: str | None) -> None:
    with pytest.raises(TransitionRefused) as refused:
        SUSPENSION.fire("suspended", "lift", actor("ssf_admin", "lead"), {}, at=AT, reason=blank)
    assert str(refused.value) == "Give a reason to lift the suspension."


def test_a_lift_ends_the_suspension_and_a_second_lift_is_refused() -> None:
    admin = actor("ssf_admin", "lead")
    step = SUSPENSION.fire("suspended", "lift", admin, {}, at=AT, reason="Cleared.")
    assert (step.source, step.target, step.actor) == ("suspended", "lifted", admin)
    with pytest.raises(TransitionRefused, match="is not possible while") as refused:
        SUSPENSION.fire(step.target, "lift", admin, {}, at=AT + timedelta(hours=1), reason="Again.")
    assert str(refused.value) == (
        "“Lift the suspension” is not possible while the Suspension of HMIS Access is "
        "“Suspension lifted”."
    )


def test_the_declared_roles_and_sides() -> None:
    assert dict(SUSPENSION.roles) == {"ssf_admin": "a lead agency HMIS admin"}
    assert dict(SUSPENSION.sides) == {
        "lead": "the HMIS Lead Agency",
        "agency": "the partner agency",
    }
    assert not any(SUSPENSION.by_portal_only(e) for e in SUSPENSION.events)
