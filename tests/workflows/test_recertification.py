"""The yearly recertification and the security self-assessment machines, walked step by step."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workflows.engine import Actor, TransitionRefused
from workflows.recertification import RECERTIFICATION
from workflows.self_assessment import SELF_ASSESSMENT

AT = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)


def actor(role: str, side: str = "agency") -> Actor:
    return Actor(
        user_id=None if role == "system" else 1,
        roles=frozenset({role}),
        side=side,
        agency_id=7 if side == "agency" else None,
    )


USER = actor("agency_user")
ED = actor("agency_ed")
OFFICER = actor("agency_security_officer")
ADMIN = actor("ssf_admin", "lead")
SYSTEM = actor("system", "system")


def facts(**given: bool) -> dict[str, bool]:
    base = {
        "actor_is_user": False,
        "esign_consent": True,
        "awaiting_signature": False,
        "awaiting_approval": False,
        "both_renewed": False,
    }
    return {**base, **given}


def fire(state: str, event: str, who: Actor, ctx: dict) -> str:
    return RECERTIFICATION.fire(state, event, who, ctx, at=AT).target


def test_renewing_before_the_lapse_completes() -> None:
    state = RECERTIFICATION.initial
    assert state == "open"
    state = fire(state, "user_signs", USER, facts(actor_is_user=True, awaiting_signature=True))
    assert state == "open"
    state = fire(state, "agency_approves", ED, facts(awaiting_approval=True))
    assert state == "open"
    state = fire(state, "renewal_complete", SYSTEM, facts(both_renewed=True))
    assert state == "renewed" and RECERTIFICATION.state(state).terminal


def test_a_lapse_then_renewal_restores() -> None:
    state = fire("open", "lapses", SYSTEM, {})
    assert state == "lapsed"
    state = fire(
        state, "user_signs_after_lapse", USER, facts(actor_is_user=True, awaiting_signature=True)
    )
    state = fire(state, "agency_approves_after_lapse", OFFICER, facts(awaiting_approval=True))
    assert state == "lapsed"
    assert fire(state, "renewal_complete", SYSTEM, facts(both_renewed=True)) == "renewed"


def test_the_lapse_timer_is_on_the_open_state_only() -> None:
    [timer] = RECERTIFICATION.timers
    assert (timer.state, timer.event, timer.rule_name) == (
        "open",
        "lapses",
        "recertification_lapse",
    )
    assert RECERTIFICATION.timers_for("lapsed") == ()


@pytest.mark.parametrize(
    ("event", "who", "ctx", "reason"),
    [
        ("user_signs", ED, facts(awaiting_signature=True), "Only the HMIS user"),
        ("agency_approves", USER, facts(actor_is_user=True, awaiting_approval=True), "Only"),
        ("agency_approves", ED, facts(awaiting_approval=False), "signed by the user"),
        ("user_signs", USER, facts(actor_is_user=True, awaiting_signature=False), "not waiting"),
        ("renewal_complete", SYSTEM, facts(), "Both the renewed"),
        ("lapses", ADMIN, {}, "portal does it by itself"),
        ("close", ED, {}, "Only a lead agency HMIS admin"),
    ],
)
def test_refusals_say_why(event, who, ctx, reason) -> None:
    with pytest.raises(TransitionRefused, match=reason):
        fire("open", event, who, ctx)


def test_an_officer_cannot_approve_their_own_renewal() -> None:
    with pytest.raises(TransitionRefused, match="cannot approve their own"):
        fire("open", "agency_approves", OFFICER, facts(actor_is_user=True, awaiting_approval=True))


def test_closing_needs_a_reason_and_ends_the_case() -> None:
    with pytest.raises(TransitionRefused, match="Give a reason"):
        fire("lapsed", "close", ADMIN, {})
    step = RECERTIFICATION.fire("lapsed", "close", ADMIN, {}, at=AT, reason="Left the agency")
    assert step.target == "closed" and RECERTIFICATION.state("closed").terminal


def test_nothing_leaves_a_renewed_recertification() -> None:
    with pytest.raises(TransitionRefused, match="not possible"):
        fire("renewed", "lapses", SYSTEM, {})


def test_the_self_assessment_is_signed_by_the_officer_with_every_answer() -> None:
    ok = {"actor_is_officer": True, "answers_complete": True, "esign_consent": True}
    step = SELF_ASSESSMENT.fire("draft", "officer_signs", OFFICER, ok, at=AT)
    assert step.target == "signed" and SELF_ASSESSMENT.state("signed").terminal
    with pytest.raises(TransitionRefused, match="Only the agency's security officer"):
        SELF_ASSESSMENT.fire("draft", "officer_signs", ED, {**ok, "actor_is_officer": False}, at=AT)
    with pytest.raises(TransitionRefused, match="Answer every question"):
        SELF_ASSESSMENT.fire(
            "draft", "officer_signs", OFFICER, {**ok, "answers_complete": False}, at=AT
        )
    with pytest.raises(TransitionRefused, match="Only the agency's security officer"):
        SELF_ASSESSMENT.fire("draft", "officer_signs", ADMIN, ok, at=AT)
