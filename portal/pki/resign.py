"""X.509 certificates, CRLs and OCSP responses signed by a key that never leaves its HSM.

cryptography's builders sign only with a software key it holds itself. So the structure is
built and signed by cryptography with a throwaway placeholder key (same algorithm, so the
to-be-signed bytes name the right signature algorithm), and the placeholder signature is then
replaced by the real key's signature over those exact to-be-signed bytes (asn1crypto keeps
the bytes it parsed, so nothing is re-encoded in between).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Protocol, overload

from asn1crypto import core
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp

from portal.pki.errors import PkiError

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class ExternalKey(Protocol):
    """A private key held elsewhere (an HSM): its public half, and RSA PKCS#1 v1.5 signing."""

    def public_key(self) -> rsa.RSAPublicKey: ...

    def sign(self, data: bytes, hash: hashes.HashAlgorithm) -> bytes: ...


@functools.cache
def _placeholder(bits: int) -> rsa.RSAPrivateKey:
    # Never used for anything kept: its signature is always replaced. Made once per size so
    # the placeholder signature already has the real one's length.
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@overload
def sign(
    builder: x509.CertificateBuilder, key: ExternalKey, algorithm: hashes.HashAlgorithm = ...
) -> x509.Certificate: ...
@overload
def sign(
    builder: x509.CertificateRevocationListBuilder,
    key: ExternalKey,
    algorithm: hashes.HashAlgorithm = ...,
) -> x509.CertificateRevocationList: ...
@overload
def sign(
    builder: ocsp.OCSPResponseBuilder, key: ExternalKey, algorithm: hashes.HashAlgorithm = ...
) -> ocsp.OCSPResponse: ...
def sign(
    builder: x509.CertificateBuilder
    | x509.CertificateRevocationListBuilder
    | ocsp.OCSPResponseBuilder,
    key: ExternalKey,
    algorithm: hashes.HashAlgorithm | None = None,
) -> x509.Certificate | x509.CertificateRevocationList | ocsp.OCSPResponse:
    """What `builder.sign(key, algorithm)` would return had cryptography held `key`."""
    algorithm = algorithm or hashes.SHA256()
    placeholder = _placeholder(key.public_key().key_size)
    if isinstance(builder, x509.CertificateBuilder):
        return _certificate(builder.sign(placeholder, algorithm), key, algorithm)
    if isinstance(builder, x509.CertificateRevocationListBuilder):
        return _crl(builder.sign(placeholder, algorithm), key, algorithm)
    if isinstance(builder, ocsp.OCSPResponseBuilder):
        return _ocsp(builder, key, algorithm)
    raise PkiError(f"Cannot sign a {type(builder).__name__} with a key held in an HSM.")


def _certificate(
    draft: x509.Certificate, key: ExternalKey, algorithm: hashes.HashAlgorithm
) -> x509.Certificate:
    parsed = asn1_x509.Certificate.load(draft.public_bytes(serialization.Encoding.DER))
    tbs = parsed["tbs_certificate"]
    signed = asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": parsed["signature_algorithm"],
            "signature_value": core.OctetBitString(key.sign(tbs.dump(), algorithm)),
        }
    )
    return x509.load_der_x509_certificate(signed.dump())


def _crl(
    draft: x509.CertificateRevocationList, key: ExternalKey, algorithm: hashes.HashAlgorithm
) -> x509.CertificateRevocationList:
    parsed = asn1_crl.CertificateList.load(draft.public_bytes(serialization.Encoding.DER))
    tbs = parsed["tbs_cert_list"]
    signed = asn1_crl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": parsed["signature_algorithm"],
            "signature": core.OctetBitString(key.sign(tbs.dump(), algorithm)),
        }
    )
    return x509.load_der_x509_crl(signed.dump())


def _ocsp(
    builder: ocsp.OCSPResponseBuilder, key: ExternalKey, algorithm: hashes.HashAlgorithm
) -> ocsp.OCSPResponse:
    # cryptography refuses a responder certificate whose key is not the signing key, so the
    # draft names a stand-in with the same subject and the placeholder key; the responder ID
    # is put right before the real signature. (The builder keeps its parts in attributes
    # that are private to cryptography; each is checked to be there.)
    try:
        responder_cert, encoding = builder._responder_id  # type: ignore[misc]
        parts = (builder._response, builder._certs, builder._extensions)
    except (AttributeError, TypeError) as exc:
        raise PkiError(
            "This version of cryptography builds OCSP responses in a way the HSM signing "
            "does not know; sign OCSP responses with a delegated responder key instead."
        ) from exc
    placeholder = _placeholder(key.public_key().key_size)
    stand_in = _stand_in(responder_cert.subject, placeholder.key_size)
    draft = ocsp.OCSPResponseBuilder(parts[0], (stand_in, encoding), parts[1], parts[2]).sign(
        placeholder, algorithm
    )
    parsed = asn1_ocsp.OCSPResponse.load(draft.public_bytes(serialization.Encoding.DER))
    response_bytes = parsed["response_bytes"]
    basic: asn1_ocsp.BasicOCSPResponse = response_bytes["response"].parsed
    tbs = basic["tbs_response_data"]
    if encoding == ocsp.OCSPResponderEncoding.HASH:
        real = asn1_x509.Certificate.load(responder_cert.public_bytes(serialization.Encoding.DER))
        tbs["responder_id"] = asn1_ocsp.ResponderId({"by_key": real.public_key.sha1})
    fields = {
        "tbs_response_data": tbs,
        "signature_algorithm": basic["signature_algorithm"],
        "signature": core.OctetBitString(key.sign(tbs.dump(), algorithm)),
    }
    if basic["certs"].native is not None:
        fields["certs"] = basic["certs"]
    signed = asn1_ocsp.OCSPResponse(
        {
            "response_status": parsed["response_status"],
            "response_bytes": {
                "response_type": response_bytes["response_type"],
                "response": asn1_ocsp.BasicOCSPResponse(fields),
            },
        }
    )
    return ocsp.load_der_ocsp_response(signed.dump())


@functools.lru_cache(maxsize=8)
def _stand_in(subject: x509.Name, bits: int) -> x509.Certificate:
    """A certificate naming the responder, for the placeholder key (never leaves this module)."""
    placeholder = _placeholder(bits)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(placeholder.public_key())
        .serial_number(1)
        .not_valid_before(_EPOCH)
        .not_valid_after(_EPOCH + timedelta(days=1))
        .sign(placeholder, hashes.SHA256())
    )
