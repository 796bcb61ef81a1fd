"""The certificate of participation (IV.B.4): refused until the account is issued, then
sealed by the lead agency and valid; issued again as a new version; atomic on failure."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import runtime
from portal.documents.verify import verify_pdf
from portal.extensions import db
from portal.models import AccessRequest, AuditEvent, Document
from portal.services import documents, participation
from portal.services.errors import Forbidden, NotFound, ServiceError
from tests.rendering.pdf_text import flat, page_count, page_texts
from tests.support import onboarding as steps
from tests.support.pki import pdfsig


def _issued_request(cast) -> AccessRequest:
    ob = steps.at_signing(cast)
    steps.train(ob.user)
    steps.sign(ob.user, ob)
    steps.approve(cast.ed, ob)
    return steps.issued(cast, ob.request)


def _issue(person, row):
    return participation.issue_certificate(person, row.id, request=steps.REQ)


def test_refused_before_the_account_is_issued(app, cast):
    row = steps.requested(cast)
    with pytest.raises(ServiceError, match="only once the HMIS account is issued"):
        _issue(cast.admin, row)
    db.session.expire_all()
    assert db.session.get(AccessRequest, row.id).certificate_id is None
    assert not db.session.scalars(
        select(Document).where(Document.kind == "participation_certificate")
    ).all()


def test_only_a_lead_agency_admin_may_issue_it(app, cast):
    row = _issued_request(cast)
    for person in (cast.ed, cast.signatory, cast.auditor, row.user):
        with pytest.raises(Forbidden, match="Only a lead agency HMIS admin"):
            _issue(person, row)
    with pytest.raises(NotFound):
        participation.issue_certificate(cast.admin, 99_999, request=steps.REQ)


def test_sealed_valid_and_issued_again_as_a_new_version(app, cast, pki, nss_db, tmp_path):
    row = _issued_request(cast)
    row = _issue(cast.admin, row)
    certificate = row.certificate
    assert (certificate.kind, certificate.case_type, certificate.case_id) == (
        "participation_certificate",
        "access_request",
        row.id,
    )
    data = documents.read_bytes(certificate.current)
    report = verify_pdf(data, pki.trust_roots)
    assert report.all_valid and len(report.signatures) == 1
    seal = report.signatures[0]
    assert seal.valid and seal.trusted and seal.covers_whole_document
    assert page_count(data) == 1
    text = flat(page_texts(data)[0])
    assert f"{cast.agency.legal_name} participates in the Homeless Management" in text
    assert row.agreement.reference in text and "HMIS-0042" in text and "Nia Newhire" in text
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    out = pdfsig(nss_db, path)
    assert "Signature Validation: Signature is Valid." in out, out
    assert "Certificate Validation: Certificate is Trusted." in out, out

    again = _issue(cast.admin, row)
    assert again.certificate_id == certificate.id and len(again.certificate.versions) == 2
    audits = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access_request.certificate")
    ).all()
    assert len(audits) == 2 and "version 2" in audits[-1].summary


def test_a_sealing_failure_issues_nothing_and_a_retry_works(app, cast, monkeypatch):
    from portal.documents.signing import SigningError

    row = _issued_request(cast)

    def down(*args, **kwargs):
        raise SigningError("The timestamp server did not answer.")

    monkeypatch.setattr(runtime.signer(), "seal", down)
    with pytest.raises(ServiceError, match="did not answer. No certificate was issued"):
        _issue(cast.admin, row)
    db.session.expire_all()
    assert db.session.get(AccessRequest, row.id).certificate_id is None
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access_request.certificate")
    ).all()
    monkeypatch.undo()
    assert _issue(cast.admin, row).certificate is not None
