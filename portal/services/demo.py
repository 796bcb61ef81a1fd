"""The demo: a seeded instance for `make run`, and the whole journey played for `flask demo`.

Both go through the same services the pages call; nothing here writes to the database
directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from portal import runtime
from portal.extensions import db
from portal.models import Agreement, User
from portal.services import agencies, agreements, auth, documents, setup
from portal.services.access import RequestInfo
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
    return logins()


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
    """Registers, sends, signs and countersigns an agreement; writes every PDF to `out`."""
    if is_empty():
        seed()
    admin, signatory = _user("admin@ssf.test"), _user("signatory@ssf.test")
    ed = _user(PARTNERS[0]["ed"][2])
    agreement = agreements.create(admin, ed.agency_id, DEMO_REQUEST)
    agreements.send(admin, agreement.id, DEMO_REQUEST)
    agreements.sign_as_agency(
        ed, agreement.id, password=DEMO_PASSWORD, intent=True, consent=True, request=DEMO_REQUEST
    )
    agreements.countersign(
        signatory,
        agreement.id,
        password=DEMO_PASSWORD,
        intent=True,
        consent=True,
        request=DEMO_REQUEST,
    )
    return write_documents(db.session.get(Agreement, agreement.id), out)


def write_documents(agreement: Agreement, out: Path) -> list[Path]:
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
