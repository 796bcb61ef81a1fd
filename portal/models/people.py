"""People who log in, their invitations and their signing identities."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime
from workflows import parties

# Each role's badge on pages; the roles themselves, and which belong to the lead agency, are
# defined once in workflows.parties. Labels name the role, not the lead agency (its name is
# the LEAD_AGENCY_NAME setting).
ROLE_LABELS = {
    "ssf_admin": "Lead agency HMIS admin",
    "ssf_signatory": "Lead agency signatory",
    "auditor": "Auditor",
    "agency_ed": "Executive director",
    "agency_security_officer": "Security officer",
    "agency_user": "HMIS user",
}
if ROLE_LABELS.keys() != parties.ROLE_NAMES.keys():
    raise RuntimeError("Every role in workflows.parties needs a label here, and no other.")


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(40))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Consent to do business electronically, given once, before the first signature.
    esign_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    esign_consent_ip: Mapped[str | None] = mapped_column(String(64))
    # Sign-in security (issue "access that stays right"): failed attempts since the last
    # success, a lockout's end, the password's age, and two-factor sign-in.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(255))  # encrypted at rest
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why and when the account was deactivated (idle, separation, lapse…); None if active.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    agency = relationship("Agency", back_populates="people", foreign_keys=[agency_id])

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive accounts
        return self.active

    @property
    def is_lead(self) -> bool:
        return self.role in parties.LEAD_ROLES

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class Invitation(db.Model):
    """A one-time link to set a password. Only the token's hash is stored."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "invitation" (a first password) or "reset" (forgot password).
    purpose: Mapped[str] = mapped_column(
        String(20), default="invitation", server_default="invitation"
    )

    user = relationship("User")


class SigningIdentity(db.Model):
    """A person's certificate from the portal CA, and its private key (encrypted).

    A new identity is issued when the person's name, title or agency changes, so every
    certificate says what was true when it signed.
    """

    __tablename__ = "signing_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    common_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    organization: Mapped[str] = mapped_column(String(200))
    cert_pem: Mapped[bytes] = mapped_column(LargeBinary)
    key_pem: Mapped[bytes] = mapped_column(LargeBinary)
    cert_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # The certificate's serial number in hex, as the CRL and OCSP responder name it.
    serial_hex: Mapped[str] = mapped_column(String(64), default="", index=True)
    # How key_pem is protected: "" for the instance passphrase (identities issued before keys
    # were sealed under their owner's password), else the argon2id parameters and salt that
    # turn the owner's password into the key that opens it.
    key_kdf: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it stopped being used, in words (see services.identities.retire).
    retired_reason: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class CertificateRevocation(db.Model):
    """A certificate the portal's issuing CA revoked or put on hold (RFC 5280 reasons).

    The CRL and the OCSP responder read this table. A hold (reason "certificate_hold") is
    released by setting released_at: the certificate is then good again. Every other reason
    is final.
    """

    __tablename__ = "certificate_revocation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial_hex: Mapped[str] = mapped_column(String(64), index=True)
    cert_sha256: Mapped[str] = mapped_column(String(64), index=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("signing_identity.id"), index=True)
    # cryptography's x509.ReasonFlags value, e.g. "affiliation_changed", "certificate_hold".
    reason: Mapped[str] = mapped_column(String(40))
    why: Mapped[str] = mapped_column(Text, default="")
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
