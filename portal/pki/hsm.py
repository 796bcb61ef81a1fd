"""The CA, timestamping and seal keys held in a hardware security module, through PKCS#11.

The keys are made inside the token (`Token.generate`), sensitive and not extractable, so
they can sign but never be read out, not even by the portal. The portal finds them by label
(the names of their certificates in the PKI directory: "issuing-ca", "tsa", "seal") and signs
through `HsmKey.sign`. Tested against SoftHSM2; any PKCS#11 module offering
CKM_SHA256_RSA_PKCS works.

Settings (environment): PKI_PKCS11_MODULE (the module's path, e.g.
/usr/lib/softhsm/libsofthsm2.so), PKI_PKCS11_TOKEN_LABEL, PKI_PKCS11_PIN (the user PIN).
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from portal.pki.errors import PkiError

# RSA PKCS#1 v1.5 with the hash done inside the token (CKM_SHA256_RSA_PKCS and kin).
MECHANISMS = {
    "sha256": Mechanism.SHA256_RSA_PKCS,
    "sha384": Mechanism.SHA384_RSA_PKCS,
    "sha512": Mechanism.SHA512_RSA_PKCS,
}


@dataclass(frozen=True)
class TokenSettings:
    """Where the keys live: the PKCS#11 module, the token's label and its user PIN."""

    module: str
    token_label: str
    pin: str = ""

    def __repr__(self) -> str:  # the PIN stays out of logs and tracebacks
        return f"TokenSettings(module={self.module!r}, token_label={self.token_label!r})"


class Token:
    """One logged-in session on the token, shared by every thread of the process.

    A PKCS#11 session runs one operation at a time, so signatures are serialised by a lock. A
    forked child (a worker, a sweeper) cannot use its parent's session: it opens its own.
    """

    def __init__(self, settings: TokenSettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._pid = 0
        self._session: Any = None
        self._private: dict[str, Any] = {}

    @classmethod
    def open(cls, settings: TokenSettings) -> Token:
        """The process's session on the token, opened and logged in now, so that wrong
        settings are reported at start rather than at a signature.

        PKCS#11 logs in a whole process at once, not a session, so every caller with the same
        settings shares one Token (a second login would be refused).
        """
        with _open_lock:
            token = _open.get(settings)
            if token is None or token._pid != os.getpid():
                token = _open[settings] = cls(settings)
        with token._lock:
            token._current_session()
        return token

    @property
    def label(self) -> str:
        return self.settings.token_label

    def _current_session(self) -> Any:
        if self._session is not None and self._pid == os.getpid():
            return self._session
        lib = _library(self.settings.module)
        try:
            token = lib.get_token(token_label=self.label)
        except pkcs11.NoSuchToken:
            raise PkiError(
                f"The PKCS#11 module {self.settings.module} has no token labelled "
                f"{self.label!r} (PKI_PKCS11_TOKEN_LABEL)."
            ) from None
        except pkcs11.PKCS11Error as exc:
            raise PkiError(f"The PKCS#11 token {self.label!r} cannot be reached: {exc!r}") from exc
        try:
            self._session = token.open(rw=True, user_pin=self.settings.pin)
        except pkcs11.UserAlreadyLoggedIn:
            # Something else in this process logged in already: its login covers us too.
            self._session = token.open(rw=True)
        except (pkcs11.PinIncorrect, pkcs11.PinLenRange, pkcs11.ArgumentsBad):
            raise PkiError(
                f"The PIN (PKI_PKCS11_PIN) does not open the PKCS#11 token {self.label!r}."
            ) from None
        except pkcs11.PinLocked:
            raise PkiError(
                f"The PKCS#11 token {self.label!r} is locked (too many bad PINs)."
            ) from None
        except pkcs11.PKCS11Error as exc:
            raise PkiError(f"The PKCS#11 token {self.label!r} cannot be opened: {exc!r}") from exc
        self._pid = os.getpid()
        self._private = {}
        return self._session

    def _find(self, session: Any, label: str, object_class: ObjectClass) -> Any | None:
        found = list(session.get_objects({Attribute.LABEL: label, Attribute.CLASS: object_class}))
        if len(found) > 1:
            raise PkiError(
                f"The PKCS#11 token {self.label!r} holds {len(found)} keys labelled {label!r}; "
                "the portal needs exactly one."
            )
        return found[0] if found else None

    def has(self, label: str) -> bool:
        with self._lock:
            session = self._current_session()
            return any(
                self._find(session, label, kind) is not None
                for kind in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY)
            )

    def generate(self, label: str, bits: int) -> HsmKey:
        """A new RSA key pair made inside the token: sensitive, never extractable, signing only."""
        with self._lock:
            session = self._current_session()
            if self._find(session, label, ObjectClass.PRIVATE_KEY) is not None:
                raise PkiError(
                    f"The PKCS#11 token {self.label!r} already holds a key labelled {label!r}. "
                    "Remove it (or use another token) before creating a new PKI."
                )
            key_id = secrets.token_bytes(16)
            try:
                public, _ = session.generate_keypair(
                    KeyType.RSA,
                    bits,
                    id=key_id,
                    label=label,
                    store=True,
                    public_template={
                        Attribute.VERIFY: True,
                        Attribute.ENCRYPT: False,
                        Attribute.WRAP: False,
                    },
                    private_template={
                        Attribute.PRIVATE: True,
                        Attribute.SENSITIVE: True,
                        Attribute.EXTRACTABLE: False,
                        Attribute.SIGN: True,
                        Attribute.DECRYPT: False,
                        Attribute.UNWRAP: False,
                    },
                )
            except pkcs11.PKCS11Error as exc:
                raise PkiError(
                    f"The PKCS#11 token {self.label!r} could not make the {label!r} key: {exc!r}"
                ) from exc
            return HsmKey(self, label, _public_key(public))

    def key(self, label: str) -> HsmKey:
        """The key labelled `label`, as made by `flask pki init --hsm`."""
        with self._lock:
            session = self._current_session()
            private = self._find(session, label, ObjectClass.PRIVATE_KEY)
            if private is None:
                raise PkiError(
                    f"The PKCS#11 token {self.label!r} holds no private key labelled {label!r}; "
                    "was the PKI made with `flask pki init --hsm` on this token?"
                )
            public = self._find(session, label, ObjectClass.PUBLIC_KEY)
            # A token may keep only the private object; its modulus and exponent are public.
            return HsmKey(self, label, _public_key(public if public is not None else private))

    def sign(self, label: str, data: bytes, mechanism: Mechanism) -> bytes:
        with self._lock:
            session = self._current_session()
            private = self._private.get(label)
            if private is None:
                private = self._find(session, label, ObjectClass.PRIVATE_KEY)
                if private is None:
                    raise PkiError(f"The PKCS#11 token {self.label!r} lost the key {label!r}.")
                self._private[label] = private
            try:
                return bytes(private.sign(data, mechanism=mechanism))
            except pkcs11.PKCS11Error as exc:
                raise PkiError(
                    f"The PKCS#11 token {self.label!r} refused to sign with {label!r}: {exc!r}"
                ) from exc

    def attributes(self, label: str, *names: Attribute) -> dict[Attribute, Any]:
        """Attributes of the private key labelled `label` (e.g. to check it cannot leave)."""
        with self._lock:
            private = self._find(self._current_session(), label, ObjectClass.PRIVATE_KEY)
            if private is None:
                raise PkiError(f"The PKCS#11 token {self.label!r} holds no key {label!r}.")
            return {name: private[name] for name in names}

    def close(self) -> None:
        with _open_lock:
            if _open.get(self.settings) is self:
                del _open[self.settings]
        with self._lock:
            if self._session is not None and self._pid == os.getpid():
                self._session.close()
            self._session = None
            self._private = {}


_open: dict[TokenSettings, Token] = {}
_open_lock = threading.Lock()
_libraries_lock = threading.Lock()
_initialised_in: dict[str, int] = {}  # module → the process that initialised it


def _library(module: str) -> Any:
    with _libraries_lock:
        try:
            lib = pkcs11.lib(module)  # loaded once per process and module
            if _initialised_in.setdefault(module, os.getpid()) != os.getpid():
                # A forked child inherits the parent's state but must call C_Initialize
                # itself (PKCS#11 §5.4): its parent's sessions are not its own.
                lib.reinitialize()
                _initialised_in[module] = os.getpid()
            return lib
        except (OSError, RuntimeError, pkcs11.PKCS11Error) as exc:
            raise PkiError(
                f"The PKCS#11 module {module} (PKI_PKCS11_MODULE) cannot be loaded: {exc}"
            ) from exc


def _public_key(key_object: Any) -> rsa.RSAPublicKey:
    modulus = int.from_bytes(key_object[Attribute.MODULUS], "big")
    exponent = int.from_bytes(key_object[Attribute.PUBLIC_EXPONENT], "big")
    return rsa.RSAPublicNumbers(exponent, modulus).public_key()


class HsmKey:
    """A private key in the token: its public half, and RSA PKCS#1 v1.5 signatures by it.

    Stands in for a cryptography RSAPrivateKey wherever the portal only signs
    (`portal.pki.resign` for certificates, CRLs and OCSP responses; `HsmSigner`; the TSA).
    """

    def __init__(self, token: Token, label: str, public: rsa.RSAPublicKey):
        self.token = token
        self.label = label
        self._public = public

    def __repr__(self) -> str:
        return f"HsmKey({self.label!r} in token {self.token.label!r})"

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def sign(self, data: bytes, hash: hashes.HashAlgorithm) -> bytes:
        mechanism = MECHANISMS.get(hash.name)
        if mechanism is None:
            raise PkiError(f"The HSM keys sign with SHA-256, -384 or -512, not {hash.name}.")
        return self.token.sign(self.label, data, mechanism)


class HsmSigner(Signer):
    """A pyHanko signer whose signatures are made by a key in the token (the seal)."""

    def __init__(
        self, cert: asn1_x509.Certificate, key: HsmKey, chain: Iterable[asn1_x509.Certificate]
    ):
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs(list(chain)),
            embed_roots=False,  # as LoadedKeySigner: verifiers hold the root themselves
        )
        self.key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo != "rsassa_pkcs1v15":
            raise PkiError(f"The HSM seal signs with RSA PKCS#1 v1.5, not {mechanism.native}.")
        return self.key.sign(data, get_pyca_cryptography_hash(digest_algorithm))

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False):
        if dry_run:
            return bytes(self.key.key_size // 8)
        return self.sign_raw(data, digest_algorithm)
