"""The document check: every stored version read back and re-hashed; missing or changed ones
named by `flask check-documents` and e-mailed to SSF's admins by the weekly job."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal import clock, jobs, runtime
from portal.extensions import db
from portal.models import DocumentVersion
from portal.services import integrity
from portal.storage import LocalStorage
from tests import factories


@pytest.fixture
def store(app, tmp_path) -> LocalStorage:
    """A store of this test's own: the suite's store is shared, and these tests damage it."""
    own = LocalStorage(tmp_path / "documents")
    app.extensions.setdefault("portal", {})["storage"] = own
    return own


def stored_versions() -> list[DocumentVersion]:
    return list(db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.id)))


def check_documents(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["check-documents"])
    return result.exit_code, result.output


def overwrite(version: DocumentVersion, data: bytes) -> None:
    """Alters a stored file behind the portal's back (stored files are read-only)."""
    path = runtime.storage().root / version.storage_key
    os.chmod(path, 0o644)
    path.write_bytes(data)


def test_untouched_documents_pass(app, cast, store):
    factories.agreement(cast.agency, documents=True)

    code, output = check_documents(app)

    assert code == 0, output
    assert "Checked 4 stored version(s): all as recorded." in output


def test_changed_and_missing_versions_are_named(app, cast, store):
    factories.agreement(cast.agency, documents=True)
    changed, _, _, missing = stored_versions()
    overwrite(changed, b"%PDF-1.7 something else entirely")
    (store.root / missing.storage_key).unlink()

    code, output = check_documents(app)

    assert code == 1
    [changed_line] = [line for line in output.splitlines() if line.startswith("CHANGED")]
    assert changed.document.title in changed_line
    assert f"version {changed.seq}" in changed_line and changed.storage_key in changed_line
    [missing_line] = [line for line in output.splitlines() if line.startswith("MISSING")]
    assert missing.storage_key in missing_line
    assert "Checked 4 stored version(s): 2 missing or changed." in output


def test_the_weekly_job_mails_the_admins_once_a_week(app, cast, store, mailbox):
    factories.agreement(cast.agency, documents=True)
    [damaged, *_] = stored_versions()
    overwrite(damaged, b"damaged")
    every = timedelta(days=app.config["DOCUMENT_CHECK_INTERVAL_DAYS"])

    with time_machine.travel(clock.now(), tick=False) as traveller:
        jobs.check_documents(app)
        mailbox.deliver()
        [report] = mailbox.to(cast.admin.email)
        assert "1 stored document version(s) missing or changed" in report["Subject"]
        assert damaged.storage_key in report.get_content()
        assert mailbox.to(cast.officer.email) == []

        traveller.shift(every - timedelta(minutes=1))
        jobs.check_documents(app)  # not its turn yet: the scheduler asks hourly
        assert mailbox.deliver() == 0

        traveller.shift(timedelta(minutes=2))
        jobs.check_documents(app)
        assert mailbox.deliver() == 1


def test_a_clean_check_sends_nothing(app, cast, store, mailbox):
    factories.agreement(cast.agency, documents=True)

    result = integrity.run_if_due()

    assert result is not None and result.ok and result.checked == 4
    assert mailbox.deliver() == 0


@pytest.mark.s3
def test_s3_versions_are_read_by_their_recorded_id(app, cast, s3_server):
    bucket = s3_server.new_bucket_name("integrity")
    # Versioned, but without retention on the objects, so the test may remove a version.
    app.extensions.setdefault("portal", {})["storage"] = s3_server.storage(
        bucket,
        "portal",
        retention_days=None,
        create_bucket=True,
    )
    factories.agreement(cast.agency, documents=True)
    [gone, *_] = stored_versions()
    assert gone.storage_version_id
    client, key = s3_server.client(), f"portal/{gone.storage_key}"

    # A delete marker over the key hides nothing: the recorded version is read.
    client.delete_object(Bucket=bucket, Key=key)
    assert check_documents(app)[0] == 0

    client.delete_object(Bucket=bucket, Key=key, VersionId=gone.storage_version_id)
    code, output = check_documents(app)

    assert code == 1
    assert f"MISSING: {gone.document.title}" in output and gone.storage_key in output
