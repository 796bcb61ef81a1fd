"""What the remedies share: who speaks for each party, who hears, and the signed notice PDF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import Agency, Agreement, User
from portal.models.remedies import DefaultNotice, TerminationNotice
from portal.notify import outbox
from portal.services import (
    agencies,
    agreements,
    audit,
    cases,
    deadlines,
    documents,
    form_keys,
    identities,
    links,
    signing,
    webhooks,
)
from portal.services.access import RequestInfo, is_lead_staff, require_agency_visible
from portal.services.errors import NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_date, short_date
from workflows.calendar import DeadlineRule, period_words
from workflows.engine import Machine
from workflows.parties import LEAD_ACTING_ROLES

Case = TypeVar("Case", DefaultNotice, TerminationNotice)


def given_with(model: type[Case], user: User, agreement_id: int, key: str) -> Case | None:
    """The notice an earlier submission of the same form gave (its one-time key), if any.
    Only its giver, on its agreement, sends that form: any other use is refused."""
    notice = db.session.scalar(select(model).where(model.form_key == key))
    if notice is not None and (notice.given_by_id, notice.agreement_id) != (user.id, agreement_id):
        raise ServiceError(form_keys.USED)
    return notice


def get_case(model: type[Case], viewer: User, case_id: int) -> Case:
    """One notice, for someone who may see its agency (others: NotFound)."""
    case = db.session.get(model, case_id)
    if case is None:
        raise NotFound()
    require_agency_visible(viewer, case.agency_id)
    return case


def cases_of(model: type[Case], viewer: User, agreement_id: int) -> list[Case]:
    """The notices of one kind given under an agreement, newest first."""
    agreement = agreements.get(viewer, agreement_id)
    query = select(model).where(model.agreement_id == agreement.id).order_by(model.id.desc())
    return list(db.session.scalars(query))


def side_of(user: User) -> str:
    return "lead" if is_lead_staff(user) else "agency"


def acts_for(user: User, side: str, agency: Agency) -> bool:
    """SSF acts through its admins and signatories; an agency through its authorized signer."""
    if not user.active:
        return False
    if side == "lead":
        return user.role in LEAD_ACTING_ROLES
    return agencies.may_sign_for(user, agency)


def may_sign_for_side(user: User, side: str, agency: Agency) -> bool:
    """Signing a notice: SSF's signatory, or the agency's authorized signer."""
    if side == "lead":
        return user.active and user.role == "ssf_signatory"
    return agencies.may_sign_for(user, agency)


def recipients(side: str, agency: Agency) -> list[User]:
    if side == "agency":
        roles = ("agency_ed", "agency_security_officer")
        return [p for p in agency.people if p.active and p.role in roles]
    query = select(User).where(User.role.in_(LEAD_ACTING_ROLES), User.active.is_(True))
    return list(db.session.scalars(query))


def notify_side(side: str, agency: Agency, subject: str, body: str, attachments=None) -> None:
    for person in recipients(side, agency):
        outbox.queue(person.email, subject, f"Hello {person.name},\n\n{body}", attachments)


def party_name(side: str, agency: Agency) -> str:
    return current_app.config["LEAD_AGENCY_NAME"] if side == "lead" else agency.legal_name


def refusal_to_give(user: User, agreement: Agreement, what: str) -> str | None:
    """Why `user` may not give a notice (`what`) on `agreement` now, or None if they may.

    The one rule for both kinds of notice: the agreement is in effect, and the notice is
    signed by the lead agency's signatory or by the agency's authorized signer.
    """
    if agreement.state != "effective":
        return f"{what} can be given only for an agreement in effect."
    if not may_sign_for_side(user, side_of(user), agreement.agency):
        return f"{what} is {signed_by()}."
    return None


def signed_by() -> str:
    """Who signs a notice, in words: "signed by <lead>'s signatory or by the agency's …"."""
    return (
        f"signed by {lead_agency_name()}'s signatory or by the agency's executive director "
        "(or its designated representative)"
    )


def issuing_side(user: User, agreement: Agreement, what: str) -> str:
    """The side `user` gives the notice for; refuses with the reason when they may not."""
    refusal = refusal_to_give(user, agreement, what)
    if refusal:
        raise ServiceError(refusal)
    return side_of(user)


def signed_notice(
    *,
    case_type: str,
    case,
    kind: str,
    title: str,
    signer: identities.ConfirmedSigner,
    side: str,
    paragraphs: list[str],
    provisions: list[tuple[str, str]],
    details: list[tuple[str, str]],
    now: datetime,
    transition=None,
):
    """Renders, certifies and signs a notice as the confirmed `signer`; stores both revisions;
    returns the Document."""
    from portal.documents.notices import render_notice
    from portal.documents.pdf_layout import PartyBlock

    person = signer.user
    agency = case.agency
    other = "agency" if side == "lead" else "lead"
    rendered = render_notice(
        kind=kind,
        title=title,
        reference=case.reference,
        agreement_reference=case.agreement.reference,
        from_party=party_name(side, agency),
        to_party=party_name(other, agency),
        to_address=agency.address if other == "agency" else "",
        given_on=short_date(local_date(now)),
        paragraphs=paragraphs,
        provisions=provisions,
        details=details,
        signer=PartyBlock(
            "issuer_signature",
            party_name(side, agency).upper(),
            person.name,
            person.title,
            person.agency.legal_name,
        ),
    )
    certified, signed = signing.issue_signed(rendered, signer, now, reason=title)
    document = documents.new_document(
        case_type=case_type,
        case_id=case.id,
        agency_id=agency.id,
        kind=kind,
        title=f"{title} {case.reference}",
    )
    documents.add_version(
        document,
        certified,
        f"Issued and certified by {lead_agency_name()}",
        by=person,
        transition=transition,
    )
    documents.add_version(
        document,
        signed,
        f"Signed by {person.name}",
        by=person,
        transition=transition,
        archive=True,  # a notice is final once signed
    )
    return document


def attachment(document, filename: str) -> list[dict]:
    return [documents.attachment(document.current, filename)]


# --- giving a notice: the steps every kind of notice shares ---------------------------------


@dataclass(frozen=True)
class NoticeKind:
    """What tells one kind of notice from another when it is given."""

    machine: Machine
    model: type
    kind: str  # the document kind and the audit action's prefix
    title: str  # "Notice of Default"
    prefix: str  # of its references: "ND-0007-001"
    path: str  # its page: /notices/<path>/<id>
    rule_name: str  # the deadline rule its period runs by


@dataclass(frozen=True)
class Period:
    """The notice's period: the rule in force and when it ends."""

    rule: DeadlineRule
    ends: deadlines.Computed

    @property
    def words(self) -> str:
        """As the notice states it: "ten (10) days"."""
        return period_words(self.rule)


@dataclass(frozen=True)
class NoticeText:
    """What the signed notice and the e-mail to the other party say."""

    paragraphs: list[str]
    provisions: list[tuple[str, str]]
    details: list[tuple[str, str]]
    summary: str  # for the audit log
    mail: str  # the e-mail's body, after the greeting


def give_notice(
    kind: NoticeKind,
    user: User,
    agreement: Agreement,
    side: str,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
    fields: Callable[[Period], dict[str, Any]],
    text: Callable[[Any, Period], NoticeText],
    form_key: str | None = None,
):
    """Gives a notice in the caller's transaction: the signer confirms, the period starts,
    the case is recorded with its deadlines, the notice is certified and signed, the audit
    log says so and the other party is mailed the signed PDF. `fields` gives the kind's own
    columns; `text` its words; `form_key` the giving form's one-time key (see form_keys)."""
    now = clock.now()
    signer = signing.confirm_signer(user, password, intent, consent, request, now)
    rule = deadlines.rule(kind.rule_name)
    period = Period(rule, deadlines.compute(now, rule))
    count = db.session.scalar(select(func.count()).select_from(kind.model))
    notice = kind.model(
        reference=f"{kind.prefix}-{agreement.agency_id:04d}-{count + 1:03d}",
        agreement=agreement,
        agency_id=agreement.agency_id,
        issuer_side=side,
        state=kind.machine.initial,
        given_at=now,
        given_by_id=user.id,
        form_key=form_key,
        **fields(period),
    )
    db.session.add(notice)
    # Inserted before anything is signed: a second submission of the same form waits here
    # on the key's unique constraint and then fails, so it never signs or mails.
    db.session.flush()
    cases.record_creation(kind.machine, notice, user, at=now, request=request)
    words = text(notice, period)
    notice.document = signed_notice(
        case_type=kind.machine.name,
        case=notice,
        kind=kind.kind,
        title=kind.title,
        signer=signer,
        side=side,
        paragraphs=words.paragraphs,
        provisions=words.provisions,
        details=words.details,
        now=now,
    )
    audit.record(
        user,
        f"{kind.kind}.give",
        notice,
        words.summary,
        agency_id=notice.agency_id,
        after={"state": notice.state},
        request=request,
        at=now,
    )
    slug = kind.title.lower().replace(" ", "-")
    notify_side(
        "agency" if side == "lead" else "lead",
        notice.agency,
        f"{kind.title} {notice.reference}",
        f"{words.mail}\nDetails and the signed notice: "
        f"{links.page(f'/notices/{kind.path}/{notice.id}')}\n",
        attachment(notice.document, f"{notice.reference}-{slug}.pdf"),
    )
    webhooks.emit(
        "notice.given",
        {
            "kind": kind.path,
            "notice_id": notice.id,
            "reference": notice.reference,
            "agreement_id": agreement.id,
            "agreement_reference": agreement.reference,
            "agency_id": notice.agency_id,
            "issuer_side": side,
            "given_at": now.isoformat(),
        },
    )
    return notice
