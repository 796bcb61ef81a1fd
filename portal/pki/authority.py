"""The portal's certificate authority: creating it once (`init_pki`) and using it (`Pki`).

Layout of the PKI directory (PEM; private keys PKCS#8, encrypted with the PKI passphrase,
mode 0600):

    root-ca.pem       the trust anchor people import into their PDF reader
    root-ca.key.pem   only when the portal made the root (kept offline-able: never loaded)
    issuing-ca.pem    the issuing CA, followed by any intermediates up to the root
    issuing-ca.key.pem  absent when the issuing CA comes from a PKCS#12 file
    tsa.pem / tsa.key.pem     the RFC 3161 time-stamping authority
    seal.pem / seal.key.pem   the lead agency's document seal
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12

from portal.pki import certificates, files
from portal.pki.errors import PkiError
from portal.pki.signers import LoadedKeySigner, PortalTimeStamper

SIGNER_CACHE_SIZE = 64


@dataclass(frozen=True)
class IssuedIdentity:
    """A person's signing certificate and private key (PEM; the key encrypted)."""

    cert_pem: bytes
    key_pem: bytes


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _same_key(cert: x509.Certificate, key: RSAPrivateKey) -> bool:
    return cert.public_key().public_numbers() == key.public_key().public_numbers()


def _load_pkcs12(
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
) -> bool:
    """Creates the CA hierarchy, TSA and seal in `directory` unless present.

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
            return False
        _create(
            directory,
            passphrase,
            organization,
            pkcs12_path,
            pkcs12_passphrase,
            _utc(now),
            lifetimes or certificates.Lifetimes(),
        )
        return True


def _create(
    directory: Path,
    passphrase: bytes,
    organization: str,
    pkcs12_path: Path | None,
    pkcs12_passphrase: bytes | None,
    now: datetime,
    lifetimes: certificates.Lifetimes,
) -> None:
    if pkcs12_path is not None:
        issuing_key, chain = _load_pkcs12(Path(pkcs12_path), pkcs12_passphrase)
        root_cert = chain[-1]
    else:
        root_key = certificates.new_key(certificates.CA_KEY_BITS)
        root_cert = certificates.root_ca(organization, root_key, now, lifetimes.root)
        issuing_key = certificates.new_key(certificates.CA_KEY_BITS)
        issuing_cert = certificates.issuing_ca(
            organization,
            issuing_key,
            certificates.Issuer(root_cert, root_key),
            now,
            lifetimes.issuing,
        )
        chain = [issuing_cert, root_cert]
        files.write_key(files.key_path(directory, files.ROOT), root_key, passphrase)
        files.write_key(files.key_path(directory, files.ISSUING), issuing_key, passphrase)
    issuer = certificates.Issuer(chain[0], issuing_key)
    tsa_key = certificates.new_key(certificates.SERVICE_KEY_BITS)
    seal_key = certificates.new_key(certificates.SERVICE_KEY_BITS)
    files.write_key(files.key_path(directory, files.TSA), tsa_key, passphrase)
    files.write_key(files.key_path(directory, files.SEAL), seal_key, passphrase)
    files.write_certs(
        files.cert_path(directory, files.TSA),
        [certificates.timestamping(organization, tsa_key.public_key(), issuer, now, lifetimes.tsa)],
    )
    files.write_certs(
        files.cert_path(directory, files.SEAL),
        [certificates.seal(organization, seal_key.public_key(), issuer, now, lifetimes.seal)],
    )
    files.write_certs(files.cert_path(directory, files.ISSUING), chain[:-1])
    # The root goes last: its presence marks a complete PKI (see init_pki).
    files.write_certs(files.cert_path(directory, files.ROOT), [root_cert])


class Pki:
    """The loaded PKI: trust roots, the seal and TSA, and issuing of people's identities.

    Load it once per process (`Pki.load`); every key is parsed once and kept.
    """

    def __init__(
        self,
        *,
        passphrase: bytes,
        root: x509.Certificate,
        issuing_chain: list[x509.Certificate],
        issuing_key: RSAPrivateKey,
        tsa: tuple[x509.Certificate, RSAPrivateKey],
        seal: tuple[x509.Certificate, RSAPrivateKey],
        clock: Callable[[], datetime] | None = None,
    ):
        self._passphrase = passphrase
        self._root = root
        self._issuer = certificates.Issuer(issuing_chain[0], issuing_key)
        # asn1crypto forms, as pyHanko and its validator want them.
        self.chain: list[asn1_x509.Certificate] = [_asn1(c) for c in [*issuing_chain, root]]
        self.trust_roots: list[asn1_x509.Certificate] = [self.chain[-1]]
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.seal_signer = LoadedKeySigner(_asn1(seal[0]), seal[1], self.chain)
        self.timestamper = PortalTimeStamper(_asn1(tsa[0]), tsa[1], self.chain[:-1], self.clock)
        self._signers: OrderedDict[str, LoadedKeySigner] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        directory: Path,
        passphrase: bytes,
        *,
        pkcs12_path: Path | None = None,
        pkcs12_passphrase: bytes | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Pki:
        directory = Path(directory)
        if not files.cert_path(directory, files.ROOT).exists():
            raise PkiError(f"There is no PKI in {directory}; run `flask pki init` first.")
        root = files.read_certs(files.cert_path(directory, files.ROOT))[0]
        issuing_chain = files.read_certs(files.cert_path(directory, files.ISSUING))
        if pkcs12_path is not None:
            issuing_key, p12_chain = _load_pkcs12(Path(pkcs12_path), pkcs12_passphrase)
            if p12_chain[0] != issuing_chain[0]:
                raise PkiError(
                    f"The PKCS#12 file {pkcs12_path} is not the issuing CA of {directory}."
                )
        else:
            issuing_key = files.read_key(files.key_path(directory, files.ISSUING), passphrase)
        loaded = {}
        for stem, key in ((files.ISSUING, issuing_key), (files.TSA, None), (files.SEAL, None)):
            cert = (
                issuing_chain[0]
                if stem == files.ISSUING
                else files.read_certs(files.cert_path(directory, stem))[0]
            )
            key = key or files.read_key(files.key_path(directory, stem), passphrase)
            if not _same_key(cert, key):
                raise PkiError(
                    f"The key for {files.cert_path(directory, stem)} does not match its certificate"
                )
            loaded[stem] = (cert, key)
        return cls(
            passphrase=passphrase,
            root=root,
            issuing_chain=issuing_chain,
            issuing_key=issuing_key,
            tsa=loaded[files.TSA],
            seal=loaded[files.SEAL],
            clock=clock,
        )

    def root_pem(self) -> bytes:
        return self._root.public_bytes(serialization.Encoding.PEM)

    def issue_identity(
        self, *, common_name: str, title: str, organization: str, email: str, now: datetime
    ) -> IssuedIdentity:
        """A new RSA-2048 signing certificate naming the person, their title and organization."""
        key = certificates.new_key(certificates.PERSON_KEY_BITS)
        subject = certificates.name(common_name, organization, title=title, email=email)
        cert = certificates.document_signer(
            subject, key.public_key(), self._issuer, _utc(now), certificates.PERSON_LIFETIME, email
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._passphrase),
        )
        return IssuedIdentity(
            cert_pem=cert.public_bytes(serialization.Encoding.PEM), key_pem=key_pem
        )

    def signer_for(self, identity: IssuedIdentity) -> LoadedKeySigner:
        """The pyHanko signer for a person's identity; its key is decrypted once and cached."""
        fingerprint = hashlib.sha256(identity.cert_pem).hexdigest()
        with self._lock:
            signer = self._signers.get(fingerprint)
            if signer is not None:
                self._signers.move_to_end(fingerprint)
                return signer
        signer = self._load_signer(identity, fingerprint)
        with self._lock:
            self._signers[fingerprint] = signer
            while len(self._signers) > SIGNER_CACHE_SIZE:
                self._signers.popitem(last=False)
        return signer

    def _load_signer(self, identity: IssuedIdentity, fingerprint: str) -> LoadedKeySigner:
        where = f"the signing key of certificate {fingerprint[:16]}"
        key = files.decrypt_key(identity.key_pem, self._passphrase, where=where)
        try:
            _, _, der = asn1_pem.unarmor(identity.cert_pem)
            cert = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise PkiError(f"The certificate {fingerprint[:16]} cannot be read: {exc}") from exc
        if not _same_key(cert, key):
            raise PkiError(f"The key stored for certificate {fingerprint[:16]} does not match it.")
        return LoadedKeySigner(_asn1(cert), key, self.chain)
