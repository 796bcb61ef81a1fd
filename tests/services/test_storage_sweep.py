"""Retention in two steps on a real S3 server (SeaweedFS): a short lock until the commit, the
full one after it, and the sweep that removes the orphans of failed commits.

SeaweedFS enforces locks on its own clock, which no test can move, so the short lock here is
a few seconds long and the tests wait it out.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.models import Agreement, DocumentVersion
from portal.services import agreement_signatures, retention
from portal.services.errors import ServiceError
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, agency_signed, sent_agreement

pytestmark = pytest.mark.s3

PENDING = timedelta(seconds=3)
RETENTION_DAYS = 30


@pytest.fixture
def bucket(app, s3_server):
    """The portal's documents in a fresh locked bucket, new objects locked for PENDING."""
    name = s3_server.new_bucket_name("sweep")
    app.extensions.setdefault("portal", {})["storage"] = s3_server.storage(
        name,
        "portal",
        retention_days=RETENTION_DAYS,
        pending_retention=PENDING,
        create_bucket=True,
    )
    return name


def versions_in(s3_server, bucket) -> list[dict]:
    listing = s3_server.client().list_object_versions(Bucket=bucket, Prefix="portal/")
    return listing.get("Versions", [])


def retain_until(s3_server, bucket, item) -> datetime:
    head = s3_server.client().head_object(
        Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"]
    )
    return head["ObjectLockRetainUntilDate"]


def full_retention_from_now() -> datetime:
    return datetime.now(UTC) + timedelta(days=RETENTION_DAYS)


def sign_with_failing_commit(cast, agreement, monkeypatch) -> None:
    """The agency signs, the PDF is stored, and the database commit fails."""
    real_commit = db.session.commit

    def dropped(*args, **kwargs):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(db.session, "commit", dropped)
    with pytest.raises(ServiceError, match="could not save"):
        agreement_signatures.sign_as_agency(
            cast.ed, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
        )
    monkeypatch.setattr(db.session, "commit", real_commit)
    db.session.expire_all()
    assert db.session.get(Agreement, agreement.id).state == "sent"


def test_a_committed_version_gets_the_full_retention(app, cast, s3_server, bucket):
    agreement = agency_signed(cast)
    version = agreement.document.current
    [item] = [
        v for v in versions_in(s3_server, bucket) if v["VersionId"] == version.storage_version_id
    ]
    assert retain_until(s3_server, bucket, item) > full_retention_from_now() - timedelta(hours=1)
    # The sweep confirms it and records it (nothing left to extend).
    result = retention.sweep()
    assert result.missing == 0
    db.session.expire_all()
    recorded = db.session.get(DocumentVersion, version.id).retained_until
    assert recorded is not None and recorded > full_retention_from_now() - timedelta(hours=1)


def test_a_failed_commit_leaves_a_short_locked_orphan_that_the_sweep_removes(
    app, cast, s3_server, bucket, monkeypatch
):
    agreement = sent_agreement(cast)
    before = {v["VersionId"] for v in versions_in(s3_server, bucket)}
    sign_with_failing_commit(cast, agreement, monkeypatch)
    orphans = [v for v in versions_in(s3_server, bucket) if v["VersionId"] not in before]
    assert len(orphans) == 1  # the agency-signed PDF no row refers to
    [orphan] = orphans
    assert retain_until(s3_server, bucket, orphan) <= datetime.now(UTC) + PENDING

    # Still locked: the sweep keeps it (and the server would refuse to delete it anyway).
    assert retention.sweep().removed == 0
    assert orphan["VersionId"] in {v["VersionId"] for v in versions_in(s3_server, bucket)}

    time.sleep(PENDING.total_seconds() + 1.5)
    result = retention.sweep()
    assert result.removed == 1
    remaining = {v["VersionId"] for v in versions_in(s3_server, bucket)}
    assert orphan["VersionId"] not in remaining
    assert before <= remaining  # every version a row refers to is still there


def test_the_sweep_extends_a_version_committed_without_its_extension(
    app, cast, s3_server, bucket, monkeypatch
):
    store = app.extensions["portal"]["storage"]
    # The process "dies" between the commit and the extension: retain never runs.
    monkeypatch.setattr(store, "retain", lambda key, version_id: None)
    agreement = agency_signed(cast)
    monkeypatch.undo()
    version = agreement.document.current
    [item] = [
        v for v in versions_in(s3_server, bucket) if v["VersionId"] == version.storage_version_id
    ]
    assert retain_until(s3_server, bucket, item) <= datetime.now(UTC) + PENDING

    time.sleep(PENDING.total_seconds() + 1.5)  # even after the short lock has run out
    result = retention.sweep()
    assert result.retained >= 1 and result.removed == 0
    assert retain_until(s3_server, bucket, item) > full_retention_from_now() - timedelta(hours=1)
    db.session.expire_all()
    assert db.session.get(DocumentVersion, version.id).retained_until is not None
