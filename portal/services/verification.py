"""Checking any PDF: its signatures, and whether it is a document on record."""

from __future__ import annotations

from dataclasses import dataclass

from portal import runtime
from portal.extensions import db
from portal.models import Agreement, DocumentVersion
from portal.services import documents


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


def verify(data: bytes) -> Verification:
    from portal.documents.verify import verify_pdf

    from workflows.agreement import AGREEMENT

    report = verify_pdf(data, runtime.pki().trust_roots)
    version = documents.find_by_sha256(report.sha256)
    match = None
    if version is not None:
        doc = version.document
        reference, status = doc.title, ""
        if doc.case_type == "agreement":
            agreement = db.session.get(Agreement, doc.case_id)
            reference = agreement.reference
            status = AGREEMENT.state(agreement.state).label
        match = RecordMatch(version, reference, status, version.seq == len(doc.versions))
    return Verification(report, match)
