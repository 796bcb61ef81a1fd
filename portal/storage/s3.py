"""Documents kept in an S3 bucket with versioning and, where configured, Object Lock."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore import exceptions as boto_errors
from botocore.config import Config

from portal.storage.errors import StorageError, StorageNotFound
from portal.storage.keys import digest_of_key, key_for, verify

LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")

# A dead or unreachable server must fail a request in seconds, not hang a page for minutes.
_CLIENT_CONFIG = dict(
    connect_timeout=3,
    read_timeout=20,
    retries={"max_attempts": 3, "mode": "standard"},
)
_REFUSED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
}
_CORRUPTED = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _error_of(exc: boto_errors.ClientError) -> tuple[str, int | None]:
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code, status


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
        lock_mode: str = "COMPLIANCE",
        create_bucket: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("An S3 bucket name is required.")
        if lock_mode not in LOCK_MODES:
            raise ValueError(f"Object Lock mode must be one of {', '.join(LOCK_MODES)}.")
        if retention_days is not None and retention_days < 1:
            raise ValueError("Retention must be at least one day (or None for no retention).")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.region = region
        self.retention_days = retention_days
        self.lock_mode = lock_mode
        self.clock = clock or _utc_now
        # Custom endpoints (SeaweedFS, MinIO) rarely resolve bucket.host names: use paths.
        addressing = "path" if endpoint_url else "auto"
        # Credentials left as None fall back to boto3's usual chain (environment, IAM role).
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(s3={"addressing_style": addressing}, **_CLIENT_CONFIG),
        )
        # Cleared if the server turns out not to support conditional writes (If-None-Match).
        self._conditional_writes = True
        if create_bucket:
            self._ensure_bucket()

    def describe(self) -> str:
        where = self.endpoint_url or "AWS S3"
        prefix = f"/{self.prefix}" if self.prefix else ""
        retention = (
            f"{self.lock_mode} retention {self.retention_days} days"
            if self.retention_days
            else "no retention"
        )
        return f"S3 bucket s3://{self.bucket}{prefix} at {where} ({self.region}), {retention}"

    def put(self, data: bytes, *, content_type: str = "application/pdf") -> str:
        key = key_for(data)
        if self.exists(key):
            return key
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._object_key(key),
            "Body": data,
            "ContentType": content_type,
            # The server recomputes this and rejects the upload if the bytes arrived damaged.
            "ChecksumSHA256": base64.b64encode(hashlib.sha256(data).digest()).decode("ascii"),
        }
        if self.retention_days is not None:
            request["ObjectLockMode"] = self.lock_mode
            request["ObjectLockRetainUntilDate"] = self.clock() + timedelta(
                days=self.retention_days
            )
        self._put_once(key, request)
        return key

    def get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
            data = response["Body"].read()
        except boto_errors.ClientError as exc:
            code, status = _error_of(exc)
            if code == "NoSuchKey" or (status == 404 and code != "NoSuchBucket"):
                raise StorageNotFound(key) from None
            raise self._failure(exc) from exc
        except boto_errors.BotoCoreError as exc:
            raise self._failure(exc) from exc
        return verify(key, data)

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except boto_errors.ClientError as exc:
            if _error_of(exc)[1] != 404:
                raise self._failure(exc) from exc
            # HEAD answers a bare 404 both for a missing object and a missing bucket.
            self._require_bucket()
            return False
        except boto_errors.BotoCoreError as exc:
            raise self._failure(exc) from exc
        return True

    def _object_key(self, key: str) -> str:
        digest_of_key(key)  # rejects anything that is not a well-formed key
        return f"{self.prefix}/{key}" if self.prefix else key

    def _put_once(self, key: str, request: dict[str, Any]) -> None:
        """PUT unless the key is taken; a concurrent writer of the same bytes is success."""
        if self._conditional_writes:
            request = {**request, "IfNoneMatch": "*"}
        try:
            self._client.put_object(**request)
        except boto_errors.ClientError as exc:
            code, status = _error_of(exc)
            if status == 412:  # If-None-Match: someone stored these bytes since our HEAD
                return
            # Concurrent conditional PUTs: AWS may answer 409 to the loser; the winner's
            # object holds the same bytes.
            if status == 409 and code == "ConditionalRequestConflict" and self.exists(key):
                return
            if status == 501 and "IfNoneMatch" in request:
                # The server lacks conditional writes; the HEAD above still guards overwrites.
                self._conditional_writes = False
                request.pop("IfNoneMatch")
                self._put_once(key, request)
                return
            raise self._failure(exc) from exc
        except boto_errors.BotoCoreError as exc:
            raise self._failure(exc) from exc

    def _require_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (boto_errors.ClientError, boto_errors.BotoCoreError) as exc:
            raise self._failure(exc) from exc

    def _ensure_bucket(self) -> None:
        """Create the bucket with Object Lock if absent and make sure versioning is on.

        For development and tests; production buckets are provisioned beforehand.
        """
        client = self._client
        try:
            try:
                client.head_bucket(Bucket=self.bucket)
            except boto_errors.ClientError as exc:
                if _error_of(exc)[1] != 404:
                    raise
                create: dict[str, Any] = {"Bucket": self.bucket, "ObjectLockEnabledForBucket": True}
                if self.region != "us-east-1":
                    create["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
                client.create_bucket(**create)
            versioning = client.get_bucket_versioning(Bucket=self.bucket)
            if versioning.get("Status") != "Enabled":
                client.put_bucket_versioning(
                    Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
                )
            if self.retention_days is not None and not self._lock_enabled():
                raise StorageError.unavailable(
                    f"the bucket {self.bucket!r} does not have Object Lock enabled, so "
                    "documents cannot be given retention."
                )
        except (boto_errors.ClientError, boto_errors.BotoCoreError) as exc:
            raise self._failure(exc) from exc

    def _lock_enabled(self) -> bool:
        try:
            config = self._client.get_object_lock_configuration(Bucket=self.bucket)
        except boto_errors.ClientError as exc:
            if _error_of(exc)[0] == "ObjectLockConfigurationNotFoundError":
                return False
            raise
        return config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"

    def _failure(self, exc: Exception) -> StorageError:
        """A message a person can act on; the boto exception stays chained for the log."""
        if isinstance(exc, boto_errors.ClientError):
            code, status = _error_of(exc)
            if code == "NoSuchBucket" or (status == 404 and code in ("404", "NotFound")):
                detail = f"the bucket {self.bucket!r} does not exist."
            elif code in _REFUSED or status == 403:
                detail = "the S3 server refused the portal's credentials or permissions."
            elif code in _CORRUPTED:
                detail = "the upload arrived corrupted (checksum mismatch); please try again."
            else:
                detail = f"the S3 server answered {code or 'an error'} (HTTP {status})."
        elif isinstance(exc, boto_errors.NoCredentialsError | boto_errors.PartialCredentialsError):
            detail = "no S3 credentials are configured."
        elif isinstance(exc, boto_errors.ConnectionError | boto_errors.HTTPClientError):
            detail = f"cannot reach the S3 server at {self.endpoint_url or 'AWS S3'}."
        else:
            detail = f"the S3 client failed ({type(exc).__name__})."
        return StorageError.unavailable(detail)
