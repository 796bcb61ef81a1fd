"""The access request and the new user's onboarding, walked step by step."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workflows.access_request import ACCESS_REQUEST
from workflows.engine import Actor, TransitionRefused
from workflows.onboarding import ONBOARDING

AT = datetime(2027, 2, 1, 17, 0, tzinfo=UTC)


def actor(role: str, side: str = "agency") -> Actor:
    return Actor(
        user_id=None if role == "system" else 1,
        roles=frozenset({role}),
        side=side,
        agency_id=7 if side == "agency" else None,
    )


NEW_USER = actor("agency_user")
ED = actor("agency_ed")
OFFICER = actor("agency_security_officer")
ADMIN = actor("ssf_admin", "lead")
SYSTEM = actor("system", "system")
AS_NEW_USER = {"actor_is_new_user": True, "esign_consent": True}
AS_MANAGER = {"actor_is_new_user": False, "esign_consent": True}


def walk(steps) -> str:
    state = ONBOARDING.initial
    for event, who, ctx in steps:
        state = ONBOARDING.fire(state, event, who, ctx, at=AT).target
    return state


def test_the_whole_path_to_complete() -> None:
    state = walk(
        [
            ("accept_invitation", NEW_USER, AS_NEW_USER),
            ("user_signs", NEW_USER, AS_NEW_USER),
            ("agency_approves", OFFICER, AS_MANAGER),
            ("training_completed", SYSTEM, {}),
        ]
    )
    assert state == "complete" and ONBOARDING.state(state).terminal


def test_a_person_cannot_approve_their_own_user_agreement() -> None:
    state = walk(
        [
            ("accept_invitation", NEW_USER, AS_NEW_USER),
            ("user_signs", OFFICER, {"actor_is_new_user": True, "esign_consent": True}),
        ]
    )
    with pytest.raises(TransitionRefused, match="own user agreement"):
        ONBOARDING.fire(state, "agency_approves", OFFICER, AS_NEW_USER, at=AT)


def test_only_the_new_user_signs_and_consent_is_required() -> None:
    state = walk([("accept_invitation", NEW_USER, AS_NEW_USER)])
    with pytest.raises(TransitionRefused, match="Only the new user"):
        ONBOARDING.fire(state, "user_signs", ED, AS_MANAGER, at=AT)
    with pytest.raises(TransitionRefused, match="consent"):
        ONBOARDING.fire(state, "user_signs", NEW_USER, {"actor_is_new_user": True}, at=AT)


def test_an_hmis_user_cannot_approve_and_no_person_completes_training() -> None:
    state = walk(
        [("accept_invitation", NEW_USER, AS_NEW_USER), ("user_signs", NEW_USER, AS_NEW_USER)]
    )
    with pytest.raises(TransitionRefused):
        ONBOARDING.fire(state, "agency_approves", actor("agency_user"), AS_MANAGER, at=AT)
    state = ONBOARDING.fire(state, "agency_approves", ED, AS_MANAGER, at=AT).target
    for person in (NEW_USER, ED, ADMIN):
        with pytest.raises(TransitionRefused):
            ONBOARDING.fire(state, "training_completed", person, {}, at=AT)


def test_timers_expire_the_invitation_the_request_to_sign_and_the_training_window() -> None:
    assert [(t.state, t.event) for t in ONBOARDING.timers] == [
        ("invited", "invitation_expires"),
        ("signing", "signature_expires"),
        ("training", "training_window_ends"),
    ]
    state = ONBOARDING.fire("invited", "invitation_expires", SYSTEM, {}, at=AT).target
    assert ONBOARDING.fire(state, "reinvite", OFFICER, {}, at=AT).target == "invited"
    overdue = ONBOARDING.fire("training", "training_window_ends", SYSTEM, {}, at=AT).target
    with pytest.raises(TransitionRefused):
        ONBOARDING.fire(overdue, "reopen_training", ED, {}, at=AT, reason="please")
    assert (
        ONBOARDING.fire(overdue, "reopen_training", ADMIN, {}, at=AT, reason="Sick leave").target
        == "training"
    )


def test_an_expired_request_to_sign_gets_a_new_link_from_the_agency_or_the_lead() -> None:
    expired = ONBOARDING.fire("signing", "signature_expires", SYSTEM, {}, at=AT).target
    assert expired == "signature_expired" and not ONBOARDING.state(expired).terminal
    for sender in (ED, OFFICER, ADMIN):
        step = ONBOARDING.fire(expired, "resend_user_agreement", sender, {}, at=AT)
        assert step.target == "signing"
    assert ONBOARDING.fire("signing", "resend_user_agreement", ADMIN, {}, at=AT).target == (
        "signing"
    )
    for person in (NEW_USER, SYSTEM):
        with pytest.raises(TransitionRefused):
            ONBOARDING.fire(expired, "resend_user_agreement", person, {}, at=AT)
    with pytest.raises(TransitionRefused):
        ONBOARDING.fire("signing", "signature_expires", ADMIN, {}, at=AT)


def test_every_open_onboarding_closes_when_its_request_ends() -> None:
    for state in ONBOARDING.states:
        if not state.terminal:
            assert (
                ONBOARDING.fire(state.name, "request_ended", SYSTEM, {}, at=AT).target == "closed"
            )


def test_issuing_needs_the_gates_and_an_admin() -> None:
    with pytest.raises(TransitionRefused, match="IV.B.4"):
        ACCESS_REQUEST.fire("in_progress", "issue", ADMIN, {"gates_met": False}, at=AT)
    with pytest.raises(TransitionRefused):
        ACCESS_REQUEST.fire("in_progress", "issue", ED, {"gates_met": True}, at=AT)
    assert ACCESS_REQUEST.fire(
        "in_progress", "issue", ADMIN, {"gates_met": True}, at=AT
    ).target == ("issued")
    with pytest.raises(TransitionRefused):
        ACCESS_REQUEST.fire("in_progress", "withdraw", NEW_USER, {}, at=AT, reason="x")
    assert (
        ACCESS_REQUEST.fire("in_progress", "withdraw", OFFICER, {}, at=AT, reason="Left").target
        == "withdrawn"
    )
