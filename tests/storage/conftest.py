"""Fixtures for the storage tests: both backends behind one `backend` fixture."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.storage import LocalStorage, S3Storage, Storage
from tests.support.seaweed import SeaweedS3


@dataclass
class Backend:
    """A storage under test plus ways to look behind its back."""

    name: str
    storage: Storage
    # Replace the stored bytes of `key` with other bytes, as an attacker or bit rot would.
    tamper: Callable[[str, bytes], None]
    # Something that changes whenever the stored object is written again.
    stored_version: Callable[[str], object]


def document_bytes() -> bytes:
    """A distinct small 'document' per call, so tests never share an object."""
    return b"%PDF-1.7\n% test document " + secrets.token_hex(16).encode() + b"\n%%EOF\n"


def s3_storage(server: SeaweedS3, bucket: str, **options: object) -> S3Storage:
    return S3Storage(
        bucket,
        options.pop("prefix", "documents"),  # type: ignore[arg-type]
        endpoint_url=server.endpoint_url,
        region=server.region,
        access_key=server.access_key,
        secret_key=server.secret_key,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def locked_bucket(s3_server: SeaweedS3) -> str:
    """One bucket with versioning and Object Lock, shared; tests use distinct data."""
    bucket = s3_server.new_bucket_name("locked")
    s3_storage(s3_server, bucket, create_bucket=True, retention_days=1)
    return bucket


def _local_backend(root: Path) -> Backend:
    storage = LocalStorage(root)

    def tamper(key: str, data: bytes) -> None:
        path = root / key
        os.chmod(path, 0o644)
        path.write_bytes(data)

    def stored_version(key: str) -> object:
        info = os.stat(root / key)
        return (info.st_ino, info.st_mtime_ns)

    return Backend("local", storage, tamper, stored_version)


def _s3_backend(server: SeaweedS3, bucket: str) -> Backend:
    prefix = f"docs-{secrets.token_hex(4)}"
    storage = s3_storage(server, bucket, prefix=prefix, retention_days=1)
    raw = server.client()

    def tamper(key: str, data: bytes) -> None:
        # A new version under the same name: what a careless or hostile writer can do even
        # in a locked bucket (locking protects old versions, not the name).
        raw.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=data)

    def stored_version(key: str) -> object:
        listing = raw.list_object_versions(Bucket=bucket, Prefix=f"{prefix}/{key}")
        return tuple(v["VersionId"] for v in listing.get("Versions", []))

    return Backend("s3", storage, tamper, stored_version)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield _local_backend(tmp_path / "documents")
    else:
        server = request.getfixturevalue("s3_server")
        yield _s3_backend(server, request.getfixturevalue("locked_bucket"))
