"""The optional file of a hand-over's delivery (a transmittal or delivery slip): a PDF of
10 MB at most, checked by its content, stored content-addressed, and read back only by the
people who may see the reallocation. It must hold no client data; the page says so."""

from __future__ import annotations

from portal import runtime
from portal.services import alerts
from portal.services.errors import NotFound, ServiceError
from portal.services.validation import clean_text

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def store(filename: str, data: bytes) -> dict:
    from portal.storage import StorageError, sha256_hex

    name = clean_text(filename, "File name", max_len=200) or "attachment.pdf"
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ServiceError(f"{name} is larger than 10 MB.")
    if not data.startswith(b"%PDF-"):
        raise ServiceError(f"{name}: attach a PDF file only.")
    try:
        stored = runtime.storage().put(data, content_type="application/pdf")
    except StorageError as exc:
        alerts.storage_outage(exc, f"storing the hand-over attachment {name}")
        raise ServiceError(f"{exc} Nothing was recorded; try again shortly.") from exc
    from portal.services import retention

    retention.retain_after_commit(stored)
    return {
        "filename": name,
        "storage_key": stored.key,
        "version_id": stored.version_id,
        "sha256": sha256_hex(data),
        "size": len(data),
    }


def read(meta: dict | None) -> tuple[bytes, str]:
    """The stored file and its name (NotFound when there is none)."""
    from portal.storage import StorageError

    if not meta:
        raise NotFound()
    try:
        return runtime.storage().get(meta["storage_key"], meta.get("version_id")), meta["filename"]
    except StorageError as exc:
        raise ServiceError(f"{exc} Try again shortly.") from exc
