"""Using the portal's certificate authority (`Pki`): its trust roots, seal and TSA, its
revocation data, and people's identities. Creating it is portal/pki/creation.py, which also
describes the PKI directory.
"""

from __future__ import annotations

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

from portal.pki import certificates, files, keys, revocation, tsa_renewal
from portal.pki.creation import as_asn1, load_pkcs12, same_key, urls_under, utc
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
        self.chain: list[asn1_x509.Certificate] = [as_asn1(c) for c in [*issuing_chain, root]]
        self.trust_roots: list[asn1_x509.Certificate] = [self.chain[-1]]
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.seal_signer = seal_signer(as_asn1(seal[0]), seal[1], self.chain)  # or in an HSM
        # The RFC 3161 TSA (also served at /tsa); its policy and accuracy are settings
        # (portal.runtime.pki). It signs through sign_function, so its key may be in an HSM.
        self.tsa = TimeStampAuthority(
            as_asn1(tsa[0]), sign_function(tsa[1]), self.chain, self.clock
        )
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
            issuing_key, p12_chain = load_pkcs12(Path(pkcs12_path), pkcs12_passphrase)
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
            if not same_key(cert, key):
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
            profile=certificates.Profile(urls_under(base_url), policy_oid),
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
            found += [("timestamp authority", as_asn1(c)) for c in archived]
        return found

    def issuing_crl(
        self,
        entries: list[revocation.RevokedEntry],
        now: datetime,
        validity: timedelta = revocation.CRL_VALIDITY,
    ) -> bytes:
        """The issuing CA's CRL (DER) listing `entries` in force, from `now` for `validity`."""
        return revocation.issuing_crl(self._issuer, entries, utc(now), validity)

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
        return revocation.ocsp_response(request_der, self._issuer, lookup, utc(now), validity)

    # -- TSA certificate renewal (portal/pki/tsa_renewal.py; services.evidence) -----------

    @property
    def tsa_not_after(self) -> datetime:
        return self._tsa_cert.not_valid_after_utc

    def renew_tsa(self, margin: timedelta) -> bool:
        """Swaps in a new TSA key and certificate when the current one (as on disk: another
        process may have renewed it) has less than `margin` left; True when it changed."""
        if self._directory is None:
            raise PkiError("A PKI loaded without its directory cannot renew its TSA.")
        now = utc(self.clock())
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
            if not same_key(cert, key):
                raise PkiError("The renewed TSA key does not match its certificate.")
            self._use_tsa(cert, key)

    def _use_tsa(self, cert: x509.Certificate, key: RSAPrivateKey) -> None:
        self.service_serials |= {cert.serial_number}
        self._tsa_cert = cert
        self.tsa.use(as_asn1(cert), sign_function(key), self.chain)

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
            utc(now),
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
        if not same_key(cert, key):
            raise PkiError(f"The key stored for certificate {fingerprint[:16]} does not match it.")
        return LoadedKeySigner(as_asn1(cert), key, self.chain)
