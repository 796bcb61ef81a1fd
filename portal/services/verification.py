"""Checking any PDF: its signatures, and whether it is a document on record.

Besides the file, each signature's certificate is looked up among those the portal issued
(people's SigningIdentity rows, its seal and TSA), with its revocations on record: a
certificate minted with the CA key by someone holding the server's files chains to the root
like a real one, and only the record tells them apart (portal/documents/issuance.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from portal import runtime
from portal.documents.issuance import IssuedCertificate, Revocation
from portal.documents.verify import SignatureReport
from portal.extensions import db
from portal.models import CertificateRevocation, DocumentVersion, SigningIdentity
from portal.processes import registry
from portal.services import documents
from portal.services.next_steps import state_of


@dataclass
class RecordMatch:
    version: DocumentVersion
    reference: str
    status: str
    is_latest: bool


@dataclass
class Verification:
    report: object  # portal.documents.verify.VerificationReport
    match: RecordMatch | None
    judgement: object  # portal.documents.verdict.Judgement: the one verdict every reader shows
    # The certificates the portal issued among the signatures, by DER SHA-256.
    issued: dict[str, IssuedCertificate] = field(default_factory=dict)

    @property
    def record_line(self) -> str:
        """Whether this exact file is on record, in one line."""
        if self.match is None:
            return "On record: no (this exact file is not a document the portal stored)."
        m = self.match
        latest = "the latest version" if m.is_latest else "an earlier version; a later one exists"
        status = f"; current status: {m.status}" if m.status else ""
        return (
            f"On record: {m.reference}, version {m.version.seq} ({m.version.label}), "
            f"{latest}{status}."
        )


def verify(data: bytes) -> Verification:
    """The PDF's signatures; if it is a document on record, its case's reference and state
    (in the case's machine's words, as its pages show it)."""
    from portal.documents.verdict import judge
    from portal.documents.verify import verify_pdf

    report = verify_pdf(data, runtime.pki().trust_roots)
    version = documents.find_by_sha256(report.sha256)
    match = None
    if version is not None:
        doc = version.document
        reference, status = doc.title, ""
        case = db.session.get(registry().get(doc.case_type).model, doc.case_id)
        if case is not None:
            status = state_of(case).label
            reference = getattr(case, "reference", None) or reference
        match = RecordMatch(version, reference, status, version.seq == len(doc.versions))
    issued = issued_certificates(report.signatures)
    judgement = judge(report, on_record=match is not None, issued=issued)
    return Verification(report, match, judgement, issued)


def issued_certificates(signatures: Iterable[SignatureReport]) -> dict[str, IssuedCertificate]:
    """Which of these signatures' certificates the portal issued, with their revocations.

    Matched on the serial number and then on the whole certificate (SHA-256 of its DER),
    so a minted certificate that copies a real one's serial is still not "issued".
    """
    wanted = {s.cert_sha256 for s in signatures if s.serial_hex and s.cert_sha256}
    serials = {s.serial_hex for s in signatures if s.serial_hex and s.cert_sha256}
    if not wanted:
        return {}
    found: dict[str, IssuedCertificate] = {}
    revocations = _revocations(serials)
    people = select(SigningIdentity).where(SigningIdentity.serial_hex.in_(serials))
    for identity in db.session.scalars(people):
        sha256 = _der_sha256(identity.cert_pem)
        if sha256 not in wanted:
            continue
        found[sha256] = IssuedCertificate(
            cert_sha256=sha256,
            holder=f"{identity.common_name} ({identity.organization})",
            issued_at=identity.created_at,
            revocations=tuple(
                _revocation(row)
                for row in revocations.get(identity.serial_hex, ())
                if row.identity_id in (None, identity.id)
            ),
        )
    for role, cert in runtime.pki().service_certificates():
        sha256 = cert.sha256.hex()
        if sha256 in wanted:
            organization = cert.subject.native.get("organization_name", "")
            serial_hex = format(cert.serial_number, "x")
            found[sha256] = IssuedCertificate(
                cert_sha256=sha256,
                holder=f"its {role}" + (f" ({organization})" if organization else ""),
                issued_at=cert.not_valid_before,
                revocations=tuple(
                    _revocation(row)
                    for row in revocations.get(serial_hex, ())
                    if row.identity_id is None
                ),
            )
    return found


def _revocations(serials: set[str]) -> dict[str, list[CertificateRevocation]]:
    rows = db.session.scalars(
        select(CertificateRevocation)
        .where(CertificateRevocation.serial_hex.in_(serials))
        .order_by(CertificateRevocation.revoked_at, CertificateRevocation.id)
    )
    by_serial: dict[str, list[CertificateRevocation]] = {}
    for row in rows:
        by_serial.setdefault(row.serial_hex, []).append(row)
    return by_serial


def _revocation(row: CertificateRevocation) -> Revocation:
    return Revocation(row.reason, row.why, row.revoked_at, row.released_at)


def _der_sha256(cert_pem: bytes) -> str:
    """SigningIdentity.cert_sha256 is of the PEM text; signatures name the DER's."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
