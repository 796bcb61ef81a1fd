"""The demo: a seeded instance for `make run`, and the whole journey played for `flask demo`.

Both go through the same services the pages call; nothing here writes to the database
directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from portal import clock, runtime
from portal.extensions import db
from portal.models import AccessRequest, Agreement, User
from portal.services import (
    access_requests,
    agencies,
    agreement_signatures,
    agreements,
    auth,
    demo_onboarding,
    demo_over_time,
    documents,
    setup,
)
from portal.services.access import RequestInfo
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_date
from portal.services.unit import unit_of_work

DEMO_PASSWORD = "demo-password-2026"
DEMO_REQUEST = RequestInfo(ip="127.0.0.1", user_agent="portal demo")


@dataclass(frozen=True)
class Login:
    email: str
    name: str
    role: str
    agency: str


PARTNERS = [
    {
        "legal_name": "River City Shelter Collaborative",
        "address": "1200 Front Street\nSacramento, CA 95814",
        "ed": ("Maria Delgado", "Executive Director", "ed@rivercity.test"),
        "so": ("Tom Nguyen", "HMIS Security Officer", "security@rivercity.test"),
    },
    {
        "legal_name": "Northgate Family Services",
        "address": "455 Northgate Boulevard\nSacramento, CA 95833",
        "ed": ("Aisha Okafor", "Chief Executive Officer", "ed@northgate.test"),
        "so": ("Luis Ramírez", "Data & Security Lead", "security@northgate.test"),
    },
]
STORY_PARTNER = {
    "legal_name": "Harbor Light Youth Services",
    "address": "88 Harbor Way\nWest Sacramento, CA 95691",
    "ed": ("Grace Kim", "Executive Director", "ed@harborlight.test"),
    "so": ("Omar Haddad", "IT & Security Manager", "security@harborlight.test"),
}
# New HMIS users: name, e-mail, job title, HMIS role, programs.
NEW_USERS = [
    ("Nia Thompson", "nia@rivercity.test", "Case Manager", "case_manager", "Rapid Re-Housing"),
    ("Kim Park", "kim@northgate.test", "Intake Specialist", "intake", "Family Shelter"),
    ("Dev Patel", "dev@northgate.test", "Housing Navigator", "case_manager", "Family Shelter"),
    ("Rosa Díaz", "rosa@northgate.test", "Outreach Worker", "intake", "Street Outreach"),
]
# River City's case manager who leaves before finishing onboarding (flask demo).
LEAVER = ("Jamal Reed", "jamal@rivercity.test", "Case Manager", "case_manager", "Rapid Re-Housing")
LEAD_STAFF = [
    ("admin@ssf.test", "Jordan Lee", "HMIS Administrator", "ssf_admin"),
    ("signatory@ssf.test", "Pat Morales", "Chief Executive Officer", "ssf_signatory"),
    ("auditor@ssf.test", "Sam Chen", "Compliance Auditor", "auditor"),
]


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def seed() -> list[Login]:
    """Seeds SSF staff and two partner agencies whose people all use DEMO_PASSWORD."""
    setup.initialize()
    for email, name, title, role in LEAD_STAFF:
        setup.add_lead_person(
            email=email, name=name, title=title, role=role, password=DEMO_PASSWORD
        )
    admin = _user("admin@ssf.test")
    for partner in PARTNERS:
        _register(admin, partner)
    return logins()


def _register(admin: User, partner: dict):
    """Registers a partner agency; its people set DEMO_PASSWORD from their invitations."""
    agency = agencies.register(
        admin,
        legal_name=partner["legal_name"],
        address=partner["address"],
        vawa_provider=False,
        executive_director=agencies.Contact(*partner["ed"]),
        security_officer=agencies.Contact(*partner["so"]),
        request=DEMO_REQUEST,
    )
    for person in agency.people:
        _set_password(person)
    return agency


def logins() -> list[Login]:
    people = db.session.scalars(select(User).where(User.email.like("%.test")).order_by(User.id))
    return [Login(p.email, p.name, p.role_label, p.agency.legal_name) for p in people]


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _set_password(person: User) -> None:
    """Demo people set their password through the same invitation flow as real ones."""
    with unit_of_work():
        token = auth.invite(person, purpose="Your demo account.")
    auth.accept_invitation(token, DEMO_PASSWORD, DEMO_PASSWORD, DEMO_REQUEST)


def play_journey(out: Path) -> list[Path]:
    """Plays every journey through the services; writes every PDF it produced to `out`.

    1. River City: agreement sent, signed by the ED, countersigned by SSF (in effect);
       a notice of default is given and cured; then 30 days' notice of termination runs out.
       Its agreement is amended (the training section), signed by both parties. A new
       version of the agreement is published and sent to both agencies: Northgate re-signs
       (its old agreement ends, superseded), River City lets the request expire.
    2. Northgate: agreement in effect; a notice of default lapses uncured and SSF declares
       the agreement terminated.
    Month-long periods pass on the portal's clock (`clock.shifted`), so the later documents
    carry the simulated dates.
    """
    from portal.services import cures, deadlines, default_notices, terminations

    if is_empty():
        seed()
    admin, signatory = _user("admin@ssf.test"), _user("signatory@ssf.test")
    river = _sign_agreement(admin, signatory, _user(PARTNERS[0]["ed"][2]))
    northgate = _sign_agreement(admin, signatory, _user(PARTNERS[1]["ed"][2]))
    ed = _user(PARTNERS[0]["ed"][2])
    # A new HMIS user at River City, from the security officer's request to the issued
    # account: a failed first test, then a passed retake.
    newcomer = demo_onboarding.onboard(
        _onboarding_cast(PARTNERS[0]),
        access_requests.NewStaff(*NEW_USERS[0]),
        until="issued",
        fail_first=True,
    )
    # A second case manager signs their user agreement, then leaves before training.
    leaver = demo_onboarding.onboard(
        _onboarding_cast(PARTNERS[0]), access_requests.NewStaff(*LEAVER), until="approved"
    )
    assessment, separated = _separations_and_assessment(leaver)
    signed = {"password": DEMO_PASSWORD, "intent": True, "consent": True, "request": DEMO_REQUEST}
    amendment = demo_over_time.amend(admin, signatory, ed, river, signed)
    superseded = northgate
    campaign, northgate = demo_over_time.resign(
        admin, signatory, _user(PARTNERS[1]["ed"][2]), signed
    )
    handover = _reallocation(admin)

    cured = default_notices.give(
        signatory,
        river.id,
        provisions=["V.E.12"],
        description="A user who left the agency in October was reported to "
        f"{lead_agency_name()} nine days late.",
        cure_required="Report every separation within one business day and confirm the "
        "separation procedure in writing.",
        **signed,
    )
    cures.submit_cure(
        ed,
        cured.id,
        text="We adopted a written separation checklist; HR now notifies the "
        "security officer on the last day.",
        uploads=[],
        request=DEMO_REQUEST,
    )
    cures.accept_cure(signatory, cured.id, request=DEMO_REQUEST)

    lapsed = default_notices.give(
        signatory,
        northgate.id,
        provisions=["V.B.5", "V.C.2"],
        description="Client consent forms were missing for 40 enrollments reviewed on site.",
        cure_required="Obtain and file written consent for each listed client.",
        **signed,
    )
    with clock.shifted(timedelta(days=11)):
        deadlines.sweep()
        default_notices.declare_termination(signatory, lapsed.id, **signed)

    notice = terminations.give(
        ed,
        river.id,
        reason="River City is merging its HMIS programs into another partner agency.",
        **signed,
    )
    with clock.shifted(timedelta(days=31)):
        deadlines.sweep()

    written = []
    for agreement in (river, superseded, northgate):
        written += write_documents(db.session.get(Agreement, agreement.id), out)
    written += _write(out, cured.document, f"{cured.reference}-notice-of-default")
    written += _write(out, lapsed.document, f"{lapsed.reference}-notice-of-default")
    written += _write(out, lapsed.declaration, f"{lapsed.reference}-declaration-of-termination")
    written += _write(out, notice.document, f"{notice.reference}-notice-of-termination")
    written += _write(out, handover.document, f"{handover.reference}-hand-over-receipt")
    written += _write(out, amendment.document, f"{amendment.reference}-amendment")
    newcomer = db.session.get(AccessRequest, newcomer.id)
    written += _write(
        out, newcomer.onboarding.document, f"{newcomer.reference}-hmis-user-agreement"
    )
    written += _write(
        out, newcomer.certificate, f"{newcomer.reference}-certificate-of-participation"
    )
    written += _write(
        out, assessment.document, f"security-self-assessment-{assessment.year}-northgate"
    )
    written.append(demo_over_time.write_campaign(db.session.get(type(campaign), campaign.id), out))
    report = out / "separations.txt"
    report.write_text(
        "".join(
            f"{row.reference}: {row.user.name}, last day {row.last_day.isoformat()}, reported "
            f"{'on time' if row.on_time else 'LATE'} (due {row.due_rule_text})\n"
            for row in separated
        )
    )
    return [*written, report]


def _separations_and_assessment(leaver: AccessRequest):
    """Northgate's security officer signs the year's security self-assessment; River City
    reports two separations: a case manager still in onboarding on time (the last day is
    today; their open request closes), its security officer's late (reported a week after
    the last day, past the business day after it).

    The separated people's certificates are revoked. Neither signed a document this command
    writes out, so every written PDF also passes a validator that judges revocation as of
    today (`pyhanko sign validate --force-revinfo`); a separated signer's earlier signatures
    stay valid under AdES validation, which weighs the revocation against the timestamp.
    """
    from portal.documents.self_assessment import QUESTIONS
    from portal.services import self_assessments, separations

    officer = _user(PARTNERS[1]["so"][2])
    answers = {q.key: "yes" for q in QUESTIONS}
    row = self_assessments.save(officer, officer.agency_id, answers, request=DEMO_REQUEST)
    signature = self_assessments.Signature(DEMO_PASSWORD, True, True)
    row = self_assessments.sign(officer, row.id, signature, request=DEMO_REQUEST)
    ed = _user(PARTNERS[0]["ed"][2])
    today = local_date(clock.now())
    on_time = separations.report(
        ed,
        ed.agency_id,
        user_id=leaver.user_id,
        last_day=today,
        note="Moved to another county's CoC.",
        request=DEMO_REQUEST,
    )
    with clock.shifted(timedelta(days=8)):  # reported a week after the last day
        late = separations.report(
            ed,
            ed.agency_id,
            user_id=_user(PARTNERS[0]["so"][2]).id,
            last_day=today,
            note="Reported late: the separation checklist was not followed.",
            request=DEMO_REQUEST,
        )
    return row, [on_time, late]


def seed_story() -> None:
    """For `make run`: cases in progress, so each demo person's home shows what awaits
    them. A third agency, Harbor Light, has an agreement waiting for its executive director;
    Northgate's is in effect, with a notice of default in its cure period and three new HMIS
    users: one whose user agreement waits for the agency's approval, one in training, one
    whose account is ready for the lead agency to issue. River City is left as registered,
    for a visitor to walk from the start."""
    from portal.services import default_notices

    admin, signatory = _user("admin@ssf.test"), _user("signatory@ssf.test")
    harbor = _register(admin, STORY_PARTNER)
    sent = agreements.create(admin, harbor.id, DEMO_REQUEST)
    agreements.send(admin, sent.id, DEMO_REQUEST)
    northgate = _sign_agreement(admin, signatory, _user(PARTNERS[1]["ed"][2]))
    cast = _onboarding_cast(PARTNERS[1])
    for staff, until in zip(NEW_USERS[1:], ("signed", "approved", "trained"), strict=True):
        demo_onboarding.onboard(cast, access_requests.NewStaff(*staff), until=until)
    default_notices.give(
        signatory,
        northgate.id,
        provisions=["V.E.12"],
        description="Two users who left the agency were reported to "
        f"{lead_agency_name()} after more than one business day.",
        cure_required="Report every separation within one business day, and send the "
        "agency's written separation procedure.",
        password=DEMO_PASSWORD,
        intent=True,
        consent=True,
        request=DEMO_REQUEST,
    )


def _onboarding_cast(partner: dict) -> demo_onboarding.Cast:
    """The lead agency's admin; the agency's security officer requests, its ED approves."""
    return demo_onboarding.Cast(
        admin=_user("admin@ssf.test"),
        requester=_user(partner["so"][2]),
        approver=_user(partner["ed"][2]),
        password=DEMO_PASSWORD,
        request=DEMO_REQUEST,
    )


def _sign_agreement(admin: User, signatory: User, ed: User) -> Agreement:
    agreement = agreements.create(admin, ed.agency_id, DEMO_REQUEST)
    agreements.send(admin, agreement.id, DEMO_REQUEST)
    signed = {"password": DEMO_PASSWORD, "intent": True, "consent": True, "request": DEMO_REQUEST}
    agreement_signatures.sign_as_agency(ed, agreement.id, **signed)
    return agreement_signatures.countersign(signatory, agreement.id, **signed)


def _write(out: Path, document, stem: str) -> list[Path]:
    """The final (fully signed) version of a document."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.pdf"
    path.write_bytes(documents.read_bytes(document.current))
    return [path]


def write_documents(agreement: Agreement, out: Path) -> list[Path]:
    """Every version of the agreement, its certificate of completion, and the root CA."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for document in [agreement.document, agreement.certificate]:
        for version in document.versions:
            name = f"{agreement.reference}-{document.kind}-v{version.seq}.pdf"
            path = out / name
            path.write_bytes(documents.read_bytes(version))
            written.append(path)
    root = out / "root-ca.pem"
    root.write_bytes(runtime.pki().root_pem())
    written.append(root)
    return written


def _reallocation(admin: User):
    """SSF reallocates River City's Rapid Re-Housing program to Northgate (VIII.B.7): River
    City records the delivery of the signed consent forms, Northgate confirms receipt, and
    both executive directors sign the receipt."""
    from datetime import date

    from portal.services import programs, reallocation_receipt, reallocations
    from portal.services.timefmt import local_date

    river = _user(PARTNERS[0]["ed"][2])
    northgate = _user(PARTNERS[1]["ed"][2])
    program = programs.add(
        admin,
        river.agency_id,
        name="Rapid Re-Housing",
        funding_source="HUD CoC Program",
        hud_grant_number="CA0123L9T012400",
        start_date=date(2019, 7, 1),
        request=DEMO_REQUEST,
    )
    row = reallocations.open_(
        admin,
        program.id,
        acquiring_agency_id=northgate.agency_id,
        reason="The CoC's ranking moved the grant to Northgate Family Services.",
        request=DEMO_REQUEST,
    )
    delivery = reallocations.Delivery(
        count=57, method="secure_courier", delivered_on=local_date(clock.now())
    )
    reallocations.record_delivery(river, row.id, delivery, request=DEMO_REQUEST)
    reallocation_receipt.confirm_receipt(northgate, row.id, request=DEMO_REQUEST)
    signature = {"password": DEMO_PASSWORD, "intent": True, "consent": True}
    reallocation_receipt.sign(river, row.id, **signature, request=DEMO_REQUEST)
    return reallocation_receipt.sign(northgate, row.id, **signature, request=DEMO_REQUEST)
