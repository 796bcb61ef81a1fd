"""The HMIS roles an agency may request for a staff member, as the forms and documents name
them. Kept apart so `access_requests` (the request) and `user_agreements` (the agreement
that prints the role) both read them without importing each other."""

from __future__ import annotations

HMIS_ROLES: dict[str, str] = {
    "case_manager": "Case manager",
    "intake": "Intake and assessment",
    "data_entry": "Data entry",
    "agency_admin": "Agency HMIS administrator",
    "reports": "Reports only",
}


def label(role: str) -> str:
    """The role's name for people; an unknown code (a role since retired) shows as itself."""
    return HMIS_ROLES.get(role, role)
