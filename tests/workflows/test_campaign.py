"""The re-signing campaign's machine: who may close it, what the portal does by itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.workflows.people import EVERYONE
from workflows.campaign import CAMPAIGN
from workflows.engine import SYSTEM_ACTOR, Actor, TransitionRefused

AT = datetime(2026, 8, 3, 16, 0, tzinfo=UTC)
ADMIN = Actor(user_id=1, roles=frozenset({"ssf_admin"}), side="lead")


def test_declaration() -> None:
    assert (CAMPAIGN.name, CAMPAIGN.label, CAMPAIGN.initial) == (
        "campaign",
        "Re-signing campaign",
        "open",
    )
    assert [(s.name, s.terminal) for s in CAMPAIGN.states] == [
        ("open", False),
        ("past_deadline", False),
        ("completed", True),
        ("closed", True),
    ]
    assert CAMPAIGN.state("closed").label == "Closed"
    [timer] = CAMPAIGN.timers
    assert (timer.state, timer.event, timer.rule_name) == (
        "open",
        "deadline_passes",
        "campaign_deadline",
    )


@pytest.mark.parametrize(("role", "side", "who"), EVERYONE)
def test_only_the_lead_agencys_admin_closes_it(role: str, side: str, who: Actor) -> None:
    [close] = [o for o in CAMPAIGN.options("open", who, {}) if o.event == "close"]
    assert close.allowed == (role == "ssf_admin" and side == "lead"), close.reason


def test_closing_needs_a_reason_and_ends_the_campaign() -> None:
    with pytest.raises(TransitionRefused):
        CAMPAIGN.fire("open", "close", ADMIN, {}, at=AT, reason="")
    step = CAMPAIGN.fire("past_deadline", "close", ADMIN, {}, at=AT, reason="New version due")
    assert step.target == "closed"
    assert CAMPAIGN.events_from("closed") == []


@pytest.mark.parametrize("event", ["deadline_passes", "complete"])
def test_the_portal_alone_ends_the_signing_period_and_completes(event: str) -> None:
    refused = CAMPAIGN.blocker(CAMPAIGN.event(event), ADMIN, {})
    assert refused is not None and "the portal does it by itself" in refused
    assert CAMPAIGN.fire("open", event, SYSTEM_ACTOR, {}, at=AT).target in {
        "past_deadline",
        "completed",
    }


def test_after_the_deadline_the_campaign_completes_but_cannot_pass_it_again() -> None:
    assert CAMPAIGN.fire("past_deadline", "complete", SYSTEM_ACTOR, {}, at=AT).target == (
        "completed"
    )
    with pytest.raises(TransitionRefused):
        CAMPAIGN.fire("past_deadline", "deadline_passes", SYSTEM_ACTOR, {}, at=AT)


def test_the_page_waits_for_nobody_while_it_is_open() -> None:
    # Closing is a way out, not a step the campaign waits for; the rest is the portal's.
    assert CAMPAIGN.waiting_for("open", ADMIN, {}) is None
