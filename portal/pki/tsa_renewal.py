"""Renewing the time-stamping authority's certificate before it runs out.

A document timestamp is worth only as long as its TSA certificate: once that certificate has
expired, a validator can no longer trust the timestamp unless a newer one, under a newer
certificate, vouches for it. So before the TSA certificate comes within the margin of its end,
the portal makes a new TSA key and certificate (same profile and lifetime, issued by the
issuing CA) and re-timestamps its documents under it (portal.services.evidence).

The newest certificate is always tsa.pem (its key tsa.key.pem); each one it replaced stays in
the PKI directory as tsa-<serial hex>.pem, for the record and for the OCSP responder, which
must keep answering for every TSA certificate that timestamps in stored documents name.
The replaced key is not kept: a retired TSA must never sign again.
"""

from __future__ import annotations

import fcntl
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from portal.pki import certificates, files
from portal.pki.errors import PkiError

LOCK_FILE = ".tsa.lock"
HSM_MARK = "keys-in-hsm.txt"  # portal.pki.custody.HSM_MARK


def archived_path(directory: Path, cert: x509.Certificate) -> Path:
    return Path(directory) / f"{files.TSA}-{cert.serial_number:x}.pem"


def archived(directory: Path) -> list[x509.Certificate]:
    """Every TSA certificate the current one replaced, oldest first."""
    found = [files.read_certs(p)[0] for p in Path(directory).glob(f"{files.TSA}-*.pem")]
    return sorted(found, key=lambda c: c.not_valid_before_utc)


def due(cert: x509.Certificate, now: datetime, margin: timedelta) -> bool:
    """Whether the TSA certificate has less than `margin` of its life left at `now`."""
    return cert.not_valid_after_utc - now < margin


def renew(
    directory: Path,
    passphrase: bytes,
    issuer: certificates.Issuer,
    urls: certificates.Urls | None,
    now: datetime,
    margin: timedelta,
) -> tuple[x509.Certificate, RSAPrivateKey] | None:
    """A new TSA certificate and key, written as the current ones, when the current one is
    due; None when it is not (or when another process renewed it first: the files are read
    again under a lock)."""
    directory = Path(directory)
    if (directory / HSM_MARK).exists():
        raise PkiError(
            "The TSA key is in an HSM: make its new key and certificate there "
            "(the portal renews only a TSA key it holds in the PKI directory)."
        )
    with open(directory / LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = files.read_certs(files.cert_path(directory, files.TSA))[0]
        if not due(current, now, margin):
            return None
        if issuer.cert.not_valid_after_utc <= current.not_valid_after_utc:
            raise PkiError(
                "The TSA certificate cannot be renewed: the issuing CA certificate ends "
                f"{issuer.cert.not_valid_after_utc:%Y-%m-%d}, no later than the TSA's own. "
                "Renew the issuing CA first."
            )
        # The same span as the certificate it replaces (the CA's configured TSA lifetime).
        lifetime = current.not_valid_after_utc - current.not_valid_before_utc
        lifetime -= certificates.BACKDATE
        organization = _organization(current)
        key = certificates.new_key(certificates.SERVICE_KEY_BITS)
        cert = certificates.timestamping(
            organization, key.public_key(), issuer, now, lifetime, urls
        )
        # The old certificate is archived before anything is replaced; each file is written
        # atomically (a crash between key and certificate shows as a mismatch at load).
        files.write_certs(archived_path(directory, current), [current])
        files.write_key(files.key_path(directory, files.TSA), key, passphrase)
        files.write_certs(files.cert_path(directory, files.TSA), [cert])
        return cert, key


def _organization(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    if not names:
        raise PkiError("The TSA certificate names no organization; it cannot be renewed.")
    return str(names[0].value)
