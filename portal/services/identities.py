"""Signing identities: each person signs with a certificate from the portal CA."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select

from portal import clock, runtime
from portal.extensions import db
from portal.models import CertificateRevocation, SigningIdentity, User

# Why an identity stops being used, and the RFC 5280 reason its certificate is revoked with
# (cryptography's x509.ReasonFlags values). One table, so every caller names the same reason.
RETIREMENTS = {
    "changed": ("superseded", "The name, title or agency on the certificate changed"),
    "password_reset": ("superseded", "The password was reset, so a new key was issued"),
    "separation": ("affiliation_changed", "The person left the agency"),
    "agreement_ended": ("cessation_of_operation", "The agency's agreement ended"),
    "compromise": ("key_compromise", "The lead agency declared the key compromised"),
}


def current_identity(user: User) -> SigningIdentity:
    """The person's identity for their present name, title and agency; issued when missing.

    A name, title or agency change retires the old identity so that each certificate states
    what was true when it was used.
    """
    organization = user.agency.legal_name
    active = db.session.scalars(
        select(SigningIdentity).where(
            SigningIdentity.user_id == user.id, SigningIdentity.retired_at.is_(None)
        )
    ).all()
    now = clock.now()
    for identity in active:
        if (identity.common_name, identity.title, identity.organization) == (
            user.name,
            user.title,
            organization,
        ):
            return identity
        retire(identity, "changed", at=now)
    issued = runtime.pki().issue_identity(
        common_name=user.name,
        title=user.title or "",
        organization=organization,
        email=user.email,
        now=now,
    )
    identity = SigningIdentity(
        user_id=user.id,
        common_name=user.name,
        title=user.title or "",
        organization=organization,
        cert_pem=issued.cert_pem,
        key_pem=issued.key_pem,
        cert_sha256=hashlib.sha256(issued.cert_pem).hexdigest(),
        serial_hex=_serial_hex(issued.cert_pem),
        created_at=now,
    )
    db.session.add(identity)
    db.session.flush()
    return identity


def _serial_hex(cert_pem: bytes) -> str:
    from cryptography import x509

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


def signer_for(identity: SigningIdentity):  # -> pyhanko SimpleSigner
    from portal.pki import IssuedIdentity

    return runtime.pki().signer_for(
        IssuedIdentity(cert_pem=identity.cert_pem, key_pem=identity.key_pem)
    )
