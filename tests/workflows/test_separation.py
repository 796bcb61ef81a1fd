"""The separation machine (V.E.12), walked for every state, role and side."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.workflows.people import EVERYONE, SIDE_WORDS
from workflows.engine import SYSTEM_ACTOR, Actor, TransitionRefused
from workflows.separation import SEPARATION

AT = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
RECORD_ONLY = "Only a lead agency HMIS admin may record the HMIS deactivation."


def test_declaration() -> None:
    assert (SEPARATION.name, SEPARATION.initial) == ("separation", "reported")
    assert [(s.name, s.terminal) for s in SEPARATION.states] == [
        ("reported", False),
        ("hmis_deactivated", True),
        ("no_hmis_account", True),
    ]
    assert SEPARATION.timers == ()
    record, close = SEPARATION.events
    assert (record.name, record.target, set(record.roles), set(record.sides)) == (
        "record_hmis_deactivation",
        "hmis_deactivated",
        {"ssf_admin"},
        {"lead"},
    )
    assert record.awaited and not SEPARATION.by_portal_only(record)
    assert SEPARATION.by_portal_only(close) and close.target == "no_hmis_account"


@pytest.mark.parametrize(("role", "side", "who"), EVERYONE)
def test_only_a_lead_admin_records_the_hmis_deactivation(role: str, side: str, who: Actor):
    if role != "ssf_admin":
        refusal = RECORD_ONLY
    elif side != "lead":
        refusal = (
            "Only the HMIS Lead Agency may record the HMIS deactivation; you are acting for "
            f"{SIDE_WORDS[side]}."
        )
    else:
        refusal = None
    if refusal is None:
        step = SEPARATION.fire("reported", "record_hmis_deactivation", who, {}, at=AT)
        assert step.target == "hmis_deactivated"
    else:
        with pytest.raises(TransitionRefused) as refused:
            SEPARATION.fire("reported", "record_hmis_deactivation", who, {}, at=AT)
        assert str(refused.value) == refusal


@pytest.mark.parametrize("state", ["hmis_deactivated", "no_hmis_account"])
def test_a_closed_separation_takes_no_step(state: str) -> None:
    admin = Actor(user_id=1, roles=frozenset({"ssf_admin"}), side="lead", agency_id=None)
    assert SEPARATION.options(state, admin, {}) == []
    with pytest.raises(TransitionRefused, match="is not possible while"):
        SEPARATION.fire(state, "record_hmis_deactivation", admin, {}, at=AT)


def test_only_the_portal_closes_a_case_without_hmis_account() -> None:
    step = SEPARATION.fire("reported", "close_no_hmis_account", SYSTEM_ACTOR, {}, at=AT)
    assert step.target == "no_hmis_account"
    admin = Actor(user_id=1, roles=frozenset({"ssf_admin"}), side="lead", agency_id=None)
    with pytest.raises(TransitionRefused, match="not a step a person takes"):
        SEPARATION.fire("reported", "close_no_hmis_account", admin, {}, at=AT)


def test_the_case_waits_on_the_lead_agency() -> None:
    ed = Actor(user_id=2, roles=frozenset({"agency_ed"}), side="agency", agency_id=7)
    assert SEPARATION.waiting_for("reported", ed, {}) == (
        "Waiting for a lead agency HMIS admin to record the HMIS deactivation."
    )
