"""pyHanko signers and the in-process time-stamping authority, with keys held in memory.

pyHanko's `SimpleSigner` and `DummyTimeStamper` re-parse their private key from DER on every
signature (and OpenSSL re-checks an RSA key on each load, which costs more than the signature
itself). These subclasses keep the parsed key object and use it directly; everything else,
including the CMS and RFC 3161 structures, is pyHanko's own code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from asn1crypto import cms, core, tsp, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.keys.internal import translate_pyca_cryptography_key_to_asn1
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
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


class PortalTimeStamper(DummyTimeStamper):
    """The portal's RFC 3161 TSA, answering in-process with the TSA key.

    `clock` gives the time written into each token, so tests can control it. `chain` is
    embedded in each token so that the TSA certificate can be validated; leave the root out.
    """

    def __init__(
        self,
        tsa_cert: x509.Certificate,
        tsa_key: RSAPrivateKey,
        chain: Iterable[x509.Certificate],
        clock: Callable[[], datetime],
    ):
        super().__init__(
            tsa_cert=tsa_cert,
            tsa_key=translate_pyca_cryptography_key_to_asn1(tsa_key),
            certs_to_embed=SimpleCertificateStore.from_certs(list(chain)),
        )
        self.loaded_key = tsa_key
        self.clock = clock
        # Constant for this TSA; built once (asn1crypto re-encodes fresh structures slowly).
        self._signing_certificate = cms.CMSAttribute.load(
            simple_cms_attribute(
                "signing_certificate", general.as_signing_certificate(tsa_cert)
            ).dump()
        )

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        # Same attributes as DummyTimeStamper, signed with the loaded key.
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute(
                    "signing_certificate", general.as_signing_certificate(self.tsa_cert)
                ),
                simple_cms_attribute("message_digest", digest.finalize()),
            ]
        )
        signature = self.loaded_key.sign(
            signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm)
        )
        return signature, signed_attrs

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        message_imprint: tsp.MessageImprint = req["message_imprint"]
        md_algorithm = message_imprint["hash_algorithm"]["algorithm"].native
        now = self.clock()
        tst_info = self._build_tst_info(message_imprint, now, req).dump()
        signature, signed_attrs = self._sign_tst_info(tst_info, md_algorithm, now)
        signed_data = self._build_signed_data(tst_info, md_algorithm, signature, signed_attrs)
        token = cms.ContentInfo(
            {"content_type": cms.ContentType("signed_data"), "content": cms.SignedData(signed_data)}
        )
        status = tsp.PKIStatusInfo({"status": tsp.PKIStatus("granted")})
        return tsp.TimeStampResp({"status": status, "time_stamp_token": token})
