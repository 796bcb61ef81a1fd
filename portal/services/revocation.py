"""Revocation status of people's certificates: the CRLs, the OCSP answers, holds, compromise.

The certificate_revocation table is the record (portal.models.CertificateRevocation):
`identities.retire` adds a final revocation when an identity ends; a suspension adds a hold
(`hold_user`) that lifting it releases (`release_user`). The CRLs and OCSP answers are built
from it by portal/pki/revocation.py and served at /pki (portal/views/pki.py).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from flask import current_app
from sqlalchemy import select

from portal import clock, runtime
from portal.extensions import db
from portal.models import CertificateRevocation, SigningIdentity, User
from portal.pki import revocation as pki_revocation
from portal.pki.revocation import GOOD, UNKNOWN, CertificateState, RevokedEntry
from portal.services import agencies, audit, identities
from portal.services.access import RequestInfo, require_role
from portal.services.errors import ServiceError
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text

# Reasons are stored by their name in cryptography's ReasonFlags (e.g. "key_compromise").
HOLD = x509.ReasonFlags.certificate_hold.name


def crl_validity() -> timedelta:
    return timedelta(hours=current_app.config.get("CRL_VALIDITY_HOURS") or 168)


def _entry(row: CertificateRevocation) -> RevokedEntry:
    return RevokedEntry(
        serial=int(row.serial_hex, 16),
        revoked_at=row.revoked_at,
        reason=x509.ReasonFlags[row.reason],
        released_at=row.released_at,
    )


def _entries() -> tuple[RevokedEntry, ...]:
    rows = db.session.scalars(select(CertificateRevocation).order_by(CertificateRevocation.id))
    return tuple(_entry(row) for row in rows)


@dataclass(frozen=True)
class _Built:
    entries: tuple[RevokedEntry, ...]
    this_update: datetime
    next_update: datetime
    crls: list[bytes]


# One CRL per loaded PKI (an app), rebuilt when the table changes or half its life is gone.
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def current_crls() -> list[bytes]:
    """[the issuing CA's CRL, the root's CRL] (DER), for a signature's validation data and
    for /pki; the root's is left out when the root is not the portal's (a PKCS#12 CA).

    Built from the table and kept in this process until the table changes or the CRL is
    half-way to its nextUpdate, so that no embedded CRL is near its end.
    """
    pki = runtime.pki()
    entries = _entries()
    now = clock.now()
    with _lock:
        built = _cache.get(pki)
    if built is not None and built.entries == entries:
        half_life = built.this_update + (built.next_update - built.this_update) / 2
        if built.this_update <= now < half_life:
            return list(built.crls)
    validity = crl_validity()
    crls = [pki.issuing_crl(list(entries), now, validity)]
    root = pki.root_crl()
    if root is not None:
        crls.append(root)
    with _lock:
        _cache[pki] = _Built(entries, now, now + validity, crls)
    return list(crls)


def next_update() -> datetime | None:
    """When the issuing CA's CRL served now runs out (for the HTTP cache headers)."""
    with _lock:
        built = _cache.get(runtime.pki())
    return built.next_update if built else None


def certificate_state(serial: int) -> CertificateState:
    """What the OCSP responder says of a serial of the issuing CA."""
    serial_hex = format(serial, "x")
    rows = db.session.scalars(
        select(CertificateRevocation).where(CertificateRevocation.serial_hex == serial_hex)
    ).all()
    revoked = pki_revocation.in_force(_entry(row) for row in rows).get(serial)
    if revoked is not None:
        return CertificateState(issued=True, revoked=revoked)
    # The newest document timestamp of an archived file is judged years later with the
    # revocation data the file carries (AdES long-term validation): the TSA's good status is
    # therefore answered until its certificate ends. Were its key ever compromised, the CRL
    # (always current) revokes it and the archives are timestamped again with a new key.
    tsa_until = runtime.pki().timestamping_lifetimes().get(serial)
    if tsa_until is not None:
        return CertificateState(issued=True, good_until=tsa_until)
    if rows or serial in runtime.pki().service_serials:
        return GOOD
    issued = db.session.scalar(
        select(SigningIdentity.id).where(SigningIdentity.serial_hex == serial_hex).limit(1)
    )
    return GOOD if issued is not None else UNKNOWN


def ocsp_response(request_der: bytes) -> bytes:
    """The DER OCSP response to a DER OCSP request, signed by the issuing CA (RFC 6960).
    Anything unreadable gets malformedRequest, never an error."""
    return runtime.pki().ocsp(request_der, certificate_state, clock.now(), crl_validity())


def _current_identities(user: User) -> list[SigningIdentity]:
    query = select(SigningIdentity).where(
        SigningIdentity.user_id == user.id, SigningIdentity.retired_at.is_(None)
    )
    return list(db.session.scalars(query.order_by(SigningIdentity.id)))


def _open_holds(user: User) -> list[CertificateRevocation]:
    query = (
        select(CertificateRevocation)
        .join(SigningIdentity, SigningIdentity.id == CertificateRevocation.identity_id)
        .where(
            SigningIdentity.user_id == user.id,
            CertificateRevocation.reason == HOLD,
            CertificateRevocation.released_at.is_(None),
        )
    )
    return list(db.session.scalars(query))


def hold_user(user: User, why: str, at: datetime, by: User | None) -> int:
    """Puts every current certificate of the person on hold (a suspension); in the caller's
    transaction. Returns how many were put on hold (one already held is left as it is)."""
    held = {row.identity_id for row in _open_holds(user)}
    count = 0
    for identity in _current_identities(user):
        if identity.id in held:
            continue
        db.session.add(
            CertificateRevocation(
                serial_hex=identity.serial_hex,
                cert_sha256=identity.cert_sha256,
                identity_id=identity.id,
                reason=HOLD,
                why=why,
                revoked_at=at,
                by_id=by.id if by else None,
            )
        )
        count += 1
    db.session.flush()
    return count


def release_user(user: User, at: datetime, by: User | None) -> int:
    """Releases the person's held certificates (the suspension was lifted); each is good
    again unless it was revoked for good meanwhile. In the caller's transaction."""
    holds = _open_holds(user)
    for row in holds:
        row.released_at = at
    db.session.flush()
    return len(holds)


def declare_compromised(
    identity_or_user: SigningIdentity | User,
    by: User,
    why: str,
    *,
    request: RequestInfo | None = None,
) -> list[SigningIdentity]:
    """The lead agency declares a signing key compromised: the certificate (or every current
    one of a person) is revoked with keyCompromise at once. Only SSF's HMIS admins may."""
    require_role(
        by, "ssf_admin", message="Only a lead agency HMIS admin can declare a key compromised."
    )
    with unit_of_work():
        reason = clean_text(why, "Reason", max_len=4000, multiline=True)
        if isinstance(identity_or_user, SigningIdentity):
            person = db.session.get(User, identity_or_user.user_id)
            ended = [identity_or_user] if identity_or_user.retired_at is None else []
        else:
            person = identity_or_user
            ended = _current_identities(person)
        if not ended:
            raise ServiceError(f"{person.name} holds no current signing certificate to revoke.")
        now = clock.now()
        for identity in ended:
            identities.retire(identity, "compromise", at=now, by=by, note=reason)
        serials = ", ".join(identity.serial_hex for identity in ended)
        audit.record(
            by,
            "certificate.compromise",
            person,
            f"Declared the signing key of {person.name} compromised (certificate {serials}): "
            f"{reason}",
            agency_id=person.agency_id,
            after={"revoked": [identity.serial_hex for identity in ended]},
            request=request,
            at=now,
        )
    return ended


def declare_compromised_for(
    by: User, agency_id: int, user_id: int | None, why: str, *, request: RequestInfo | None = None
) -> User:
    """`declare_compromised` for one of the agency's people (the agency page's form)."""
    require_role(
        by, "ssf_admin", message="Only a lead agency HMIS admin can declare a key compromised."
    )
    agency = agencies.get(by, agency_id)
    person = next((p for p in agency.people if p.id == user_id), None)
    if person is None:
        raise ServiceError("Choose whose key is compromised.")
    declare_compromised(person, by, why, request=request)
    return person
