"""Registering partner agencies and their people; designating a signing representative."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import Agency, SecurityOfficerDesignation, SignerDesignation, User
from portal.services import audit, auth, keyset
from portal.services.access import RequestInfo, is_lead_staff, require_agency_visible, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.unit import unit_of_work
from portal.services.validation import clean_email, clean_text, max_length
from workflows.agreement import VAWA_REASON

NAME_LEN = max_length(Agency.__table__.c.legal_name)
PERSON_NAME_LEN = max_length(User.__table__.c.name)
PERSON_TITLE_LEN = max_length(User.__table__.c.title)
ADDRESS_LEN = 1000  # a Text column: the limit is this rule's, not the database's
DESIGNATION_REASON_LEN = 2000


def refusal_to_partner(vawa_provider: bool) -> str | None:
    """Why an agency may not be a partner agency, or None if it may.

    The one eligibility rule (section III.A: any provider of homeless assistance or
    prevention services, except victim service providers covered by VAWA). Registration,
    starting and sending an agreement, and the agency pages all ask it.
    """
    return VAWA_REASON if vawa_provider else None


@dataclass(frozen=True)
class Contact:
    name: str
    title: str
    email: str


def may_register(user: User) -> bool:
    """Whether the pages should offer this person to register an agency (`register` checks
    the same again, with the reason)."""
    return user.active and user.role == "ssf_admin"


def register(
    admin: User,
    *,
    legal_name: str,
    address: str,
    vawa_provider: bool,
    executive_director: Contact,
    security_officer: Contact,
    request: RequestInfo,
) -> Agency:
    require_role(admin, "ssf_admin", message="Only a lead agency HMIS admin can register agencies.")
    refusal = refusal_to_partner(bool(vawa_provider))
    if refusal:
        raise ServiceError(refusal)
    with unit_of_work(
        "An agency or person with these details was just registered. Reload and check."
    ):
        name = clean_text(legal_name, "Legal name", max_len=NAME_LEN)
        if db.session.scalar(select(Agency).where(func.lower(Agency.legal_name) == name.lower())):
            raise ServiceError(f"An agency named “{name}” is already registered.")
        now = clock.now()
        agency = Agency(
            legal_name=name,
            address=clean_text(address, "Address", max_len=ADDRESS_LEN, multiline=True),
            vawa_provider=bool(vawa_provider),
            created_at=now,
            created_by_id=admin.id,
        )
        db.session.add(agency)
        db.session.flush()
        ed = _add_person(agency, executive_director, "agency_ed", "Executive director")
        so = _add_person(agency, security_officer, "agency_security_officer", "Security officer")
        if ed.email == so.email:
            raise ServiceError(
                "The executive director and the security officer need different e-mails."
            )
        # The officer named at registration holds the role from now (V.E.7); the ED may
        # designate another later (portal/services/security_officers.py).
        db.session.add(
            SecurityOfficerDesignation(
                agency_id=agency.id,
                user_id=so.id,
                designated_by_id=admin.id,
                designated_at=clock.now(),
            )
        )
        audit.record(
            admin,
            "agency.register",
            agency,
            f"Registered agency {name}",
            agency_id=agency.id,
            after=_snapshot(agency),
            request=request,
        )
        auth.invite(
            so,
            purpose=(
                f"You are the HMIS security officer for {name} on the HMIS Partner Portal of "
                f"{lead_agency_name()}."
            ),
        )
    return agency


def _add_person(agency: Agency, contact: Contact, role: str, label: str) -> User:
    email = clean_email(contact.email, f"{label}'s e-mail")
    if auth.email_taken(email):
        raise ServiceError(f"{label}'s e-mail {email} already belongs to a portal account.")
    user = User(
        agency=agency,
        email=email,
        name=clean_text(contact.name, f"{label}'s name", max_len=PERSON_NAME_LEN),
        title=clean_text(contact.title, f"{label}'s title", max_len=PERSON_TITLE_LEN),
        role=role,
        active=True,
        created_at=clock.now(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _snapshot(agency: Agency) -> dict:
    return {
        "legal_name": agency.legal_name,
        "address": agency.address,
        "vawa_provider": agency.vawa_provider,
    }


def list_agencies(
    viewer: User, *, after: int | None = None, before: int | None = None, per_page: int = 25
) -> keyset.Page:
    """One page of the partner agencies `viewer` may see, by legal name."""
    query = select(Agency).where(Agency.is_lead.is_(False))
    if not is_lead_staff(viewer):
        query = query.where(Agency.id == viewer.agency_id)
    return keyset.paged(
        query,
        Agency,
        after=after,
        before=before,
        per_page=per_page,
        key=Agency.legal_name,
        descending=False,
    )


def get(viewer: User, agency_id: int) -> Agency:
    require_agency_visible(viewer, agency_id)
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound()
    return agency


def lead_agency() -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.is_lead.is_(True)))
    if agency is None:
        raise ServiceError("The portal has no lead agency yet. Run `flask --app wsgi init`.")
    return agency


def executive_director(agency: Agency) -> User | None:
    return next((p for p in agency.people if p.role == "agency_ed" and p.active), None)


def designated_signer(agency: Agency) -> SignerDesignation | None:
    query = select(SignerDesignation).where(
        SignerDesignation.agency_id == agency.id, SignerDesignation.revoked_at.is_(None)
    )
    return db.session.scalar(query)


def may_sign_for(user: User, agency: Agency) -> bool:
    """The agency's registered ED, or a representative the lead agency designated for it."""
    if not user.active or user.agency_id != agency.id:
        return False
    if user.role == "agency_ed":
        return True
    designation = designated_signer(agency)
    return designation is not None and designation.user_id == user.id


def may_designate(user: User) -> bool:
    """Whether the agency page should offer this person to designate a signing representative
    (`designate_signer` checks the same again, with the reason)."""
    return user.active and user.role == "ssf_admin"


def designate_signer(
    admin: User, agency_id: int, representative: Contact, reason: str, request: RequestInfo
) -> SignerDesignation:
    """Designates a representative who may sign for the agency in place of its ED."""
    require_role(
        admin, "ssf_admin", message="Only a lead agency HMIS admin can designate a signer."
    )
    with unit_of_work():
        agency = get(admin, agency_id)
        why = clean_text(reason, "Reason", max_len=DESIGNATION_REASON_LEN, multiline=True)
        email = clean_email(representative.email, "Representative's e-mail")
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.agency_id != agency.id:
            raise ServiceError(f"{email} belongs to another agency's account.")
        if user is None:
            user = _add_person(agency, representative, "agency_user", "Representative")
            auth.invite(
                user,
                purpose=f"{lead_agency_name()} designated you to sign for {agency.legal_name}.",
            )
        now = clock.now()
        previous = designated_signer(agency)
        if previous is not None:
            previous.revoked_at = now
        designation = SignerDesignation(
            agency_id=agency.id,
            user_id=user.id,
            designated_by_id=admin.id,
            designated_at=now,
            reason=why,
        )
        db.session.add(designation)
        db.session.flush()
        audit.record(
            admin,
            "agency.designate_signer",
            designation,
            f"Designated {user.name} to sign for {agency.legal_name}: {why}",
            agency_id=agency.id,
            before={"designee": previous.user.email} if previous else None,
            after={"designee": user.email},
            request=request,
        )
    return designation
