"""The Partner Agency Agreement: create, send, decline, void (signing and countersigning
it are in `agreement_signatures`).

Each use case is one transaction: the machine decides, the document is signed and stored,
the transition, document version, audit event and e-mails are recorded together.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload

from portal import clock
from portal.extensions import db
from portal.models import OPEN_STATES, Agency, Agreement, User
from portal.notify import outbox
from portal.processes import Awaiting, Process, RuleSetting, SignatureSteps
from portal.services import (
    agencies,
    agreement_requests,
    campaign_steps,
    cases,
    documents,
    lead,
    signature_requests,
    signing,
    templates,
)
from portal.services import awaiting as waits
from portal.services.access import RequestInfo, is_lead_staff, require_agency_visible, require_role

# The lists live in their own module; pages and the API ask for them here.
from portal.services.agreement_lists import count_for, for_agency, list_for  # noqa: F401
from portal.services.errors import Conflict, NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.next_steps import NextSteps, for_case
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.agreement import AGREEMENT
from workflows.engine import Option


def get(viewer: User, agreement_id: int) -> Agreement:
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound()
    require_agency_visible(viewer, agreement.agency_id)
    return agreement


def in_effect(agency: Agency) -> Agreement | None:
    query = select(Agreement).where(
        Agreement.agency_id == agency.id, Agreement.state == "effective"
    )
    return db.session.scalar(query)


def _open_agreement(agency: Agency) -> Agreement | None:
    query = select(Agreement).where(
        Agreement.agency_id == agency.id, Agreement.state.in_(OPEN_STATES)
    )
    return db.session.scalar(query)


def context(
    agreement: Agreement, user: User, in_effect_ids: dict[int, int] | None = None
) -> dict[str, object]:
    """The facts the machine's guards read, computed here from the records. A list of
    agreements passes `in_effect_ids` (agency id → its agreement in effect, `_in_effect_ids`)
    read once for all of them, rather than a query per agreement."""
    agency = agreement.agency
    # The agreement a campaign's agreement replaces does not count: the two stand side by
    # side until the new one takes effect (portal/services/campaign_steps.py).
    mine = {agreement.id, agreement.replaces_id}
    if in_effect_ids is None:
        current = in_effect(agency)
        effective_other = current is not None and current.id not in mine
    else:
        effective_other = in_effect_ids.get(agency.id, agreement.id) not in mine
    return {
        "agency_eligible": agencies.refusal_to_partner(agency.vawa_provider) is None,
        "agency_has_agreement_in_effect": effective_other,
        "actor_is_authorized_signer": agencies.may_sign_for(user, agency),
        "esign_consent": user.esign_consent_at is not None,
    }


def _in_effect_ids(agency_ids: set[int]) -> dict[int, int]:
    """Agency id → the id of its agreement in effect, for these agencies, in one query."""
    if not agency_ids:
        return {}
    query = select(Agreement.agency_id, Agreement.id).where(
        Agreement.state == "effective", Agreement.agency_id.in_(agency_ids)
    )
    return {agency_id: agreement_id for agency_id, agreement_id in db.session.execute(query)}


def _page_context(
    agreement: Agreement, user: User, in_effect_ids: dict[int, int] | None = None
) -> dict[str, object]:
    ctx = context(agreement, user, in_effect_ids)
    # Consent is given on the signing page itself, so it never blocks opening that page.
    ctx["esign_consent"] = True
    return ctx


def options(agreement: Agreement, user: User) -> list[Option]:
    return cases.options(AGREEMENT, agreement, user, _page_context(agreement, user))


def next_steps(agreement: Agreement, user: User) -> NextSteps:
    """What the agreement's page offers this person, and who else must act."""
    return for_case(AGREEMENT, agreement, user, _page_context(agreement, user))


def refusal_to_start(user: User, agency: Agency) -> str | None:
    """Why `user` may not start an agreement for `agency` now, or None if they may (the
    agency page offers the button only then; `create` checks the same again)."""
    if user.role != "ssf_admin":
        return "Only a lead agency HMIS admin can start an agreement."
    refusal = agencies.refusal_to_partner(agency.vawa_provider)
    if refusal:
        return refusal
    existing = _open_agreement(agency)
    if existing is not None:
        return (
            f"{agency.legal_name} already has agreement {existing.reference} "
            f"({AGREEMENT.state(existing.state).label}); "
            "a second one cannot start while it is open."
        )
    return None


def _require_eligible(agency: Agency) -> None:
    """Refuses with the eligibility rule's own wording (the machine's guard is the backstop)."""
    refusal = agencies.refusal_to_partner(agency.vawa_provider)
    if refusal:
        raise ServiceError(refusal)


def check_version(agreement: Agreement, expected: int | None) -> None:
    if expected is not None and expected != agreement.lock_version:
        state = AGREEMENT.state(agreement.state).label
        raise Conflict(
            f"This agreement changed since you opened it (it is now “{state}”). "
            "Review it and try again."
        )


def create(admin: User, agency_id: int, request: RequestInfo) -> Agreement:
    """Starts a draft from the current template version."""
    require_role(
        admin, "ssf_admin", message="Only a lead agency HMIS admin can start an agreement."
    )
    with unit_of_work("This agency already has an open agreement."):
        agency = agencies.get(admin, agency_id)
        refusal = refusal_to_start(admin, agency)
        if refusal:
            raise ServiceError(refusal)
        now = clock.now()
        agreement = Agreement(
            reference=next_reference(agency),
            agency=agency,
            template=templates.current(),
            state="draft",
            created_at=now,
            created_by_id=admin.id,
        )
        db.session.add(agreement)
        db.session.flush()
        cases.record_creation(AGREEMENT, agreement, admin, at=now, request=request)
        from portal.services import audit

        audit.record(
            admin,
            "agreement.create",
            agreement,
            f"Started agreement {agreement.reference} for {agency.legal_name} "
            f"(template version {agreement.template.version})",
            agency_id=agency.id,
            after={"state": "draft"},
            request=request,
        )
    return agreement


def next_reference(agency: Agency) -> str:
    """PAA-<agency number>-<its nth agreement>; a race ends in a unique-key conflict."""
    count = db.session.scalar(
        select(func.count()).select_from(Agreement).where(Agreement.agency_id == agency.id)
    )
    return f"PAA-{agency.id:04d}-{count + 1:02d}"


def send(
    admin: User, agreement_id: int, request: RequestInfo, *, expected_version: int | None = None
) -> Agreement:
    """Renders the PDF, certifies it as the lead agency, stores it, and asks the ED to sign."""
    with unit_of_work():
        agreement = get(admin, agreement_id)
        check_version(agreement, expected_version)
        issue(admin, agreement, request)
    return agreement


def issue(admin: User, agreement: Agreement, request: RequestInfo) -> None:
    """`send`'s work, in the caller's transaction (a campaign sends many in one)."""
    agency = agreement.agency
    _require_eligible(agency)
    ed = agencies.executive_director(agency)
    if ed is None:
        raise ServiceError(f"{agency.legal_name} has no active executive director on record.")
    now = clock.now()
    agreement.invited_at = now  # the request's reminders and expiry count from here
    transition = cases.advance(
        AGREEMENT, agreement, "send", admin, context(agreement, admin), at=now, request=request
    )
    agreement.signer_name, agreement.signer_title = ed.name, ed.title
    rendered = signing.render_agreement(agreement, ed)
    agreement.filled_text = rendered.text
    pdf = signing.certify(rendered, reason="Issued by the HMIS Lead Agency")
    document = documents.new_document(
        case_type="agreement",
        case_id=agreement.id,
        agency_id=agency.id,
        kind="agreement",
        title=f"HMIS Partner Agency Agreement {agreement.reference}",
    )
    agreement.document = document
    documents.add_version(
        document,
        pdf,
        f"Issued and certified by {lead_agency_name()}",
        by=admin,
        transition=transition,
    )
    agreement.sent_at = now
    agreement_requests.ask(agreement, now)


def decline(
    user: User,
    agreement_id: int,
    *,
    reason: str,
    request: RequestInfo,
    expected_version: int | None = None,
) -> Agreement:
    with unit_of_work():
        agreement = get(user, agreement_id)
        check_version(agreement, expected_version)
        why = clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)
        cases.advance(
            AGREEMENT,
            agreement,
            "agency_declines",
            user,
            context(agreement, user),
            at=clock.now(),
            request=request,
            reason=why,
        )
        agreement.closed_reason = why
        signature_requests.end(AGREEMENT.name, agreement.id, at=clock.now())
        campaign_steps.resolved(agreement, at=clock.now())
        for person in lead.admins():
            outbox.queue(
                person.email,
                f"Declined: {agreement.reference} ({agreement.agency.legal_name})",
                f"{user.name} declined the agreement {agreement.reference}.\n\nReason:\n{why}\n",
            )
    return agreement


def void(
    admin: User,
    agreement_id: int,
    *,
    reason: str,
    request: RequestInfo,
    expected_version: int | None = None,
) -> Agreement:
    with unit_of_work():
        agreement = get(admin, agreement_id)
        check_version(agreement, expected_version)
        why = clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)
        was_sent = agreement.state != "draft"
        cases.advance(
            AGREEMENT,
            agreement,
            "void",
            admin,
            context(agreement, admin),
            at=clock.now(),
            request=request,
            reason=why,
        )
        agreement.closed_reason = why
        signature_requests.end(AGREEMENT.name, agreement.id, at=clock.now())
        campaign_steps.resolved(agreement, at=clock.now())
        ed = agencies.executive_director(agreement.agency)
        if was_sent and ed is not None:
            outbox.queue(
                ed.email,
                f"Voided: HMIS Partner Agency Agreement {agreement.reference}",
                f"{lead_agency_name()} voided the agreement {agreement.reference}; "
                f"it can no longer be signed.\n\nReason:\n{why}\n",
            )
    return agreement


def awaiting(user: User) -> list[Awaiting]:
    """The agreements that wait on this person: a draft on the lead agency's admin to send
    it, a sent one on the agency's authorized signer, a signed one on the lead agency's
    signatory. The machine decides, from this person's steps (`options`)."""
    states = waits.states_for(AGREEMENT, user.role)
    if not states:
        return []
    query = (
        select(Agreement)
        .where(Agreement.state.in_(states))
        .options(defer(Agreement.filled_text), joinedload(Agreement.agency))
    )
    if not is_lead_staff(user):
        query = query.where(Agreement.agency_id == user.agency_id)
    rows = list(db.session.scalars(query.order_by(Agreement.id)))
    # The guards' facts for every row at once: one query, not one per agreement.
    in_effect_ids = _in_effect_ids({row.agency_id for row in rows})
    items = []
    for agreement in rows:
        ctx = _page_context(agreement, user, in_effect_ids)
        steps = waits.awaited_steps(AGREEMENT, cases.options(AGREEMENT, agreement, user, ctx))
        if not steps:
            continue
        label = AGREEMENT.event(steps[0].event).label
        since = {"draft": agreement.created_at, "sent": agreement.sent_at}.get(
            agreement.state, agreement.agency_signed_at
        )
        items.append(
            Awaiting(
                case=agreement,
                title=f"{label}: {agreement.reference}",
                url=f"/agreements/{agreement.id}",
                since=since or agreement.created_at,
                detail=f"HMIS Partner Agency Agreement with {agreement.agency.legal_name} "
                f"({AGREEMENT.state(agreement.state).label}).",
            )
        )
    return items


def _expire(agreement: Agreement, row) -> object:
    """The request's timer: it expires, and its campaign, if any, may be complete."""
    transition = agreement_requests.expire(agreement, row)
    campaign_steps.resolved(agreement, at=clock.now())
    return transition


PROCESS = Process(
    machine=AGREEMENT,
    model=Agreement,
    # A request for the agency's signature counts from its latest invitation.
    period_start=lambda agreement: agreement.invited_at,
    # A campaign's agreement expires at the campaign's deadline; others count afresh.
    period_end=campaign_steps.agreement_period_end,
    rules={
        "agreement_signature": RuleSetting(
            "SIGNATURE_REQUEST",
            "Request for the agency's signature",
            counted_from="the invitation to sign",
            reminder_days="SIGNATURE_REMINDER_DAYS",
            reminders_after_start=True,
        )
    },
    on_timer=_expire,
    on_reminder=agreement_requests.remind,
    signature=SignatureSteps(
        resend_event="resend",
        rule="agreement_signature",
        get=get,
        ask=agreement_requests.ask,
        remind=agreement_requests.remind,
        signing_page=lambda agreement: f"/agreements/{agreement.id}/sign",
        case_page=lambda agreement: f"/agreements/{agreement.id}",
        restart=lambda agreement, at: setattr(agreement, "invited_at", at),
    ),
    documents=("agreement", "certificate"),
    awaiting=awaiting,
)
