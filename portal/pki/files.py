"""Reading and writing the PKI's PEM files, with plain errors when they cannot be opened."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from portal.pki.errors import PkiError

ROOT = "root-ca"
ISSUING = "issuing-ca"
TSA = "tsa"
SEAL = "seal"
CERTIFICATES = (ROOT, ISSUING, TSA, SEAL)


def cert_path(directory: Path, stem: str) -> Path:
    return directory / f"{stem}.pem"


def key_path(directory: Path, stem: str) -> Path:
    return directory / f"{stem}.key.pem"


def write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Writes via a temporary file and rename, so a crash never leaves half a key."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # the umask must not widen or narrow what we asked for
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_certs(path: Path, certs: list[x509.Certificate]) -> None:
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)
    write_atomically(path, pem, 0o644)


def write_key(path: Path, key: RSAPrivateKey, passphrase: bytes) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    write_atomically(path, pem, 0o600)


def read_certs(path: Path) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except FileNotFoundError:
        raise PkiError(f"The PKI certificate {path} is missing; run `flask pki init`.") from None
    except (OSError, ValueError) as exc:
        raise PkiError(f"The PKI certificate {path} cannot be read: {exc}") from exc
    return certs


def read_key(path: Path, passphrase: bytes) -> RSAPrivateKey:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PkiError(f"The PKI key {path} is missing; run `flask pki init`.") from None
    except OSError as exc:
        raise PkiError(f"The PKI key {path} cannot be read: {exc}") from exc
    return decrypt_key(data, passphrase, where=str(path))


def decrypt_key(pem: bytes, passphrase: bytes, *, where: str) -> RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError) as exc:
        raise PkiError(f"The PKI passphrase does not open {where}.") from exc
    if not isinstance(key, RSAPrivateKey):
        raise PkiError(f"{where} is not an RSA key; the portal signs with RSA keys only.")
    return key
