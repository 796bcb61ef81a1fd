"""The agreement journey with documents kept in a real S3 server (SeaweedFS) under Object Lock."""

from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.models import Agreement
from portal.services import agreement_signatures, documents
from portal.services.errors import ServiceError
from portal.storage import S3Storage
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, effective, sent_agreement

pytestmark = pytest.mark.s3


@pytest.fixture
def s3_documents(app, s3_server):
    """Points the portal's document storage at a fresh locked bucket, as STORAGE_URL=s3://…"""
    bucket = s3_server.new_bucket_name("documents")
    storage = s3_server.storage(
        bucket,
        "portal",
        retention_days=30,
        lock_mode="COMPLIANCE",
        create_bucket=True,
    )
    app.extensions.setdefault("portal", {})["storage"] = storage
    return bucket


def test_signed_versions_are_locked_objects_in_the_bucket(app, cast, s3_server, s3_documents):
    agreement = effective(cast)
    client = s3_server.client()
    for version in agreement.document.versions:
        head = client.head_object(Bucket=s3_documents, Key=f"portal/{version.storage_key}")
        assert head["ContentLength"] == version.size
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC)
        assert documents.read_bytes(version)[:5] == b"%PDF-"


def test_s3_down_while_signing_changes_nothing_and_retry_works(app, cast, s3_server, s3_documents):
    agreement = sent_agreement(cast)
    good = app.extensions["portal"]["storage"]
    # The same bucket behind a port where nothing listens: a real connection failure.
    app.extensions["portal"]["storage"] = S3Storage(
        s3_documents,
        "portal",
        endpoint_url="http://127.0.0.1:9",
        region=s3_server.region,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        retention_days=30,
    )
    with pytest.raises(ServiceError, match="unavailable"):
        agreement_signatures.sign_as_agency(
            cast.ed, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
        )
    db.session.expire_all()
    assert db.session.get(Agreement, agreement.id).state == "sent"
    app.extensions["portal"]["storage"] = good
    signed = agreement_signatures.sign_as_agency(
        cast.ed, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )
    assert signed.state == "agency_signed"


def test_documents_on_record_read_by_version_survive_an_overwrite_and_a_delete_marker(
    app, cast, s3_server, s3_documents
):
    agreement = effective(cast)
    client = s3_server.client()
    version = agreement.document.current
    assert version.storage_version_id
    whole = documents.read_bytes(version)
    name = f"portal/{version.storage_key}"
    # Both are allowed under Object Lock: they cover the key, not the locked version.
    client.put_object(Bucket=s3_documents, Key=name, Body=b"%PDF-1.7\n overwritten \n%%EOF\n")
    assert documents.read_bytes(version) == whole
    client.delete_object(Bucket=s3_documents, Key=name)
    assert documents.read_bytes(version) == whole
    assert documents.download(cast.ed, version.id).data == whole
