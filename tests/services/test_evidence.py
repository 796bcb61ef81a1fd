"""Final documents carry a document timestamp and record how long it holds; `flask evidence
refresh` re-timestamps those whose timestamp is about to end, as new stored versions.

The refresh tests sign with a PKI of their own, made at T with a six-year timestamping
certificate, and travel to days before that certificate ends (the suite's PKI lives sixty
years, with no room left to renew anything under its CA).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select

from portal import clock, jobs, runtime
from portal.extensions import db
from portal.models import AuditEvent, DocumentVersion
from portal.pki import Pki, files, init_pki
from portal.pki.certificates import Lifetimes
from portal.services import documents, evidence
from tests.documents.conftest import three_page_pdf
from tests.services.helpers import effective

PASSPHRASE = b"evidence test passphrase"
YEAR = timedelta(days=365)
T = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
LIFETIMES = Lifetimes(root=25 * YEAR, issuing=20 * YEAR, tsa=6 * YEAR, seal=8 * YEAR)
TSA_END = T + 6 * YEAR


def _types(pdf: bytes) -> list[str]:
    reader = PdfFileReader(BytesIO(pdf))
    return [s.sig_object.get("/Type", "/Sig") for s in reader.embedded_signatures]


def _final_document(cast, title: str):
    """A sealed PDF stored as a final document (what a certificate of completion is)."""
    sealed = runtime.signer().seal(three_page_pdf(), reason="Certificate of completion")
    document = documents.new_document(
        case_type="agreement", case_id=1, agency_id=cast.agency.id, kind="certificate", title=title
    )
    documents.add_version(document, sealed, "Sealed", by=None, archive=True)
    db.session.commit()
    return document


def refresh(app, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["evidence", "refresh", *args])
    return result.exit_code, result.output


def test_a_final_document_is_stored_with_a_document_timestamp(app, cast):
    document = _final_document(cast, "Certificate of completion PAA-0001-01")
    version = document.current
    stored = documents.read_bytes(version)
    assert _types(stored) == ["/Sig", "/DocTimeStamp"]
    assert version.evidence_until == runtime.pki().tsa_not_after


def test_the_signed_agreement_and_its_certificate_are_archived(app, cast):
    agreement = effective(cast)
    versions = agreement.document.versions
    # Only the final version is archived: the drafts before it have nothing to renew.
    assert [v.evidence_until is not None for v in versions] == [False, False, True]
    assert _types(documents.read_bytes(versions[-1]))[-1] == "/DocTimeStamp"
    certificate = agreement.certificate.current
    assert certificate.evidence_until == runtime.pki().tsa_not_after
    assert _types(documents.read_bytes(certificate))[-1] == "/DocTimeStamp"


@pytest.fixture
def own_pki(app, tmp_path) -> Path:
    """The app signs with a PKI made at T (TSA certificate for six years) during the test."""
    directory = tmp_path / "pki"
    with time_machine.travel(T, tick=False):
        init_pki(
            directory,
            PASSPHRASE,
            organization="Sacramento Steps Forward",
            lifetimes=LIFETIMES,
            base_url="http://portal.test",
        )
    parts = app.extensions["portal"]
    suite_pki = parts.get("pki")
    parts["pki"] = Pki.load(directory, PASSPHRASE, clock=clock.now, base_url="http://portal.test")
    parts.pop("signer", None)
    yield directory
    parts["pki"] = suite_pki
    parts.pop("signer", None)


def test_refresh_renews_the_tsa_certificate_and_stores_a_new_version(app, cast, own_pki):
    with time_machine.travel(T, tick=False):
        document = _final_document(cast, "Certificate of completion PAA-0002-01")
    first = document.current
    assert first.evidence_until == TSA_END
    old_tsa = files.read_certs(own_pki / "tsa.pem")[0]

    with time_machine.travel(TSA_END - timedelta(days=10)):
        code, output = refresh(app)
        assert code == 0, output
        assert "Renewed the timestamping certificate." in output
        assert "Evidence renewed on 1 document(s)" in output
        db.session.expire_all()
        renewed = document.current
        assert renewed.seq == 2 and renewed.label == evidence.REFRESH_LABEL
        new_tsa = files.read_certs(own_pki / "tsa.pem")[0]
        assert new_tsa.serial_number != old_tsa.serial_number
        assert (own_pki / f"tsa-{old_tsa.serial_number:x}.pem").exists()
        assert renewed.evidence_until == new_tsa.not_valid_after_utc > TSA_END + 5 * YEAR
        stored = documents.read_bytes(renewed)
        assert stored.startswith(documents.read_bytes(first))
        assert _types(stored) == ["/Sig", "/DocTimeStamp", "/DocTimeStamp"]
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert {"pki.tsa_renewed", "document.evidence_renewed"} <= set(actions)

        # Run again (as the daily job does): nothing is due any more.
        code, output = refresh(app)
        assert code == 0, output
        assert "Evidence renewed on 0 document(s)" in output
        assert "Renewed the timestamping certificate." not in output
        db.session.expire_all()
        assert len(document.versions) == 2


def test_nothing_is_refreshed_outside_the_margin(app, cast, own_pki):
    with time_machine.travel(T, tick=False):
        document = _final_document(cast, "Certificate of completion PAA-0003-01")
    with time_machine.travel(TSA_END - 2 * YEAR):
        code, output = refresh(app)  # the default margin: 365 days
        assert code == 0 and "Evidence renewed on 0 document(s)" in output
        code, output = refresh(app, "--margin-days", str(3 * 365))
        assert code == 0 and "Evidence renewed on 1 document(s)" in output
    db.session.expire_all()
    assert len(document.versions) == 2


def test_a_failing_document_is_reported_and_the_others_are_renewed(app, cast, own_pki):
    with time_machine.travel(T, tick=False):
        broken = _final_document(cast, "Certificate of completion PAA-0004-01")
        kept = _final_document(cast, "Certificate of completion PAA-0005-01")
    # Its stored copy has gone missing behind the portal's back.
    path = runtime.storage().root / broken.current.storage_key
    os.chmod(path, 0o644)
    path.unlink()

    with time_machine.travel(TSA_END - timedelta(days=10)):
        result = jobs.refresh_evidence(app)
        assert [f.document_id for f in result.failed] == [broken.id]
        assert [document_id for document_id, _seq in result.refreshed] == [kept.id]
        code, output = refresh(app)
    assert code == 1
    assert f"Failed: document {broken.id} (Certificate of completion PAA-0004-01)" in output
    db.session.expire_all()
    assert [len(broken.versions), len(kept.versions)] == [1, 2]


def test_due_versions_are_the_newest_of_each_document(app, cast):
    document = _final_document(cast, "Certificate of completion PAA-0006-01")
    later = documents.add_version(document, documents.read_bytes(document.current), "Copy", by=None)
    db.session.commit()
    far = clock.now() + 100 * YEAR
    due = evidence.due_versions(far)
    assert document.current.id == later.id and later.evidence_until is None
    assert all(v.document_id != document.id for v in due)  # its newest has nothing to renew
    assert db.session.scalar(select(DocumentVersion).where(DocumentVersion.id == later.id))
