"""Who else a case waits for, and what happens by itself: built from each machine's declaration.

`Machine.waiting_for` writes one line from the events leaving a state (who may take each, and
its verb); `Machine.is_actor_for` tells the people a step is for from the rest, whatever the
case allows now; `Machine.deadline_words` says what a timer does. None of them use the
portal's inner words.
"""

from __future__ import annotations

import pytest

from tests.workflows.people import PORTAL_WORDS
from workflows.agreement import AGREEMENT
from workflows.default_notice import DEFAULT_NOTICE
from workflows.engine import Actor, Event, Machine, State, Timer, fact, guard
from workflows.suspension import SUSPENSION
from workflows.termination_notice import TERMINATION_NOTICE

ADMIN = Actor(1, frozenset({"ssf_admin"}), "lead")
SIGNATORY = Actor(2, frozenset({"ssf_signatory"}), "lead")
AUDITOR = Actor(3, frozenset({"auditor"}), "lead")
ED = Actor(4, frozenset({"agency_ed"}), "agency", 9)
OFFICER = Actor(5, frozenset({"agency_security_officer"}), "agency", 9)

SIGNER = {"actor_is_authorized_signer": True}
NOT_SIGNER = {"actor_is_authorized_signer": False}
# A notice of default SSF gave: who each person speaks for.
ISSUER = {"actor_acts_for_issuer": True, "actor_acts_for_defaulting_party": False}
DEFAULTING = {"actor_acts_for_issuer": False, "actor_acts_for_defaulting_party": True}
NEITHER = {"actor_acts_for_issuer": False, "actor_acts_for_defaulting_party": False}
ED_SIGNS_FOR_AGENCY = (
    "the agency's registered executive director or a representative the lead agency has designated"
)


@pytest.mark.parametrize(
    ("state", "actor", "ctx", "line"),
    [
        ("draft", ED, SIGNER, "Waiting for a lead agency HMIS admin to send for signature."),
        ("draft", ADMIN, {}, None),  # the admin sends it; voiding is a way out, not awaited
        ("sent", ED, SIGNER, None),  # the ED signs or declines; SSF's voiding is not awaited
        (
            "sent",
            ADMIN,
            {},
            f"Waiting for {ED_SIGNS_FOR_AGENCY} to sign the agreement or decline to sign.",
        ),
        # An agency person who may not sign is not the one awaited, though their role may try.
        (
            "sent",
            OFFICER,
            NOT_SIGNER,
            f"Waiting for {ED_SIGNS_FOR_AGENCY} to sign the agreement or decline to sign.",
        ),
        (
            "agency_signed",
            ED,
            SIGNER,
            "Waiting for a lead agency signatory to countersign the agreement.",
        ),
        ("agency_signed", SIGNATORY, {}, None),
        ("effective", ED, SIGNER, None),  # only the portal ends it (through a remedy)
        ("terminated", ADMIN, {}, None),
    ],
)
def test_the_agreement_says_whom_it_waits_for(state, actor, ctx, line) -> None:
    assert AGREEMENT.waiting_for(state, actor, ctx) == line


@pytest.mark.parametrize(
    ("state", "actor", "ctx", "line"),
    [
        ("cure_period", SIGNATORY, ISSUER, "Waiting for the defaulting party to submit a cure."),
        ("cure_period", ED, DEFAULTING, None),
        ("cure_period", AUDITOR, NEITHER, "Waiting for the defaulting party to submit a cure."),
        # Two verbs on one object share it; withdrawing (a way out) is left out.
        (
            "cure_submitted",
            ED,
            DEFAULTING,
            "Waiting for the party that gave the notice to accept or reject the cure.",
        ),
        ("cure_submitted", ADMIN, ISSUER, None),
        # SSF's admin may waive, but only its signatory declares: the line names who declares.
        (
            "lapsed",
            ADMIN,
            ISSUER,
            "Waiting for the party that gave the notice, through a lead agency signatory or the "
            "agency's authorized signer, to declare the agreement terminated.",
        ),
        ("lapsed", SIGNATORY, ISSUER, None),
        # Two different "who"s: one line, each with its steps.
        (
            "lapsed",
            ED,
            {**DEFAULTING, **NOT_SIGNER},
            "Waiting for the party that gave the notice, through a lead agency signatory or the "
            "agency's authorized signer, to declare the agreement terminated, or for the party "
            "that gave the notice to waive the default.",
        ),
        ("cured", ED, DEFAULTING, None),
    ],
)
def test_a_notice_of_default_says_whom_it_waits_for(state, actor, ctx, line) -> None:
    assert DEFAULT_NOTICE.waiting_for(state, actor, ctx) == line


def test_a_notice_of_termination_waits_for_nobody_and_ends_by_itself() -> None:
    for actor, ctx in ((ED, {"actor_acts_for_issuer": True}), (SIGNATORY, {})):
        assert TERMINATION_NOTICE.waiting_for("notice_period", actor, ctx) is None
    [timer] = TERMINATION_NOTICE.timers_for("notice_period")
    assert TERMINATION_NOTICE.deadline_words(timer) == (
        "The notice period ends and the agreement terminates by itself"
    )
    [timer] = DEFAULT_NOTICE.timers_for("cure_period")
    assert DEFAULT_NOTICE.deadline_words(timer) == "The cure period ends by itself"


def test_a_suspension_waits_for_an_admin_to_lift_it() -> None:
    assert SUSPENSION.waiting_for("suspended", ED, {}) == (
        "Waiting for a lead agency HMIS admin to lift the suspension."
    )
    assert SUSPENSION.waiting_for("suspended", ADMIN, {}) is None
    assert SUSPENSION.waiting_for("lifted", ED, {}) is None


def test_is_actor_for_reads_roles_sides_and_the_guards_on_who_only() -> None:
    send, sign = AGREEMENT.event("send"), AGREEMENT.event("agency_signs")
    # A condition on the case (eligibility) does not make the admin someone else.
    assert AGREEMENT.is_actor_for(send, ADMIN, {"agency_eligible": False})
    assert AGREEMENT.blocker(send, ADMIN, {"agency_eligible": False}) is not None
    assert not AGREEMENT.is_actor_for(send, SIGNATORY, {})  # role
    assert AGREEMENT.is_actor_for(sign, ED, {**SIGNER, "esign_consent": False})  # a condition
    assert not AGREEMENT.is_actor_for(sign, OFFICER, NOT_SIGNER)  # a guard on who
    assert not AGREEMENT.is_actor_for(sign, Actor(6, frozenset({"agency_ed"}), "lead"), SIGNER)
    lapse = DEFAULT_NOTICE.event("cure_lapsed")
    assert not DEFAULT_NOTICE.is_actor_for(lapse, ADMIN, ISSUER)  # the portal's own step


def small_machine(*, says: str = "") -> Machine:
    """Two people, a way out and a deadline, with roles named by the machine alone."""
    on_time = fact("on_time", "Too late to approve.")
    is_owner = fact("is_owner", "Only the owner may approve.", who=True)

    @guard("Only a manager may escalate.", who=True)
    def manager(ctx, actor) -> bool:
        return bool(ctx.get("manager"))

    return Machine(
        "request",
        "Request",
        [
            State("open", "Open"),
            State("approved", "Approved", terminal=True),
            State("dropped", "Dropped", terminal=True),
            State("escalated", "Escalated", terminal=True),
            State("expired", "Expired", terminal=True),
        ],
        [
            Event(
                "approve",
                "Approve the request",
                ["open"],
                "approved",
                {"clerk"},
                {"lead"},
                guards=[is_owner, on_time],
            ),
            Event("refuse", "Refuse the request", ["open"], "dropped", {"clerk"}, {"lead"}),
            Event(
                "escalate",
                "Escalate",
                ["open"],
                "escalated",
                {"clerk", "boss"},
                {"lead"},
                guards=[manager],
            ),
            Event(
                "drop", "Drop the request", ["open"], "dropped", {"boss"}, {"lead"}, awaited=False
            ),
            Event("expire", "Expire the request", ["open"], "expired", {"system"}, {"system"}),
        ],
        [Timer("open", "expire", "two_weeks", says=says)],
        initial="open",
        roles={"clerk": "a clerk", "boss": "the boss"},
        sides={"lead": "the office"},
    )


def test_the_line_groups_by_who_and_joins_verbs_that_share_their_object() -> None:
    m = small_machine()
    boss = Actor(1, frozenset({"boss"}), "lead")
    # The boss is not a clerk: approving and refusing (sharing "the request") are awaited
    # from clerks; escalating is the boss's own unless a guard on who refuses them.
    assert m.waiting_for("open", boss, {"manager": True}) == (
        "Waiting for a clerk to approve or refuse the request."
    )
    assert m.waiting_for("open", boss, {}) == (
        "Waiting for a clerk to approve or refuse the request, or for the boss or a clerk to "
        "escalate."
    )
    clerk = Actor(2, frozenset({"clerk"}), "lead")
    # The owner, late: still the one awaited for approving (a condition, not who).
    assert (
        m.waiting_for("open", clerk, {"is_owner": True, "on_time": False, "manager": True}) is None
    )
    assert m.waiting_for("open", clerk, {"is_owner": False, "manager": True}) == (
        "Waiting for a clerk to approve the request."
    )


def test_deadline_words_fall_back_on_the_event() -> None:
    [timer] = small_machine().timers_for("open")
    assert small_machine().deadline_words(timer) == ("The portal will expire the request by itself")
    [timer] = small_machine(says="The request expires by itself").timers_for("open")
    assert small_machine().deadline_words(timer) == "The request expires by itself"
    # Wording only: timers that differ in words alone are the same timer.
    assert timer == Timer("open", "expire", "two_weeks")


@pytest.mark.parametrize("machine", [AGREEMENT, DEFAULT_NOTICE, TERMINATION_NOTICE, SUSPENSION])
def test_no_line_uses_the_portals_inner_words(machine: Machine) -> None:
    people = (ADMIN, SIGNATORY, AUDITOR, ED, OFFICER)
    contexts = ({}, SIGNER, NOT_SIGNER, ISSUER, DEFAULTING, NEITHER)
    lines = {
        machine.waiting_for(s.name, actor, ctx)
        for s in machine.states
        for actor in people
        for ctx in contexts
    }
    lines |= {machine.deadline_words(t) for t in machine.timers}
    for line in filter(None, lines):
        assert not any(word in line.lower() for word in PORTAL_WORDS), line
