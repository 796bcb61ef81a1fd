"""Re-signing campaigns (issue 11, section 3): SSF publishes a new Partner Agency Agreement
template version and sends it, in one go, to every agency whose agreement in effect is on an
older version (or to a selection), with a deadline.

Each chosen agency gets a new agreement that names the one it replaces; it is sent at once,
and expires unsigned at the campaign's deadline. When both parties have signed it, the old
agreement is superseded (portal/services/campaign_steps.py). The campaign's page follows
each agency's progress (`campaign_progress`).

Only SSF's HMIS admin starts or closes a campaign; the lead agency's staff see every
campaign, an agency's people only the campaigns that include their agency, and only their
own row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.extensions import db
from portal.models import PENDING_STATES, Agency, Agreement, AgreementTemplate, Campaign, User
from portal.notify import outbox
from portal.services import (
    agencies,
    agreements,
    audit,
    campaign_steps,
    cases,
    form_keys,
    lead,
    signature_requests,
    templates,
)
from portal.services.access import RequestInfo, is_lead_staff, require_role
from portal.services.errors import Conflict, NotFound, ServiceError
from portal.services.timefmt import local_date, long_date
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.agreement import AGREEMENT
from workflows.campaign import CAMPAIGN

ADMIN_ONLY = "Only a lead agency HMIS admin can start or close a re-signing campaign."
MAX_DAYS = 366  # a deadline further out than a year is a typing error


@dataclass(frozen=True)
class Candidate:
    """An agency whose agreement in effect is on an older template version; `skipped` says
    why the campaign leaves it out ("" when it may be included)."""

    agency: Agency
    agreement: Agreement
    skipped: str = ""


def target_template(template_id: int | None = None) -> AgreementTemplate:
    """The version a campaign asks to sign: the current one, or the one named."""
    if template_id is None:
        return templates.current()
    template = db.session.get(AgreementTemplate, template_id)
    if template is None or template.kind != templates.PARTNER_AGENCY:
        raise ServiceError("There is no Partner Agency Agreement template version with that id.")
    return template


def template_by_version(version: str | None) -> int | None:
    """The id of the Partner Agency Agreement template `version` (the API names versions)."""
    if version is None:
        return None
    query = select(AgreementTemplate.id).where(
        AgreementTemplate.kind == templates.PARTNER_AGENCY, AgreementTemplate.version == version
    )
    found = db.session.scalar(query)
    if found is None:
        raise ServiceError(f"There is no Partner Agency Agreement template version {version!r}.")
    return found


def candidates(template: AgreementTemplate) -> list[Candidate]:
    """Every agency whose agreement in effect uses an older version than `template`, by
    name, each with why it would be left out, if it would."""
    query = (
        select(Agreement)
        .join(AgreementTemplate, Agreement.template_id == AgreementTemplate.id)
        .join(Agency, Agreement.agency_id == Agency.id)
        .where(
            Agreement.state == "effective",
            AgreementTemplate.kind == templates.PARTNER_AGENCY,
            # Versions are labels; the order they were published in is the order of ids.
            AgreementTemplate.id < template.id,
            Agency.is_lead.is_(False),
        )
        .options(
            joinedload(Agreement.agency).selectinload(Agency.people),
            joinedload(Agreement.template),
        )
        .order_by(Agency.legal_name, Agency.id)
    )
    current = list(db.session.scalars(query))
    pending = {
        agency_id: reference
        for agency_id, reference in db.session.execute(
            select(Agreement.agency_id, Agreement.reference).where(
                Agreement.state.in_(PENDING_STATES),
                Agreement.agency_id.in_([a.agency_id for a in current]),
            )
        )
    }
    remedies = campaign_steps.open_remedies_of([a.id for a in current])
    return [Candidate(a.agency, a, _skip(a, pending, remedies.get(a.id, []))) for a in current]


def _skip(agreement: Agreement, pending: dict[int, str], remedies: list) -> str:
    agency = agreement.agency
    if agency.id in pending:
        return f"Agreement {pending[agency.id]} is already on its way; finish or void it first."
    if remedies:
        # Superseding the agreement would close the remedy by the cascade: it runs first.
        return (
            f"An open remedy under {agreement.reference}: {campaign_steps.remedy_words(remedies)}."
        )
    if agencies.executive_director(agency) is None:
        return "No active executive director on record to sign."
    return ""


def eligible_agencies(template: AgreementTemplate | None = None) -> list[Candidate]:
    """The agencies a campaign for `template` (default: the current version) may include:
    their agreement in effect is on an older version, and nothing stands in the way."""
    return [c for c in candidates(template or templates.current()) if not c.skipped]


def default_due_on() -> date:
    """The default last day to sign: as long as any request for a signature runs."""
    return local_date(clock.now()) + timedelta(days=current_app.config["SIGNATURE_REQUEST_DAYS"])


def _check_due_on(due_on: date | None) -> date:
    today = local_date(clock.now())
    if due_on is None:
        return default_due_on()
    if due_on <= today:
        raise ServiceError(
            f"The last day to sign must be after today ({long_date(today)}); "
            f"{long_date(due_on)} is not."
        )
    if due_on > today + timedelta(days=MAX_DAYS):
        raise ServiceError("The last day to sign must be within a year from today.")
    return due_on


def _by_form_key(admin: User, key: str) -> Campaign | None:
    found = db.session.scalar(select(Campaign).where(Campaign.form_key == key))
    if found is not None and found.created_by_id != admin.id:
        raise ServiceError(form_keys.USED)
    return found


def start(
    admin: User,
    *,
    template_id: int | None = None,
    agency_ids: list[int] | None = None,
    due_on: date | None = None,
    note: str = "",
    form_key: str | None = None,
    request: RequestInfo,
) -> Campaign:
    """Starts a campaign and sends each chosen agency its new agreement, all in one
    transaction: every agreement is sent, or none is. `agency_ids` None means every eligible
    agency. The form's one-time `form_key` makes a second submission return the first
    campaign (`already_given`)."""
    require_role(admin, "ssf_admin", message=ADMIN_ONLY)
    return form_keys.once(
        form_key,
        lambda key: _by_form_key(admin, key),
        lambda key: _start(admin, template_id, agency_ids, due_on, note, key, request),
    )


def _start(
    admin: User,
    template_id: int | None,
    agency_ids: list[int] | None,
    due_on: date | None,
    note: str,
    form_key: str | None,
    request: RequestInfo,
) -> Campaign:
    with unit_of_work("This campaign, or an agreement of one of its agencies, changed first."):
        template = target_template(template_id)
        due = _check_due_on(due_on)
        note = clean_text(note, "Note", max_len=4000, required=False, multiline=True)
        chosen = _chosen(template, agency_ids)
        now = clock.now()
        campaign = Campaign(
            reference=_next_reference(),
            template=template,
            state=CAMPAIGN.initial,
            due_on=due,
            note=note,
            form_key=form_key,
            created_at=now,
            created_by_id=admin.id,
            closed_reason="",
        )
        db.session.add(campaign)
        db.session.flush()
        cases.record_creation(CAMPAIGN, campaign, admin, at=now, request=request)
        audit.record(
            admin,
            "campaign.start",
            campaign,
            f"Started re-signing campaign {campaign.reference} on template version "
            f"{template.version} for {len(chosen)} agencies, last day to sign "
            f"{long_date(due)}",
            agency_id=None,
            after={"state": campaign.state, "agencies": [c.agency.id for c in chosen]},
            request=request,
            at=now,
        )
        for candidate in chosen:
            _send_replacement(admin, campaign, candidate, request)
    return campaign


def _chosen(template: AgreementTemplate, agency_ids: list[int] | None) -> list[Candidate]:
    found = candidates(template)
    if agency_ids is None:
        chosen = [c for c in found if not c.skipped]
        if not chosen:
            raise ServiceError(
                f"No agency needs to re-sign: no agreement in effect is on a version older "
                f"than {template.version}, or each such agency is left out for a reason "
                "shown on the new campaign page."
            )
        return chosen
    if not agency_ids:
        raise ServiceError("Choose at least one agency.")
    by_id = {c.agency.id: c for c in found}
    chosen = []
    for agency_id in dict.fromkeys(agency_ids):  # once each, in the order given
        candidate = by_id.get(agency_id)
        if candidate is None:
            raise ServiceError(
                f"Agency {agency_id} has no agreement in effect on a version older than "
                f"{template.version}, so it has nothing to re-sign."
            )
        if candidate.skipped:
            raise ServiceError(
                f"{candidate.agency.legal_name} cannot be included: {candidate.skipped}"
            )
        chosen.append(candidate)
    return chosen


def _next_reference() -> str:
    """RSC-<n>; a race ends in a unique-key conflict (the unit of work's message)."""
    count = db.session.scalar(select(func.count()).select_from(Campaign)) or 0
    return f"RSC-{count + 1:03d}"


def _send_replacement(
    admin: User, campaign: Campaign, candidate: Candidate, request: RequestInfo
) -> Agreement:
    now = clock.now()
    agency = candidate.agency
    agreement = Agreement(
        reference=agreements.next_reference(agency),
        agency=agency,
        template=campaign.template,
        state="draft",
        created_at=now,
        created_by_id=admin.id,
        campaign=campaign,
        replaces=candidate.agreement,
    )
    db.session.add(agreement)
    db.session.flush()
    cases.record_creation(AGREEMENT, agreement, admin, at=now, request=request)
    audit.record(
        admin,
        "agreement.create",
        agreement,
        f"Started agreement {agreement.reference} for {agency.legal_name} (template version "
        f"{campaign.template.version}) in campaign {campaign.reference}, to replace "
        f"{candidate.agreement.reference}",
        agency_id=agency.id,
        after={"state": "draft"},
        request=request,
        at=now,
    )
    agreements.issue(admin, agreement, request)
    return agreement


# --- reading ------------------------------------------------------------------------------


def _visible(viewer: User):
    query = select(Campaign)
    if not is_lead_staff(viewer):
        mine = select(Agreement.campaign_id).where(Agreement.agency_id == viewer.agency_id)
        query = query.where(Campaign.id.in_(mine))
    return query


def get(viewer: User, campaign_id: int) -> Campaign:
    """The campaign, if `viewer` may see it (NotFound otherwise, as for any record)."""
    if not viewer.is_authenticated or not viewer.active:
        raise NotFound()
    campaign = db.session.scalar(_visible(viewer).where(Campaign.id == campaign_id))
    if campaign is None:
        raise NotFound()
    return campaign


def list_for(viewer: User) -> list[Campaign]:
    """The campaigns `viewer` may see, newest first."""
    if not viewer.is_authenticated or not viewer.active:
        raise NotFound()
    query = _visible(viewer).options(joinedload(Campaign.template))
    return list(db.session.scalars(query.order_by(Campaign.id.desc())))


def may_manage(user: User) -> bool:
    """Whether the pages offer this person to start or close a campaign (the services check
    again, with the reason)."""
    return user.is_authenticated and user.active and user.role == "ssf_admin"


# --- closing ------------------------------------------------------------------------------


def close(
    admin: User,
    campaign_id: int,
    *,
    reason: str,
    request: RequestInfo,
    expected_version: int | None = None,
) -> Campaign:
    """Ends the campaign early; its agreements not yet in effect are voided, their links
    stop working, and their executive directors are told they need not sign."""
    require_role(admin, "ssf_admin", message=ADMIN_ONLY)
    with unit_of_work():
        campaign = get(admin, campaign_id)
        if expected_version is not None and expected_version != campaign.lock_version:
            raise Conflict("This campaign changed since you opened it. Review it and try again.")
        why = clean_text(reason, "Reason", max_len=4000, multiline=True)
        now = clock.now()
        # The campaign closes first: voiding its agreements below must not complete it.
        cases.advance(CAMPAIGN, campaign, "close", admin, {}, at=now, request=request, reason=why)
        campaign.closed_at, campaign.closed_reason = now, why
        void_reason = f"Campaign {campaign.reference} was closed: {why}"
        for agreement in campaign.agreements:
            if agreement.state not in PENDING_STATES:
                continue
            was_sent = agreement.state != "draft"
            cases.advance(
                AGREEMENT,
                agreement,
                "void",
                admin,
                agreements.context(agreement, admin),
                at=now,
                request=request,
                reason=void_reason,
            )
            agreement.closed_reason = void_reason
            signature_requests.end(AGREEMENT.name, agreement.id, at=now)
            ed = agencies.executive_director(agreement.agency)
            if was_sent and ed is not None:
                outbox.queue(
                    ed.email,
                    f"No need to sign: HMIS Partner Agency Agreement {agreement.reference}",
                    f"{lead.lead_agency_name()} closed the re-signing campaign "
                    f"{campaign.reference}. The agreement {agreement.reference} can no longer "
                    f"be signed; your agreement {agreement.replaces.reference} stays in "
                    f"effect.\n\nReason:\n{why}\n",
                )
    return campaign
