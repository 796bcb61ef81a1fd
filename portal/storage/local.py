"""Documents kept as read-only files under one directory (the single-machine default)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from portal.storage.base import Stored
from portal.storage.errors import StorageError, StorageNotFound
from portal.storage.keys import digest_of_key, key_for, verify

_READ_ONLY = 0o444


class LocalStorage:
    """Stores each object at ``root/<key>``, written once and never replaced.

    A folder has no versions: ``put`` returns ``version_id`` None and ``get`` ignores one.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return f"local directory {self.root}"

    def put(self, data: bytes, *, content_type: str = "application/pdf") -> Stored:
        # content_type is an S3 concern; a file's key already says what it is for the portal.
        key = key_for(data)
        final = self._path(key)
        try:
            if self._is_stored(final):
                return Stored(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            self._write_once(final, data)
        except OSError as exc:
            raise StorageError.unavailable(
                f"cannot write to the folder {self.root} ({exc.strerror or exc})."
            ) from exc
        return Stored(key)

    def get(self, key: str, version_id: str | None = None) -> bytes:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self._require_root()
            raise StorageNotFound(key) from None
        except OSError as exc:
            raise StorageError.unavailable(
                f"cannot read from the folder {self.root} ({exc.strerror or exc})."
            ) from exc
        return verify(key, data)

    def exists(self, key: str, version_id: str | None = None) -> bool:
        path = self._path(key)
        try:
            return self._is_stored(path)
        except OSError as exc:
            raise StorageError.unavailable(
                f"cannot read from the folder {self.root} ({exc.strerror or exc})."
            ) from exc

    def _path(self, key: str) -> Path:
        digest_of_key(key)  # rejects anything that is not a well-formed key
        return self.root / key

    def _is_stored(self, path: Path) -> bool:
        try:
            os.stat(path)
        except FileNotFoundError:
            return False
        return True

    def _require_root(self) -> None:
        """A missing object inside a missing store is an outage (e.g. volume not mounted)."""
        if not self.root.is_dir():
            raise StorageError.unavailable(f"the folder {self.root} does not exist.")

    def _write_once(self, final: Path, data: bytes) -> None:
        # Write the whole object under a temporary name, make it durable, then hard-link it to
        # its final name: a crash leaves at most a stray temporary file, never a partial
        # object, and os.link refuses to replace an existing object.
        fd, temporary = tempfile.mkstemp(prefix=".partial-", dir=final.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, _READ_ONLY)
            with contextlib.suppress(FileExistsError):  # a concurrent put stored it first
                os.link(temporary, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        self._sync_directories(final.parent)

    def _sync_directories(self, directory: Path) -> None:
        """fsync the new entry's folder and each folder above it up to the root, so the
        object and any freshly made shard folders survive a power loss."""
        for folder in [directory, *directory.parents]:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            if folder == self.root:
                break
