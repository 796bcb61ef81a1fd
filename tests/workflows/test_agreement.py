"""The agreement machine, walked pair by pair: every state × event × role, guards, reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.workflows.people import PORTAL_WORDS, portal_only
from workflows.agreement import AGREEMENT
from workflows.engine import SYSTEM_ACTOR, Actor, Timer, TransitionRefused

AT = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)

# Written out by hand from the brief, so the tests do not echo the machine's own declaration.
SOURCES = {
    "send": {"draft"},
    "agency_signs": {"sent"},
    "agency_declines": {"sent"},
    "lead_countersigns": {"agency_signed"},
    "void": {"draft", "sent", "agency_signed"},
    "resend": {"sent"},
    "expire": {"sent"},
    "supersede": {"effective"},
    "terminate": {"effective"},
}
TARGET = {
    "send": "sent",
    "agency_signs": "agency_signed",
    "agency_declines": "declined",
    "lead_countersigns": "effective",
    "void": "voided",
    "resend": "sent",
    "expire": "expired",
    "supersede": "superseded",
    "terminate": "terminated",
}
AGENCY_PEOPLE = {"agency_ed", "agency_security_officer", "agency_user"}
WHO = {
    "send": ({"ssf_admin"}, "Only a lead agency HMIS admin may send for signature."),
    # Any agency person may try to sign or decline: the signer guard decides (a representative
    # SSF designates keeps their own role).
    "agency_signs": (
        AGENCY_PEOPLE,
        "Only the agency's registered executive director or a "
        "representative the lead agency has designated may sign the agreement.",
    ),
    "agency_declines": (
        AGENCY_PEOPLE,
        "Only the agency's registered executive director or a "
        "representative the lead agency has designated may decline to sign.",
    ),
    "lead_countersigns": (
        {"ssf_signatory"},
        "Only a lead agency signatory may countersign the agreement.",
    ),
    "void": ({"ssf_admin"}, "Only a lead agency HMIS admin may void the agreement."),
    "resend": ({"ssf_admin"}, "Only a lead agency HMIS admin may send the invitation again."),
    "expire": ({"system"}, portal_only("Expire the request")),
    "supersede": ({"system"}, portal_only("Supersede the agreement")),
    "terminate": ({"system"}, portal_only("Terminate the agreement")),
}
NEEDS_REASON = {"agency_declines", "void"}
STATES = [
    "draft",
    "sent",
    "agency_signed",
    "effective",
    "declined",
    "voided",
    "expired",
    "superseded",
    "terminated",
]
STATE_LABELS = {
    "draft": "Draft",
    "sent": "Awaiting the executive director's signature",
    "agency_signed": "Awaiting the lead agency's countersignature",
    "effective": "In effect",
    "declined": "Declined by the agency",
    "voided": "Voided by the lead agency",
    "expired": "Expired unsigned",
    "superseded": "Superseded",
    "terminated": "Terminated",
}
# The one timed state: a request for the agency's signature expires unsigned.
EXPIRY = Timer("sent", "expire", "agreement_signature")
SIDE_OF = {
    "ssf_admin": "lead",
    "ssf_signatory": "lead",
    "auditor": "lead",
    "agency_ed": "agency",
    "agency_security_officer": "agency",
    "agency_user": "agency",
    "system": "system",
}
GOOD = {
    "agency_eligible": True,
    "agency_has_agreement_in_effect": False,
    "actor_is_authorized_signer": True,
    "esign_consent": True,
}
SIGNER_REASON = (
    "Only the agency's registered executive director or a representative the lead agency "
    "has designated may sign."
)


def actor(role: str) -> Actor:
    side = SIDE_OF[role]
    agency = 7 if side == "agency" else None
    return Actor(
        user_id=None if role == "system" else 1,
        roles=frozenset({role}),
        side=side,
        agency_id=agency,
    )


def test_declaration_matches_the_brief() -> None:
    assert [s.name for s in AGREEMENT.states] == STATES
    assert {s.name for s in AGREEMENT.states if s.terminal} == {
        "declined",
        "voided",
        "expired",
        "superseded",
        "terminated",
    }
    assert AGREEMENT.initial == "draft"
    assert [e.name for e in AGREEMENT.events] == list(SOURCES)
    for e in AGREEMENT.events:
        assert set(e.sources) == SOURCES[e.name] and e.target == TARGET[e.name]
        assert e.requires_reason == (e.name in NEEDS_REASON)
    assert {s: AGREEMENT.state(s).label for s in STATES} == STATE_LABELS


@pytest.mark.parametrize("role", list(SIDE_OF))
@pytest.mark.parametrize("event", list(SOURCES))
@pytest.mark.parametrize("state", STATES)
def test_every_state_event_and_role(state: str, event: str, role: str) -> None:
    reason = "A reason given in writing." if event in NEEDS_REASON else None
    fire = lambda: AGREEMENT.fire(state, event, actor(role), GOOD, at=AT, reason=reason)  # noqa: E731
    permitted_roles, role_refusal = WHO[event]
    if state not in SOURCES[event]:
        with pytest.raises(TransitionRefused) as refused:
            fire()
        label = AGREEMENT.event(event).label
        assert str(refused.value) == (
            f"“{label}” is not possible while the HMIS Partner Agency Agreement is "
            f"“{STATE_LABELS[state]}”."
        )
    elif role not in permitted_roles:
        with pytest.raises(TransitionRefused) as refused:
            fire()
        assert str(refused.value) == role_refusal
    else:
        step = fire()
        assert (step.event, step.source, step.target) == (event, state, TARGET[event])
        assert step.reason == reason and step.at == AT and step.actor == actor(role)
        assert step.start_timers == ((EXPIRY,) if TARGET[event] == "sent" else ())
        assert step.cancel_timers_for_state == ("sent" if state == "sent" else None)


@pytest.mark.parametrize("role", list(SIDE_OF))
@pytest.mark.parametrize("state", STATES)
def test_options_list_every_event_leaving_with_why(state: str, role: str) -> None:
    options = AGREEMENT.options(state, actor(role), GOOD)
    leaving = [e for e in SOURCES if state in SOURCES[e]]
    assert [o.event for o in options] == leaving  # declaration order
    for o in options:
        permitted_roles, role_refusal = WHO[o.event]
        if role in permitted_roles:
            assert o.allowed and o.reason is None
        else:
            assert not o.allowed and o.reason == role_refusal


def test_terminal_states_offer_nothing() -> None:
    for state in ("declined", "voided", "expired", "superseded", "terminated"):
        assert AGREEMENT.options(state, actor("ssf_admin"), GOOD) == []


def test_right_role_on_the_wrong_side_is_refused_plainly() -> None:
    impostor = Actor(user_id=3, roles=frozenset({"ssf_admin"}), side="agency", agency_id=7)
    with pytest.raises(TransitionRefused) as refused:
        AGREEMENT.fire("draft", "send", impostor, GOOD, at=AT)
    assert str(refused.value) == (
        "Only the HMIS Lead Agency may send for signature; you are acting for the partner agency."
    )


@pytest.mark.parametrize("role", sorted(AGENCY_PEOPLE))
def test_only_the_authorized_signer_among_agency_people_may_sign(role: str) -> None:
    # The service says who is authorized (the registered ED or SSF's designee); roles alone
    # do not decide it.
    step = AGREEMENT.fire("sent", "agency_signs", actor(role), GOOD, at=AT)
    assert step.target == "agency_signed"
    ctx = {**GOOD, "actor_is_authorized_signer": False}
    with pytest.raises(TransitionRefused) as refused:
        AGREEMENT.fire("sent", "agency_signs", actor(role), ctx, at=AT)
    assert str(refused.value) == SIGNER_REASON
    signs, declines, _void, _resend, _expire = AGREEMENT.options("sent", actor(role), ctx)
    assert (signs.allowed, signs.reason) == (False, SIGNER_REASON)
    assert (declines.allowed, declines.reason) == (False, SIGNER_REASON)


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (
            {"agency_eligible": False},
            "Victim service providers covered by the Violence Against Women Act (VAWA) may not "
            "become HMIS Partner Agencies",
        ),
        (
            {"agency_has_agreement_in_effect": True},
            "This agency already has an agreement in "
            "effect; a second one cannot start while it is.",
        ),
        # Both unmet: eligibility is the first guard, so it is the one named.
        ({"agency_eligible": False, "agency_has_agreement_in_effect": True}, "section III.A"),
        # A fact the service forgot, or one that is not strictly a bool, fails closed.
        ({"agency_eligible": None}, "section III.A"),
        ({"agency_has_agreement_in_effect": 0}, "a second one cannot start"),
    ],
)
def test_send_guards(facts: dict[str, object], reason: str) -> None:
    ctx = {**GOOD, **facts}
    with pytest.raises(TransitionRefused) as refused:
        AGREEMENT.fire("draft", "send", actor("ssf_admin"), ctx, at=AT)
    assert reason in str(refused.value)
    [option] = AGREEMENT.options("draft", actor("ssf_admin"), ctx)[:1]
    assert not option.allowed and reason in (option.reason or "")


def test_send_refuses_when_a_fact_is_missing() -> None:
    ctx = {k: v for k, v in GOOD.items() if k != "agency_has_agreement_in_effect"}
    with pytest.raises(TransitionRefused, match="already has an agreement in effect"):
        AGREEMENT.fire("draft", "send", actor("ssf_admin"), ctx, at=AT)


@pytest.mark.parametrize(
    ("event", "facts", "reason"),
    [
        ("agency_signs", {"actor_is_authorized_signer": False}, SIGNER_REASON),
        (
            "agency_signs",
            {"esign_consent": False},
            "You must first consent to do business electronically.",
        ),
        (
            "agency_signs",
            {"esign_consent": "yes"},
            "You must first consent to do business electronically.",
        ),
        (
            "agency_signs",
            {"actor_is_authorized_signer": False, "esign_consent": False},
            SIGNER_REASON,
        ),
        ("agency_declines", {"actor_is_authorized_signer": False}, SIGNER_REASON),
    ],
)
def test_signer_guards(event: str, facts: dict[str, object], reason: str) -> None:
    ctx = {**GOOD, **facts}
    with pytest.raises(TransitionRefused) as refused:
        AGREEMENT.fire("sent", event, actor("agency_ed"), ctx, at=AT, reason="No.")
    assert str(refused.value) == reason


def test_declining_needs_no_esign_consent() -> None:
    ctx = {**GOOD, "esign_consent": False}
    step = AGREEMENT.fire("sent", "agency_declines", actor("agency_ed"), ctx, at=AT, reason="No.")
    assert step.target == "declined"


@pytest.mark.parametrize("blank", [None, "", "   \n\t"])
def test_declining_needs_a_reason(blank: str | None) -> None:
    with pytest.raises(TransitionRefused) as refused:
        AGREEMENT.fire("sent", "agency_declines", actor("agency_ed"), GOOD, at=AT, reason=blank)
    assert str(refused.value) == "Give a reason to decline to sign."


@pytest.mark.parametrize("state", ["draft", "sent", "agency_signed"])
@pytest.mark.parametrize("blank", [None, "  "])
def test_voiding_needs_a_reason(state: str, blank: str | None) -> None:
    with pytest.raises(TransitionRefused) as refused:
        AGREEMENT.fire(state, "void", actor("ssf_admin"), GOOD, at=AT, reason=blank)
    assert str(refused.value) == "Give a reason to void the agreement."


def test_reason_is_kept_trimmed_and_optional_where_not_required() -> None:
    step = AGREEMENT.fire(
        "draft", "void", actor("ssf_admin"), GOOD, at=AT, reason="  wrong agency "
    )
    assert step.reason == "wrong agency"
    step = AGREEMENT.fire("draft", "send", actor("ssf_admin"), GOOD, at=AT, reason="  ")
    assert step.reason is None


def test_unknown_event_is_refused_plainly() -> None:
    with pytest.raises(TransitionRefused) as refused:
        AGREEMENT.fire("sent", "approve", actor("ssf_admin"), GOOD, at=AT)
    assert str(refused.value) == "There is no step “approve” in the HMIS Partner Agency Agreement."


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        AGREEMENT.fire("draft", "send", actor("ssf_admin"), GOOD, at=datetime(2026, 11, 24, 9))


def test_a_person_cannot_terminate_the_agreement_but_the_portal_can() -> None:
    terminate = AGREEMENT.event("terminate")
    assert AGREEMENT.by_portal_only(terminate)
    assert [e.name for e in AGREEMENT.events if AGREEMENT.by_portal_only(e)] == [
        "expire",
        "supersede",
        "terminate",
    ]
    for role in SIDE_OF:
        if role == "system":
            continue
        with pytest.raises(TransitionRefused) as refused:
            AGREEMENT.fire("effective", "terminate", actor(role), GOOD, at=AT)
        assert str(refused.value) == (
            "“Terminate the agreement” is not a step a person takes: the portal does it by itself."
        )
        words = str(refused.value).lower()
        assert not any(w in words for w in PORTAL_WORDS), words
    step = AGREEMENT.fire("effective", "terminate", SYSTEM_ACTOR, {}, at=AT)
    assert (step.target, step.actor) == ("terminated", SYSTEM_ACTOR)


def test_the_declared_roles_and_sides_name_people_in_refusals() -> None:
    assert dict(AGREEMENT.sides) == {
        "lead": "the HMIS Lead Agency",
        "agency": "the partner agency",
    }
    assert set(AGREEMENT.roles) == AGENCY_PEOPLE | {"ssf_admin", "ssf_signatory"}


def test_the_whole_journey_walks_to_termination() -> None:
    path = [
        ("send", "ssf_admin", None),
        ("agency_signs", "agency_ed", None),
        ("lead_countersigns", "ssf_signatory", None),
        ("terminate", "system", None),
    ]
    state, visited = "draft", []
    for minute, (event, role, reason) in enumerate(path):
        at = AT.replace(minute=minute)
        step = AGREEMENT.fire(state, event, actor(role), GOOD, at=at, reason=reason)
        assert (step.source, step.event, step.at) == (state, event, at)
        state = step.target
        visited.append(state)
    assert visited == ["sent", "agency_signed", "effective", "terminated"]
    assert AGREEMENT.state(state).terminal
    assert AGREEMENT.options(state, actor("ssf_admin"), GOOD) == []
