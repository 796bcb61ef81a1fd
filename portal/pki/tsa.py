"""The portal's RFC 3161 time-stamping authority, and a pyHanko client that calls it in-process.

`TimeStampAuthority` answers a TimeStampReq with a TimeStampResp: a TSTInfo under the portal's
own policy, with an accuracy, a random serial and the request's nonce, in a SignedData whose
signed attributes name the TSA certificate by ESSCertIDv2 (SHA-256, RFC 5816). Every request
is answered, a bad one with a rejection and its failInfo; nothing here raises to the caller.

The TSA never touches its key directly: it signs through a `sign(data, hash_name)` callable,
so the key may be an RSA key in memory (`rsa_signer`) or a key held in an HSM.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import algos, cms, tsp, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

log = logging.getLogger("portal.pki.tsa")

# The portal's TSA policy (TSA_POLICY_OID overrides it). An OID under the 2.25 arc is a UUID
# written as one integer (ITU-T X.667), so it needs no registration and collides with no one's;
# this one was generated once (UUID b99c83de-85f1-4189-927c-fed8bc3c99ff) and must never change,
# since every token issued names it.
DEFAULT_POLICY_OID = "2.25.246719852155904193053110482666019133951"
DEFAULT_ACCURACY = timedelta(seconds=1)

# The TSA's own digest, for the token's signed attributes and ESSCertIDv2.
TOKEN_DIGEST = "sha256"

# Message imprints the TSA accepts, with their lengths. SHA-1 and MD5 are refused: with
# collisions at hand, a token over such a digest proves nothing about the document.
IMPRINT_LENGTHS = {
    "sha256": 32,
    "sha384": 48,
    "sha512": 64,
    "sha3_256": 32,
    "sha3_384": 48,
    "sha3_512": 64,
}

# The SignerInfo's signatureAlgorithm, by the TSA key's type.
SIGNATURE_ALGORITHMS = {"rsa": "rsassa_pkcs1v15", "ec": f"{TOKEN_DIGEST}_ecdsa"}

SignFunction = Callable[[bytes, str], bytes]
"""Signs `data` with the TSA key, hashing it with the named algorithm (e.g. "sha256")."""

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


def rsa_signer(key: RSAPrivateKey) -> SignFunction:
    """A SignFunction for an RSA key in memory (PKCS#1 v1.5)."""

    def sign(data: bytes, hash_name: str) -> bytes:
        return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(hash_name))

    return sign


# asn1crypto makes TimeStampResp's token mandatory, but a rejection carries none (RFC 3161
# section 2.4.2: timeStampToken is OPTIONAL). Declared optional here, for the whole process:
# this TSA can then encode its rejections, and pyHanko's HTTP client can read any TSA's
# rejection (and report its reason) instead of failing to parse it.
tsp.TimeStampResp._fields = [
    ("status", tsp.PKIStatusInfo),
    ("time_stamp_token", cms.ContentInfo, {"optional": True}),
]
tsp.TimeStampResp()._setup()  # asn1crypto's field map, rebuilt from the fields above


class Rejected(Exception):
    """A request the TSA refuses: `fail_info` is the RFC 3161 PKIFailureInfo bit's name."""

    def __init__(self, fail_info: str, text: str):
        super().__init__(text)
        self.fail_info = fail_info
        self.text = text


@dataclass(frozen=True)
class _Credentials:
    """The TSA certificate and what goes with it; replaced whole when the certificate is."""

    cert: x509.Certificate
    sign: SignFunction
    embedded: tuple[x509.Certificate, ...]  # the TSA certificate, then its chain (no root)
    signing_certificate: bytes  # the DER signing-certificate-v2 attribute, made once
    signature_algorithm: str


class TimeStampAuthority:
    """An RFC 3161 TSA. Thread-safe; `clock` gives each token's time (portal.clock.now)."""

    def __init__(
        self,
        cert: x509.Certificate,
        sign: SignFunction,
        chain: Sequence[x509.Certificate],
        clock: Callable[[], datetime],
        *,
        policy: str = DEFAULT_POLICY_OID,
        accuracy: timedelta = DEFAULT_ACCURACY,
    ):
        self.clock = clock
        self.use(cert, sign, chain)
        self.configure(policy=policy, accuracy=accuracy)

    @property
    def cert(self) -> x509.Certificate:
        return self._credentials.cert

    def use(
        self, cert: x509.Certificate, sign: SignFunction, chain: Sequence[x509.Certificate]
    ) -> None:
        """Signs from now on with this certificate and key (a renewed TSA certificate)."""
        attribute = simple_cms_attribute(
            "signing_certificate_v2", as_signing_certificate_v2(cert, TOKEN_DIGEST)
        )
        credentials = _Credentials(
            cert=cert,
            sign=sign,
            embedded=(cert, *(c for c in chain if c != cert and c.self_signed == "no")),
            signing_certificate=attribute.dump(),
            signature_algorithm=SIGNATURE_ALGORITHMS[cert.public_key.algorithm],
        )
        # One assignment: a token being made meanwhile uses the old credentials throughout.
        self._credentials = credentials

    def configure(self, *, policy: str | None = None, accuracy: timedelta | None = None) -> None:
        """Sets the policy OID and the accuracy written into every token (settings)."""
        if policy is not None:
            if not _OID.match(policy):
                raise ValueError(f"The TSA policy {policy!r} is not an object identifier.")
            self.policy = policy
        if accuracy is not None:
            if accuracy <= timedelta(0):
                raise ValueError("The TSA accuracy must be a positive duration.")
            self.accuracy = accuracy

    def respond_der(self, body: bytes) -> bytes:
        """The DER TimeStampResp for a DER TimeStampReq (the body of an HTTP exchange)."""
        try:
            req = tsp.TimeStampReq.load(body, strict=True)
            _ = req.native  # asn1crypto parses lazily: a malformed request fails here, not later
        except Exception:
            return _rejection("bad_data_format", "The request is not a DER TimeStampReq.").dump()
        return self.respond(req).dump()

    def respond(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """A granted token for an acceptable request; a rejection, with its reason, otherwise."""
        try:
            self._check(req)
            return self._grant(req)
        except Rejected as refusal:
            return _rejection(refusal.fail_info, refusal.text)
        except Exception:
            # The key or HSM failed: the client is told, the operator finds the details here.
            log.exception("The time-stamping authority could not sign a token")
            return _rejection("system_failure", "The time-stamping authority could not sign.")

    def _check(self, req: tsp.TimeStampReq) -> None:
        try:
            version = req["version"].native
            imprint = req["message_imprint"]
            algorithm = imprint["hash_algorithm"]["algorithm"].native
            digest = imprint["hashed_message"].native
            policy = req["req_policy"].dotted if req["req_policy"].native is not None else None
            extensions = req["extensions"].native
        except Exception as exc:
            raise Rejected("bad_data_format", "The request is not a TimeStampReq.") from exc
        if version != "v1":
            raise Rejected("bad_request", f"Only version 1 requests are served, not {version}.")
        if algorithm not in IMPRINT_LENGTHS:
            accepted = ", ".join(IMPRINT_LENGTHS)
            raise Rejected("bad_alg", f"The hash {algorithm} is not accepted; use {accepted}.")
        if not isinstance(digest, bytes) or len(digest) != IMPRINT_LENGTHS[algorithm]:
            raise Rejected("bad_data_format", f"The imprint is not a {algorithm} digest.")
        if policy is not None and policy != self.policy:
            raise Rejected("unaccepted_policy", f"This TSA serves policy {self.policy} only.")
        if extensions:
            raise Rejected("unaccepted_extensions", "This TSA accepts no request extensions.")

    def _grant(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        credentials = self._credentials
        now = self.clock()
        info = {
            "version": "v1",
            "policy": self.policy,
            "message_imprint": req["message_imprint"],
            # Random rather than counted: unique across processes and hosts with no shared state.
            "serial_number": secrets.randbelow(2**128 - 1) + 1,
            "gen_time": now,
            "accuracy": _accuracy(self.accuracy),
            # ordering stays absent (DER leaves out a DEFAULT FALSE): tokens are not ordered.
            "tsa": x509.GeneralName(name="directory_name", value=credentials.cert.subject),
        }
        if req["nonce"].native is not None:
            info["nonce"] = req["nonce"]
        tst_info = tsp.TSTInfo(info).dump()
        digest = hashes.Hash(get_pyca_cryptography_hash(TOKEN_DIGEST))
        digest.update(tst_info)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", _cms_time(now)),
                simple_cms_attribute("message_digest", digest.finalize()),
                cms.CMSAttribute.load(credentials.signing_certificate),
            ]
        )
        signature = credentials.sign(signed_attrs.dump(), TOKEN_DIGEST)
        digest_algorithm = algos.DigestAlgorithm({"algorithm": TOKEN_DIGEST})
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    name="issuer_and_serial_number",
                    value=cms.IssuerAndSerialNumber(
                        {
                            "issuer": credentials.cert.issuer,
                            "serial_number": credentials.cert.serial_number,
                        }
                    ),
                ),
                "digest_algorithm": digest_algorithm,
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm(
                    {"algorithm": credentials.signature_algorithm}
                ),
                "signature": signature,
            }
        )
        signed_data = {
            "version": "v3",
            "digest_algorithms": [digest_algorithm],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(tst_info),
            },
            "signer_infos": [signer_info],
        }
        if req["cert_req"].native:
            signed_data["certificates"] = list(credentials.embedded)
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})


def _rejection(fail_info: str, text: str) -> tsp.TimeStampResp:
    status = {"status": "rejection", "status_string": [text], "fail_info": {fail_info}}
    return tsp.TimeStampResp({"status": tsp.PKIStatusInfo(status)})


def _accuracy(accuracy: timedelta) -> tsp.Accuracy:
    micros_total = accuracy // timedelta(microseconds=1)
    seconds, rest = divmod(micros_total, 1_000_000)
    millis, micros = divmod(rest, 1000)
    # Each part is left out when zero (RFC 3161: millis and micros are 1..999 when present).
    parts = {"seconds": seconds, "millis": millis, "micros": micros}
    return tsp.Accuracy({name: value for name, value in parts.items() if value})


def _cms_time(moment: datetime) -> cms.Time:
    # RFC 5652: UTCTime for the years 1950-2049, GeneralizedTime outside them.
    if 1950 <= moment.year < 2050:
        return cms.Time(name="utc_time", value=moment)
    return cms.Time(name="generalized_time", value=moment)


class InProcessTimeStamper(TimeStamper):
    """pyHanko's RFC 3161 client, answered by the portal's own TSA without HTTP."""

    def __init__(self, authority: TimeStampAuthority):
        super().__init__()
        self.authority = authority

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return self.authority.respond(req)
