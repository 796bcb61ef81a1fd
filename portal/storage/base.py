"""The one interface every document storage backend offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol, runtime_checkable


class Stored(NamedTuple):
    """Where ``put`` kept the bytes: their key and, in a versioned S3 bucket, the version.

    Record both and read with both: a key names whatever was written under it last (a plain
    PUT or a delete marker can cover a document), a version id names these bytes for good.
    ``version_id`` is None where the backend has no versions (a local folder).
    """

    key: str
    version_id: str | None = None


@dataclass(frozen=True)
class ObjectVersion:
    """One stored version of a content-addressed key, as the bucket lists it."""

    key: str
    version_id: str | None
    last_modified: datetime


@runtime_checkable
class Storage(Protocol):
    """Content-addressed, write-once storage of document bytes.

    ``put`` returns the key (see ``keys.key_for``) and the version holding the bytes; storing
    bytes already present returns the version already there, so retries are safe. Objects are
    never overwritten. ``get`` reads one version (the newest under the key when
    ``version_id`` is None); it raises StorageNotFound for a missing key or version and
    StorageIntegrityError when the stored bytes no longer match their key; every other
    failure is a StorageError.
    """

    def put(self, data: bytes, *, content_type: str = "application/pdf") -> Stored: ...

    def get(self, key: str, version_id: str | None = None) -> bytes: ...

    def exists(self, key: str, version_id: str | None = None) -> bool: ...

    def describe(self) -> str: ...
