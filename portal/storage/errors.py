"""Errors raised by document storage, each with a message fit to show a person."""

from __future__ import annotations


class StorageError(Exception):
    """Document storage could not do what was asked (I/O, network, credentials, bucket)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def unavailable(cls, detail: str) -> StorageError:
        return cls(f"Document storage is unavailable: {detail}")


class StorageNotFound(StorageError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"The document {key} is not in document storage.")
        self.key = key


class StorageIntegrityError(StorageError):
    """The stored bytes no longer hash to their key: the object was altered or corrupted."""

    def __init__(self, key: str, actual_sha256: str) -> None:
        super().__init__(
            f"The stored document {key} has been altered or corrupted: "
            f"its content now hashes to {actual_sha256}."
        )
        self.key = key
        self.actual_sha256 = actual_sha256
