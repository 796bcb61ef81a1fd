"""The amendment machine, walked pair by pair: every state × event × role, guards, reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.workflows.people import portal_only
from workflows.amendment import AMENDMENT
from workflows.engine import SYSTEM_ACTOR, Actor, Timer, TransitionRefused

AT = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
OPEN = ("proposed", "draft", "sent", "agency_signed")

# Written out by hand from the brief, so the tests do not echo the machine's own declaration:
# event → (sources, target, roles that may fire it, needs a reason).
AGENCY_PEOPLE = {"agency_ed", "agency_security_officer", "agency_user"}
EVENTS = {
    "accept_proposal": ({"proposed"}, "draft", {"ssf_admin"}, False),
    "decline_proposal": ({"proposed"}, "proposal_declined", {"ssf_admin"}, True),
    "send": ({"draft"}, "sent", {"ssf_admin"}, False),
    "agency_signs": ({"sent"}, "agency_signed", AGENCY_PEOPLE, False),
    "agency_declines": ({"sent"}, "declined", AGENCY_PEOPLE, True),
    "lead_countersigns": ({"agency_signed"}, "effective", {"ssf_signatory"}, False),
    "lead_declines": ({"agency_signed"}, "declined", {"ssf_signatory", "ssf_admin"}, True),
    "void": ({"draft", "sent", "agency_signed"}, "voided", {"ssf_admin"}, True),
    "resend": ({"sent"}, "sent", {"ssf_admin"}, False),
    "expire": ({"sent"}, "expired", {"system"}, False),
    "agreement_ended": (set(OPEN), "closed", {"system"}, False),
}
STATE_LABELS = {
    "proposed": "Proposed by the agency",
    "proposal_declined": "Proposal declined",
    "draft": "Draft",
    "sent": "Awaiting the executive director's signature",
    "agency_signed": "Awaiting the lead agency's countersignature",
    "effective": "In effect",
    "declined": "Declined",
    "voided": "Voided by the lead agency",
    "expired": "Expired unsigned",
    "closed": "Closed: the agreement ended",
}
SIDE_OF = {
    "ssf_admin": "lead",
    "ssf_signatory": "lead",
    "auditor": "lead",
    "agency_ed": "agency",
    "agency_security_officer": "agency",
    "agency_user": "agency",
    "system": "system",
}
GOOD = {"agreement_in_effect": True, "actor_is_authorized_signer": True, "esign_consent": True}
SIGNER_REASON = (
    "Only the agency's registered executive director or a representative the lead agency "
    "has designated may sign."
)
EXPIRY = Timer("sent", "expire", "amendment_signature")


def actor(role: str) -> Actor:
    side = SIDE_OF[role]
    return Actor(
        user_id=None if role == "system" else 1,
        roles=frozenset({role}),
        side=side,
        agency_id=7 if side == "agency" else None,
    )


def test_declaration_matches_the_brief() -> None:
    assert AMENDMENT.name == "amendment"
    assert AMENDMENT.label == "Amendment to the HMIS Partner Agency Agreement"
    assert {s.name: s.label for s in AMENDMENT.states} == STATE_LABELS
    assert {s.name for s in AMENDMENT.states if not s.terminal} == set(OPEN)
    # An agency's proposal starts the machine; a lead agency's draft starts in "draft".
    assert AMENDMENT.initial == "proposed"
    assert [e.name for e in AMENDMENT.events] == list(EVENTS)
    for e in AMENDMENT.events:
        sources, target, _roles, reason = EVENTS[e.name]
        assert (set(e.sources), e.target, e.requires_reason) == (sources, target, reason)
    assert AMENDMENT.timers == (EXPIRY,)
    # Ways out are not what the case waits for.
    not_awaited = {e.name for e in AMENDMENT.events if not e.awaited}
    assert not_awaited == {"lead_declines", "void", "resend"}


@pytest.mark.parametrize("role", list(SIDE_OF))
@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("state", list(STATE_LABELS))
def test_every_state_event_and_role(state: str, event: str, role: str) -> None:
    sources, target, roles, needs_reason = EVENTS[event]
    reason = "A reason given in writing." if needs_reason else None
    fire = lambda: AMENDMENT.fire(state, event, actor(role), GOOD, at=AT, reason=reason)  # noqa: E731
    if state not in sources:
        with pytest.raises(TransitionRefused, match="is not possible while the Amendment"):
            fire()
    elif role not in roles:
        with pytest.raises(TransitionRefused) as refused:
            fire()
        if roles == {"system"}:
            assert str(refused.value) == portal_only(AMENDMENT.event(event).label)
        else:
            assert str(refused.value).startswith("Only ")
    else:
        step = fire()
        assert (step.source, step.target, step.reason) == (state, target, reason)
        assert step.start_timers == ((EXPIRY,) if target == "sent" else ())
        assert step.cancel_timers_for_state == ("sent" if state == "sent" else None)


@pytest.mark.parametrize(
    ("state", "event", "facts", "reason"),
    [
        ("draft", "send", {"agreement_in_effect": False}, "Only an agreement in effect"),
        ("draft", "send", {"agreement_in_effect": None}, "Only an agreement in effect"),
        ("sent", "agency_signs", {"actor_is_authorized_signer": False}, SIGNER_REASON),
        ("sent", "agency_signs", {"esign_consent": False}, "consent to do business"),
        ("sent", "agency_declines", {"actor_is_authorized_signer": False}, SIGNER_REASON),
    ],
)
def test_guards(state: str, event: str, facts: dict[str, object], reason: str) -> None:
    role = "ssf_admin" if event == "send" else "agency_user"
    with pytest.raises(TransitionRefused, match=reason):
        AMENDMENT.fire(state, event, actor(role), {**GOOD, **facts}, at=AT, reason="No.")


@pytest.mark.parametrize(
    ("state", "event", "role"),
    [
        ("proposed", "decline_proposal", "ssf_admin"),
        ("sent", "agency_declines", "agency_ed"),
        ("agency_signed", "lead_declines", "ssf_signatory"),
        ("sent", "void", "ssf_admin"),
    ],
)
def test_declining_and_voiding_need_a_reason(state: str, event: str, role: str) -> None:
    with pytest.raises(TransitionRefused, match="Give a reason"):
        AMENDMENT.fire(state, event, actor(role), GOOD, at=AT, reason="  ")


def test_who_the_case_waits_for() -> None:
    # The agency's signer sees the lead agency's countersignature awaited, not its way out.
    line = AMENDMENT.waiting_for("agency_signed", actor("agency_ed"), GOOD)
    assert line is not None and "countersign the amendment" in line and "decline" not in line
    line = AMENDMENT.waiting_for("sent", actor("ssf_admin"), GOOD)
    assert line is not None and "sign the amendment" in line


def test_the_agreement_ending_closes_every_open_amendment_by_itself() -> None:
    for state in OPEN:
        step = AMENDMENT.fire(state, "agreement_ended", SYSTEM_ACTOR, {}, at=AT)
        assert step.target == "closed"
    assert AMENDMENT.options("closed", actor("ssf_admin"), GOOD) == []
