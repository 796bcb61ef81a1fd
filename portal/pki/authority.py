"""The portal's certificate authority: creating it once (`init_pki`) and using it (`Pki`).

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
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12

from portal.pki import certificates, files, keys, revocation, tsa_renewal
from portal.pki.custody import Custody, seal_signer, sign_function
from portal.pki.errors import PkiError
from portal.pki.signers import LoadedKeySigner
from portal.pki.tsa import InProcessTimeStamper, TimeStampAuthority

if TYPE_CHECKING:
    from portal.pki.hsm import Token


@dataclass(frozen=True)
class IssuedIdentity:
    """A person's signing certificate (PEM) and private key, sealed as `key_kdf` says
    (portal/pki/keys.py; "" for a legacy key under the instance passphrase)."""

    cert_pem: bytes
    key_pem: bytes
    key_kdf: str = ""


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
            _add_root_crl(directory, passphrase, _utc(now))
            return False
        custody = Custody(token, offline_root)
        custody.check(directory)
        _create(
            directory,
            passphrase,
            organization,
            pkcs12_path,
            pkcs12_passphrase,
            _utc(now),
            lifetimes or certificates.Lifetimes(),
            certificates.Profile(_urls(base_url), policy_oid),
            custody,
        )
        return True


def _urls(base_url: str | None) -> certificates.Urls | None:
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
        issuing_key, chain = _load_pkcs12(Path(pkcs12_path), pkcs12_passphrase)
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


class Pki:
    """The loaded PKI: trust roots, the seal and TSA, and issuing of people's identities.

    Load it once per process (`Pki.load`); the CA, TSA and seal keys are parsed once and kept.
    People's keys are never kept: each is unsealed with its owner's password when they sign.
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
        profile: certificates.Profile | None = None,
        directory: Path | None = None,
    ):
        self._passphrase = passphrase
        self._profile = profile or certificates.Profile()
        self._directory = directory
        # The OCSP responder answers for these besides people's certificates.
        self.service_serials = frozenset({tsa[0].serial_number, seal[0].serial_number})
        self._root = root
        self._issuer = certificates.Issuer(issuing_chain[0], issuing_key)
        # asn1crypto forms, as pyHanko and its validator want them.
        self.chain: list[asn1_x509.Certificate] = [_asn1(c) for c in [*issuing_chain, root]]
        self.trust_roots: list[asn1_x509.Certificate] = [self.chain[-1]]
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.seal_signer = seal_signer(_asn1(seal[0]), seal[1], self.chain)  # or in an HSM
        # The RFC 3161 TSA (also served at /tsa); its policy and accuracy are settings
        # (portal.runtime.pki). It signs through sign_function, so its key may be in an HSM.
        self.tsa = TimeStampAuthority(_asn1(tsa[0]), sign_function(tsa[1]), self.chain, self.clock)
        self.timestamper = InProcessTimeStamper(self.tsa)
        self._tsa_cert = tsa[0]
        if directory is not None:  # earlier TSA certificates, still named by stored timestamps
            archived = tsa_renewal.archived(directory)
            self.service_serials |= {c.serial_number for c in archived}

    @classmethod
    def load(
        cls,
        directory: Path,
        passphrase: bytes,
        *,
        pkcs12_path: Path | None = None,
        pkcs12_passphrase: bytes | None = None,
        clock: Callable[[], datetime] | None = None,
        base_url: str | None = None,
        policy_oid: str = certificates.DEFAULT_POLICY_OID,
        token: Token | None = None,
    ) -> Pki:
        """`base_url` and `policy_oid` as for `init_pki`: what people's certificates state.
        With `token`, the issuing CA, TSA and seal keys are those in that HSM."""
        custody = Custody(token)
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
            issuing_key = custody.load_key(directory, files.ISSUING, passphrase)
        loaded = {}
        for stem, key in ((files.ISSUING, issuing_key), (files.TSA, None), (files.SEAL, None)):
            cert = (
                issuing_chain[0]
                if stem == files.ISSUING
                else files.read_certs(files.cert_path(directory, stem))[0]
            )
            key = key or custody.load_key(directory, stem, passphrase)
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
            profile=certificates.Profile(_urls(base_url), policy_oid),
            directory=directory,
        )

    def root_pem(self) -> bytes:
        return self._root.public_bytes(serialization.Encoding.PEM)

    def issuing_pem(self) -> bytes:
        """The issuing CA's certificate (what the AIA caIssuers address serves)."""
        return self._issuer.cert.public_bytes(serialization.Encoding.PEM)

    def timestamping_lifetimes(self) -> dict[int, datetime]:
        """Serial → end of validity of every TSA certificate, current and replaced."""
        certs = [self._tsa_cert]
        if self._directory is not None:
            certs += tsa_renewal.archived(self._directory)
        return {c.serial_number: c.not_valid_after_utc for c in certs}

    def service_certificates(self) -> list[tuple[str, asn1_x509.Certificate]]:
        """The portal's own certificates that sign, each with what it is for: the document
        seal, the TSA, and every TSA certificate a renewal replaced (verification tells them
        from certificates someone minted with the CA key)."""
        found = [
            ("document seal", self.seal_signer.signing_cert),
            ("timestamp authority", self.tsa.cert),
        ]
        if self._directory is not None:
            archived = tsa_renewal.archived(self._directory)
            found += [("timestamp authority", _asn1(c)) for c in archived]
        return found

    def issuing_crl(
        self,
        entries: list[revocation.RevokedEntry],
        now: datetime,
        validity: timedelta = revocation.CRL_VALIDITY,
    ) -> bytes:
        """The issuing CA's CRL (DER) listing `entries` in force, from `now` for `validity`."""
        return revocation.issuing_crl(self._issuer, entries, _utc(now), validity)

    def root_crl(self) -> bytes | None:
        """The root's CRL (DER) signed at `pki init`; None for a CA imported from PKCS#12."""
        return revocation.read_root_crl(self._directory) if self._directory else None

    def ocsp(
        self,
        request_der: bytes,
        lookup: revocation.Lookup,
        now: datetime,
        validity: timedelta = revocation.CRL_VALIDITY,
    ) -> bytes:
        """The issuing CA's DER OCSPResponse to a DER OCSPRequest (RFC 6960)."""
        return revocation.ocsp_response(request_der, self._issuer, lookup, _utc(now), validity)

    # -- TSA certificate renewal (portal/pki/tsa_renewal.py; services.evidence) -----------

    @property
    def tsa_not_after(self) -> datetime:
        return self._tsa_cert.not_valid_after_utc

    def renew_tsa(self, margin: timedelta) -> bool:
        """Swaps in a new TSA key and certificate when the current one (as on disk: another
        process may have renewed it) has less than `margin` left; True when it changed."""
        if self._directory is None:
            raise PkiError("A PKI loaded without its directory cannot renew its TSA.")
        now = _utc(self.clock())
        self.reload_tsa()
        renewed = tsa_renewal.renew(
            self._directory, self._passphrase, self._issuer, self._profile.urls, now, margin
        )
        if renewed is not None:
            self._use_tsa(*renewed)
        return renewed is not None

    def reload_tsa(self) -> None:
        """Takes up a TSA certificate another process renewed (tsa.pem changed on disk)."""
        if self._directory is None:
            return
        cert = files.read_certs(files.cert_path(self._directory, files.TSA))[0]
        if cert.serial_number != self._tsa_cert.serial_number:
            key = files.read_key(files.key_path(self._directory, files.TSA), self._passphrase)
            if not _same_key(cert, key):
                raise PkiError("The renewed TSA key does not match its certificate.")
            self._use_tsa(cert, key)

    def _use_tsa(self, cert: x509.Certificate, key: RSAPrivateKey) -> None:
        self.service_serials |= {cert.serial_number}
        self._tsa_cert = cert
        self.tsa.use(_asn1(cert), sign_function(key), self.chain)

    def issue_identity(
        self,
        *,
        common_name: str,
        title: str,
        organization: str,
        email: str,
        now: datetime,
        password: str,
        kdf: keys.KdfParams = keys.DEFAULT,
    ) -> IssuedIdentity:
        """A new RSA-2048 signing certificate naming the person, their title and organization.

        Its key is sealed under the person's `password` (portal/pki/keys.py): the instance
        passphrase does not open it, so nobody holding the server's files can sign as them.
        """
        key = certificates.new_key(certificates.PERSON_KEY_BITS)
        subject = certificates.name(common_name, organization, title=title, email=email)
        cert = certificates.document_signer(
            subject,
            key.public_key(),
            self._issuer,
            _utc(now),
            certificates.PERSON_LIFETIME,
            email,
            profile=self._profile,
        )
        sealed = keys.seal(key, password, cert.public_bytes(serialization.Encoding.DER), kdf)
        return IssuedIdentity(
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=sealed.blob,
            key_kdf=sealed.kdf,
        )

    def signer_for(self, identity: IssuedIdentity, password: str) -> LoadedKeySigner:
        """The pyHanko signer for a person's identity, its key unsealed with their password.

        Nothing is cached: the opened key lives only as long as the caller keeps the signer,
        which is while its owner signs.
        """
        fingerprint = hashlib.sha256(identity.cert_pem).hexdigest()
        if not identity.key_kdf:
            raise PkiError(
                f"The signing key of certificate {fingerprint[:16]} is sealed with the instance "
                "passphrase, not its owner's password; it must be replaced by a new identity."
            )
        try:
            _, _, der = asn1_pem.unarmor(identity.cert_pem)
            cert = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise PkiError(f"The certificate {fingerprint[:16]} cannot be read: {exc}") from exc
        key = keys.unseal(keys.SealedKey(identity.key_pem, identity.key_kdf), password, der)
        if not _same_key(cert, key):
            raise PkiError(f"The key stored for certificate {fingerprint[:16]} does not match it.")
        return LoadedKeySigner(_asn1(cert), key, self.chain)
