"""S3Storage against a real S3 server (SeaweedFS): locking, checksums, failures."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from portal.storage import S3Storage, StorageError, StorageNotFound, key_for
from tests.storage.conftest import document_bytes, s3_storage
from tests.support.seaweed import SeaweedS3, free_ports

pytestmark = pytest.mark.s3


def _error_code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return caught.value.response["Error"]["Code"]


def test_created_bucket_has_versioning_and_object_lock(
    s3_server: SeaweedS3, locked_bucket: str
) -> None:
    raw = s3_server.client()
    assert raw.get_bucket_versioning(Bucket=locked_bucket)["Status"] == "Enabled"
    lock = raw.get_object_lock_configuration(Bucket=locked_bucket)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"


def test_object_carries_retention_from_the_injected_clock(
    s3_server: SeaweedS3, locked_bucket: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    storage = s3_storage(s3_server, locked_bucket, retention_days=3, clock=lambda: now)
    data = document_bytes()
    key, version_id = storage.put(data, content_type="application/pdf")
    head = s3_server.client().head_object(
        Bucket=locked_bucket, Key=f"documents/{key}", ChecksumMode="ENABLED"
    )
    assert head["VersionId"] == version_id
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == now + timedelta(days=3)
    assert head["ContentType"] == "application/pdf"
    # The upload carried its SHA-256, which the server recorded (and checked, see below).
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_without_retention_no_lock_is_set(s3_server: SeaweedS3, locked_bucket: str) -> None:
    storage = s3_storage(s3_server, locked_bucket, retention_days=None)
    key = storage.put(document_bytes()).key
    head = s3_server.client().head_object(Bucket=locked_bucket, Key=f"documents/{key}")
    assert "ObjectLockMode" not in head


def test_server_rejects_upload_with_wrong_checksum(
    s3_server: SeaweedS3, locked_bucket: str
) -> None:
    raw = s3_server.client()
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    with pytest.raises(ClientError) as caught:
        raw.put_object(
            Bucket=locked_bucket, Key="corrupt", Body=b"sent bytes", ChecksumSHA256=wrong
        )
    assert _error_code(caught) == "BadDigest"
    with pytest.raises(ClientError):
        raw.head_object(Bucket=locked_bucket, Key="corrupt")


def _locked_object(server: SeaweedS3, bucket: str) -> tuple[str, str, datetime]:
    now = datetime.now(UTC).replace(microsecond=0)
    storage = s3_storage(server, bucket, retention_days=2, clock=lambda: now)
    key = storage.put(document_bytes()).key
    return f"documents/{key}", key, now + timedelta(days=2)


def test_server_refuses_to_shorten_compliance_retention(
    s3_server: SeaweedS3, locked_bucket: str
) -> None:
    raw = s3_server.client()
    name, _, until = _locked_object(s3_server, locked_bucket)
    with pytest.raises(ClientError) as caught:
        raw.put_object_retention(
            Bucket=locked_bucket,
            Key=name,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until - timedelta(days=1)},
        )
    assert _error_code(caught) == "AccessDenied"
    with pytest.raises(ClientError):  # nor may it be switched to the weaker GOVERNANCE mode
        raw.put_object_retention(
            Bucket=locked_bucket,
            Key=name,
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until},
        )
    retention = raw.get_object_retention(Bucket=locked_bucket, Key=name)["Retention"]
    assert (retention["Mode"], retention["RetainUntilDate"]) == ("COMPLIANCE", until)
    # Extending is allowed: the refusal above is about shortening, not about any change.
    later = until + timedelta(days=1)
    raw.put_object_retention(
        Bucket=locked_bucket, Key=name, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later}
    )
    assert (
        raw.get_object_retention(Bucket=locked_bucket, Key=name)["Retention"]["RetainUntilDate"]
        == later
    )


def test_server_refuses_to_delete_a_locked_version(
    s3_server: SeaweedS3, locked_bucket: str
) -> None:
    raw = s3_server.client()
    name, key, _ = _locked_object(s3_server, locked_bucket)
    version = raw.head_object(Bucket=locked_bucket, Key=name)["VersionId"]
    for bypass in (False, True):
        with pytest.raises(ClientError) as caught:
            raw.delete_object(
                Bucket=locked_bucket, Key=name, VersionId=version, BypassGovernanceRetention=bypass
            )
        assert _error_code(caught) == "AccessDenied"
    body = raw.get_object(Bucket=locked_bucket, Key=name, VersionId=version)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == key.rsplit("/", 1)[1]


def test_put_racing_another_writer_is_still_one_version(
    s3_server: SeaweedS3, locked_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = s3_storage(s3_server, locked_bucket, prefix="race", retention_days=1)
    data = document_bytes()
    stored = storage.put(data)
    key = stored.key
    # As if our look ran just before another worker's PUT landed: If-None-Match answers 412,
    # and the second look finds the other worker's version, which we use.
    original = storage._hold_existing
    looks = []

    def late_look(*args):
        looks.append(args)
        return None if len(looks) == 1 else original(*args)

    monkeypatch.setattr(storage, "_hold_existing", late_look)
    assert storage.put(data) == stored
    assert len(looks) == 2
    versions = s3_server.client().list_object_versions(Bucket=locked_bucket, Prefix=f"race/{key}")
    assert len(versions["Versions"]) == 1


def test_create_bucket_turns_on_versioning_of_an_existing_bucket(s3_server: SeaweedS3) -> None:
    raw = s3_server.client()
    bucket = s3_server.new_bucket_name("plain")
    raw.create_bucket(Bucket=bucket)
    storage = s3_storage(s3_server, bucket, create_bucket=True)
    assert raw.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert storage.get(*storage.put(b"kept")) == b"kept"


def test_retention_on_a_bucket_without_object_lock_is_refused_clearly(
    s3_server: SeaweedS3,
) -> None:
    bucket = s3_server.new_bucket_name("unlocked")
    s3_server.client().create_bucket(Bucket=bucket)
    with pytest.raises(StorageError, match="does not have Object Lock enabled"):
        s3_storage(s3_server, bucket, create_bucket=True, retention_days=1)


def test_missing_bucket_is_a_clear_storage_error(s3_server: SeaweedS3) -> None:
    storage = s3_storage(s3_server, s3_server.new_bucket_name("absent"))
    key = key_for(b"anything")
    for action in (lambda: storage.put(b"anything"), lambda: storage.exists(key)):
        with pytest.raises(StorageError, match="^Document storage is unavailable: the bucket"):
            action()
    with pytest.raises(StorageError, match="does not exist") as caught:
        storage.get(key)
    assert not isinstance(caught.value, StorageNotFound)


def test_wrong_credentials_are_a_clear_storage_error(
    s3_server: SeaweedS3, locked_bucket: str
) -> None:
    storage = S3Storage(
        locked_bucket,
        "documents",
        endpoint_url=s3_server.endpoint_url,
        access_key=s3_server.access_key,
        secret_key="not-the-secret",
    )
    with pytest.raises(StorageError, match="refused the portal's credentials") as caught:
        storage.put(document_bytes())
    assert "not-the-secret" not in str(caught.value)
    assert "not-the-secret" not in storage.describe()


def test_dead_server_fails_fast_with_a_clear_message() -> None:
    (port,) = free_ports(1)  # nothing listens here
    storage = S3Storage(
        "documents",
        endpoint_url=f"http://127.0.0.1:{port}",
        access_key="key",
        secret_key="secret",
    )
    for action in (
        lambda: storage.put(b"anything"),
        lambda: storage.get(key_for(b"anything")),
        lambda: storage.exists(key_for(b"anything")),
    ):
        started = time.monotonic()
        with pytest.raises(StorageError, match="cannot reach the S3 server at http://127.0.0.1"):
            action()
        assert time.monotonic() - started < 10
    with pytest.raises(StorageError, match="cannot reach"):
        S3Storage(
            "documents",
            endpoint_url=f"http://127.0.0.1:{port}",
            access_key="key",
            secret_key="secret",
            create_bucket=True,
        )


def test_missing_credentials_are_a_clear_storage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    (port,) = free_ports(1)
    storage = S3Storage("documents", endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(StorageError, match="no S3 credentials are configured"):
        storage.exists(key_for(b"anything"))


def test_a_version_reads_back_whole_after_an_overwrite_and_a_delete_marker(
    s3_server: SeaweedS3, locked_bucket: str
) -> None:
    storage = s3_storage(s3_server, locked_bucket, retention_days=1)
    raw = s3_server.client()
    data = document_bytes()
    stored = storage.put(data)
    name = f"documents/{stored.key}"
    # A plain PUT under the same key (Object Lock allows it): the key now names other bytes.
    raw.put_object(Bucket=locked_bucket, Key=name, Body=b"%PDF-1.7\n forged \n%%EOF\n")
    assert storage.get(*stored) == data
    # A delete marker on the key (also allowed): the key now names nothing.
    raw.delete_object(Bucket=locked_bucket, Key=name)
    with pytest.raises(StorageNotFound):
        storage.get(stored.key)
    assert storage.get(*stored) == data
    assert storage.exists(*stored)
    # Storing the same bytes again finds the genuine version instead of writing another.
    assert storage.put(data) == stored


def test_a_forged_version_is_not_taken_for_the_document(
    s3_server: SeaweedS3, locked_bucket: str
) -> None:
    storage = s3_storage(s3_server, locked_bucket, retention_days=1)
    raw = s3_server.client()
    data = document_bytes()
    name = f"documents/{key_for(data)}"
    raw.put_object(Bucket=locked_bucket, Key=name, Body=b"forged before the portal wrote")
    stored = storage.put(data)  # a new version beside the forged one, not the forged one
    assert storage.get(*stored) == data
    assert len(raw.list_object_versions(Bucket=locked_bucket, Prefix=name)["Versions"]) == 2


def test_a_short_lock_runs_out_and_only_then_the_version_can_be_removed(
    s3_server: SeaweedS3, locked_bucket: str
) -> None:
    pending = timedelta(seconds=2)
    storage = s3_storage(s3_server, locked_bucket, retention_days=1, pending_retention=pending)
    data = document_bytes()
    stored = storage.put(data)
    assert not storage.remove_expired(*stored)  # still locked
    time.sleep(pending.total_seconds() + 1.5)
    # Stored again (a retry of the same bytes): the version is reused and locked again, so a
    # sweep that found it expired a moment ago cannot remove it now.
    assert storage.put(data) == stored
    assert not storage.remove_expired(*stored)
    time.sleep(pending.total_seconds() + 1.5)
    assert storage.remove_expired(*stored)
    assert not storage.exists(*stored)
    # Once removed, storing the bytes again writes a new version.
    again = storage.put(data)
    assert again.version_id != stored.version_id and storage.get(*again) == data


def test_retain_gives_the_full_retention_and_never_shortens(
    s3_server: SeaweedS3, locked_bucket: str
) -> None:
    storage = s3_storage(
        s3_server, locked_bucket, retention_days=3, pending_retention=timedelta(hours=1)
    )
    stored = storage.put(document_bytes())
    raw = s3_server.client()
    name = f"documents/{stored.key}"

    def until() -> datetime:
        head = raw.head_object(Bucket=locked_bucket, Key=name, VersionId=stored.version_id)
        return head["ObjectLockRetainUntilDate"]

    assert until() < datetime.now(UTC) + timedelta(hours=1, minutes=1)
    retained = storage.retain(*stored)
    assert retained is not None and abs(until() - retained) < timedelta(seconds=1)
    assert until() > datetime.now(UTC) + timedelta(days=3) - timedelta(minutes=1)
    assert storage.retain(*stored) == until()  # again: already there, unchanged
    # A version without a pending lock is not removed by a sweep, nor a missing one.
    assert not storage.remove_expired(*stored)
    assert not storage.remove_expired(stored.key, "no-such-version")


def test_a_stalled_server_fails_within_the_budget() -> None:
    """A server that accepts the connection and never answers (as a hung S3 does)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_say_nothing() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_and_say_nothing, daemon=True)
    thread.start()
    try:
        storage = S3Storage(
            "documents",
            endpoint_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
            access_key="key",
            secret_key="secret",
            connect_timeout=1,
            read_timeout=1,
            max_attempts=2,
        )
        assert storage.budget_seconds == 6
        for action in (
            lambda: storage.put(b"anything"),
            lambda: storage.get(key_for(b"anything")),
        ):
            started = time.monotonic()
            with pytest.raises(StorageError, match="did not answer within 2 s"):
                action()
            assert time.monotonic() - started < storage.budget_seconds
        assert len(held) >= 2  # it did connect, and retried once
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_the_default_budget_fits_the_web_server_timeout() -> None:
    storage = S3Storage(
        "documents", endpoint_url="http://127.0.0.1:9", access_key="k", secret_key="s"
    )
    assert (storage.connect_timeout, storage.read_timeout, storage.max_attempts) == (5, 15, 2)
    assert storage.budget_seconds <= 45  # the worker timeout is 60 s (deploy/gunicorn.conf.py)
