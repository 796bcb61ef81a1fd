"""The agency's yearly security self-assessment (V.E.11 a–c, V.B.6; workflows/self_assessment.py).

The agency's current security officer answers the questions (yes or no, with a comment
required wherever the answer is "no"), saving as often as they like, then signs it as a PDF:
rendered here, certified by the lead agency, signed by the officer and stored as a Document,
all in one transaction with the step and the audit event, so a failure leaves nothing changed
and a retry works. One per agency per year; the agency's executive director and the lead
agency's staff can read it, and the lead agency sees which agencies have completed theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import Agency, Recertification, SecurityAssessment, User
from portal.notify import outbox
from portal.processes import Awaiting, Process
from portal.services import audit, cases, documents, links, security_officers, signing
from portal.services.access import RequestInfo, is_lead_staff, require_agency_visible
from portal.services.errors import NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_date
from portal.services.unit import unit_of_work
from workflows.self_assessment import SELF_ASSESSMENT

MAX_ID = 2**31 - 1
ANSWERS = ("yes", "no")
CONFLICT = "Someone else changed this self-assessment first. Reload it and try again."


def this_year() -> int:
    return local_date(clock.now()).year


def _questions():
    from portal.documents.self_assessment import QUESTIONS

    return QUESTIONS


def sections():
    from portal.documents.self_assessment import SECTIONS

    return SECTIONS


def _may_read(viewer: User, agency_id: int) -> None:
    require_agency_visible(viewer, agency_id)
    if not (is_lead_staff(viewer) or viewer.role == "agency_ed"
            or security_officers.is_officer(viewer)):  # fmt: skip
        raise NotFound()


def _agency(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id) if 0 < agency_id <= MAX_ID else None
    if agency is None or agency.is_lead:
        raise NotFound()
    return agency


def of_agency(viewer: User, agency_id: int, year: int) -> SecurityAssessment | None:
    """The agency's assessment for the year, if started (for the people who may read it)."""
    _may_read(viewer, agency_id)
    _agency(agency_id)
    return _find(agency_id, year)


def _find(agency_id: int, year: int) -> SecurityAssessment | None:
    query = select(SecurityAssessment).where(
        SecurityAssessment.agency_id == agency_id, SecurityAssessment.year == year
    )
    return db.session.scalar(query)


def get(viewer: User, assessment_id: int) -> SecurityAssessment:
    row = db.session.get(SecurityAssessment, assessment_id) if 0 < assessment_id <= MAX_ID else None
    if row is None:
        raise NotFound()
    _may_read(viewer, row.agency_id)
    return row


def problems(answers: Mapping[str, Mapping[str, str]]) -> list[str]:
    """What is missing before the assessment can be signed, in words; [] when complete."""
    missing = []
    for q in _questions():
        given = answers.get(q.key, {})
        if given.get("answer") not in ANSWERS:
            missing.append(f"Answer: “{q.text}”")
        elif given.get("answer") == "no" and not str(given.get("comment", "")).strip():
            missing.append(f"Explain the “no” to: “{q.text}”")
    return missing


def clean_answers(raw: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The form's fields (`<key>` yes/no/"", `<key>_comment`) as answers; bad input refused."""
    answers: dict[str, dict[str, str]] = {}
    for q in _questions():
        answer = (raw.get(q.key) or "").strip().lower()
        comment = (raw.get(f"{q.key}_comment") or "").replace("\x00", "").strip()
        if answer not in ("", *ANSWERS):
            raise ServiceError("Each answer is “yes” or “no”.")
        if len(comment) > 2000:
            raise ServiceError("A comment may be at most 2,000 characters.")
        answers[q.key] = {"answer": answer, "comment": comment}
    return answers


def _require_officer(user: User, agency_id: int) -> None:
    if user.agency_id != agency_id or not security_officers.is_officer(user):
        raise ServiceError("Only the agency's current security officer may do this.")


def save(user: User, agency_id: int, raw: Mapping[str, str], *, request: RequestInfo):
    """The security officer saves answers to this year's assessment (starting it if needed)."""
    with unit_of_work(CONFLICT):
        _may_read(user, agency_id)
        agency = _agency(agency_id)
        _require_officer(user, agency.id)
        answers = clean_answers(raw)
        now, year = clock.now(), this_year()
        row = _find(agency.id, year)
        if row is None:
            row = SecurityAssessment(
                year=year, agency_id=agency.id, state=SELF_ASSESSMENT.initial,
                answers={}, created_at=now,
            )  # fmt: skip
            db.session.add(row)
            db.session.flush()
            cases.record_creation(SELF_ASSESSMENT, row, user, at=now, request=request)
        if row.state != "draft":
            raise ServiceError("This self-assessment is signed; it can no longer change.")
        before = dict(row.answers or {})
        row.answers = answers
        audit.record(
            user,
            "self_assessment.save",
            row,
            f"Saved the {year} security self-assessment answers of {agency.legal_name}",
            agency_id=agency.id,
            before={"answers": before},
            after={"answers": answers},
            request=request,
            at=now,
        )
    return row


def context(row: SecurityAssessment, user: User) -> dict[str, object]:
    return {
        "actor_is_officer": user.agency_id == row.agency_id and security_officers.is_officer(user),
        "answers_complete": not problems(row.answers or {}),
        "esign_consent": user.esign_consent_at is not None,
    }


@dataclass(frozen=True)
class Signature:
    password: str
    intent: bool
    consent: bool


def sign(user: User, assessment_id: int, sig: Signature, *, request: RequestInfo):
    """The current security officer signs: the PDF is rendered, certified by the lead agency,
    signed by the officer and stored, with the step, in one transaction."""
    from portal.documents.self_assessment import Facts, officer_block, render_self_assessment

    with unit_of_work(CONFLICT):
        row = get(user, assessment_id)
        if row.state == "signed":
            raise ServiceError("This self-assessment is already signed; nothing was signed again.")
        _require_officer(user, row.agency_id)
        missing = problems(row.answers or {})
        if missing:
            raise ServiceError("Before signing: " + "; ".join(missing[:3])
                               + ("…" if len(missing) > 3 else ""))  # fmt: skip
        now = clock.now()
        signer = signing.confirm_signer(user, sig.password, sig.intent, sig.consent, request, now)
        transition = cases.advance(
            SELF_ASSESSMENT, row, "officer_signs", user, context(row, user), at=now,
            request=request,
        )  # fmt: skip
        agency = row.agency
        facts = Facts(lead_agency_name(), agency.legal_name, row.year,
                      officer_block(user.name, user.title or "Security Officer",
                                    agency.legal_name))  # fmt: skip
        try:
            rendered = render_self_assessment(facts, row.answers or {})
        except ValueError as exc:
            raise ServiceError(f"The self-assessment could not be prepared: {exc}") from exc
        certified = signing.certify(rendered, reason="Issued by the HMIS Lead Agency")
        document = documents.new_document(
            case_type="self_assessment", case_id=row.id, agency_id=agency.id,
            kind="self_assessment",
            title=f"Security self-assessment {row.year}: {agency.legal_name}",
        )  # fmt: skip
        documents.add_version(document, certified, f"Issued and certified by "
                              f"{lead_agency_name()}", by=None)  # fmt: skip
        signed = signing.approve(certified, signer, facts.officer.field_name, now,
                                 reason="Signed by the security officer")  # fmt: skip
        documents.add_version(document, signed, f"Signed by the security officer: {user.name}",
                              by=user, transition=transition, archive=True)  # fmt: skip
        row.document = document
        row.signed_at, row.signed_by_id = now, user.id
        for person in agency.people:
            if person.active and person.role == "agency_ed" and person.id != user.id:
                outbox.queue(
                    person.email,
                    f"The {row.year} security self-assessment is signed",
                    f"Hello {person.name},\n\n{user.name} signed {agency.legal_name}'s "
                    f"{row.year} security self-assessment:\n"
                    f"{links.page(f'/self-assessment/{row.id}')}\n",
                )
    return row


@dataclass(frozen=True)
class AgencyStatus:
    agency: Agency
    assessment: SecurityAssessment | None


def status(viewer: User, year: int) -> list[AgencyStatus]:
    """Each partner agency the viewer sees, with its assessment for the year (None: not
    started): the lead agency's view of who has completed theirs."""
    query = select(Agency).where(Agency.is_lead.is_(False)).order_by(Agency.legal_name)
    if not is_lead_staff(viewer):
        query = query.where(Agency.id == viewer.agency_id)
    rows = {
        a.agency_id: a
        for a in db.session.scalars(
            select(SecurityAssessment).where(SecurityAssessment.year == year)
        )
    }
    return [AgencyStatus(agency, rows.get(agency.id)) for agency in db.session.scalars(query)]


@dataclass(frozen=True)
class _NotStarted:
    """Stands in for a case before the officer starts the year's assessment."""

    id: int
    state: str


def _campaign_opened(agency_id: int, year: int):
    """When the lead agency opened the year's recertification campaign for the agency's
    users (the first of them), or None: the year's self-assessment is due from then on."""
    query = select(func.min(Recertification.opened_at)).where(
        Recertification.agency_id == agency_id, Recertification.year == year
    )
    return db.session.scalar(query)


def awaiting(user: User) -> list[Awaiting]:
    """This year's assessment, for the agency's security officer until it is signed: once
    they started it, or once the year's recertification campaign reached their agency."""
    if is_lead_staff(user) or not security_officers.is_officer(user):
        return []
    year = this_year()
    row = _find(user.agency_id, year)
    if row is not None and row.state == "signed":
        return []
    opened = _campaign_opened(user.agency_id, year) if row is None else None
    if row is None and opened is None:
        return []
    url = "/self-assessment/" if row is None else f"/self-assessment/{row.id}"
    case = row if row is not None else _NotStarted(0, f"not_started_{year}")
    since = row.created_at if row is not None else opened
    since = since.replace(tzinfo=UTC) if since.tzinfo is None else since
    return [Awaiting(case=case, title=f"Complete and sign the {year} security "
                     "self-assessment", url=url, since=since)]  # fmt: skip


PROCESS = Process(
    machine=SELF_ASSESSMENT,
    model=SecurityAssessment,
    documents=("self_assessment",),
    awaiting=awaiting,
)
