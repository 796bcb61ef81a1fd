"""Building the portal's X.509 certificates (CA hierarchy, TSA, seal, people).

Kept free of file handling so that both `init_pki` and `Pki.issue_identity` use the same
profiles. Profiles are chosen so that poppler/NSS (`pdfsig`) and pyHanko both accept them:
CA certificates without EKU; end-entity signing certificates with digitalSignature +
nonRepudiation, the documentSigning EKU (RFC 9336) and the emailProtection EKU that NSS still
checks for document signers, and the portal's certificate policy. Every certificate the
issuing CA signs names where its revocation status is published (CRL distribution point,
OCSP responder, the issuer's certificate), all served by the portal under PORTAL_BASE_URL;
the issuing CA's certificate names the root's CRL.

Every signature by a CA key (certificates, CRLs, OCSP responses) goes through `sign_by`, the
one place a key held elsewhere (an HSM) would be plugged in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from portal.pki import resign

# Certificates start a little in the past so that a signer whose clock is slightly behind
# the portal's still sees them as valid.
BACKDATE = timedelta(minutes=10)
YEAR = timedelta(days=365)

ROOT_LIFETIME = 20 * YEAR
ISSUING_LIFETIME = 10 * YEAR
TSA_LIFETIME = 8 * YEAR
SEAL_LIFETIME = 5 * YEAR
PERSON_LIFETIME = 3 * YEAR


@dataclass(frozen=True)
class Lifetimes:
    """How long the CA, the timestamping authority and the seal live once made.

    Production keeps the defaults; the test suite makes a CA whose span covers every date it
    travels to, and years beyond, so that no test depends on the day it runs.
    """

    root: timedelta = ROOT_LIFETIME
    issuing: timedelta = ISSUING_LIFETIME
    tsa: timedelta = TSA_LIFETIME
    seal: timedelta = SEAL_LIFETIME


# The portal's certificate policy (CERTIFICATE_POLICY_OID overrides it). An OID under 2.25
# (ITU-T X.667) is a UUID written as one integer: it needs no registration and cannot clash.
# Made once from a random UUID and fixed here, since every certificate ever issued names it.
DEFAULT_POLICY_OID = "2.25.81558204616349658266084981567165554037"

# RFC 9336: the EKU for document signing; not yet among cryptography's named OIDs.
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


@dataclass(frozen=True)
class Urls:
    """Where relying parties fetch the portal CA's revocation data and certificates.

    Stable paths under the portal's base URL (served by portal/views/pki.py), so that a
    certificate issued years ago still points at a live address.
    """

    base: str

    @classmethod
    def under(cls, base_url: str) -> Urls:
        return cls(base_url.rstrip("/"))

    @property
    def issuing_crl(self) -> str:
        return f"{self.base}/pki/issuing-ca.crl"

    @property
    def root_crl(self) -> str:
        return f"{self.base}/pki/root-ca.crl"

    @property
    def ocsp(self) -> str:
        return f"{self.base}/pki/ocsp"

    @property
    def issuing_ca(self) -> str:
        # DER, as RFC 5280 §4.2.2.1 asks of an HTTP caIssuers address (application/pkix-cert).
        return f"{self.base}/pki/issuing-ca.cer"

    @property
    def root_ca(self) -> str:
        return f"{self.base}/pki/root-ca.cer"


@dataclass(frozen=True)
class Profile:
    """What the portal states in each certificate beyond the subject: addresses and policy.

    `urls` None leaves the addresses out (a CA made by the library alone, with no portal to
    serve them).
    """

    urls: Urls | None = None
    policy_oid: str = DEFAULT_POLICY_OID


def sign_by(
    builder: x509.CertificateBuilder
    | x509.CertificateRevocationListBuilder
    | ocsp.OCSPResponseBuilder,
    key: rsa.RSAPrivateKey | resign.ExternalKey,
):  # -> x509.Certificate | x509.CertificateRevocationList | ocsp.OCSPResponse
    """Signs a certificate, a CRL or an OCSP response with a CA key (SHA-256, RSA PKCS#1).

    The single place where a CA key signs, so that a key kept in an HSM can be used here.
    """
    if not isinstance(key, rsa.RSAPrivateKey):
        return resign.sign(builder, key, hashes.SHA256())  # a key in an HSM (portal/pki/hsm.py)
    return builder.sign(key, hashes.SHA256())


CA_KEY_BITS = 3072
SERVICE_KEY_BITS = 3072  # TSA and seal: long-lived organisational keys
PERSON_KEY_BITS = 2048


@dataclass(frozen=True)
class Issuer:
    """A CA that can sign certificates: its certificate and its private key."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey


def new_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(common_name: str, organization: str, *, title: str = "", email: str = "") -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    if title:
        attributes.append(x509.NameAttribute(NameOID.TITLE, title))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attributes)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey,
    issuer_public_key: rsa.RSAPublicKey,
    now: datetime,
    lifetime: timedelta,
    not_after_limit: datetime | None,
) -> x509.CertificateBuilder:
    not_after = now + lifetime
    if not_after_limit is not None:
        # A certificate must never outlive the CA that signed it.
        not_after = min(not_after, not_after_limit)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False
        )
    )


def _issued_by_issuing_ca(builder: x509.CertificateBuilder, urls: Urls | None):
    """The CRL distribution point and AIA (OCSP, caIssuers) of a certificate the issuing CA
    signs; nothing when no portal serves them."""
    if urls is None:
        return builder
    return builder.add_extension(_crl_point(urls.issuing_crl), critical=False).add_extension(
        x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls.ocsp)
                ),
                x509.AccessDescription(
                    AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.UniformResourceIdentifier(urls.issuing_ca),
                ),
            ]
        ),
        critical=False,
    )


def _crl_point(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _signing_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def root_ca(
    organization: str, key: rsa.RSAPrivateKey, now: datetime, lifetime: timedelta = ROOT_LIFETIME
) -> x509.Certificate:
    subject = name(f"{organization} HMIS Root CA", organization)
    builder = _builder(subject, subject, key.public_key(), key.public_key(), now, lifetime, None)
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
    return sign_by(builder.add_extension(_ca_usage(), critical=True), key)


def issuing_ca(
    organization: str,
    key: rsa.RSAPrivateKey,
    root: Issuer,
    now: datetime,
    lifetime: timedelta = ISSUING_LIFETIME,
    urls: Urls | None = None,
) -> x509.Certificate:
    subject = name(f"{organization} HMIS Issuing CA", organization)
    builder = _builder(
        subject,
        root.cert.subject,
        key.public_key(),
        root.key.public_key(),
        now,
        lifetime,
        root.cert.not_valid_after_utc,
    )
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    if urls is not None:
        # The root's CRL says whether the issuing CA itself is still trusted.
        builder = builder.add_extension(_crl_point(urls.root_crl), critical=False)
    return sign_by(builder.add_extension(_ca_usage(), critical=True), root.key)


def _end_entity(
    subject: x509.Name,
    key: rsa.RSAPublicKey,
    issuer: Issuer,
    now: datetime,
    lifetime: timedelta,
    urls: Urls | None,
) -> x509.CertificateBuilder:
    builder = _builder(
        subject,
        issuer.cert.subject,
        key,
        issuer.key.public_key(),
        now,
        lifetime,
        issuer.cert.not_valid_after_utc,
    )
    builder = builder.add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    )
    return _issued_by_issuing_ca(builder, urls)


def timestamping(
    organization: str,
    key: rsa.RSAPublicKey,
    issuer: Issuer,
    now: datetime,
    lifetime: timedelta = TSA_LIFETIME,
    urls: Urls | None = None,
) -> x509.Certificate:
    subject = name(f"{organization} HMIS Timestamping Authority", organization)
    builder = _end_entity(subject, key, issuer, now, lifetime, urls)
    builder = builder.add_extension(_signing_usage(), critical=True)
    # RFC 3161 §2.3: a TSA certificate has exactly the timeStamping EKU, marked critical.
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
    )
    return sign_by(builder, issuer.key)


def document_signer(
    subject: x509.Name,
    key: rsa.RSAPublicKey,
    issuer: Issuer,
    now: datetime,
    lifetime: timedelta,
    email: str = "",
    profile: Profile | None = None,
) -> x509.Certificate:
    """A certificate for signing PDFs: the lead agency's seal or a person."""
    profile = profile or Profile()
    builder = _end_entity(subject, key, issuer, now, lifetime, profile.urls)
    builder = builder.add_extension(_signing_usage(), critical=True)
    # documentSigning says what the key is for (RFC 9336); emailProtection stays because
    # NSS (pdfsig) accepts a PDF signer only with it.
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
        critical=False,
    )
    builder = builder.add_extension(
        x509.CertificatePolicies(
            [x509.PolicyInformation(x509.ObjectIdentifier(profile.policy_oid), None)]
        ),
        critical=False,
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    return sign_by(builder, issuer.key)


def seal(
    organization: str,
    key: rsa.RSAPublicKey,
    issuer: Issuer,
    now: datetime,
    lifetime: timedelta = SEAL_LIFETIME,
    profile: Profile | None = None,
) -> x509.Certificate:
    subject = name(f"{organization} HMIS Document Seal", organization)
    return document_signer(subject, key, issuer, now, lifetime, profile=profile)
