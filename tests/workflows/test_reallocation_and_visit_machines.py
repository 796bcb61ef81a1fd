"""The reallocation and site visit machines, walked without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workflows.engine import SYSTEM_ACTOR, Actor, TransitionRefused
from workflows.reallocation import REALLOCATION
from workflows.site_visit import SITE_VISIT

AT = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
ADMIN = Actor(1, frozenset({"ssf_admin"}), "lead")
A_ED = Actor(2, frozenset({"agency_ed"}), "agency", 10)
B_SO = Actor(3, frozenset({"agency_security_officer"}), "agency", 20)
A = {"acting_for_releasing": True, "acting_for_acquiring": False, "esign_consent": True}
B = {"acting_for_releasing": False, "acting_for_acquiring": True, "esign_consent": True}


def _walk(machine, state, steps):
    for event, actor, ctx in steps:
        state = machine.fire(state, event, actor, ctx, at=AT).target
    return state


def test_a_reallocation_from_hand_over_to_the_signed_receipt():
    step = REALLOCATION.fire("handover", "record_delivery", A_ED, A, at=AT)
    assert step.cancel_timers_for_state == "handover"
    state = _walk(
        REALLOCATION,
        step.target,
        [
            ("confirm_receipt", B_SO, B),
            ("releasing_signs", A_ED, A),
            ("acquiring_signs", B_SO, B),
        ],
    )
    assert state == "complete" and REALLOCATION.state(state).terminal


def test_the_hand_over_times_out_to_overdue_and_can_still_be_delivered():
    [timer] = REALLOCATION.timers_for("handover")
    assert (timer.event, timer.rule_name) == ("handover_overdue", "handover")
    state = _walk(REALLOCATION, "handover", [("handover_overdue", SYSTEM_ACTOR, {})])
    assert state == "overdue"
    assert REALLOCATION.fire(state, "record_delivery", A_ED, A, at=AT).target == "delivered"


def test_each_agency_takes_only_its_own_steps():
    with pytest.raises(TransitionRefused, match="releasing agency"):
        REALLOCATION.fire("handover", "record_delivery", B_SO, B, at=AT)
    with pytest.raises(TransitionRefused, match="acquiring agency"):
        REALLOCATION.fire("delivered", "confirm_receipt", A_ED, A, at=AT)
    with pytest.raises(TransitionRefused, match="acquiring agency"):
        REALLOCATION.fire("acquiring_signs", "acquiring_signs", A_ED, A, at=AT)
    with pytest.raises(TransitionRefused, match="by itself"):
        REALLOCATION.fire("handover", "handover_overdue", ADMIN, {}, at=AT)
    line = REALLOCATION.waiting_for("delivered", A_ED, A)
    assert line and "acquiring agency" in line


def test_the_lead_agency_cancels_with_a_reason_only():
    with pytest.raises(TransitionRefused, match="reason"):
        REALLOCATION.fire("overdue", "cancel", ADMIN, {}, at=AT)
    assert REALLOCATION.fire("overdue", "cancel", ADMIN, {}, at=AT, reason="x").target == (
        "cancelled"
    )


def test_a_site_visit_is_scheduled_visited_and_closed():
    state = _walk(
        SITE_VISIT,
        SITE_VISIT.initial,
        [("reschedule", ADMIN, {}), ("record_visit", ADMIN, {}), ("close", ADMIN, {})],
    )
    assert state == "closed"
    with pytest.raises(TransitionRefused):
        SITE_VISIT.fire("scheduled", "record_visit", A_ED, {}, at=AT)
    assert SITE_VISIT.fire("findings", "agency_closed", SYSTEM_ACTOR, {}, at=AT).target == (
        "cancelled"
    )
