"""Who must use two-factor sign-in: the TWO_FACTOR_REQUIRED setting.

"none"; "staff_and_signers" (the lead agency's staff, and anyone who signs or approves:
agency EDs, designated signers, security officers, who approve user agreements); or
"everyone". Production defaults to "staff_and_signers" (portal/config.py). Anyone else may
turn it on for themselves.
"""

from __future__ import annotations

from flask import current_app

from portal.models import User
from portal.services import agencies
from portal.services.access import is_lead_staff

POLICIES = ("none", "staff_and_signers", "everyone")
# An agency's ED signs its agreements; its security officer approves user agreements.
SIGNING_ROLES = frozenset({"agency_ed", "agency_security_officer"})


def required_for(user: User) -> bool:
    """Whether this person must use two-factor sign-in. An unknown setting requires it of
    everyone (it fails closed)."""
    policy = str(current_app.config.get("TWO_FACTOR_REQUIRED") or "none")
    if policy == "none":
        return False
    if policy == "staff_and_signers":
        return (
            is_lead_staff(user)
            or user.role in SIGNING_ROLES
            or (user.agency is not None and agencies.may_sign_for(user, user.agency))
        )
    return True
