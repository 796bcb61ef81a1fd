"""Content addresses and STORAGE_URL parsing (no backend needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.storage import (
    LocalStorage,
    S3Storage,
    StorageIntegrityError,
    key_for,
    open_storage,
    sha256_hex,
)
from portal.storage.keys import digest_of_key, verify


def test_key_for_known_bytes() -> None:
    digest = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert sha256_hex(b"hello") == digest
    assert key_for(b"hello") == f"sha256/2c/f2/{digest}"
    assert digest_of_key(key_for(b"hello")) == digest


def test_verify_rejects_bytes_that_do_not_match_the_key() -> None:
    key = key_for(b"signed agreement")
    assert verify(key, b"signed agreement") == b"signed agreement"
    with pytest.raises(StorageIntegrityError) as caught:
        verify(key, b"altered agreement")
    assert caught.value.actual_sha256 == sha256_hex(b"altered agreement")


def test_file_url_opens_local_storage(tmp_path: Path) -> None:
    storage = open_storage((tmp_path / "my docs").as_uri())
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "my docs"


def test_s3_url_opens_s3_storage_with_prefix_and_options() -> None:
    storage = open_storage(
        "s3://hmis-documents/portal/prod/",
        endpoint_url="http://127.0.0.1:9",
        region="us-west-2",
        access_key="AKEXAMPLE",
        secret_key="do-not-log-me",
        retention_days=3650,
        lock_mode="GOVERNANCE",
    )
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.region) == (
        "hmis-documents",
        "portal/prod",
        "us-west-2",
    )
    assert (storage.retention_days, storage.lock_mode) == (3650, "GOVERNANCE")
    assert "do-not-log-me" not in storage.describe()
    assert open_storage("s3://hmis-documents", endpoint_url="http://127.0.0.1:9").prefix == ""


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/var/lib/portal/documents",
        "documents",
        "file://relative/path",
        "file:///",
        "http://example.org/docs",
        "s3:///no-bucket",
        "s3://bucket/prefix?versioning=off",
        "gs://bucket/prefix",
    ],
)
def test_other_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(ValueError, match="STORAGE_URL"):
        open_storage(url)


def test_bad_s3_options_are_refused() -> None:
    with pytest.raises(ValueError, match="Object Lock mode"):
        S3Storage("bucket", lock_mode="compliance-ish", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="at least one day"):
        S3Storage("bucket", retention_days=0, endpoint_url="http://127.0.0.1:9")
