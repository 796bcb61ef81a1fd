"""Rows for database tests, built straight from the models.

In the spirit of cookiecutter-flask's tests/factories.py: each function adds the rows a test
stands on, with the values the services would have given them, and returns them, without
playing the services that normally make them (registering and inviting people; rendering,
certifying and signing PDFs). Use them where the test is about something else: a remedy, a
deadline, a page, the API. A test about the agreement journey itself plays the services
(tests/services/helpers.py).

The builders flush as they go and the public functions commit at the end, as a finished use
case would: a service that later refuses and rolls back its own transaction must not take the
test's rows with it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache

from flask import current_app
from sqlalchemy import func, select

from portal import clock, runtime
from portal.extensions import db
from portal.models import (
    Agency,
    Agreement,
    AgreementTemplate,
    Document,
    DocumentVersion,
    Transition,
    User,
)
from portal.services.passwords import hash_password
from portal.services.timefmt import local_date
from tests.conftest import PASSWORD
from workflows.agreement import AGREEMENT

IP, USER_AGENT = "192.0.2.1", "tests.factories"

# The steps from a new draft to an agreement in effect, in order.
JOURNEY = ("send", "agency_signs", "lead_countersigns")


@cache
def _password_hash(password: str) -> str:
    """Hashed once per run and shared (argon2 checks a hash by the settings stored in it)."""
    return hash_password(password)


def _commit(row):
    db.session.commit()
    return row


# --- agencies and people -------------------------------------------------------------------


def lead_agency() -> Agency:
    """The lead agency (SSF), as `flask init` makes it."""
    lead = db.session.scalar(select(Agency).where(Agency.is_lead.is_(True)))
    if lead is None:
        lead = Agency(
            legal_name=current_app.config["LEAD_AGENCY_NAME"],
            address="",
            is_lead=True,
            created_at=clock.now(),
        )
        db.session.add(lead)
        db.session.flush()
    return _commit(lead)


def agency(
    legal_name: str,
    *,
    address: str = "1 Main St\nSacramento, CA",
    vawa_provider: bool = False,
    created_by: User | None = None,
) -> Agency:
    """A registered partner agency, without its people (see `person`)."""
    row = Agency(
        legal_name=legal_name,
        address=address,
        vawa_provider=vawa_provider,
        created_at=clock.now(),
        created_by_id=created_by.id if created_by else None,
    )
    db.session.add(row)
    db.session.flush()
    return _commit(row)


def person(
    agency: Agency,
    *,
    email: str,
    name: str,
    title: str,
    role: str,
    password: str | None = PASSWORD,
) -> User:
    """An active account that has set its password (None: invited, no password yet)."""
    row = User(
        agency=agency,
        email=email,
        name=name,
        title=title,
        role=role,
        active=True,
        created_at=clock.now(),
        password_hash=_password_hash(password) if password else None,
    )
    db.session.add(row)
    db.session.flush()
    return _commit(row)


def lead_person(**fields) -> User:
    """SSF staff: `person` of the lead agency."""
    return person(lead_agency(), **fields)


# --- agreements ----------------------------------------------------------------------------


def template() -> AgreementTemplate:
    """The current template version: the sample the portal ships, as `flask init` publishes it
    (the setup the `cast` fixture runs has done so already)."""
    from portal.services import templates

    templates.publish_sample_if_missing()
    return templates.current()


def _first(role: str) -> User:
    query = select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
    found = db.session.scalar(query.limit(1))
    assert found is not None, f"no active {role} to act in the agreement: make one first"
    return found


def _executive_director(agency: Agency) -> User:
    query = select(User).where(
        User.agency_id == agency.id, User.role == "agency_ed", User.active.is_(True)
    )
    found = db.session.scalar(query.order_by(User.id).limit(1))
    assert found is not None, f"{agency.legal_name} has no executive director to sign"
    return found


def agreement(
    agency: Agency,
    *,
    state: str = "effective",
    at: datetime | None = None,
    admin: User | None = None,
    signer: User | None = None,
    countersigner: User | None = None,
    documents: bool = False,
) -> Agreement:
    """An agreement of `agency` that has come as far as `state` on the usual path (draft, sent,
    agency_signed or effective), every step taken at `at` (default now).

    Its row is what the services leave: the current template, a PAA reference, the signer's
    name and title, the signature times and signers, the effective date in the lead agency's
    time zone, and one transition row per step (the history the pages and the termination
    read); whoever signed has consented to do business electronically. By default the acting
    people are the first SSF admin, the agency's executive director and the first SSF
    signatory.

    No PDF is rendered or signed. `documents=True` adds the document rows the signatures
    would have made (and the certificate of completion once in effect), each version a
    stored placeholder that starts like a PDF but is not one: enough for pages and downloads,
    not for checking signatures.
    """
    path = _path_to(state)
    at = at or clock.now()
    admin = admin or _first("ssf_admin")
    row = Agreement(
        reference=_next_reference(agency),
        agency=agency,
        template=template(),
        state=AGREEMENT.initial,
        created_at=at,
        created_by_id=admin.id,
    )
    db.session.add(row)
    db.session.flush()
    transitions = {"create": _transition(row, "create", "", row.state, admin, at)}
    for event in path:
        if event == "send":
            actor = admin
            ed = _executive_director(agency)
            row.signer_name, row.signer_title, row.sent_at = ed.name, ed.title, at
        elif event == "agency_signs":
            actor = signer or _executive_director(agency)
            row.agency_signed_at, row.agency_signed_by_id = at, actor.id
            _consented(actor, at)
        else:
            actor = countersigner or _first("ssf_signatory")
            row.lead_signed_at, row.lead_signed_by_id = at, actor.id
            row.effective_on = local_date(at)
            _consented(actor, at)
        target = AGREEMENT.event(event).target
        transitions[event] = _transition(row, event, row.state, target, actor, at)
        row.state = target
    db.session.flush()
    if documents and path:
        _documents(row, transitions, at)
    return _commit(row)


def _consented(signer: User, at: datetime) -> None:
    """A signature needs consent to do business electronically, given once before the first."""
    if signer.esign_consent_at is None:
        signer.esign_consent_at, signer.esign_consent_ip = at, IP


def _path_to(state: str) -> tuple[str, ...]:
    """The events of the usual path that end in `state`, checked against the machine."""
    reached, path = AGREEMENT.initial, []
    for event in JOURNEY:
        if reached == state:
            break
        assert reached in AGREEMENT.event(event).sources, (event, reached)
        reached = AGREEMENT.event(event).target
        path.append(event)
    assert reached == AGREEMENT.state(state).name, f"{state} is not on the way to effective"
    return tuple(path)


def _next_reference(agency: Agency) -> str:
    """The reference the service gives: PAA-<agency number>-<its nth agreement>."""
    count = db.session.scalar(
        select(func.count()).select_from(Agreement).where(Agreement.agency_id == agency.id)
    )
    return f"PAA-{agency.id:04d}-{count + 1:02d}"


def _transition(case, event: str, source: str, target: str, actor: User, at: datetime):
    row = Transition(
        case_type=AGREEMENT.name,
        case_id=case.id,
        event=event,
        source=source,
        target=target,
        at=at,
        actor_id=actor.id,
        actor_role=actor.role,
        ip=IP,
        user_agent=USER_AGENT,
    )
    db.session.add(row)
    db.session.flush()
    return row


def _documents(row: Agreement, transitions: dict[str, Transition], at: datetime) -> None:
    """The agreement's document with a version per signature, as the services label them."""
    labels = {
        "send": "Issued and certified by {lead}",
        "agency_signs": "Signed for the agency by {name}",
        "lead_countersigns": "Countersigned for {lead} by {name}",
    }
    row.document = _document(row, "agreement", f"HMIS Partner Agency Agreement {row.reference}")
    for event, label in labels.items():
        if event in transitions:
            step = transitions[event]
            actor = db.session.get(User, step.actor_id)
            lead = current_app.config["LEAD_AGENCY_NAME"]
            _version(row.document, label.format(name=actor.name, lead=lead), at, actor, step)
    if row.state == "effective":
        title = f"Certificate of completion {row.reference}"
        row.certificate = _document(row, "certificate", title)
        lead = current_app.config["LEAD_AGENCY_NAME"]
        _version(row.certificate, f"Certificate of completion, sealed by {lead}", at, None, None)
    db.session.flush()


def _document(row: Agreement, kind: str, title: str) -> Document:
    document = Document(
        case_type=AGREEMENT.name,
        case_id=row.id,
        agency_id=row.agency_id,
        kind=kind,
        title=title,
        created_at=row.created_at,
    )
    db.session.add(document)
    db.session.flush()
    return document


def _version(document: Document, label: str, at, by: User | None, step) -> DocumentVersion:
    data = f"%PDF-1.7\n% tests.factories placeholder, not a PDF: {document.title}, {label}\n"
    data = data.encode()
    stored = runtime.storage().put(data)
    version = DocumentVersion(
        document=document,
        seq=len(document.versions) + 1,
        label=label,
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=stored.key,
        storage_version_id=stored.version_id,
        size=len(data),
        created_at=at,
        created_by_id=by.id if by else None,
        transition_id=step.id if step else None,
    )
    db.session.add(version)
    db.session.flush()
    return version
