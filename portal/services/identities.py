"""Signing identities: each person signs with a certificate from the portal CA.

A person's private key is sealed under their password (portal/pki/keys.py), so only they can
use it: it is opened with the password they re-enter to sign, for that one signature.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import current_app
from sqlalchemy import select

from portal import clock, runtime
from portal.extensions import db
from portal.models import CertificateRevocation, SigningIdentity, User
from portal.services.errors import ServiceError

if TYPE_CHECKING:  # portal.pki loads pyHanko: imported where a key is used, not at start-up
    from portal.pki.keys import KdfParams

# Why an identity stops being used, and the RFC 5280 reason its certificate is revoked with
# (cryptography's x509.ReasonFlags values). One table, so every caller names the same reason.
RETIREMENTS = {
    "changed": ("superseded", "The name, title or agency on the certificate changed"),
    "password_reset": ("superseded", "The password was reset, so a new key was issued"),
    "separation": ("affiliation_changed", "The person left the agency"),
    "agreement_ended": ("cessation_of_operation", "The agency's agreement ended"),
    "compromise": ("key_compromise", "The lead agency declared the key compromised"),
    # Keys from before they were sealed under their owner's password (key_kdf == "").
    "unsealed_key": (
        "superseded",
        "The key was kept under the server's passphrase; a key only its owner can open was issued",
    ),
}
# argon2id in tests (ARGON2_FAST): cheap, the same algorithm and format.
FAST_KDF = "m=64,t=1,p=1"


@dataclass(frozen=True)
class ConfirmedSigner:
    """A person who has just confirmed a signature with their password (see
    signing.confirm_signer). Held in memory for that one request, never stored: the password
    is what unseals their signing key."""

    user: User
    password: str = field(repr=False)


def kdf_params() -> KdfParams:
    """The argon2id cost for sealing new keys (setting SIGNING_KEY_KDF)."""
    from portal.pki import PkiError, keys

    cfg = current_app.config
    setting = FAST_KDF if cfg.get("ARGON2_FAST") else cfg.get("SIGNING_KEY_KDF")
    try:
        return keys.KdfParams.parse(setting or keys.DEFAULT.describe())
    except PkiError as exc:
        raise ServiceError(f"{exc} Nothing was signed; tell the portal's operator.") from exc


def current_identity(signer: ConfirmedSigner) -> SigningIdentity:
    """The person's identity for their present name, title and agency; issued when missing,
    its key sealed under the password they signed with.

    A name, title or agency change retires the old identity so that each certificate states
    what was true when it was used; so does a key from before keys were sealed.
    """
    from portal.pki import PkiError

    user = signer.user
    organization = user.agency.legal_name
    active = db.session.scalars(
        select(SigningIdentity).where(
            SigningIdentity.user_id == user.id, SigningIdentity.retired_at.is_(None)
        )
    ).all()
    now = clock.now()
    for identity in active:
        if not identity.key_kdf:
            retire(identity, "unsealed_key", at=now)
        elif (identity.common_name, identity.title, identity.organization) == (
            user.name,
            user.title,
            organization,
        ):
            return identity
        else:
            retire(identity, "changed", at=now)
    try:
        issued = runtime.pki().issue_identity(
            common_name=user.name,
            title=user.title or "",
            organization=organization,
            email=user.email,
            now=now,
            password=signer.password,
            kdf=kdf_params(),
        )
    except PkiError as exc:
        raise ServiceError(f"{exc} Nothing was signed.") from exc
    identity = SigningIdentity(
        user_id=user.id,
        common_name=user.name,
        title=user.title or "",
        organization=organization,
        cert_pem=issued.cert_pem,
        key_pem=issued.key_pem,
        key_kdf=issued.key_kdf,
        cert_sha256=hashlib.sha256(issued.cert_pem).hexdigest(),
        serial_hex=_serial_hex(issued.cert_pem),
        created_at=now,
    )
    db.session.add(identity)
    db.session.flush()
    return identity


def _serial_hex(cert_pem: bytes) -> str:
    return format(x509.load_pem_x509_certificate(cert_pem).serial_number, "x")


def retire(
    identity: SigningIdentity,
    why: str,
    *,
    at: datetime,
    by: User | None = None,
    note: str = "",
) -> None:
    """Ends an identity for one of RETIREMENTS' reasons and revokes its certificate.

    Idempotent: an identity already retired keeps its first reason and revocation.
    """
    if identity.retired_at is not None:
        return
    reason, words = RETIREMENTS[why]
    identity.retired_at = at
    identity.retired_reason = words
    db.session.add(
        CertificateRevocation(
            serial_hex=identity.serial_hex or _serial_hex(identity.cert_pem),
            cert_sha256=identity.cert_sha256,
            identity_id=identity.id,
            reason=reason,
            why=note or words,
            revoked_at=at,
            by_id=by.id if by else None,
        )
    )


def retire_all(user: User, why: str, *, at: datetime, by: User | None = None) -> None:
    """Retires every identity the person still holds (see `retire`)."""
    active = select(SigningIdentity).where(
        SigningIdentity.user_id == user.id, SigningIdentity.retired_at.is_(None)
    )
    for identity in db.session.scalars(active).all():
        retire(identity, why, at=at, by=by)


def unlock(signer: ConfirmedSigner) -> tuple[SigningIdentity, Any]:
    """The person's current identity and a pyHanko signer holding its unsealed key.

    The caller signs with it and lets it go. The password was checked against the person's
    login already; a key it does not open was sealed under another password (or altered),
    and nothing on the server can open it: only a password reset replaces it.
    """
    from portal.pki import PkiError
    from portal.services.lead import lead_agency_name

    identity = current_identity(signer)
    try:
        return identity, _open(identity, signer.password)
    except PkiError as exc:
        raise ServiceError(
            f"{exc} Nothing was signed. Set a new password with “Forgot your password?” to get a "
            f"new signing key, or ask {lead_agency_name()}'s HMIS team."
        ) from exc


def _open(identity: SigningIdentity, password: str):  # -> LoadedKeySigner
    from portal.pki import IssuedIdentity

    issued = IssuedIdentity(identity.cert_pem, identity.key_pem, identity.key_kdf)
    return runtime.pki().signer_for(issued, password)


def reseal_all(user: User, old_password: str, new_password: str, *, at: datetime) -> None:
    """After a password change: the person's keys, sealed again under the new password, with
    their certificates unchanged. A key the old password does not open is retired (a new
    one comes with the next signature); a legacy key is left to be replaced then."""
    from portal.pki import PkiError, keys

    active = select(SigningIdentity).where(
        SigningIdentity.user_id == user.id, SigningIdentity.retired_at.is_(None)
    )
    params = kdf_params()
    for identity in db.session.scalars(active).all():
        if not identity.key_kdf:
            continue
        cert_der = x509.load_pem_x509_certificate(identity.cert_pem).public_bytes(
            serialization.Encoding.DER
        )
        try:
            sealed = keys.reseal(
                keys.SealedKey(identity.key_pem, identity.key_kdf),
                old_password,
                new_password,
                cert_der,
                params,
            )
        except PkiError:
            retire(
                identity,
                "password_reset",
                at=at,
                note="The key was sealed under an earlier password, so a new key will be issued",
            )
            continue
        identity.key_pem, identity.key_kdf = sealed.blob, sealed.kdf
