"""The app's long-lived helpers (storage, PKI, signer), built once per app on first use.

Keys are loaded once and the storage client is made once; tests may replace an entry in
`app.extensions["portal"]` to put a failing part in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app


def _parts(app: Flask | None = None) -> dict[str, Any]:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return app.extensions.setdefault("portal", {})


def storage() -> Any:
    parts = _parts()
    if "storage" not in parts:
        from datetime import timedelta

        from portal.storage import open_storage

        cfg = current_app.config
        pending_hours = cfg.get("DOCUMENT_PENDING_RETENTION_HOURS")
        parts["storage"] = open_storage(
            cfg["STORAGE_URL"],
            endpoint_url=cfg["S3_ENDPOINT_URL"],
            region=cfg["S3_REGION"],
            access_key=cfg["S3_ACCESS_KEY"],
            secret_key=cfg["S3_SECRET_KEY"],
            retention_days=cfg["DOCUMENT_RETENTION_DAYS"],
            pending_retention=timedelta(hours=pending_hours) if pending_hours else None,
            lock_mode=cfg["DOCUMENT_LOCK_MODE"],
            create_bucket=cfg["S3_CREATE_BUCKET"],
            connect_timeout=cfg["S3_CONNECT_TIMEOUT_SECONDS"],
            read_timeout=cfg["S3_READ_TIMEOUT_SECONDS"],
            max_attempts=cfg["S3_MAX_ATTEMPTS"],
        )
    return parts["storage"]


def pki() -> Any:
    parts = _parts()
    if "pki" not in parts:
        from portal import clock
        from portal.pki import Pki

        cfg = current_app.config
        parts["pki"] = Pki.load(
            Path(cfg["PKI_DIR"]), cfg["PKI_PASSPHRASE"].encode(), clock=clock.now, **_p12(cfg)
        )
    return parts["pki"]


def signer() -> Any:
    parts = _parts()
    if "signer" not in parts:
        from portal.documents.signing import DocumentSigner

        parts["signer"] = DocumentSigner(pki())
    return parts["signer"]


def init_pki(app: Flask) -> bool:
    """Creates the CA if missing (idempotent); True when it was created now."""
    from portal.pki import init_pki as make

    cfg = app.config
    return make(
        Path(cfg["PKI_DIR"]),
        cfg["PKI_PASSPHRASE"].encode(),
        organization=cfg["LEAD_AGENCY_NAME"],
        **_p12(cfg),
    )


def _p12(cfg: Any) -> dict[str, Any]:
    if not cfg.get("PKI_PKCS12_PATH"):
        return {}
    secret = cfg.get("PKI_PKCS12_PASSPHRASE")
    return {
        "pkcs12_path": Path(cfg["PKI_PKCS12_PATH"]),
        "pkcs12_passphrase": secret.encode() if secret else None,
    }
