"""Content addresses: an object's key is derived from the SHA-256 of its bytes.

Shape: ``sha256/ab/cd/abcd…`` (64 hex digits); the two directory levels keep any one folder of
a local store small.
"""

from __future__ import annotations

import hashlib
import re

from portal.storage.errors import StorageIntegrityError

_KEY = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{60})")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_for(data: bytes) -> str:
    digest = sha256_hex(data)
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


def digest_of_key(key: str) -> str:
    """The SHA-256 a key names; ValueError for anything that is not a storage key.

    Checked before any backend touches the key, so a crafted key can never reach outside
    the store (no ``..``, no absolute paths).
    """
    match = _KEY.fullmatch(key)
    if match is None:
        raise ValueError(f"Not a document storage key: {key!r}")
    return match.group(3)


def verify(key: str, data: bytes) -> bytes:
    """Return ``data`` if it hashes to ``key``; otherwise raise StorageIntegrityError."""
    actual = sha256_hex(data)
    if actual != digest_of_key(key):
        raise StorageIntegrityError(key, actual)
    return data
