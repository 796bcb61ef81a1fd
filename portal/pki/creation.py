"""Creating the portal's certificate authority once (`init_pki`), and what both creating and
loading it share.

Layout of the PKI directory (PEM; private keys PKCS#8, encrypted with the PKI passphrase,
mode 0600):

    root-ca.pem       the trust anchor people import into their PDF reader
    root-ca.key.pem   only when the portal made the root and did not write it to
                      `--offline-root` (never loaded: the portal runs without it)
    issuing-ca.pem    the issuing CA, followed by any intermediates up to the root
    issuing-ca.key.pem  absent when the issuing CA comes from a PKCS#12 file
    keys-in-hsm.txt   with `--hsm`: the issuing CA, TSA and seal keys are in a PKCS#11
                      token instead of *.key.pem files (portal/pki/custody.py)
    tsa.pem / tsa.key.pem     the RFC 3161 time-stamping authority
    tsa-<serial hex>.pem      each TSA certificate a renewal replaced (portal/pki/tsa_renewal.py)
    seal.pem / seal.key.pem   the lead agency's document seal
    root-ca.crl       the root's CRL (DER), signed at `pki init` (portal/pki/revocation.py)
"""

from __future__ import annotations

import fcntl
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12

from portal.pki import certificates, files, revocation
from portal.pki.custody import Custody
from portal.pki.errors import PkiError

if TYPE_CHECKING:
    from portal.pki.hsm import Token


def utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def same_key(cert: x509.Certificate, key: RSAPrivateKey) -> bool:
    return cert.public_key().public_numbers() == key.public_key().public_numbers()


def load_pkcs12(
    path: Path, passphrase: bytes | None
) -> tuple[RSAPrivateKey, list[x509.Certificate]]:
    """The issuing CA key and its chain [issuing, intermediates…, root] from a PKCS#12 file."""
    try:
        key, cert, others = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
    except FileNotFoundError:
        raise PkiError(f"The PKCS#12 file {path} does not exist.") from None
    except (OSError, ValueError) as exc:
        raise PkiError(f"The PKCS#12 passphrase does not open {path} (or it is damaged).") from exc
    if key is None or cert is None:
        raise PkiError(f"The PKCS#12 file {path} holds no private key with its certificate.")
    if not isinstance(key, RSAPrivateKey):
        raise PkiError(f"The PKCS#12 file {path} holds a non-RSA key; the portal needs RSA.")
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise PkiError(f"The certificate in {path} is not a CA certificate.")
    chain = [cert]
    while chain[-1].issuer != chain[-1].subject:
        parent = next((c for c in others if c.subject == chain[-1].issuer and c not in chain), None)
        if parent is None:
            raise PkiError(f"The PKCS#12 file {path} does not include the chain up to its root.")
        chain.append(parent)
    return key, chain


def init_pki(
    directory: Path,
    passphrase: bytes,
    *,
    organization: str,
    pkcs12_path: Path | None = None,
    pkcs12_passphrase: bytes | None = None,
    now: datetime | None = None,
    lifetimes: certificates.Lifetimes | None = None,
    base_url: str | None = None,
    policy_oid: str = certificates.DEFAULT_POLICY_OID,
    token: Token | None = None,
    offline_root: Path | None = None,
) -> bool:
    """Creates the CA hierarchy, TSA and seal in `directory` unless present.

    With `token` (portal.pki.hsm), the issuing CA, TSA and seal keys are made in that HSM and
    the directory holds only certificates; with `offline_root`, the root key is written
    there instead of the directory, to be moved off the server (portal/pki/custody.py).

    `base_url` (PORTAL_BASE_URL) is where the certificates say their CRLs, OCSP responder and
    issuer are served; `policy_oid` the certificate policy the seal states.

    `organization` names the lead agency in every certificate (the portal passes its
    LEAD_AGENCY_NAME setting; see portal.runtime.init_pki).

    Returns False when the PKI already existed (nothing is touched then).
    """
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Two processes starting together must not both create a CA.
    with open(directory / ".init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        present = [s for s in files.CERTIFICATES if files.cert_path(directory, s).exists()]
        if files.ROOT in present:
            if len(present) != len(files.CERTIFICATES):
                missing = sorted(set(files.CERTIFICATES) - set(present))
                raise PkiError(
                    f"The PKI in {directory} is incomplete (missing {', '.join(missing)})."
                )
            _add_root_crl(directory, passphrase, utc(now))
            return False
        custody = Custody(token, offline_root)
        custody.check(directory)
        _create(
            directory,
            passphrase,
            organization,
            pkcs12_path,
            pkcs12_passphrase,
            utc(now),
            lifetimes or certificates.Lifetimes(),
            certificates.Profile(urls_under(base_url), policy_oid),
            custody,
        )
        return True


def urls_under(base_url: str | None) -> certificates.Urls | None:
    return certificates.Urls.under(base_url) if base_url else None


def _add_root_crl(directory: Path, passphrase: bytes, now: datetime) -> None:
    """Signs the root CRL of a PKI made before there was one, while its root key is here."""
    root_key = files.key_path(directory, files.ROOT)
    if revocation.read_root_crl(directory) is None and root_key.exists():
        revocation.resign_root_crl(directory, root_key, passphrase, now)


def _create(
    directory: Path,
    passphrase: bytes,
    organization: str,
    pkcs12_path: Path | None,
    pkcs12_passphrase: bytes | None,
    now: datetime,
    lifetimes: certificates.Lifetimes,
    profile: certificates.Profile,
    custody: Custody,
) -> None:
    if pkcs12_path is not None:
        issuing_key, chain = load_pkcs12(Path(pkcs12_path), pkcs12_passphrase)
        root_cert = chain[-1]
    else:
        root_key = custody.new_key(directory, files.ROOT, certificates.CA_KEY_BITS, passphrase)
        root_cert = certificates.root_ca(organization, root_key, now, lifetimes.root)
        issuing_key = custody.new_key(
            directory, files.ISSUING, certificates.CA_KEY_BITS, passphrase
        )
        issuing_cert = certificates.issuing_ca(
            organization,
            issuing_key,
            certificates.Issuer(root_cert, root_key),
            now,
            lifetimes.issuing,
            profile.urls,
        )
        chain = [issuing_cert, root_cert]
        root_crl = revocation.root_crl(certificates.Issuer(root_cert, root_key), issuing_cert, now)
        revocation.write_root_crl(directory, root_crl)
    issuer = certificates.Issuer(chain[0], issuing_key)
    tsa_key = custody.new_key(directory, files.TSA, certificates.SERVICE_KEY_BITS, passphrase)
    seal_key = custody.new_key(directory, files.SEAL, certificates.SERVICE_KEY_BITS, passphrase)
    files.write_certs(
        files.cert_path(directory, files.TSA),
        [
            certificates.timestamping(
                organization, tsa_key.public_key(), issuer, now, lifetimes.tsa, profile.urls
            )
        ],
    )
    seal_cert = certificates.seal(
        organization, seal_key.public_key(), issuer, now, lifetimes.seal, profile
    )
    files.write_certs(files.cert_path(directory, files.SEAL), [seal_cert])
    files.write_certs(files.cert_path(directory, files.ISSUING), chain[:-1])
    custody.mark(directory)
    # The root goes last: its presence marks a complete PKI (see init_pki).
    files.write_certs(files.cert_path(directory, files.ROOT), [root_cert])
