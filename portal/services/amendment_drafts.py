"""Making an amendment: the lead agency drafts one, or the agency's signer proposes one,
to an agreement in effect. The same form sent twice makes one amendment (form_keys). The
other use cases are in `amendments`, which offers these too.
"""

from __future__ import annotations

from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import Agreement, Amendment, User
from portal.notify import outbox
from portal.services import agencies, agreements, amendment_requests, audit, cases, form_keys, lead
from portal.services.access import RequestInfo, require_role
from portal.services.errors import Forbidden, ServiceError
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.agreement import AGREEMENT
from workflows.amendment import AMENDMENT

NOT_IN_EFFECT = "Only an agreement in effect can be amended; {reference} is “{state}”."


def _made_with(user: User, agreement_id: int, key: str) -> Amendment | None:
    """The amendment an earlier submission of the same form made, if any; only its maker,
    on its agreement, sends that form again."""
    made = db.session.scalar(select(Amendment).where(Amendment.form_key == key))
    if made is not None and (made.created_by_id, made.agreement_id) != (user.id, agreement_id):
        raise ServiceError(form_keys.USED)
    return made


def _cleaned(sections: str, new_text: str, reason: str) -> tuple[str, str, str]:
    return (
        clean_text(sections, "Sections changed", max_len=200),
        clean_text(new_text, "New text", max_len=50_000, multiline=True),
        clean_text(reason, "Reason", max_len=4000, required=False, multiline=True),
    )


def _amendable(user: User, agreement_id: int) -> Agreement:
    agreement = agreements.get(user, agreement_id)
    if agreement.state != "effective":
        state = AGREEMENT.state(agreement.state).label
        raise ServiceError(NOT_IN_EFFECT.format(reference=agreement.reference, state=state))
    return agreement


def _next_reference(agreement: Agreement) -> str:
    """AMD-<agency number>-<its nth amendment>; a race ends in a unique-key conflict."""
    count = db.session.scalar(
        select(func.count())
        .select_from(Amendment)
        .where(Amendment.agency_id == agreement.agency_id)
    )
    return f"AMD-{agreement.agency_id:04d}-{count + 1:02d}"


def _create(
    user: User,
    agreement: Agreement,
    state: str,
    fields: tuple[str, str, str],
    form_key: str | None,
    request: RequestInfo,
) -> Amendment:
    sections, new_text, reason = fields
    now = clock.now()
    amendment = Amendment(
        reference=_next_reference(agreement),
        agreement=agreement,
        agency_id=agreement.agency_id,
        state=state,
        sections=sections,
        new_text=new_text,
        reason=reason,
        proposed_by_id=user.id if state == "proposed" else None,
        form_key=form_key,
        created_at=now,
        created_by_id=user.id,
    )
    db.session.add(amendment)
    db.session.flush()
    cases.record_creation(AMENDMENT, amendment, user, at=now, request=request)
    verb = "Proposed" if state == "proposed" else "Drafted"
    audit.record(
        user,
        "amendment.create",
        amendment,
        f"{verb} amendment {amendment.reference} to {agreement.reference} ({sections})",
        agency_id=agreement.agency_id,
        after={"state": state, "sections": sections},
        request=request,
        at=now,
    )
    return amendment


def draft(
    admin: User,
    agreement_id: int,
    *,
    sections: str,
    new_text: str,
    reason: str,
    form_key: str | None,
    request: RequestInfo,
) -> Amendment:
    """The lead agency drafts an amendment to an agreement in effect. The same form sent
    again returns the amendment it made, `already_given` (see form_keys)."""
    require_role(
        admin, "ssf_admin", message="Only a lead agency HMIS admin can draft an amendment."
    )

    def act(key: str | None) -> Amendment:
        with unit_of_work("This amendment was made at the same moment; reload and check."):
            agreement = _amendable(admin, agreement_id)
            fields = _cleaned(sections, new_text, reason)
            return _create(admin, agreement, "draft", fields, key, request)

    return form_keys.once(form_key, lambda key: _made_with(admin, agreement_id, key), act)


def propose(
    user: User,
    agreement_id: int,
    *,
    sections: str,
    new_text: str,
    reason: str,
    form_key: str | None,
    request: RequestInfo,
) -> Amendment:
    """The agency's executive director (or its designated representative) proposes an
    amendment; the lead agency's admins are told, and accept it into a draft or decline it."""

    def act(key: str | None) -> Amendment:
        with unit_of_work("This amendment was made at the same moment; reload and check."):
            agreement = agreements.get(user, agreement_id)
            if not agencies.may_sign_for(user, agreement.agency):
                raise Forbidden(
                    "Only the agency's executive director, or the representative the lead "
                    "agency designated, may propose an amendment."
                )
            agreement = _amendable(user, agreement_id)
            fields = _cleaned(sections, new_text, reason)
            amendment = _create(user, agreement, "proposed", fields, key, request)
            for person in lead.admins():
                outbox.queue(
                    person.email,
                    f"Amendment proposed: {amendment.reference} ({agreement.agency.legal_name})",
                    f"{user.name} ({user.title}) of {agreement.agency.legal_name} proposed an "
                    f"amendment to the HMIS Partner Agency Agreement {agreement.reference}.\n\n"
                    f"Sections: {amendment.sections}\n\nAccept it into a draft or decline it "
                    f"here:\n{amendment_requests.page(amendment)}\n",
                )
            return amendment

    return form_keys.once(form_key, lambda key: _made_with(user, agreement_id, key), act)
