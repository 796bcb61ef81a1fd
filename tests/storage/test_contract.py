"""The Storage contract, run against both backends (local folder and real S3)."""

from __future__ import annotations

import re

import pytest

from portal.storage import (
    Storage,
    StorageError,
    StorageIntegrityError,
    StorageNotFound,
    key_for,
    sha256_hex,
)
from tests.storage.conftest import Backend, document_bytes


def test_backend_satisfies_the_protocol(backend: Backend) -> None:
    assert isinstance(backend.storage, Storage)


def test_put_then_get_returns_the_same_bytes(backend: Backend) -> None:
    data = document_bytes()
    stored = backend.storage.put(data)
    assert backend.storage.exists(stored.key)
    assert backend.storage.exists(*stored)
    assert backend.storage.get(*stored) == data
    assert backend.storage.get(stored.key) == data  # the newest version under the key


def test_key_is_the_content_address(backend: Backend) -> None:
    data = document_bytes()
    key = backend.storage.put(data).key
    digest = sha256_hex(data)
    assert key == key_for(data) == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    assert re.fullmatch(r"sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}", key)


def test_putting_the_same_bytes_again_is_a_no_op(backend: Backend) -> None:
    data = document_bytes()
    stored = backend.storage.put(data)
    key = stored.key
    first = backend.stored_version(key)
    assert backend.storage.put(data) == stored
    assert backend.stored_version(key) == first  # not rewritten, no new version
    assert backend.storage.get(key) == data


def test_tampered_object_raises_integrity_error(backend: Backend) -> None:
    # Read by key: in S3 the newest version under it (the forged one); a folder has one.
    key = backend.storage.put(document_bytes()).key
    backend.tamper(key, b"%PDF-1.7\n forged \n%%EOF\n")
    with pytest.raises(StorageIntegrityError) as caught:
        backend.storage.get(key)
    assert caught.value.key == key
    assert "altered or corrupted" in str(caught.value)


def test_put_does_not_repair_or_overwrite_a_tampered_object(backend: Backend) -> None:
    data = document_bytes()
    key = backend.storage.put(data).key
    backend.tamper(key, b"forged")
    tampered = backend.stored_version(key)
    backend.storage.put(data)
    assert backend.stored_version(key) == tampered
    with pytest.raises(StorageIntegrityError):
        backend.storage.get(key)


def test_missing_key_is_not_found(backend: Backend) -> None:
    backend.storage.put(document_bytes())  # the store itself exists
    key = key_for(b"never stored")
    assert not backend.storage.exists(key)
    with pytest.raises(StorageNotFound) as caught:
        backend.storage.get(key)
    assert caught.value.key == key
    assert isinstance(caught.value, StorageError)


@pytest.mark.parametrize(
    "bad_key",
    ["../../etc/passwd", "sha256/00/00/" + "1" * 64, "sha256/ab/cd/abcd", "/abs", ""],
)
def test_malformed_keys_are_rejected(backend: Backend, bad_key: str) -> None:
    with pytest.raises(ValueError, match="Not a document storage key"):
        backend.storage.get(bad_key)
    with pytest.raises(ValueError):
        backend.storage.exists(bad_key)


def test_describe_names_the_store(backend: Backend) -> None:
    text = backend.storage.describe()
    assert ("local directory" in text) if backend.name == "local" else ("S3 bucket" in text)
