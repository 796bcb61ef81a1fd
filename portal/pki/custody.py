"""Where the CA's private keys are kept: encrypted in the PKI directory, in an HSM, offline.

By default every key is a PKCS#8 file in the PKI directory, encrypted with the PKI passphrase.
With a token (`flask pki init --hsm`), the issuing CA, TSA and seal keys are made inside the
HSM and never leave it; the directory holds only certificates. With `offline_root`
(`flask pki init --offline-root PATH`), the root key is written to PATH, to be moved off the
server: the portal never needs it at run time (it signs only the issuing CA certificate and
the root CRL, both at init).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from portal.pki import certificates, files
from portal.pki.errors import PkiError
from portal.pki.signers import LoadedKeySigner

if TYPE_CHECKING:
    from portal.pki.hsm import HsmKey, Token

CaKey = Any  # RSAPrivateKey | HsmKey (portal.pki.hsm is imported only when a token is used)


@dataclass(frozen=True)
class Custody:
    """Where `init_pki` puts the keys it makes, and where `Pki.load` finds them."""

    token: Token | None = None
    offline_root: Path | None = None

    def check(self, directory: Path) -> None:
        """Refuses an offline root path that would leave the root key on the server."""
        if self.offline_root is None:
            return
        target = Path(self.offline_root).resolve()
        if target.is_relative_to(Path(directory).resolve()):
            raise PkiError(
                f"The offline root key path {self.offline_root} is inside the PKI directory "
                f"{directory}; give a path on the removable medium it is to be moved to."
            )
        if target.exists():
            raise PkiError(f"{self.offline_root} already exists; it is not overwritten.")
        if not target.parent.is_dir():
            raise PkiError(f"The folder for the offline root key, {target.parent}, is missing.")

    def new_key(self, directory: Path, stem: str, bits: int, passphrase: bytes) -> CaKey:
        """Makes the key for `stem` and stores it: in the token (all but the root), else
        encrypted under `passphrase` in the directory, or for the root at `offline_root`."""
        if self.token is not None and stem != files.ROOT:
            return self.token.generate(stem, bits)
        key = certificates.new_key(bits)
        path = files.key_path(directory, stem)
        if stem == files.ROOT and self.offline_root is not None:
            path = Path(self.offline_root)
        files.write_key(path, key, passphrase)
        return key

    def load_key(self, directory: Path, stem: str, passphrase: bytes) -> CaKey:
        if self.token is not None:
            return self.token.key(stem)
        path = files.key_path(directory, stem)
        if not path.exists() and (directory / HSM_MARK).exists():
            raise PkiError(
                f"The keys of the PKI in {directory} are in an HSM: set PKI_PKCS11_MODULE, "
                "PKI_PKCS11_TOKEN_LABEL and PKI_PKCS11_PIN."
            )
        return files.read_key(path, passphrase)

    def mark(self, directory: Path) -> None:
        """Notes in the directory which token holds the keys (no secret), for operators and
        for a plain error when the portal starts without the token settings."""
        if self.token is not None:
            # The issuing CA's key is elsewhere when it came from a PKCS#12 file.
            labels = [s for s in (files.ISSUING, files.TSA, files.SEAL) if self.token.has(s)]
            text = (
                "Keys of this PKI in a PKCS#11 token (PKI_PKCS11_MODULE):\n"
                f"token label: {self.token.label}\nkey labels: {', '.join(labels)}\n"
            )
            files.write_atomically(directory / HSM_MARK, text.encode(), 0o644)


HSM_MARK = "keys-in-hsm.txt"


def seal_signer(
    cert: asn1_x509.Certificate, key: CaKey, chain: Iterable[asn1_x509.Certificate]
) -> Signer:
    """The pyHanko signer for the lead agency's seal, wherever its key is."""
    if isinstance(key, RSAPrivateKey):
        return LoadedKeySigner(cert, key, chain)
    from portal.pki.hsm import HsmSigner

    return HsmSigner(cert, key, chain)


def sign_function(key: CaKey):  # -> portal.pki.tsa.SignFunction
    """The TSA's `sign(data, hash_name)` for its key, wherever it is."""
    from portal.pki.tsa import rsa_signer

    if isinstance(key, RSAPrivateKey):
        return rsa_signer(key)
    hsm_key: HsmKey = key

    def sign(data: bytes, hash_name: str) -> bytes:
        return hsm_key.sign(data, get_pyca_cryptography_hash(hash_name))

    return sign
