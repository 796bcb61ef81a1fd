"""Amendments as records: finding them for a viewer, the facts their machine's guards read,
and the check that a form still shows the amendment as it is. The use cases are in
`amendments` (drafting, proposing, sending, declining, voiding) and `amendment_signatures`.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Agreement, Amendment, User
from portal.services import agencies, agreements
from portal.services.access import require_agency_visible
from portal.services.errors import Conflict, NotFound
from workflows.amendment import AMENDMENT


def get(viewer: User, amendment_id: int) -> Amendment:
    """One amendment, for someone who may see its agency (anyone else: NotFound)."""
    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None:
        raise NotFound()
    require_agency_visible(viewer, amendment.agency_id)
    return amendment


def for_agreement(viewer: User, agreement_id: int) -> list[Amendment]:
    """Every amendment of an agreement, proposals and declined ones included, oldest first."""
    agreement = agreements.get(viewer, agreement_id)
    query = select(Amendment).where(Amendment.agreement_id == agreement.id)
    return list(db.session.scalars(query.order_by(Amendment.id)))


def in_force(agreement: Agreement) -> list[Amendment]:
    """The amendments in effect, in the order they took effect (oldest first): with the
    agreement's own text, they are the text in force."""
    query = (
        select(Amendment)
        .where(Amendment.agreement_id == agreement.id, Amendment.state == "effective")
        .order_by(Amendment.effective_on, Amendment.lead_signed_at, Amendment.id)
    )
    return list(db.session.scalars(query))


def context(amendment: Amendment, user: User) -> dict[str, object]:
    """The facts the machine's guards read, computed from the records."""
    return {
        "agreement_in_effect": amendment.agreement.state == "effective",
        "actor_is_authorized_signer": agencies.may_sign_for(user, amendment.agency),
        "esign_consent": user.esign_consent_at is not None,
    }


def page_context(amendment: Amendment, user: User) -> dict[str, object]:
    ctx = context(amendment, user)
    # Consent is given on the signing page itself, so it never blocks opening that page.
    ctx["esign_consent"] = True
    return ctx


def check_version(amendment: Amendment, expected: int | None) -> None:
    if expected is not None and expected != amendment.lock_version:
        state = AMENDMENT.state(amendment.state).label
        raise Conflict(
            f"This amendment changed since you opened it (it is now “{state}”). "
            "Review it and try again."
        )
