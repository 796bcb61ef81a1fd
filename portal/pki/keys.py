"""People's private keys, sealed under a key only their password gives.

The server never holds what opens a person's key: argon2id turns their password (with a salt
of its own per key) into an AES-256-GCM key, and that key encrypts the PKCS#8 DER of their
private key. The certificate's SHA-256 is the associated data, so a sealed key moved beside
another certificate does not open. The argon2id parameters and salt travel with the key in
one self-describing string (`SealedKey.kdf`), so parameters can be raised later without
touching keys sealed before.

Nothing here caches an opened key: the caller holds it only while its owner signs.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass

from argon2.low_level import ARGON2_VERSION, Type, hash_secret_raw
from asn1crypto import pem as asn1_pem
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.pki.errors import PkiError

PEM_LABEL = "PORTAL SEALED PRIVATE KEY"
SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32  # AES-256
# The most any stored or configured parameter may ask for: a damaged or hostile kdf string
# must not make one signature take minutes or gigabytes.
MAX_MEMORY_KIB = 1024 * 1024
MAX_TIME_COST = 20
MAX_PARALLELISM = 8
_KDF = re.compile(r"^argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})$")
_PARAMS = re.compile(r"^m=(\d+),t=(\d+),p=(\d+)$")


@dataclass(frozen=True)
class KdfParams:
    """argon2id's cost. The default is OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane):
    every signature pays it once, while a guesser pays it for every guess."""

    memory_kib: int = 19 * 1024
    time_cost: int = 2
    parallelism: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.parallelism <= MAX_PARALLELISM:
            raise PkiError(f"argon2id parallelism must be 1 to {MAX_PARALLELISM}.")
        if not 1 <= self.time_cost <= MAX_TIME_COST:
            raise PkiError(f"argon2id time cost must be 1 to {MAX_TIME_COST}.")
        if not 8 * self.parallelism <= self.memory_kib <= MAX_MEMORY_KIB:
            raise PkiError(
                f"argon2id memory must be {8 * self.parallelism} to {MAX_MEMORY_KIB} KiB."
            )

    @classmethod
    def parse(cls, text: str) -> KdfParams:
        """From a setting such as "m=19456,t=2,p=1" (memory in KiB, passes, lanes)."""
        found = _PARAMS.match((text or "").replace(" ", ""))
        if found is None:
            raise PkiError(
                f'The signing key setting "{text}" is not like "m=19456,t=2,p=1" '
                "(memory in KiB, passes, lanes)."
            )
        memory, time_cost, lanes = (int(n) for n in found.groups())
        return cls(memory_kib=memory, time_cost=time_cost, parallelism=lanes)

    def describe(self) -> str:
        return f"m={self.memory_kib},t={self.time_cost},p={self.parallelism}"


DEFAULT = KdfParams()


@dataclass(frozen=True)
class SealedKey:
    """What is stored: the sealed key (PEM armour around nonce ‖ ciphertext ‖ tag) and how its
    sealing key was derived ("argon2id$v=19$m=19456,t=2,p=1$<salt, base64>")."""

    blob: bytes
    kdf: str


def certificate_digest(cert_der: bytes) -> bytes:
    """The associated data binding a sealed key to its certificate."""
    return hashlib.sha256(cert_der).digest()


def seal(
    key: RSAPrivateKey, password: str, cert_der: bytes, params: KdfParams = DEFAULT
) -> SealedKey:
    """Encrypts `key` under `password` for the certificate `cert_der`; a fresh salt each time."""
    if not password:
        raise PkiError("A signing key cannot be sealed under an empty password.")
    salt = os.urandom(SALT_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    sealed = AESGCM(_derive(password, salt, params)).encrypt(
        nonce, der, certificate_digest(cert_der)
    )
    salt_text = base64.b64encode(salt).decode()
    kdf = f"argon2id$v={ARGON2_VERSION}${params.describe()}${salt_text}"
    return SealedKey(asn1_pem.armor(PEM_LABEL, nonce + sealed), kdf)


def unseal(sealed: SealedKey, password: str, cert_der: bytes) -> RSAPrivateKey:
    """The private key, if `password` is its owner's and the key belongs to `cert_der`.

    A wrong password, a key sealed for another certificate and altered bytes are one error:
    AES-GCM cannot tell them apart, and saying which would help a guesser.
    """
    params, salt = parse_kdf(sealed.kdf)
    try:
        label, _, raw = asn1_pem.unarmor(sealed.blob)
    except ValueError as exc:
        raise PkiError("The stored signing key is damaged (not a sealed key).") from exc
    if label != PEM_LABEL or len(raw) <= NONCE_BYTES:
        raise PkiError("The stored signing key is damaged (not a sealed key).")
    if not password:
        raise PkiError("The password does not open this signing key.")
    try:
        der = AESGCM(_derive(password, salt, params)).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], certificate_digest(cert_der)
        )
    except InvalidTag:
        raise PkiError(
            "The password does not open this signing key (or the key was altered)."
        ) from None
    # AES-GCM has just proved these are the bytes the portal sealed, from a key it generated,
    # so OpenSSL's RSA consistency check (about 30 ms, more than the signature) proves nothing
    # more; it is skipped.
    key = serialization.load_der_private_key(
        der, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, RSAPrivateKey):
        raise PkiError("The stored signing key is not an RSA key; the portal signs with RSA.")
    return key


def reseal(
    sealed: SealedKey,
    old_password: str,
    new_password: str,
    cert_der: bytes,
    params: KdfParams = DEFAULT,
) -> SealedKey:
    """The same key sealed under a new password (a fresh salt, and `params`)."""
    return seal(unseal(sealed, old_password, cert_der), new_password, cert_der, params)


def parse_kdf(kdf: str) -> tuple[KdfParams, bytes]:
    found = _KDF.match(kdf or "")
    if found is None:
        raise PkiError(f'The signing key\'s derivation "{kdf[:80]}" is not one the portal knows.')
    version, memory, time_cost, lanes, salt_text = found.groups()
    if int(version) != ARGON2_VERSION:
        raise PkiError(f"The signing key was sealed with argon2 version {version}, not 19.")
    salt = base64.b64decode(salt_text)
    if len(salt) < 8:
        raise PkiError("The signing key's salt is too short to be one the portal made.")
    return KdfParams(int(memory), int(time_cost), int(lanes)), salt


def _derive(password: str, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(
        secret=password.encode("utf-8"),
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
        version=ARGON2_VERSION,
    )
