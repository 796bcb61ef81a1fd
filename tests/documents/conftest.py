"""Documents to sign and people to sign them, shared by the signing and verification tests.

The session PKI comes from tests/support/pki.py (registered in tests/conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO

import pytest
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

from portal.documents.signing import DocumentSigner, SignatureField, SignatureStamp
from portal.pki import IssuedIdentity, Pki

AGENCY_FIELD = SignatureField("agency_signature", -1, (72.0, 90.0, 312.0, 150.0))
LEAD_FIELD = SignatureField("lead_signature", -1, (330.0, 90.0, 570.0, 150.0))


def three_page_pdf() -> bytes:
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    for page in range(1, 4):
        text = pdf.beginText(72, 720)
        text.setFont("Helvetica", 11)
        text.textLine(f"HMIS Partner Agency Agreement, page {page} of 3")
        for n in range(30):
            text.textLine(f"{page}.{n} The Partner Agency shall protect client data.")
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class Person:
    identity: IssuedIdentity
    stamp: SignatureStamp
    password: str  # seals the identity's key (portal/pki/keys.py)


@pytest.fixture(scope="session")
def agreement_pdf() -> bytes:
    return three_page_pdf()


@pytest.fixture(scope="session")
def signer(pki: Pki) -> DocumentSigner:
    return DocumentSigner(pki)


def _person(pki: Pki, name: str, title: str, organization: str, email: str) -> Person:
    identity = pki.issue_identity(
        common_name=name,
        title=title,
        organization=organization,
        email=email,
        now=datetime.now(UTC),
        password=f"{name}'s own password",
    )
    stamp = SignatureStamp(name, title, organization, "November 24, 2026")
    return Person(identity, stamp, f"{name}'s own password")


@pytest.fixture(scope="session")
def director(pki: Pki) -> Person:
    return _person(
        pki, "Eve Director", "Executive Director", "Hope & Harbor <Shelter>", "ed@hope.test"
    )


@pytest.fixture(scope="session")
def ceo(pki: Pki) -> Person:
    return _person(
        pki, "Sol Signer", "Chief Executive Officer", "Sacramento Steps Forward", "sign@ssf.test"
    )


@dataclass(frozen=True)
class Versions:
    """Each stored version of the agreement: as rendered, certified, and after each signer."""

    rendered: bytes
    certified: bytes
    agency_signed: bytes
    final: bytes


@pytest.fixture(scope="session")
def versions(signer: DocumentSigner, pki: Pki, agreement_pdf, director, ceo) -> Versions:
    certified = signer.certify(
        agreement_pdf,
        fields=[AGENCY_FIELD, LEAD_FIELD],
        reason="Issued by the HMIS Lead Agency",
        location="Sacramento, CA",
    )
    agency_signed = signer.approve(
        certified,
        signer=pki.signer_for(director.identity, director.password),
        field_name=AGENCY_FIELD.name,
        stamp=director.stamp,
        reason="Partner agency signs",
    )
    final = signer.approve(
        agency_signed,
        signer=pki.signer_for(ceo.identity, ceo.password),
        field_name=LEAD_FIELD.name,
        stamp=ceo.stamp,
        reason="Lead agency countersigns",
    )
    return Versions(agreement_pdf, certified, agency_signed, final)
