"""Whether a person or an agency is in good standing: not under a suspension in force.

Sign-in, every request and every signature ask here; suspending and lifting are the
suspension process's (portal/services/suspensions.py).
"""

from __future__ import annotations

from sqlalchemy import or_, select

from portal.extensions import db
from portal.models import User
from portal.models.remedies import Suspension
from portal.services.errors import ServiceError
from portal.services.lead import lead_agency_name


def active_for_user(user: User) -> Suspension | None:
    """A suspension of the person, or of their whole agency, that is still in force."""
    query = select(Suspension).where(
        Suspension.state == "suspended",
        or_(
            Suspension.user_id == user.id,
            (Suspension.agency_id == user.agency_id) & Suspension.user_id.is_(None),
        ),
    )
    return db.session.scalars(query).first()


def active_for_agency(agency_id: int) -> Suspension | None:
    query = select(Suspension).where(
        Suspension.state == "suspended",
        Suspension.agency_id == agency_id,
        Suspension.user_id.is_(None),
    )
    return db.session.scalars(query).first()


def refuse_if_suspended(user: User) -> None:
    suspension = active_for_user(user)
    if suspension is not None:
        whom = "Your access" if suspension.user_id else "Your agency's access"
        raise ServiceError(
            f"{whom} is suspended pending an investigation by {lead_agency_name()}, so you "
            f"cannot sign. Contact {lead_agency_name()}'s HMIS team."
        )
