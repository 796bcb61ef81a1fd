"""Checking any PDF: its signatures, and whether it is a document on record."""

from __future__ import annotations

from dataclasses import dataclass

from portal import runtime
from portal.extensions import db
from portal.models import Agreement, DocumentVersion
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


def verify(data: bytes) -> Verification:
    """The PDF's signatures; if it is a document on record, its case's reference and state
    (in the case's machine's words, as its pages show it)."""
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
            if isinstance(case, Agreement):
                reference = case.reference
        match = RecordMatch(version, reference, status, version.seq == len(doc.versions))
    return Verification(report, match)
