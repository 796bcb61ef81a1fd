"""Site visits (IV.B.8): the lead agency's HMIS admins schedule a visit to a partner agency
(when, who visits), record that it took place, record its findings ("compliant", or a
"finding" of non-compliance), and close it. From a finding, a lead agency signatory gives a
notice of default through the notices' own service (`give_notice`), with the finding's
words as the description."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import Agency, DefaultNotice, SiteVisit, SiteVisitFinding, User
from portal.notify import outbox
from portal.processes import Awaiting, Process
from portal.services import agencies, agreements, audit, cases, default_notices, links
from portal.services.access import SYSTEM, RequestInfo, is_lead_staff, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.timefmt import local_datetime
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.site_visit import SITE_VISIT

ADMIN_ONLY = "Only a lead agency HMIS admin schedules and records site visits."
KINDS = {"compliant": "Compliant", "finding": "Finding"}


def get(viewer: User, visit_id: int) -> SiteVisit:
    row = db.session.get(SiteVisit, visit_id)
    if row is None:
        raise NotFound()
    agencies.get(viewer, row.agency_id)  # another agency's id: NotFound
    return row


def for_agency(viewer: User, agency_id: int) -> list[SiteVisit]:
    agencies.get(viewer, agency_id)
    query = select(SiteVisit).where(SiteVisit.agency_id == agency_id)
    return list(db.session.scalars(query.order_by(SiteVisit.visit_at.desc(), SiteVisit.id.desc())))


def _next_reference(agency_id: int) -> str:
    count = db.session.scalar(
        select(func.count()).select_from(SiteVisit).where(SiteVisit.agency_id == agency_id)
    )
    return f"VIS-{agency_id:04d}-{count + 1:03d}"


def _when(visit_at: datetime | None) -> datetime:
    if not isinstance(visit_at, datetime) or visit_at.tzinfo is None:
        raise ServiceError("Give the date and time of the visit.")
    return visit_at


def schedule(
    admin: User, agency_id: int, *, visit_at: datetime | None, visitors: str, request: RequestInfo
) -> SiteVisit:
    require_role(admin, "ssf_admin", message=ADMIN_ONLY)
    with unit_of_work():
        agency = agencies.get(admin, agency_id)
        if agency.is_lead or agency.closed_at is not None:
            raise ServiceError(f"{agency.legal_name} does not take site visits.")
        who = clean_text(visitors, "Who visits", max_len=1000)
        now = clock.now()
        row = SiteVisit(
            reference=_next_reference(agency.id),
            agency_id=agency.id,
            state=SITE_VISIT.initial,
            visit_at=_when(visit_at),
            visitors=who,
            created_at=now,
            created_by_id=admin.id,
            closed_reason="",
        )
        db.session.add(row)
        db.session.flush()
        cases.record_creation(SITE_VISIT, row, admin, at=now, request=request)
        audit.record(
            admin,
            "site_visit.schedule",
            row,
            f"Scheduled a site visit to {agency.legal_name} on {local_datetime(row.visit_at)}: "
            f"{row.reference}",
            agency_id=agency.id,
            after={"state": row.state, "visit_at": row.visit_at.isoformat(), "visitors": who},
            request=request,
            at=now,
        )
        _tell_agency(row, f"Site visit scheduled: {local_datetime(row.visit_at)}")
    return row


def _tell_agency(row: SiteVisit, subject: str) -> None:
    for person in row.agency.people:
        if person.active and person.role in ("agency_ed", "agency_security_officer"):
            outbox.queue(
                person.email,
                subject,
                f"The lead agency will visit {row.agency.legal_name} on "
                f"{local_datetime(row.visit_at)} ({row.visitors}); see {row.reference}:\n"
                f"{links.page(f'/site-visits/{row.id}')}\n",
            )


def reschedule(
    admin: User, visit_id: int, *, visit_at: datetime | None, visitors: str, request: RequestInfo
) -> SiteVisit:
    require_role(admin, "ssf_admin", message=ADMIN_ONLY)
    with unit_of_work():
        row = get(admin, visit_id)
        when, who = _when(visit_at), clean_text(visitors, "Who visits", max_len=1000)
        cases.advance(SITE_VISIT, row, "reschedule", admin, {}, at=clock.now(), request=request)
        row.visit_at, row.visitors = when, who
        _tell_agency(row, f"Site visit moved: {local_datetime(row.visit_at)}")
    return row


def step(
    admin: User, visit_id: int, event: str, *, request: RequestInfo, reason: str = ""
) -> SiteVisit:
    """Records that the visit took place, closes it, or cancels it (with a reason)."""
    require_role(admin, "ssf_admin", message=ADMIN_ONLY)
    if event not in ("record_visit", "close", "cancel"):
        raise ServiceError("That is not a step of a site visit.")
    with unit_of_work():
        row = get(admin, visit_id)
        why = clean_text(reason, "Reason", max_len=2000, required=False, multiline=True)
        now = clock.now()
        cases.advance(SITE_VISIT, row, event, admin, {}, at=now, request=request, reason=why)
        if SITE_VISIT.state(row.state).terminal:
            row.closed_at, row.closed_reason = now, why
    return row


def add_finding(
    admin: User, visit_id: int, *, kind: str, text: str, request: RequestInfo
) -> SiteVisitFinding:
    require_role(admin, "ssf_admin", message=ADMIN_ONLY)
    with unit_of_work():
        row = get(admin, visit_id)
        if row.state != "findings":
            raise ServiceError(
                "Findings are recorded after the visit took place, before it closes."
            )
        if kind not in KINDS:
            raise ServiceError("Choose whether this is compliant or a finding.")
        words = clean_text(text, "What was found", max_len=10_000, multiline=True)
        now = clock.now()
        finding = SiteVisitFinding(
            visit=row, kind=kind, text=words, recorded_at=now, recorded_by_id=admin.id
        )
        db.session.add(finding)
        db.session.flush()
        audit.record(
            admin,
            "site_visit.finding",
            row,
            f"Recorded a {KINDS[kind].lower()} on {row.reference}",
            agency_id=row.agency_id,
            after={"kind": kind, "text": words},
            request=request,
            at=now,
        )
    return finding


def finding_of(viewer: User, visit_id: int, finding_id: int) -> SiteVisitFinding:
    row = get(viewer, visit_id)
    finding = db.session.get(SiteVisitFinding, finding_id)
    if finding is None or finding.visit_id != row.id:
        raise NotFound()
    return finding


def notice_agreement(visit: SiteVisit):
    """The agreement a notice of default would be given under: the one in effect."""
    return agreements.in_effect(visit.agency)


def give_notice(
    signatory: User,
    visit_id: int,
    finding_id: int,
    *,
    provisions: list[str],
    description: str,
    cure_required: str,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
    form_key: str | None = None,
) -> DefaultNotice:
    """Gives a notice of default from a finding, by the notices' own service and rules (the
    form's one-time key too: sent twice, it gives one notice)."""
    require_role(signatory, "ssf_signatory", message="Only a lead agency signatory gives notices.")
    finding = finding_of(signatory, visit_id, finding_id)
    if finding.kind != "finding":
        raise ServiceError("Only a finding of non-compliance can lead to a notice of default.")
    agreement = notice_agreement(finding.visit)
    if agreement is None:
        raise ServiceError("This agency has no agreement in effect to give a notice under.")
    return default_notices.give(
        signatory,
        agreement.id,
        provisions=provisions,
        description=description,
        cure_required=cure_required,
        password=password,
        intent=intent,
        consent=consent,
        request=request,
        form_key=form_key,
    )


def close_for_agency(agency: Agency, reason: str, *, at: datetime) -> None:
    open_states = [s.name for s in SITE_VISIT.states if not s.terminal]
    query = select(SiteVisit).where(
        SiteVisit.agency_id == agency.id, SiteVisit.state.in_(open_states)
    )
    for row in db.session.scalars(query.order_by(SiteVisit.id)):
        row.closed_at, row.closed_reason = at, reason
        cases.advance(
            SITE_VISIT, row, "agency_closed", None, {}, at=at, request=SYSTEM, reason=reason
        )


def awaiting(user: User) -> list[Awaiting]:
    """For the lead agency's HMIS admins: visits to record, and findings to close."""
    if user.role != "ssf_admin":
        return []
    now = clock.now()
    query = select(SiteVisit).where(
        ((SiteVisit.state == "scheduled") & (SiteVisit.visit_at <= now))
        | (SiteVisit.state == "findings")
    )
    return [
        Awaiting(
            case=row,
            title=f"Site visit to {row.agency.legal_name}: "
            + ("record it" if row.state == "scheduled" else "record the findings and close it"),
            url=f"/site-visits/{row.id}",
            since=row.visit_at,
        )
        for row in db.session.scalars(query.order_by(SiteVisit.visit_at))
    ]


def sees(user: User) -> bool:
    return is_lead_staff(user)


PROCESS = Process(machine=SITE_VISIT, model=SiteVisit, awaiting=awaiting)
