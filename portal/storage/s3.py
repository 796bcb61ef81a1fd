"""Documents kept in an S3 bucket with versioning and, where configured, Object Lock.

Each stored object is one version of its content-addressed key; ``put`` returns that version
and ``get`` reads exactly it, so a later PUT or a delete marker under the same key (both
allowed by Object Lock) cannot hide or replace a document on record.

Retention in two steps: a new object can be written under a short lock
(``pending_retention``) and given the full one (``retention_days``) by ``retain`` once the
database has committed the row that refers to it. COMPLIANCE retention can be extended, never
shortened, so an object left behind by a failed commit is locked only briefly; ``versions`` and
``remove_expired`` let a sweep delete it once that lock has run out.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from portal.storage.base import ObjectVersion, Stored
from portal.storage.errors import StorageError, StorageNotFound
from portal.storage.keys import digest_of_key, key_for, verify
from portal.storage.s3_bucket import ensure_bucket
from portal.storage.s3_errors import S3_FAILURES, error_of, failure, is_gone

LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")

# A stalled or unreachable server must fail a request within a bounded time, not hang a page
# (or the scheduler) for minutes: see S3Storage.budget_seconds.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
MAX_ATTEMPTS = 2


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _version_of(response: dict[str, Any]) -> str | None:
    """The version id an answer names; None for an unversioned bucket ("null")."""
    version = response.get("VersionId")
    return None if version in (None, "", "null") else version


def _checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


class S3Storage:
    """Stores each object at ``<prefix>/<key>`` in one bucket; never overwrites an object."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        retention_days: int | None = None,
        pending_retention: timedelta | None = None,
        lock_mode: str = "COMPLIANCE",
        create_bucket: bool = False,
        clock: Callable[[], datetime] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        """``pending_retention``: how long a new object is locked until ``retain`` gives it
        ``retention_days``; None locks it for ``retention_days`` at once."""
        if not bucket:
            raise ValueError("An S3 bucket name is required.")
        if lock_mode not in LOCK_MODES:
            raise ValueError(f"Object Lock mode must be one of {', '.join(LOCK_MODES)}.")
        if retention_days is not None and retention_days < 1:
            raise ValueError("Retention must be at least one day (or None for no retention).")
        if pending_retention is not None and (
            pending_retention <= timedelta(0)
            or (retention_days is not None and pending_retention > timedelta(days=retention_days))
        ):
            raise ValueError("The pending retention must be positive and at most the retention.")
        if connect_timeout <= 0 or read_timeout <= 0 or max_attempts < 1:
            raise ValueError("S3 timeouts must be positive and attempts at least 1.")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.region = region
        self.retention_days = retention_days
        self.pending_retention = pending_retention if retention_days is not None else None
        self.lock_mode = lock_mode
        self.clock = clock or _utc_now
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max_attempts
        # Custom endpoints (SeaweedFS, MinIO) rarely resolve bucket.host names: use paths.
        addressing = "path" if endpoint_url else "auto"
        # Credentials left as None fall back to boto3's usual chain (environment, IAM role).
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(
                s3={"addressing_style": addressing},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
            ),
        )
        # Cleared if the server turns out not to support conditional writes (If-None-Match).
        self._conditional_writes = True
        self._versioning: bool | None = None
        if create_bucket:
            self._ensure_bucket()

    @property
    def budget_seconds(self) -> float:
        """The longest one call to the server can take before it fails: every attempt
        connecting and waiting for an answer to the full timeouts, plus the retry back-off
        (at most a second or so between attempts in botocore's standard mode)."""
        return self.max_attempts * (self.connect_timeout + self.read_timeout + 1)

    def describe(self) -> str:
        where = self.endpoint_url or "AWS S3"
        prefix = f"/{self.prefix}" if self.prefix else ""
        retention = (
            f"{self.lock_mode} retention {self.retention_days} days"
            if self.retention_days
            else "no retention"
        )
        return f"S3 bucket s3://{self.bucket}{prefix} at {where} ({self.region}), {retention}"

    # --- writing and reading ------------------------------------------------------------

    def put(self, data: bytes, *, content_type: str = "application/pdf") -> Stored:
        key = key_for(data)
        checksum = _checksum(data)
        held = self._hold_existing(key, checksum, data)
        if held is not None:
            return held
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._object_key(key),
            "Body": data,
            "ContentType": content_type,
            # The server recomputes this and rejects the upload if the bytes arrived damaged.
            "ChecksumSHA256": checksum,
        }
        if self.retention_days is not None:
            request["ObjectLockMode"] = self.lock_mode
            request["ObjectLockRetainUntilDate"] = self._new_lock_until()
        written = self._put_once(request)
        if written is not _TAKEN:
            return Stored(key, written)
        # Someone wrote under this key since we looked: a concurrent writer of the same bytes
        # (use their version) or other bytes (add ours as a new version beside them).
        held = self._hold_existing(key, checksum, data)
        if held is not None:
            return held
        if not self._versioned():
            raise StorageError.unavailable(
                f"the object {key} holds other bytes and the bucket {self.bucket!r} keeps no "
                "versions, so the document cannot be stored without overwriting it."
            )
        return Stored(key, self._put_once(request, conditional=False))

    def get(self, key: str, version_id: str | None = None) -> bytes:
        request = {"Bucket": self.bucket, "Key": self._object_key(key)}
        if version_id:
            request["VersionId"] = version_id
        try:
            response = self._client.get_object(**request)
            data = response["Body"].read()
        except S3_FAILURES as exc:
            if is_gone(exc) and error_of(exc)[0] != "NoSuchBucket":
                raise StorageNotFound(key) from None
            raise self._failure(exc) from exc
        return verify(key, data)

    def exists(self, key: str, version_id: str | None = None) -> bool:
        try:
            self._head(key, version_id)
        except S3_FAILURES as exc:
            if not is_gone(exc):
                raise self._failure(exc) from exc
            # HEAD answers a bare 404 both for a missing object and a missing bucket.
            self._require_bucket()
            return False
        return True

    # --- retention ------------------------------------------------------------------------

    def retain(self, key: str, version_id: str | None) -> datetime | None:
        """Gives the version its full retention (from now) unless it already has about that
        much; returns when its lock ends, or None where documents get no retention.

        Safe to repeat. Raises StorageNotFound if the version is gone.
        """
        if self.retention_days is None:
            return None
        try:
            head = self._head(key, version_id)
            current = head.get("ObjectLockRetainUntilDate")
            now = self.clock()
            full = now + timedelta(days=self.retention_days)
            slack = self.pending_retention or timedelta(days=1)
            if current is not None and current >= full - slack:
                return current  # already on the full retention, give or take a short lock
            self._lock(key, version_id, full, head.get("ObjectLockMode"))
        except S3_FAILURES as exc:
            if is_gone(exc):
                raise StorageNotFound(key) from None
            raise self._failure(exc) from exc
        return full

    def versions(self) -> Iterator[ObjectVersion]:
        """Every stored version of every content-addressed key under the prefix (delete
        markers and foreign names left out), oldest key first."""
        prefix = f"{self.prefix}/sha256/" if self.prefix else "sha256/"
        try:
            pages = self._client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Versions", []):
                    key = item["Key"][len(self.prefix) + 1 :] if self.prefix else item["Key"]
                    try:
                        digest_of_key(key)
                    except ValueError:
                        continue
                    yield ObjectVersion(key, _version_of(item), item["LastModified"])
        except S3_FAILURES as exc:
            raise self._failure(exc) from exc

    def remove_expired(self, key: str, version_id: str | None) -> bool:
        """Deletes the version if it was locked and its lock has run out; True if deleted.

        A version that never had a lock is kept: only the portal's own short-locked writes are
        the sweep's to remove. The server refuses to delete a version still locked, so a
        version that ``put`` has just locked again (reusing it) is never lost.
        """
        if not version_id:
            return False  # an unversioned bucket: deleting would remove the only copy
        try:
            head = self._head(key, version_id)
            until = head.get("ObjectLockRetainUntilDate")
            held = head.get("ObjectLockLegalHoldStatus") == "ON"
            if until is None or until > self.clock() or held:
                return False
            self._client.delete_object(
                Bucket=self.bucket, Key=self._object_key(key), VersionId=version_id
            )
        except S3_FAILURES as exc:
            if is_gone(exc) or error_of(exc)[0] == "AccessDenied":
                return False  # gone already, or locked again meanwhile
            raise self._failure(exc) from exc
        return True

    # --- inside ---------------------------------------------------------------------------

    def _object_key(self, key: str) -> str:
        digest_of_key(key)  # rejects anything that is not a well-formed key
        return f"{self.prefix}/{key}" if self.prefix else key

    def _head(self, key: str, version_id: str | None) -> dict[str, Any]:
        request = {"Bucket": self.bucket, "Key": self._object_key(key), "ChecksumMode": "ENABLED"}
        if version_id:
            request["VersionId"] = version_id
        return self._client.head_object(**request)

    def _new_lock_until(self) -> datetime:
        if self.pending_retention is not None:
            return self.clock() + self.pending_retention
        return self.clock() + timedelta(days=self.retention_days or 0)

    def _lock(self, key: str, version_id: str | None, until: datetime, mode: str | None) -> None:
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._object_key(key),
            # A version keeps the mode it has (COMPLIANCE cannot be weakened to GOVERNANCE).
            "Retention": {"Mode": mode or self.lock_mode, "RetainUntilDate": until},
        }
        if version_id:
            request["VersionId"] = version_id
        self._client.put_object_retention(**request)

    def _hold_existing(self, key: str, checksum: str, data: bytes) -> Stored | None:
        """A version already holding these bytes, locked again for at least the pending
        period (so a sweep cannot remove it before the row that reuses it commits); None if
        there is none."""
        try:
            listing = self._client.list_object_versions(
                Bucket=self.bucket, Prefix=self._object_key(key)
            )
        except S3_FAILURES as exc:
            raise self._failure(exc) from exc
        name = self._object_key(key)
        candidates = [v for v in listing.get("Versions", []) if v["Key"] == name]
        candidates.sort(key=lambda v: v["LastModified"], reverse=True)
        for item in candidates:
            version_id = _version_of(item)
            try:
                head = self._head(key, version_id)
                if not self._holds(key, version_id, head, checksum, data):
                    continue
                if self.retention_days is not None:
                    want = self._new_lock_until()
                    current = head.get("ObjectLockRetainUntilDate")
                    if current is None or current < want:
                        self._lock(key, version_id, want, head.get("ObjectLockMode"))
            except S3_FAILURES as exc:
                if is_gone(exc):
                    continue  # removed since the listing: look further, or write anew
                raise self._failure(exc) from exc
            return Stored(key, version_id)
        return None

    def _holds(
        self, key: str, version_id: str | None, head: dict[str, Any], checksum: str, data: bytes
    ) -> bool:
        """Whether the version holds exactly ``data``: by the SHA-256 the server checked on
        upload, or, for a version stored without one, by reading it."""
        recorded = head.get("ChecksumSHA256")
        if recorded:
            return recorded == checksum
        if head.get("ContentLength") != len(data):
            return False
        try:
            return self.get(key, version_id) == data
        except StorageError:
            return False

    def _put_once(self, request: dict[str, Any], *, conditional: bool = True) -> Any:
        """PUT (unless the key is taken, when ``conditional``); the new version id, or
        _TAKEN."""
        if self._conditional_writes and conditional:
            request = {**request, "IfNoneMatch": "*"}
        try:
            return _version_of(self._client.put_object(**request))
        except S3_FAILURES as exc:
            code, status = error_of(exc)
            if status == 412:  # If-None-Match: something was stored under the key meanwhile
                return _TAKEN
            # Concurrent conditional PUTs: AWS may answer 409 to the loser.
            if status == 409 and code == "ConditionalRequestConflict":
                return _TAKEN
            if status == 501 and "IfNoneMatch" in request:
                # The server lacks conditional writes; the listing above still guards.
                self._conditional_writes = False
                request.pop("IfNoneMatch")
                return self._put_once(request)
            raise self._failure(exc) from exc

    def _versioned(self) -> bool:
        if self._versioning is None:
            try:
                status = self._client.get_bucket_versioning(Bucket=self.bucket).get("Status")
            except S3_FAILURES as exc:
                raise self._failure(exc) from exc
            self._versioning = status == "Enabled"
        return self._versioning

    def _require_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except S3_FAILURES as exc:
            raise self._failure(exc) from exc

    def _ensure_bucket(self) -> None:
        try:
            ensure_bucket(
                self._client, self.bucket, self.region, needs_lock=self.retention_days is not None
            )
        except S3_FAILURES as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: Exception) -> StorageError:
        return failure(
            exc,
            bucket=self.bucket,
            endpoint_url=self.endpoint_url,
            answer_seconds=self.connect_timeout + self.read_timeout,
        )


_TAKEN = object()  # _put_once: the key was taken by another write
