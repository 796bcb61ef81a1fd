"""The notice of default (VIII.B.3), walked pair by pair: state × event × role × side × party."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows.default_notice import DEFAULT_NOTICE, not_now_reason
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

AT = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
TIMER = Timer("cure_period", "cure_lapsed", "cure_period")

# Written out by hand from the brief, so the tests do not echo the machine's own declaration.
STATES = ["cure_period", "cure_submitted", "cured", "withdrawn", "lapsed", "terminated", "waived"]
TERMINAL = {"cured", "withdrawn", "terminated", "waived"}
STATE_LABELS = {
    "cure_period": "Cure period running",
    "cure_submitted": "Cure submitted, awaiting the issuer's decision",
    "cured": "Cured — the agreement continues",
    "withdrawn": "Notice withdrawn",
    "lapsed": "Cure period lapsed",
    "terminated": "Agreement declared terminated",
    "waived": "Default waived",
}
SOURCES = {
    "submit_cure": {"cure_period"},
    "accept_cure": {"cure_submitted"},
    "reject_cure": {"cure_submitted"},
    "withdraw": {"cure_period", "cure_submitted"},
    "cure_lapsed": {"cure_period"},
    "declare_termination": {"lapsed"},
    "waive": {"lapsed"},
}
TARGET = {
    "submit_cure": "cure_submitted",
    "accept_cure": "cured",
    "reject_cure": "cure_period",
    "withdraw": "withdrawn",
    "cure_lapsed": "lapsed",
    "declare_termination": "terminated",
    "waive": "waived",
}
NEEDS_REASON = {"reject_cure", "withdraw", "waive"}
PARTY_ROLES = {"ssf_admin", "ssf_signatory", "agency_ed", "agency_security_officer", "agency_user"}
DECLARER_ROLES = {"ssf_signatory", "agency_ed", "agency_security_officer", "agency_user"}
ISSUER_ONLY = "Only the party that gave the notice may {}."
DEFAULTING_ONLY = "Only the defaulting party may submit a cure."
DECLARER_ONLY = (
    "Only the party that gave the notice, through an SSF signatory or the agency's authorized "
    "signer, may declare the agreement terminated."
)
LEAD_SIGNATORY_ONLY = "For SSF, only an SSF signatory may declare the agreement terminated."
AGENCY_SIGNER_ONLY = (
    "Only the agency's registered executive director or a representative SSF has designated "
    "may declare the agreement terminated for the agency."
)
# event: (roles that may try, sides that may try, refusal naming who may act)
WHO = {
    "submit_cure": (PARTY_ROLES, {"lead", "agency"}, DEFAULTING_ONLY),
    "accept_cure": (PARTY_ROLES, {"lead", "agency"}, ISSUER_ONLY.format("accept the cure")),
    "reject_cure": (PARTY_ROLES, {"lead", "agency"}, ISSUER_ONLY.format("reject the cure")),
    "withdraw": (PARTY_ROLES, {"lead", "agency"}, ISSUER_ONLY.format("withdraw the notice")),
    "cure_lapsed": ({"system"}, {"system"}, "Only the portal's scheduler may end the cure period."),
    "declare_termination": (DECLARER_ROLES, {"lead", "agency"}, DECLARER_ONLY),
    "waive": (PARTY_ROLES, {"lead", "agency"}, ISSUER_ONLY.format("waive the default")),
}
SIDE_WORDS = {
    "lead": "the HMIS Lead Agency (SSF)",
    "agency": "the partner agency",
    "system": "the portal's scheduler",
}
# Which party the service says the actor speaks for.
STANDINGS = {
    "issuer": {"actor_acts_for_issuer": True, "actor_acts_for_defaulting_party": False},
    "defaulting": {"actor_acts_for_issuer": False, "actor_acts_for_defaulting_party": True},
    "neither": {"actor_acts_for_issuer": False, "actor_acts_for_defaulting_party": False},
}


def actor(role: str, side: str) -> Actor:
    return Actor(
        user_id=None if role == "system" else 1,
        roles=frozenset({role}),
        side=side,
        agency_id=7 if side == "agency" else None,
    )


def facts(standing: str, signer: bool) -> dict[str, object]:
    return {**STANDINGS[standing], "actor_is_authorized_signer": signer}


def expected_refusal(
    state: str, event: str, role: str, side: str, standing: str, signer: bool
) -> str | None:
    """What a person should read, in the order the brief gives: step, who, party, signer."""
    if state not in SOURCES[event]:
        label = DEFAULT_NOTICE.event(event).label
        return f"“{label}” is not possible while the Notice of Default is “{STATE_LABELS[state]}”."
    roles, sides, only = WHO[event]
    if role not in roles:
        return only
    if side not in sides:
        return f"{only[:-1]}; you are acting for {SIDE_WORDS[side]}."
    if event == "submit_cure":
        return None if standing == "defaulting" else DEFAULTING_ONLY
    if event == "cure_lapsed":
        return None
    if standing != "issuer":
        return (
            only
            if event != "declare_termination"
            else ISSUER_ONLY.format("declare the agreement terminated")
        )
    if event == "declare_termination":
        if side == "lead" and role != "ssf_signatory":
            return LEAD_SIGNATORY_ONLY
        if side == "agency" and not signer:
            return AGENCY_SIGNER_ONLY
    return None


EVERYONE = [(role, side) for role in sorted(ROLES) for side in sorted(SIDES)]
CIRCUMSTANCES = [(s, signer) for s in STANDINGS for signer in (True, False)]


def test_declaration_matches_the_brief() -> None:
    assert DEFAULT_NOTICE.name == "default_notice"
    assert [s.name for s in DEFAULT_NOTICE.states] == STATES
    assert {s.name for s in DEFAULT_NOTICE.states if s.terminal} == TERMINAL
    assert DEFAULT_NOTICE.initial == "cure_period"
    assert {s: DEFAULT_NOTICE.state(s).label for s in STATES} == STATE_LABELS
    assert [e.name for e in DEFAULT_NOTICE.events] == list(SOURCES)
    for e in DEFAULT_NOTICE.events:
        assert set(e.sources) == SOURCES[e.name] and e.target == TARGET[e.name]
        assert e.requires_reason == (e.name in NEEDS_REASON)
        assert (set(e.roles), set(e.sides)) == WHO[e.name][:2]


def test_timer_runs_only_while_the_cure_period_runs() -> None:
    assert DEFAULT_NOTICE.timers == (TIMER,)
    for state in STATES:
        assert DEFAULT_NOTICE.timers_for(state) == ((TIMER,) if state == "cure_period" else ())


@pytest.mark.parametrize("event", list(SOURCES))
@pytest.mark.parametrize("state", STATES)
def test_every_state_event_role_side_and_party(state: str, event: str) -> None:
    reason = "Stated in writing." if event in NEEDS_REASON else None
    for role, side in EVERYONE:
        for standing, signer in CIRCUMSTANCES:
            who = actor(role, side)
            ctx = facts(standing, signer)
            refusal = expected_refusal(state, event, role, side, standing, signer)
            case = f"{role} on side {side}, {standing}, signer={signer}"
            if refusal is not None:
                with pytest.raises(TransitionRefused) as refused:
                    DEFAULT_NOTICE.fire(state, event, who, ctx, at=AT, reason=reason)
                assert str(refused.value) == refusal, case
                continue
            step = DEFAULT_NOTICE.fire(state, event, who, ctx, at=AT, reason=reason)
            assert (step.source, step.target, step.actor, step.reason) == (
                state,
                TARGET[event],
                who,
                reason,
            ), case
            # Entering cure_period (again) starts the lapse timer; leaving it ends it.
            assert step.start_timers == ((TIMER,) if TARGET[event] == "cure_period" else ())
            assert step.cancel_timers_for_state == (
                "cure_period" if state == "cure_period" else None
            )


@pytest.mark.parametrize("state", STATES)
def test_options_list_every_event_leaving_with_why(state: str) -> None:
    leaving = [e for e in SOURCES if state in SOURCES[e]]
    for role, side in EVERYONE:
        for standing, signer in CIRCUMSTANCES:
            options = DEFAULT_NOTICE.options(state, actor(role, side), facts(standing, signer))
            assert [o.event for o in options] == leaving  # declaration order
            for o in options:
                refusal = expected_refusal(state, o.event, role, side, standing, signer)
                assert (o.allowed, o.reason) == (refusal is None, refusal), (role, side, o)


def test_options_show_each_party_what_it_may_do() -> None:
    issuer, defaulting = facts("issuer", False), facts("defaulting", False)
    admin, ed = actor("ssf_admin", "lead"), actor("agency_ed", "agency")
    # SSF gave the notice: the agency may cure, SSF may only withdraw meanwhile.
    assert [
        (o.event, o.allowed) for o in DEFAULT_NOTICE.options("cure_period", ed, defaulting)
    ] == [
        ("submit_cure", True),
        ("withdraw", False),
        ("cure_lapsed", False),
    ]
    assert [(o.event, o.allowed) for o in DEFAULT_NOTICE.options("cure_period", admin, issuer)] == [
        ("submit_cure", False),
        ("withdraw", True),
        ("cure_lapsed", False),
    ]
    # After the lapse an SSF admin may waive but the declaration is the signatory's.
    declare, waive = DEFAULT_NOTICE.options("lapsed", admin, issuer)
    assert (declare.allowed, declare.reason) == (False, DECLARER_ONLY)
    assert waive.allowed


@pytest.mark.parametrize(
    "ctx",
    [
        {},
        {"actor_acts_for_issuer": "yes", "actor_acts_for_defaulting_party": 1},
        {"actor_acts_for_issuer": None, "actor_acts_for_defaulting_party": None},
    ],
)
def test_missing_or_loose_facts_fail_closed(ctx: dict[str, object]) -> None:
    ed = actor("agency_ed", "agency")
    with pytest.raises(TransitionRefused, match="^Only the defaulting party may submit a cure.$"):
        DEFAULT_NOTICE.fire("cure_period", "submit_cure", ed, ctx, at=AT)
    with pytest.raises(TransitionRefused, match="^Only the party that gave the notice may"):
        DEFAULT_NOTICE.fire("cure_submitted", "accept_cure", ed, ctx, at=AT)
    signer_ctx = {**STANDINGS["issuer"], "actor_is_authorized_signer": "yes"}
    with pytest.raises(TransitionRefused) as refused:
        DEFAULT_NOTICE.fire("lapsed", "declare_termination", ed, signer_ctx, at=AT)
    assert str(refused.value) == AGENCY_SIGNER_ONLY


def test_a_lead_actor_without_the_signatory_role_cannot_declare() -> None:
    # An odd pairing (an agency role acting for SSF) must not slip past the signatory rule.
    stray = Actor(user_id=4, roles=frozenset({"agency_ed"}), side="lead")
    with pytest.raises(TransitionRefused) as refused:
        DEFAULT_NOTICE.fire("lapsed", "declare_termination", stray, facts("issuer", True), at=AT)
    assert str(refused.value) == LEAD_SIGNATORY_ONLY
    both = Actor(user_id=5, roles=frozenset({"ssf_admin", "ssf_signatory"}), side="lead")
    step = DEFAULT_NOTICE.fire("lapsed", "declare_termination", both, facts("issuer", False), at=AT)
    assert step.target == "terminated"


@pytest.mark.parametrize(
    ("state", "event", "verb"),
    [
        ("cure_submitted", "reject_cure", "reject the cure"),
        ("cure_period", "withdraw", "withdraw the notice"),
        ("cure_submitted", "withdraw", "withdraw the notice"),
        ("lapsed", "waive", "waive the default"),
    ],
)
@pytest.mark.parametrize("blank", [None, "", "  \n"])
def test_issuer_decisions_need_a_reason(
    state: str, event: str, verb: str, blank: str | None
) -> None:
    admin = actor("ssf_admin", "lead")
    with pytest.raises(TransitionRefused) as refused:
        DEFAULT_NOTICE.fire(state, event, admin, facts("issuer", False), at=AT, reason=blank)
    assert str(refused.value) == f"Give a reason to {verb}."
    step = DEFAULT_NOTICE.fire(
        state, event, admin, facts("issuer", False), at=AT, reason="  Evidence attached. "
    )
    assert step.reason == "Evidence attached."


def test_who_may_act_is_checked_before_the_reason() -> None:
    ed = actor("agency_ed", "agency")
    with pytest.raises(TransitionRefused) as refused:
        DEFAULT_NOTICE.fire("lapsed", "waive", ed, facts("defaulting", True), at=AT)
    assert str(refused.value) == "Only the party that gave the notice may waive the default."


def test_not_now_reasons_say_what_must_happen_first() -> None:
    assert not_now_reason("cure_period", "declare_termination") == (
        "Termination may be declared only after the cure period has lapsed."
    )
    assert not_now_reason("cure_submitted", "declare_termination") == (
        "Termination may be declared only after the cure period has lapsed."
    )
    assert "only after the defaulting party submits one" in (
        not_now_reason("cure_period", "accept_cure") or ""
    )
    assert "can no longer be submitted" in (not_now_reason("lapsed", "submit_cure") or "")


@pytest.mark.parametrize("state", STATES)
def test_not_now_reasons_cover_each_step_a_person_may_look_for(state: str) -> None:
    for event in SOURCES:
        text = not_now_reason(state, event)
        person_may_look = (
            state not in TERMINAL and state not in SOURCES[event] and event != "cure_lapsed"
        )
        assert (text is not None) == person_may_look, (state, event)


def test_not_now_reason_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="no state 'given'"):
        not_now_reason("given", "waive")
    with pytest.raises(ValueError, match="no event 'cure'"):
        not_now_reason("lapsed", "cure")


def walk(path: list[tuple[str, Actor, dict[str, object], str | None]]) -> list[HistoryEntry]:
    state, entries = DEFAULT_NOTICE.initial, []
    for day, (event, who, ctx, reason) in enumerate(path):
        step = DEFAULT_NOTICE.fire(
            state, event, who, ctx, at=AT + timedelta(days=day), reason=reason
        )
        entries.append(step.history_entry())
        state = step.target
    return entries


def test_given_cured_rejected_lapsed_declared_replays() -> None:
    ssf = facts("issuer", False)
    agency = facts("defaulting", False)
    entries = walk(
        [
            ("submit_cure", actor("agency_ed", "agency"), agency, None),
            ("reject_cure", actor("ssf_admin", "lead"), ssf, "Training records still missing."),
            ("cure_lapsed", SYSTEM_ACTOR, {}, None),
            ("declare_termination", actor("ssf_signatory", "lead"), ssf, None),
        ]
    )
    assert [e.target for e in entries] == ["cure_submitted", "cure_period", "lapsed", "terminated"]
    assert replay(DEFAULT_NOTICE, "cure_period", entries) == "terminated"


def test_agency_given_notice_cured_by_ssf_replays() -> None:
    agency_issuer = facts("issuer", True)
    ssf_defaulting = facts("defaulting", False)
    entries = walk(
        [
            ("submit_cure", actor("ssf_admin", "lead"), ssf_defaulting, None),
            ("accept_cure", actor("agency_security_officer", "agency"), agency_issuer, None),
        ]
    )
    assert replay(DEFAULT_NOTICE, "cure_period", entries) == "cured"


def test_replay_refuses_a_declaration_by_an_admin_or_before_the_lapse() -> None:
    admin = actor("ssf_admin", "lead")
    lapse = HistoryEntry("cure_lapsed", "cure_period", "lapsed", AT, None, SYSTEM_ACTOR)
    declared = HistoryEntry("declare_termination", "lapsed", "terminated", AT, None, admin)
    with pytest.raises(InvalidHistory, match="through an SSF signatory"):
        replay(DEFAULT_NOTICE, "cure_period", [lapse, declared])
    early = HistoryEntry("declare_termination", "cure_period", "terminated", AT, None, None)
    with pytest.raises(InvalidHistory, match="is not possible while"):
        replay(DEFAULT_NOTICE, "cure_period", [early])
    unreasoned = HistoryEntry("waive", "lapsed", "waived", AT, "  ", None)
    with pytest.raises(InvalidHistory, match="needed a reason"):
        replay(DEFAULT_NOTICE, "cure_period", [lapse, unreasoned])
