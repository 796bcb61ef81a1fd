"""The yearly security self-assessment through its service: answers saved and checked, the
signed PDF checked by pyHanko and poppler's pdfsig, only the current security officer signs,
another agency's ids are NotFound, and a signing failure changes nothing."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import func, select

from portal import runtime
from portal.documents.self_assessment import OFFICER_FIELD, QUESTIONS
from portal.documents.verify import verify_pdf
from portal.extensions import db
from portal.models import AuditEvent, Document, SecurityAssessment
from portal.services import documents, security_officers, self_assessments
from portal.services.errors import NotFound, ServiceError
from tests import factories
from tests.conftest import PASSWORD
from tests.support.pki import pdfsig
from tests.support.recertification import REQ


@pytest.fixture
def travel():
    with time_machine.travel("2027-05-04 17:00:00+00:00", tick=False) as traveller:
        yield traveller


def _all_yes(**changes: str) -> dict[str, str]:
    raw = {q.key: "yes" for q in QUESTIONS}
    raw.update(changes)
    return raw


def _sign(person, row, password: str = PASSWORD):
    sig = self_assessments.Signature(password, True, True)
    return self_assessments.sign(person, row.id, sig, request=REQ)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_officer_answers_and_signs_a_trusted_pdf(cast, mailbox, pki, nss_db, tmp_path):
    # Signed at the real time (no travel): pdfsig checks the certificates against today.
    agency, year = cast.agency, self_assessments.this_year()
    assert self_assessments.awaiting(cast.officer) == []  # not before the campaign or a start
    row = self_assessments.save(cast.officer, agency.id, _all_yes(p7="no"), request=REQ)
    assert [i.title for i in self_assessments.awaiting(cast.officer)] == [
        f"Complete and sign the {year} security self-assessment"
    ]
    assert row.state == "draft" and row.year == year
    with pytest.raises(ServiceError, match="Explain the “no”"):
        _sign(cast.officer, row)
    raw = _all_yes(p7="no", p7_comment="Two old laptops <b>& co</b> are being replaced.")
    row = self_assessments.save(cast.officer, agency.id, raw, request=REQ)
    row = _sign(cast.officer, row)
    assert row.state == "signed" and row.signed_by_id == cast.officer.id
    assert self_assessments.awaiting(cast.officer) == []
    data = documents.read_bytes(row.document.current)
    report = verify_pdf(data, pki.trust_roots)
    assert report.error is None and report.all_valid
    certification, signed = report.signatures
    assert certification.is_certification
    assert (signed.field_name, signed.signer_name) == (OFFICER_FIELD, "Sam Officer")
    for s in report.signatures:
        assert s.intact and s.valid and s.trusted
    path = tmp_path / "self-assessment.pdf"
    path.write_bytes(data)
    out = pdfsig(nss_db, path)
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 2, out
    assert "Signer Certificate Common Name: Sam Officer" in out
    with pytest.raises(ServiceError, match="already signed"):
        _sign(cast.officer, row)
    with pytest.raises(ServiceError, match="signed; it can no longer change"):
        self_assessments.save(cast.officer, agency.id, _all_yes(), request=REQ)
    [mine, other] = self_assessments.status(cast.admin, year)
    assert (mine.agency.id, mine.assessment.state) == (agency.id, "signed")
    assert other.assessment is None


def test_only_the_current_security_officer_may_sign(cast, travel):
    row = self_assessments.save(cast.officer, cast.agency.id, _all_yes(), request=REQ)
    for person in (cast.ed, cast.admin):
        with pytest.raises(ServiceError, match="current security officer"):
            _sign(person, row)
    newcomer = factories.person(cast.agency, email="new-so@hope.test", name="Nell Officer",
                                title="Security Officer", role="agency_user")  # fmt: skip
    security_officers.designate(cast.ed, cast.agency.id, email=newcomer.email, request=REQ)
    with pytest.raises(ServiceError):  # the former officer no longer even sees it
        _sign(cast.officer, row)
    row = _sign(newcomer, row)
    assert row.signed_by_id == newcomer.id


def test_another_agencys_people_get_not_found(cast, travel):
    row = self_assessments.save(cast.officer, cast.agency.id, _all_yes(), request=REQ)
    with pytest.raises(NotFound):
        self_assessments.get(cast.other_ed, row.id)
    with pytest.raises(NotFound):
        self_assessments.of_agency(cast.other_ed, cast.agency.id, 2027)
    with pytest.raises(NotFound):
        self_assessments.get(cast.ed, 2**40)
    with pytest.raises(ServiceError, match="“yes” or “no”"):
        self_assessments.save(cast.officer, cast.agency.id, _all_yes(p1="maybe"), request=REQ)


def test_a_signing_failure_changes_nothing_and_a_retry_works(cast, travel, monkeypatch):
    from portal.documents.signing import SigningError

    row = self_assessments.save(cast.officer, cast.agency.id, _all_yes(), request=REQ)
    before = (_count(Document), _count(AuditEvent))

    def down(*args, **kwargs):
        raise SigningError("The signing service did not answer.")

    monkeypatch.setattr(runtime.signer(), "approve", down)
    with pytest.raises(ServiceError, match="did not answer. Nothing was signed"):
        _sign(cast.officer, row)
    db.session.expire_all()
    row = db.session.get(SecurityAssessment, row.id)
    assert row.state == "draft" and row.document_id is None and row.signed_at is None
    assert (_count(Document), _count(AuditEvent)) == before
    monkeypatch.undo()
    row = _sign(cast.officer, row)
    assert row.state == "signed" and len(row.document.versions) == 2
