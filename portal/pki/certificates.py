"""Building the portal's X.509 certificates (CA hierarchy, TSA, seal, people).

Kept free of file handling so that both `init_pki` and `Pki.issue_identity` use the same
profiles. Profiles are chosen so that poppler/NSS (`pdfsig`) and pyHanko both accept them:
no AIA/CRL pointers (nothing to fetch offline), CA certificates without EKU, and end-entity
signing certificates with digitalSignature + nonRepudiation and the emailProtection EKU that
NSS checks for document signers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

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
    return builder.add_extension(_ca_usage(), critical=True).sign(key, hashes.SHA256())


def issuing_ca(
    organization: str,
    key: rsa.RSAPrivateKey,
    root: Issuer,
    now: datetime,
    lifetime: timedelta = ISSUING_LIFETIME,
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
    return builder.add_extension(_ca_usage(), critical=True).sign(root.key, hashes.SHA256())


def _end_entity(
    subject: x509.Name, key: rsa.RSAPublicKey, issuer: Issuer, now: datetime, lifetime: timedelta
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
    return builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)


def timestamping(
    organization: str,
    key: rsa.RSAPublicKey,
    issuer: Issuer,
    now: datetime,
    lifetime: timedelta = TSA_LIFETIME,
) -> x509.Certificate:
    subject = name(f"{organization} HMIS Timestamping Authority", organization)
    builder = _end_entity(subject, key, issuer, now, lifetime)
    builder = builder.add_extension(_signing_usage(), critical=True)
    # RFC 3161 §2.3: a TSA certificate has exactly the timeStamping EKU, marked critical.
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
    )
    return builder.sign(issuer.key, hashes.SHA256())


def document_signer(
    subject: x509.Name,
    key: rsa.RSAPublicKey,
    issuer: Issuer,
    now: datetime,
    lifetime: timedelta,
    email: str = "",
) -> x509.Certificate:
    """A certificate for signing PDFs: the lead agency's seal or a person."""
    builder = _end_entity(subject, key, issuer, now, lifetime)
    builder = builder.add_extension(_signing_usage(), critical=True)
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    return builder.sign(issuer.key, hashes.SHA256())


def seal(
    organization: str,
    key: rsa.RSAPublicKey,
    issuer: Issuer,
    now: datetime,
    lifetime: timedelta = SEAL_LIFETIME,
) -> x509.Certificate:
    subject = name(f"{organization} HMIS Document Seal", organization)
    return document_signer(subject, key, issuer, now, lifetime)
