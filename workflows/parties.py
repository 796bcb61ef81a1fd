"""Who takes part in the portal's processes: the parties and the roles of their people.

One definition for every machine, service and page. A machine declares which of these it
uses (`Machine(roles=…, sides=…)`); a process between two agencies (a program reallocation)
declares its own sides, such as "releasing" and "acquiring", with their names.
"""

from __future__ import annotations

from collections.abc import Mapping

LEAD = "lead"
AGENCY = "agency"

# The lead agency's staff see every agency; each role as a refusal names it.
LEAD_ROLES: Mapping[str, str] = {
    "ssf_admin": "a lead agency HMIS admin",
    "ssf_signatory": "a lead agency signatory",
    "auditor": "an auditor",
}
# Lead staff who act for the lead agency in a case; the auditor only reads.
LEAD_ACTING_ROLES: frozenset[str] = frozenset({"ssf_admin", "ssf_signatory"})

AGENCY_ROLES: Mapping[str, str] = {
    "agency_ed": "the agency's executive director",
    "agency_security_officer": "the agency's security officer",
    "agency_user": "an agency HMIS user",
}

ROLE_NAMES: Mapping[str, str] = {**LEAD_ROLES, **AGENCY_ROLES}

# The two parties of the agreement, as a refusal names them.
AGREEMENT_SIDES: Mapping[str, str] = {
    LEAD: "the HMIS Lead Agency",
    AGENCY: "the partner agency",
}


def side_of_role(role: str) -> str:
    """The party a person of `role` belongs to."""
    return LEAD if role in LEAD_ROLES else AGENCY


def names(roles: frozenset[str] | set[str]) -> dict[str, str]:
    """The declared names of `roles`, for a machine's `roles=` (unknown roles fail loudly)."""
    return {role: ROLE_NAMES[role] for role in sorted(roles)}
