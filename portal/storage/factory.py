"""Open the storage backend a STORAGE_URL names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from portal.storage.base import Storage
from portal.storage.local import LocalStorage
from portal.storage.s3 import S3Storage


def open_storage(
    url: str,
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
    connect_timeout: float = 5,
    read_timeout: float = 15,
    max_attempts: int = 2,
) -> Storage:
    """``file:///absolute/path`` → LocalStorage; ``s3://bucket[/prefix]`` → S3Storage.

    The S3 options are ignored for a file URL. Anything else is a ValueError.
    """
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError(f"STORAGE_URL must not carry a query or fragment: {url!r}")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"A file STORAGE_URL must name a local path (file:///…): {url!r}")
        path = Path(unquote(parts.path))
        if not path.is_absolute() or parts.path in ("", "/"):
            raise ValueError(f"A file STORAGE_URL needs an absolute folder path: {url!r}")
        return LocalStorage(path)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"An s3 STORAGE_URL needs a bucket (s3://bucket/prefix): {url!r}")
        return S3Storage(
            parts.netloc,
            unquote(parts.path).strip("/"),
            endpoint_url=endpoint_url,
            region=region,
            access_key=access_key,
            secret_key=secret_key,
            retention_days=retention_days,
            pending_retention=pending_retention,
            lock_mode=lock_mode,
            create_bucket=create_bucket,
            clock=clock,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_attempts=max_attempts,
        )
    raise ValueError(
        f"STORAGE_URL must start with file:/// or s3:// (got {url!r}); "
        "for example file:///var/lib/portal/documents or s3://hmis-documents/portal"
    )
