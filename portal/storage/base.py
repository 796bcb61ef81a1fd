"""The one interface every document storage backend offers."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Storage(Protocol):
    """Content-addressed, write-once storage of document bytes.

    ``put`` returns the key (see ``keys.key_for``); storing bytes already present is a no-op
    returning the same key, so retries are safe. Objects are never overwritten. ``get``
    raises StorageNotFound for a missing key and StorageIntegrityError when the stored bytes
    no longer match their key; every other failure is a StorageError.
    """

    def put(self, data: bytes, *, content_type: str = "application/pdf") -> str: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def describe(self) -> str: ...
