"""The one definition of parties and roles, and the machines that declare from it."""

from __future__ import annotations

import pytest

from workflows import parties
from workflows.agreement import AGREEMENT
from workflows.default_notice import DEFAULT_NOTICE
from workflows.engine import SYSTEM, Machine
from workflows.suspension import SUSPENSION
from workflows.termination_notice import TERMINATION_NOTICE

MACHINES = [AGREEMENT, DEFAULT_NOTICE, TERMINATION_NOTICE, SUSPENSION]


def test_roles_and_their_names() -> None:
    assert dict(parties.ROLE_NAMES) == {
        "ssf_admin": "a lead agency HMIS admin",
        "ssf_signatory": "a lead agency signatory",
        "auditor": "an auditor",
        "agency_ed": "the agency's executive director",
        "agency_security_officer": "the agency's security officer",
        "agency_user": "an agency HMIS user",
    }
    assert SYSTEM not in parties.ROLE_NAMES  # the portal is the engine's, not a person's role
    # The auditor reads; only admins and signatories act for the lead agency in a case.
    assert {"ssf_admin", "ssf_signatory"} == parties.LEAD_ACTING_ROLES
    assert dict(parties.AGREEMENT_SIDES) == {
        "lead": "the HMIS Lead Agency",
        "agency": "the partner agency",
    }


@pytest.mark.parametrize(
    ("role", "side"),
    [
        ("ssf_admin", "lead"),
        ("ssf_signatory", "lead"),
        ("auditor", "lead"),
        ("agency_ed", "agency"),
        ("agency_security_officer", "agency"),
        ("agency_user", "agency"),
    ],
)
def test_each_role_belongs_to_one_party(role: str, side: str) -> None:
    assert parties.side_of_role(role) == side


def test_names_gives_the_declared_names_and_fails_loudly_on_an_unknown_role() -> None:
    assert parties.names({"ssf_admin", "agency_ed"}) == {
        "agency_ed": "the agency's executive director",
        "ssf_admin": "a lead agency HMIS admin",
    }
    with pytest.raises(KeyError, match="ssf_boss"):
        parties.names({"ssf_admin", "ssf_boss"})


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_each_machine_declares_the_roles_its_events_name(machine: Machine) -> None:
    named = {r for e in machine.events for r in e.roles} - {SYSTEM}
    assert set(machine.roles) == named
    # With the one set of names, so a refusal reads the same in every process.
    assert dict(machine.roles) == {r: parties.ROLE_NAMES[r] for r in named}
    assert dict(machine.sides) == dict(parties.AGREEMENT_SIDES)
    for e in machine.events:
        assert (SYSTEM in e.roles) == (SYSTEM in e.sides), e.name
