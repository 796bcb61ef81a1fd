"""First-run setup: the lead agency, the shipped template, SSF staff accounts."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Agency, User
from portal.services import agencies, auth, holidays, templates, training_catalog
from portal.services.errors import ServiceError
from portal.services.passwords import hash_password
from portal.services.unit import unit_of_work
from portal.services.validation import clean_email, clean_text, max_length
from workflows.parties import LEAD_ROLES


def ensure_lead_agency() -> Agency:
    existing = db.session.scalar(select(Agency).where(Agency.is_lead.is_(True)))
    if existing is not None:
        return existing
    with unit_of_work():
        agency = Agency(
            legal_name=current_app.config["LEAD_AGENCY_NAME"],
            address="",
            is_lead=True,
            created_at=clock.now(),
        )
        db.session.add(agency)
    return agency


def initialize() -> None:
    """Idempotent: safe to run on every start."""
    ensure_lead_agency()
    templates.publish_sample_if_missing()
    training_catalog.seed_if_missing()
    holidays.seed_federal(holidays.federal_years(clock.now().year))


def add_lead_person(
    *, email: str, name: str, title: str, role: str, password: str | None = None
) -> User:
    """Adds SSF staff. Without a password an invitation e-mail is sent instead."""
    if role not in LEAD_ROLES:  # one definition, in workflows.parties
        raise ValueError(f"role must be one of {', '.join(LEAD_ROLES)}")
    lead = agencies.lead_agency()
    with unit_of_work("That e-mail already has an account."):
        user = User(
            agency=lead,
            email=clean_email(email),
            name=clean_text(name, "Name", max_len=max_length(User.__table__.c.name)),
            title=clean_text(title, "Title", max_len=max_length(User.__table__.c.title)),
            role=role,
            active=True,
            created_at=clock.now(),
        )
        db.session.add(user)
        db.session.flush()
        if password is not None:
            # The same rules as every password set in the portal (the person's own details
            # included), and its age counts from now.
            problem = auth.new_password_problem(user, password, password)
            if problem:
                raise ServiceError(problem)
            user.password_hash = hash_password(password)
            user.password_changed_at = user.created_at
        else:
            auth.invite(
                user,
                purpose=f"You have an account on the HMIS Partner Portal of {lead.legal_name}.",
            )
    return user
