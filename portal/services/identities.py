"""Signing identities: each person signs with a certificate from the portal CA."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from portal import clock, runtime
from portal.extensions import db
from portal.models import SigningIdentity, User


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
        identity.retired_at = now
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
        created_at=now,
    )
    db.session.add(identity)
    db.session.flush()
    return identity


def signer_for(identity: SigningIdentity):  # -> pyhanko SimpleSigner
    from portal.pki import IssuedIdentity

    return runtime.pki().signer_for(
        IssuedIdentity(cert_pem=identity.cert_pem, key_pem=identity.key_pem)
    )
