"""Revocation data of the portal's CA: the issuing CA's CRL, the root's CRL, OCSP responses.

A plain library like the rest of portal.pki: the caller passes the revoked entries (from the
database) and the time. Every signature goes through `certificates.sign_by`.

Holds (RFC 5280 certificateHold) are reversible: an entry whose hold was released is no
longer listed, and the certificate answers "good" again. Any other reason is final and wins
over a hold of the same certificate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from portal.pki import files
from portal.pki.certificates import Issuer, sign_by
from portal.pki.errors import PkiError

CRL_VALIDITY = timedelta(hours=168)  # the CRL_VALIDITY_HOURS setting's default
ROOT_CRL_FILE = "root-ca.crl"

HOLD = x509.ReasonFlags.certificate_hold


@dataclass(frozen=True)
class RevokedEntry:
    """One revoked or held certificate of the issuing CA."""

    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags
    released_at: datetime | None = None  # a hold that was lifted


@dataclass(frozen=True)
class CertificateState:
    """What the OCSP responder says of a serial: never issued, good, or revoked (or held)."""

    issued: bool
    revoked: RevokedEntry | None = None
    # A good status answered for the rest of the certificate's life rather than for the
    # usual CRL period: the timestamping authority's (see services.revocation).
    good_until: datetime | None = None


GOOD = CertificateState(issued=True)
UNKNOWN = CertificateState(issued=False)

# serial → its state, asked by the OCSP responder.
Lookup = Callable[[int], CertificateState]


def in_force(entries: Iterable[RevokedEntry]) -> dict[int, RevokedEntry]:
    """The entries that count now, one per serial: released holds dropped, and a final
    reason preferred over a hold (a held certificate may be revoked for good later)."""
    current: dict[int, RevokedEntry] = {}
    for entry in sorted(entries, key=lambda e: e.revoked_at):
        if entry.reason == HOLD and entry.released_at is not None:
            continue
        kept = current.get(entry.serial)
        if kept is None or (kept.reason == HOLD and entry.reason != HOLD):
            current[entry.serial] = entry
    return current


def crl_number(now: datetime) -> int:
    """A CRL number that grows with time (RFC 5280 §5.2.3), shared by every process that
    builds the CRL: milliseconds since the epoch of thisUpdate."""
    return int(now.timestamp() * 1000)


def _authority_key_id(cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(cert.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def build_crl(
    issuer: Issuer, entries: Iterable[RevokedEntry], *, this_update: datetime, next_update: datetime
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(crl_number(this_update)), critical=False)
        .add_extension(_authority_key_id(issuer.cert), critical=False)
    )
    for entry in sorted(in_force(entries).values(), key=lambda e: e.serial):
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
        )
        # RFC 5280 §5.3.1: the reason code is left out rather than stated as unspecified.
        if entry.reason != x509.ReasonFlags.unspecified:
            revoked = revoked.add_extension(x509.CRLReason(entry.reason), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())
    return sign_by(builder, issuer.key)


def issuing_crl(
    issuer: Issuer,
    entries: Iterable[RevokedEntry],
    now: datetime,
    validity: timedelta = CRL_VALIDITY,
) -> bytes:
    """The issuing CA's CRL (DER), valid from `now` for `validity`."""
    crl = build_crl(issuer, entries, this_update=now, next_update=now + validity)
    return crl.public_bytes(serialization.Encoding.DER)


def root_crl(root: Issuer, issuing_cert: x509.Certificate, now: datetime) -> bytes:
    """The root's CRL (DER): empty unless the issuing CA is ever revoked.

    It lasts until the issuing CA certificate expires: the root key stays offline, so it
    cannot re-sign a CRL every week, and the issuing CA is the only certificate the root ever
    signs, so nothing can change until that certificate ends (or is revoked, when the root
    is brought out to re-sign with `flask pki root-crl`).
    """
    next_update = max(issuing_cert.not_valid_after_utc, now + timedelta(days=1))
    crl = build_crl(root, [], this_update=now, next_update=next_update)
    return crl.public_bytes(serialization.Encoding.DER)


def write_root_crl(directory: Path, der: bytes) -> Path:
    path = Path(directory) / ROOT_CRL_FILE
    files.write_atomically(path, der, 0o644)
    return path


def read_root_crl(directory: Path) -> bytes | None:
    """The root CRL stored in the PKI directory, or None when there is none (a CA imported
    from PKCS#12, whose root publishes its own)."""
    try:
        return (Path(directory) / ROOT_CRL_FILE).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PkiError(f"The root CRL in {directory} cannot be read: {exc}") from exc


def resign_root_crl(directory: Path, root_key_path: Path, passphrase: bytes, now: datetime) -> Path:
    """Signs a fresh root CRL with the root key brought back from offline storage."""
    directory = Path(directory)
    root = files.read_certs(files.cert_path(directory, files.ROOT))[0]
    issuing = files.read_certs(files.cert_path(directory, files.ISSUING))[0]
    key = files.read_key(Path(root_key_path), passphrase)
    if root.public_key().public_numbers() != key.public_key().public_numbers():
        raise PkiError(f"The key {root_key_path} is not the root CA's key of {directory}.")
    return write_root_crl(directory, root_crl(Issuer(root, key), issuing, now))


# -- OCSP (RFC 6960) -------------------------------------------------------------------------


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    response = ocsp.OCSPResponseBuilder.build_unsuccessful(status)
    return response.public_bytes(serialization.Encoding.DER)


def malformed() -> bytes:
    """The answer to a request that cannot be read."""
    return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)


def try_later() -> bytes:
    """The answer when the responder cannot sign now (its CA is not available)."""
    return _unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER)


def _issuer_hashes(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
    """issuerNameHash and issuerKeyHash of `cert` as an OCSP request names it (RFC 6960
    §4.1.1): the hash of its subject's DER and of its public key's bit string."""
    name_hash = hashes.Hash(algorithm)
    name_hash.update(cert.subject.public_bytes())
    key_hash = hashes.Hash(algorithm)
    key_hash.update(
        cert.public_key().public_bytes(  # type: ignore[call-arg]
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )
    )
    return name_hash.finalize(), key_hash.finalize()


def ocsp_response(
    request_der: bytes,
    issuer: Issuer,
    lookup: Lookup,
    now: datetime,
    validity: timedelta = CRL_VALIDITY,
) -> bytes:
    """The DER OCSPResponse to `request_der`, signed by the issuing CA itself.

    good, revoked (with its time and reason; a hold is revoked with certificateHold), or
    unknown for a serial the CA never issued; unauthorized for another CA's certificate;
    malformedRequest for anything unreadable (including more than one certificate per
    request, which this responder does not answer).
    """
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        algorithm = request.hash_algorithm
        nonce = _nonce(request)
        serial = request.serial_number
    except (ValueError, UnsupportedAlgorithm):
        return malformed()
    names = (request.issuer_name_hash, request.issuer_key_hash)
    if names != _issuer_hashes(issuer.cert, algorithm):
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    state = lookup(serial)
    status, revoked_at, reason = ocsp.OCSPCertStatus.GOOD, None, None
    if not state.issued:
        status = ocsp.OCSPCertStatus.UNKNOWN
    elif state.revoked is not None:
        status = ocsp.OCSPCertStatus.REVOKED
        revoked_at, reason = state.revoked.revoked_at, state.revoked.reason
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=serial,
            algorithm=algorithm,
            cert_status=status,
            this_update=now,
            next_update=(
                state.good_until
                if status == ocsp.OCSPCertStatus.GOOD and state.good_until
                else now + validity
            ),
            revocation_time=revoked_at,
            revocation_reason=reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.cert)
    )
    if nonce is not None:
        # Echoed so that a client that sent one (openssl does) can match the answer.
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return sign_by(builder, issuer.key).public_bytes(serialization.Encoding.DER)


def _nonce(request: ocsp.OCSPRequest) -> bytes | None:
    try:
        return request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None
