"""Making a bucket fit for documents: versioning, and Object Lock where retention is wanted.

For development and tests (S3_CREATE_BUCKET); production buckets are provisioned beforehand.
Raises boto's errors, or StorageError for a bucket that cannot lock.
"""

from __future__ import annotations

from typing import Any

from botocore import exceptions as boto_errors

from portal.storage.errors import StorageError
from portal.storage.s3_errors import error_of


def ensure_bucket(client: Any, bucket: str, region: str, *, needs_lock: bool) -> None:
    """Create the bucket with Object Lock if absent and make sure versioning is on."""
    try:
        client.head_bucket(Bucket=bucket)
    except boto_errors.ClientError as exc:
        if error_of(exc)[1] != 404:
            raise
        create: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": True}
        if region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        client.create_bucket(**create)
    versioning = client.get_bucket_versioning(Bucket=bucket)
    if versioning.get("Status") != "Enabled":
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if needs_lock and not lock_enabled(client, bucket):
        raise StorageError.unavailable(
            f"the bucket {bucket!r} does not have Object Lock enabled, so "
            "documents cannot be given retention."
        )


def lock_enabled(client: Any, bucket: str) -> bool:
    try:
        config = client.get_object_lock_configuration(Bucket=bucket)
    except boto_errors.ClientError as exc:
        if error_of(exc)[0] == "ObjectLockConfigurationNotFoundError":
            return False
        raise
    return config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
