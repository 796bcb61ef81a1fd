"""pyHanko signers with keys held in memory (the time-stamping authority is portal/pki/tsa.py).

pyHanko's `SimpleSigner` re-parses its private key from DER on every signature (and OpenSSL
re-checks an RSA key on each load, which costs more than the signature itself). This subclass
keeps the parsed key object and uses it directly; everything else, including the CMS
structures, is pyHanko's own code.
"""

from __future__ import annotations

from collections.abc import Iterable

from asn1crypto import x509
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.keys.internal import translate_pyca_cryptography_key_to_asn1
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash


class LoadedKeySigner(SimpleSigner):
    """A `SimpleSigner` whose RSA key is parsed once and reused for every signature.

    The root is left out of each signature (embed_roots=False): verifiers must hold it as
    their trust anchor anyway, and every byte of a signature is parsed again by each later
    signer and verifier of the document.
    """

    def __init__(
        self, cert: x509.Certificate, key: RSAPrivateKey, chain: Iterable[x509.Certificate]
    ):
        super().__init__(
            signing_cert=cert,
            signing_key=translate_pyca_cryptography_key_to_asn1(key),
            cert_registry=SimpleCertificateStore.from_certs(list(chain)),
            embed_roots=False,
        )
        self.loaded_key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)  # e.g. PSS: pyHanko's general path
        return self.loaded_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
