"""Who may see what. Every service asks here; views never decide access themselves.

SSF staff (admin, signatory, auditor) see every agency; an agency's people see their own only.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import User
from portal.services.errors import Forbidden, NotFound
from workflows.engine import Actor
from workflows.parties import LEAD_ROLES, side_of_role

# The lead agency's staff (admins, signatories and auditors) see every agency.
LEAD_STAFF = frozenset(LEAD_ROLES)


@dataclass(frozen=True)
class RequestInfo:
    """Where a request came from, recorded with every change."""

    ip: str = ""
    user_agent: str = ""


SYSTEM = RequestInfo(ip="", user_agent="portal")


def is_lead_staff(user: User) -> bool:
    return user.role in LEAD_STAFF


def actor_for(user: User) -> Actor:
    """The person as a party of the agreement: for the lead agency or for their agency."""
    side = side_of_role(user.role)
    return Actor(user_id=user.id, roles=frozenset({user.role}), side=side, agency_id=user.agency_id)


def require_role(user: User, *roles: str, message: str | None = None) -> None:
    if not user.is_authenticated or not user.active or user.role not in roles:
        raise Forbidden(message or "Your role does not allow this.")


def require_agency_visible(user: User, agency_id: int) -> None:
    """Raise NotFound (never Forbidden) so ids of other agencies reveal nothing."""
    if not user.is_authenticated or not user.active:
        raise NotFound()
    if not is_lead_staff(user) and user.agency_id != agency_id:
        raise NotFound()
