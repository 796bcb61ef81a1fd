"""LocalStorage specifics: read-only files, atomic writes, failures as StorageError."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from portal.storage import LocalStorage, StorageError, StorageNotFound, key_for
from tests.storage.conftest import document_bytes


def test_stored_file_is_read_only_and_no_temporary_file_remains(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "docs")
    stored = storage.put(document_bytes())
    assert stored.version_id is None  # a folder keeps no versions
    key = stored.key
    path = tmp_path / "docs" / key
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert os.listdir(path.parent) == [path.name]


def test_failed_write_leaves_nothing_under_the_final_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path / "docs")
    data = document_bytes()

    def disk_fails(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", disk_fails)
    with pytest.raises(StorageError, match="Document storage is unavailable: .*Input/output"):
        storage.put(data)
    monkeypatch.undo()
    key = key_for(data)
    assert not storage.exists(key)
    assert os.listdir((tmp_path / "docs" / key).parent) == []  # temporary file removed too
    assert storage.put(data).key == key  # the retry succeeds
    assert storage.get(key) == data


def test_concurrent_writer_of_the_same_bytes_is_not_overwritten(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "docs")
    data = document_bytes()
    key = key_for(data)
    # Another process finished the same object between our existence check and our link.
    first = LocalStorage(tmp_path / "docs")
    first.put(data)
    inode = os.stat(tmp_path / "docs" / key).st_ino
    storage._write_once(tmp_path / "docs" / key, data)
    assert os.stat(tmp_path / "docs" / key).st_ino == inode
    assert os.listdir((tmp_path / "docs" / key).parent) == [key.rsplit("/", 1)[1]]


def test_unusable_folder_is_a_storage_error_not_a_missing_document(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    storage = LocalStorage(blocker / "docs")
    key = key_for(b"anything")
    for action in (lambda: storage.put(b"anything"), lambda: storage.exists(key)):
        with pytest.raises(StorageError, match="^Document storage is unavailable: ") as caught:
            action()
        assert not isinstance(caught.value, StorageNotFound)
    with pytest.raises(StorageError) as caught:
        storage.get(key)
    assert not isinstance(caught.value, StorageNotFound)


def test_missing_folder_on_read_is_an_outage(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "not-mounted")
    with pytest.raises(StorageError, match="does not exist") as caught:
        storage.get(key_for(b"anything"))
    assert not isinstance(caught.value, StorageNotFound)
