"""Whether a deactivated account may sign in, and why not, in words for the person.

Sign-in asks here (portal/services/auth.py); deactivating and reactivating accounts is
`accounts`, separations are `separations`. Kept apart so sign-in needs nothing else of them.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import User
from portal.models.security import Separation
from portal.services.lead import lead_agency_name

IDLE_PREFIX = "No sign-in for"


def idle_days() -> int:
    return int(current_app.config["ACCOUNT_IDLE_DAYS"])


def is_separated(user: User) -> bool:
    return db.session.scalar(select(Separation.id).where(Separation.user_id == user.id)) is not None


def refusal_to_sign_in(user: User) -> str | None:
    """Why this account may not sign in, in words for the person, or None.

    Call it only once the password is verified, so it tells nothing to someone guessing."""
    if user.active:
        return None
    lead = lead_agency_name()
    if is_separated(user):
        return (
            "Your agency reported that you no longer work there, so this account no longer has "
            "access to the portal."
        )
    if (user.deactivated_reason or "").startswith(IDLE_PREFIX):
        return (
            f"This account was deactivated because nobody signed in to it for {idle_days()} "
            f"days. To use it again, ask your security officer or {lead}'s HMIS team to "
            "reactivate it."
        )
    why = f" ({user.deactivated_reason})" if user.deactivated_reason else ""
    return f"This account is not active{why}. Ask {lead}'s HMIS team if you need access."
