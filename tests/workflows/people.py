"""Everyone who may try a step, written out by hand so the tests do not echo workflows/parties.

The grids in the machine tests try each of these roles for each of these sides: a person on
every side (the portal's among them, and one no agreement machine knows), the portal itself
(SYSTEM_ACTOR), and the portal's role misplaced on a party's side.
"""

from __future__ import annotations

from workflows.engine import SYSTEM_ACTOR, Actor

PERSON_ROLES = (
    "agency_ed",
    "agency_security_officer",
    "agency_user",
    "auditor",
    "ssf_admin",
    "ssf_signatory",
)
# "acquiring" belongs to another process (a program reallocation), not to the agreement's.
PERSON_SIDES = ("acquiring", "agency", "lead", "system")
# How a refusal names the side a person acts for; a side the machine does not declare (the
# portal's own among them) is "another party", never the scheduler or the system.
SIDE_WORDS = {
    "lead": "the HMIS Lead Agency",
    "agency": "the partner agency",
    "acquiring": "another party",
    "system": "another party",
}
PORTAL_WORDS = ("scheduler", "system", "sweep", "timer")


def person(role: str, side: str) -> Actor:
    return Actor(
        user_id=1,
        roles=frozenset({role}),
        side=side,
        agency_id=7 if side == "agency" else None,
    )


# (role, side, actor) for every person on every side, then the portal itself, then the
# portal's role on a party's side (no service builds one; the engine must still refuse it).
EVERYONE: list[tuple[str, str, Actor]] = [
    *((role, side, person(role, side)) for role in PERSON_ROLES for side in PERSON_SIDES),
    ("system", "system", SYSTEM_ACTOR),
    *(("system", side, Actor(None, frozenset({"system"}), side)) for side in ("agency", "lead")),
]


def portal_only(label: str) -> str:
    """The refusal a person reads for a step only the portal takes."""
    return f"“{label}” is not a step a person takes: the portal does it by itself."
