"""The notice of default (VIII.B.3), walked pair by pair: state × event × role × side × party."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.workflows.people import EVERYONE, SIDE_WORDS, portal_only
from workflows.default_notice import AGREEMENT_ENDED, DEFAULT_NOTICE, not_now_reason
from workflows.engine import SYSTEM_ACTOR, Actor, Step, Timer, TransitionRefused

AT = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
TIMER = Timer("cure_period", "cure_lapsed", "cure_period")

# Written out by hand from the brief, so the tests do not echo the machine's own declaration.
STATES = [
    "cure_period",
    "cure_submitted",
    "cured",
    "withdrawn",
    "lapsed",
    "terminated",
    "waived",
    "agreement_ended",
]
TERMINAL = {"cured", "withdrawn", "terminated", "waived", "agreement_ended"}
STATE_LABELS = {
    "cure_period": "Cure period running",
    "cure_submitted": "Cure submitted, awaiting the issuer's decision",
    "cured": "Cured — the agreement continues",
    "withdrawn": "Notice withdrawn",
    "lapsed": "Cure period lapsed",
    "terminated": "Agreement declared terminated",
    "waived": "Default waived",
    "agreement_ended": "Closed — the agreement ended",
}
SOURCES = {
    "submit_cure": {"cure_period"},
    "accept_cure": {"cure_submitted"},
    "reject_cure": {"cure_submitted"},
    "withdraw": {"cure_period", "cure_submitted"},
    "cure_lapsed": {"cure_period"},
    "declare_termination": {"lapsed"},
    "waive": {"lapsed"},
    "agreement_ended": {"cure_period", "cure_submitted", "lapsed"},
}
TARGET = {
    "submit_cure": "cure_submitted",
    "accept_cure": "cured",
    "reject_cure": "cure_period",
    "withdraw": "withdrawn",
    "cure_lapsed": "lapsed",
    "declare_termination": "terminated",
    "waive": "waived",
    "agreement_ended": "agreement_ended",
}
NEEDS_REASON = {"reject_cure", "withdraw", "waive"}
PARTY_ROLES = {"ssf_admin", "ssf_signatory", "agency_ed", "agency_security_officer", "agency_user"}
DECLARER_ROLES = {"ssf_signatory", "agency_ed", "agency_security_officer", "agency_user"}
ISSUER_ONLY = "Only the party that gave the notice may {}."
DEFAULTING_ONLY = "Only the defaulting party may submit a cure."
DECLARER_ONLY = (
    "Only the party that gave the notice, through a lead agency signatory or the agency's "
    "authorized signer, may declare the agreement terminated."
)
LEAD_SIGNATORY_ONLY = (
    "For the lead agency, only its signatory may declare the agreement terminated."
)
AGENCY_SIGNER_ONLY = (
    "Only the agency's registered executive director or a representative the lead agency "
    "has designated may declare the agreement terminated for the agency."
)
# event: (roles that may try, sides that may try, refusal naming who may act)
WHO = {
    "submit_cure": (PARTY_ROLES, {"lead", "agency"}, DEFAULTING_ONLY),
    "accept_cure": (PARTY_ROLES, {"lead", "agency"}, ISSUER_ONLY.format("accept the cure")),
    "reject_cure": (PARTY_ROLES, {"lead", "agency"}, ISSUER_ONLY.format("reject the cure")),
    "withdraw": (PARTY_ROLES, {"lead", "agency"}, ISSUER_ONLY.format("withdraw the notice")),
    "cure_lapsed": ({"system"}, {"system"}, portal_only("End the cure period")),
    "declare_termination": (DECLARER_ROLES, {"lead", "agency"}, DECLARER_ONLY),
    "waive": (PARTY_ROLES, {"lead", "agency"}, ISSUER_ONLY.format("waive the default")),
    "agreement_ended": (
        {"system"},
        {"system"},
        portal_only("Close the notice: the agreement ended"),
    ),
}
BY_PORTAL = {"cure_lapsed", "agreement_ended"}
# Which party the service says the actor speaks for.
STANDINGS = {
    "issuer": {"actor_acts_for_issuer": True, "actor_acts_for_defaulting_party": False},
    "defaulting": {"actor_acts_for_issuer": False, "actor_acts_for_defaulting_party": True},
    "neither": {"actor_acts_for_issuer": False, "actor_acts_for_defaulting_party": False},
}


def actor(role: str, side: str) -> Actor:
    return Actor(
        user_id=1,
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
    if event in BY_PORTAL:
        return None if (role, side) == ("system", "system") else only
    if role not in roles:
        return only
    if side not in sides:
        return f"{only[:-1]}; you are acting for {SIDE_WORDS[side]}."
    if event == "submit_cure":
        return None if standing == "defaulting" else DEFAULTING_ONLY
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
    for role, side, who in EVERYONE:
        for standing, signer in CIRCUMSTANCES:
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
    for role, side, who in EVERYONE:
        for standing, signer in CIRCUMSTANCES:
            options = DEFAULT_NOTICE.options(state, who, facts(standing, signer))
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
        ("agreement_ended", False),
    ]
    assert [(o.event, o.allowed) for o in DEFAULT_NOTICE.options("cure_period", admin, issuer)] == [
        ("submit_cure", False),
        ("withdraw", True),
        ("cure_lapsed", False),
        ("agreement_ended", False),
    ]
    # After the lapse an SSF admin may waive but the declaration is the signatory's.
    declare, waive, ended = DEFAULT_NOTICE.options("lapsed", admin, issuer)
    assert (declare.allowed, declare.reason) == (False, DECLARER_ONLY)
    assert waive.allowed
    assert (ended.event, ended.allowed) == ("agreement_ended", False)
    # The portal itself may only end the cure period or close the notice.
    assert [
        (o.event, o.allowed) for o in DEFAULT_NOTICE.options("cure_period", SYSTEM_ACTOR, {})
    ] == [
        ("submit_cure", False),
        ("withdraw", False),
        ("cure_lapsed", True),
        ("agreement_ended", True),
    ]


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
            state not in TERMINAL and state not in SOURCES[event] and event not in BY_PORTAL
        )
        assert (text is not None) == person_may_look, (state, event)


def test_not_now_reason_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="no state 'given'"):
        not_now_reason("given", "waive")
    with pytest.raises(ValueError, match="no event 'cure'"):
        not_now_reason("lapsed", "cure")


def walk(path: list[tuple[str, Actor, dict[str, object], str | None]]) -> list[Step]:
    """Fires each step from where the previous one ended, a day apart, from a new notice."""
    state, steps = DEFAULT_NOTICE.initial, []
    for day, (event, who, ctx, reason) in enumerate(path):
        step = DEFAULT_NOTICE.fire(
            state, event, who, ctx, at=AT + timedelta(days=day), reason=reason
        )
        assert step.source == state
        steps.append(step)
        state = step.target
    return steps


def test_given_cured_rejected_lapsed_declared() -> None:
    ssf = facts("issuer", False)
    agency = facts("defaulting", False)
    steps = walk(
        [
            ("submit_cure", actor("agency_ed", "agency"), agency, None),
            ("reject_cure", actor("ssf_admin", "lead"), ssf, "Training records still missing."),
            ("cure_lapsed", SYSTEM_ACTOR, {}, None),
            ("declare_termination", actor("ssf_signatory", "lead"), ssf, None),
        ]
    )
    assert [s.target for s in steps] == ["cure_submitted", "cure_period", "lapsed", "terminated"]
    # The rejection puts the cure period back, so its timer starts again.
    assert [s.start_timers for s in steps] == [(), (TIMER,), (), ()]
    assert DEFAULT_NOTICE.state(steps[-1].target).terminal


def test_agency_given_notice_cured_by_ssf() -> None:
    agency_issuer = facts("issuer", True)
    ssf_defaulting = facts("defaulting", False)
    steps = walk(
        [
            ("submit_cure", actor("ssf_admin", "lead"), ssf_defaulting, None),
            ("accept_cure", actor("agency_security_officer", "agency"), agency_issuer, None),
        ]
    )
    assert steps[-1].target == "cured"


def test_a_declaration_by_an_admin_before_the_lapse_or_an_unreasoned_waiver_is_refused() -> None:
    admin = actor("ssf_admin", "lead")
    ssf = facts("issuer", False)
    lapse = ("cure_lapsed", SYSTEM_ACTOR, {}, None)
    with pytest.raises(TransitionRefused) as refused:
        walk([lapse, ("declare_termination", admin, ssf, None)])
    assert str(refused.value) == DECLARER_ONLY
    assert "through a lead agency signatory" in str(refused.value)
    signatory = actor("ssf_signatory", "lead")
    with pytest.raises(TransitionRefused) as refused:
        walk([("declare_termination", signatory, ssf, None)])
    assert str(refused.value) == (
        "“Declare the agreement terminated” is not possible while the Notice of Default is "
        "“Cure period running”."
    )
    with pytest.raises(TransitionRefused) as refused:
        walk([lapse, ("waive", admin, ssf, "  ")])
    assert str(refused.value) == "Give a reason to waive the default."


# -- the agreement ended another way ----------------------------------------------------------


def test_agreement_ended_is_one_terminal_state_and_one_portal_step() -> None:
    assert AGREEMENT_ENDED == "agreement_ended"
    ended = DEFAULT_NOTICE.state(AGREEMENT_ENDED)
    assert (ended.label, ended.terminal) == ("Closed — the agreement ended", True)
    event = DEFAULT_NOTICE.event(AGREEMENT_ENDED)
    assert (set(event.sources), event.target) == (SOURCES["agreement_ended"], AGREEMENT_ENDED)
    assert DEFAULT_NOTICE.by_portal_only(event) and not event.requires_reason
    # Every state a notice can be open in has this way out; none other does.
    assert set(event.sources) == {s.name for s in DEFAULT_NOTICE.states if not s.terminal}


@pytest.mark.parametrize(
    ("path", "open_state"),
    [
        ([], "cure_period"),
        (
            [("submit_cure", actor("agency_ed", "agency"), facts("defaulting", False), None)],
            "cure_submitted",
        ),
        ([("cure_lapsed", SYSTEM_ACTOR, {}, None)], "lapsed"),
    ],
)
def test_the_portal_closes_an_open_notice_when_the_agreement_ends(
    path: list, open_state: str
) -> None:
    steps = walk([*path, ("agreement_ended", SYSTEM_ACTOR, {}, None)])
    closing = steps[-1]
    assert (closing.source, closing.target, closing.actor) == (
        open_state,
        AGREEMENT_ENDED,
        SYSTEM_ACTOR,
    )
    # Closing ends the cure-period timer if it ran, and starts none.
    assert closing.start_timers == ()
    assert closing.cancel_timers_for_state == (
        "cure_period" if open_state == "cure_period" else None
    )


@pytest.mark.parametrize("open_state", sorted(SOURCES["agreement_ended"]))
def test_no_person_closes_the_notice_for_the_portal(open_state: str) -> None:
    for role, _side, who in EVERYONE:
        if role == "system":
            continue
        for standing, signer in CIRCUMSTANCES:
            with pytest.raises(TransitionRefused) as refused:
                DEFAULT_NOTICE.fire(
                    open_state, AGREEMENT_ENDED, who, facts(standing, signer), at=AT
                )
            assert str(refused.value) == (
                "“Close the notice: the agreement ended” is not a step a person takes: the "
                "portal does it by itself."
            )
            words = str(refused.value).lower()
            assert "scheduler" not in words and "system" not in words


def test_nothing_leaves_a_notice_closed_because_the_agreement_ended() -> None:
    assert DEFAULT_NOTICE.events_from(AGREEMENT_ENDED) == []
    assert DEFAULT_NOTICE.timers_for(AGREEMENT_ENDED) == ()
    for _role, _side, who in EVERYONE:
        assert DEFAULT_NOTICE.options(AGREEMENT_ENDED, who, facts("issuer", True)) == []
    for event in SOURCES:
        with pytest.raises(TransitionRefused) as refused:
            DEFAULT_NOTICE.fire(
                AGREEMENT_ENDED, event, SYSTEM_ACTOR, {}, at=AT, reason="Reopen it."
            )
        assert str(refused.value).endswith(
            "is not possible while the Notice of Default is “Closed — the agreement ended”."
        )
    # A notice that already ended its own way is not closed again.
    for state in TERMINAL - {AGREEMENT_ENDED}:
        with pytest.raises(TransitionRefused, match="is not possible while"):
            DEFAULT_NOTICE.fire(state, AGREEMENT_ENDED, SYSTEM_ACTOR, {}, at=AT)
