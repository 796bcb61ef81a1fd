"""The app's long-lived helpers (storage, PKI, signer), built once per app on first use.

Keys are loaded once and the storage client is made once; tests may replace an entry in
`app.extensions["portal"]` to put a failing part in place.
"""

from __future__ import annotations

from datetime import timedelta
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
        loaded = Pki.load(
            Path(cfg["PKI_DIR"]),
            cfg["PKI_PASSPHRASE"].encode(),
            clock=clock.now,
            **_p12(cfg),
            **_profile(cfg),
            token=open_token(cfg),
        )
        loaded.tsa.configure(
            policy=cfg.get("TSA_POLICY_OID") or None,
            accuracy=timedelta(seconds=float(cfg["TSA_ACCURACY_SECONDS"])),
        )
        parts["pki"] = loaded
    return parts["pki"]


def signer() -> Any:
    parts = _parts()
    if "signer" not in parts:
        from portal.documents.signing import DocumentSigner

        crls, ocsp = _revocation()
        parts["signer"] = DocumentSigner(
            pki(), timestamper=_external_tsa(), revocation=crls, ocsp=ocsp
        )
    return parts["signer"]


def _revocation() -> tuple[Any, Any]:
    """The current CRLs and the OCSP responder, for the validation data in each signature's
    DSS (PAdES B-LT/LTA), as the app factory registered them (None, None: a DSS of
    certificates alone)."""
    return current_app.extensions.get("portal.revocation", (None, None))


def _external_tsa() -> Any:
    """An RFC 3161 client for TSA_URL; None (the PKI's own TSA, in-process) when unset."""
    cfg = current_app.config
    if not cfg.get("TSA_URL"):
        return None
    from pyhanko.sign.timestamps import HTTPTimeStamper

    user = cfg.get("TSA_USERNAME")
    auth = (user, cfg.get("TSA_PASSWORD") or "") if user else None
    return HTTPTimeStamper(cfg["TSA_URL"], timeout=cfg["TSA_TIMEOUT_SECONDS"], auth=auth)


def init_pki(app: Flask, *, offline_root: Path | None = None) -> bool:
    """Creates the CA if missing (idempotent); True when it was created now.

    With PKI_PKCS11_MODULE set, the issuing CA, TSA and seal keys are made in that token;
    with `offline_root`, the root key is written there and not kept in PKI_DIR.
    """
    from portal.pki import init_pki as make

    cfg = app.config
    return make(
        Path(cfg["PKI_DIR"]),
        cfg["PKI_PASSPHRASE"].encode(),
        organization=cfg["LEAD_AGENCY_NAME"],
        **_p12(cfg),
        **_profile(cfg),
        token=open_token(cfg),  # the process's one session, shared with pki()
        offline_root=offline_root,
    )


def open_token(cfg: Any) -> Any:
    """The PKCS#11 token holding the CA, TSA and seal keys (portal/pki/hsm.py), logged in
    (one session per process); None when PKI_PKCS11_MODULE is unset (keys in PKI_DIR)."""
    if not cfg.get("PKI_PKCS11_MODULE"):
        return None
    from portal.pki import PkiError
    from portal.pki.hsm import Token, TokenSettings

    if not cfg.get("PKI_PKCS11_TOKEN_LABEL"):
        raise PkiError("PKI_PKCS11_MODULE is set but PKI_PKCS11_TOKEN_LABEL is not.")
    settings = TokenSettings(
        module=cfg["PKI_PKCS11_MODULE"],
        token_label=cfg["PKI_PKCS11_TOKEN_LABEL"],
        pin=cfg.get("PKI_PKCS11_PIN") or "",
    )
    return Token.open(settings)


def _profile(cfg: Any) -> dict[str, Any]:
    """What the CA states in its certificates: where revocation data is served (under
    PORTAL_BASE_URL, see portal/views/pki.py) and the certificate policy."""
    from portal.pki.certificates import DEFAULT_POLICY_OID

    return {
        "base_url": cfg["PORTAL_BASE_URL"],
        "policy_oid": cfg.get("CERTIFICATE_POLICY_OID") or DEFAULT_POLICY_OID,
    }


def _p12(cfg: Any) -> dict[str, Any]:
    if not cfg.get("PKI_PKCS12_PATH"):
        return {}
    secret = cfg.get("PKI_PKCS12_PASSPHRASE")
    return {
        "pkcs12_path": Path(cfg["PKI_PKCS12_PATH"]),
        "pkcs12_passphrase": secret.encode() if secret else None,
    }
