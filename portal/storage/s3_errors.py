"""What the S3 server's errors mean to the portal, and messages a person can act on."""

from __future__ import annotations

from botocore import exceptions as boto_errors

from portal.storage.errors import StorageError

REFUSED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
}
CORRUPTED = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"}
GONE = {"NoSuchKey", "NoSuchVersion", "NotFound", "404"}


# What a call to S3 can raise: the server's answer, or no answer at all.
S3_FAILURES = (boto_errors.ClientError, boto_errors.BotoCoreError)


def error_of(exc: Exception) -> tuple[str, int | None]:
    """The error code and HTTP status of a server's answer ("", None when none came)."""
    if not isinstance(exc, boto_errors.ClientError):
        return "", None
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code, status


def is_gone(exc: Exception) -> bool:
    """The object or version asked for is not there (HEAD answers a bare 404)."""
    code, status = error_of(exc)
    return code in GONE or status == 404


def failure(
    exc: Exception, *, bucket: str, endpoint_url: str | None, answer_seconds: float
) -> StorageError:
    """A message a person can act on; the boto exception stays chained for the log."""
    where = endpoint_url or "AWS S3"
    if isinstance(exc, boto_errors.ClientError):
        code, status = error_of(exc)
        if code == "NoSuchBucket" or (status == 404 and code in ("404", "NotFound")):
            detail = f"the bucket {bucket!r} does not exist."
        elif code in REFUSED or status == 403:
            detail = "the S3 server refused the portal's credentials or permissions."
        elif code in CORRUPTED:
            detail = "the upload arrived corrupted (checksum mismatch); please try again."
        else:
            detail = f"the S3 server answered {code or 'an error'} (HTTP {status})."
    elif isinstance(exc, boto_errors.NoCredentialsError | boto_errors.PartialCredentialsError):
        detail = "no S3 credentials are configured."
    elif isinstance(exc, boto_errors.ReadTimeoutError | boto_errors.ConnectTimeoutError):
        detail = f"the S3 server at {where} did not answer within {answer_seconds:g} s."
    elif isinstance(exc, boto_errors.ConnectionError | boto_errors.HTTPClientError):
        detail = f"cannot reach the S3 server at {where}."
    else:
        detail = f"the S3 client failed ({type(exc).__name__})."
    return StorageError.unavailable(detail)
