"""The HMIS Lead Agency: its name (the LEAD_AGENCY_NAME setting, read here) and the staff
who hear of what happens (its active admins and signatories)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import User


def lead_agency_name() -> str:
    """The lead agency's name for pages, e-mails and documents (never a hard-coded name)."""
    return current_app.config["LEAD_AGENCY_NAME"]


def _active(role: str) -> list[User]:
    query = select(User).where(User.role == role, User.active.is_(True))
    return list(db.session.scalars(query))


def signatories() -> list[User]:
    """The lead agency's active signatories."""
    return _active("ssf_signatory")


def admins() -> list[User]:
    """The lead agency's active HMIS admins."""
    return _active("ssf_admin")
