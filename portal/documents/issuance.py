"""Whether the portal issued each signature's certificate, and what its record says of it.

Chaining to the portal's root is not enough: whoever holds the CA key (an insider with the
server's files) can mint a certificate in anyone's name, and it chains just as well. A
signature counts as someone's only when its certificate is one the portal recorded issuing.

This module only compares. The service (portal/services/verification.py) gathers the
issued certificates and their revocations from the database and passes them in, so library
code stays free of it.

A revocation after the signing time leaves the signature valid (the certificate was good
when it signed); one in force at the signing time makes it invalid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from portal.documents.verify import OUT_OF_DATE, REVOKED, SignatureReport

HOLD = "certificate_hold"  # cryptography's x509.ReasonFlags name, as stored

UNISSUED_WORDS = (
    "This certificate chains to the portal's CA but the portal has no record of issuing it "
    "— it may be forged."
)

# RFC 5280 reasons (cryptography's ReasonFlags names), in words.
_REASONS = {
    "unspecified": "no reason given",
    "key_compromise": "key compromised",
    "ca_compromise": "certificate authority compromised",
    "affiliation_changed": "affiliation changed",
    "superseded": "superseded",
    "cessation_of_operation": "cessation of operation",
    HOLD: "on hold",
    "privilege_withdrawn": "privilege withdrawn",
    "aa_compromise": "attribute authority compromised",
    "remove_from_crl": "removed from the CRL",
}


@dataclass(frozen=True)
class Revocation:
    reason: str  # x509.ReasonFlags name, e.g. "affiliation_changed", "certificate_hold"
    why: str  # the portal's words, e.g. "The person left the agency"
    revoked_at: datetime
    released_at: datetime | None = None  # a hold that was lifted

    @property
    def is_hold(self) -> bool:
        return self.reason == HOLD

    def in_force_at(self, moment: datetime | None) -> bool:
        """Whether it applied at `moment`; None (no trusted signing time) means now."""
        if moment is None:
            return not (self.is_hold and self.released_at is not None)
        if self.revoked_at > moment:
            return False
        return not (self.is_hold and self.released_at is not None and self.released_at <= moment)

    @property
    def words(self) -> str:
        reason = _REASONS.get(self.reason, self.reason.replace("_", " "))
        why = f": {self.why}" if self.why else ""
        if self.is_hold:
            released = f", released on {_day(self.released_at)}" if self.released_at else ""
            return f"On hold from {_day(self.revoked_at)}{released}{why}"
        return f"Revoked on {_day(self.revoked_at)} ({reason}){why}"


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate the portal issued: to a person, or to its own seal or TSA."""

    cert_sha256: str  # hex SHA-256 of the certificate's DER (as in SignatureReport)
    holder: str  # e.g. "Maria Delgado (Northgate Housing)", "its document seal (SSF)"
    issued_at: datetime | None
    revocations: tuple[Revocation, ...] = ()


# The service's answer: every certificate it issued among a file's signatures, by DER SHA-256.
Issued = Mapping[str, IssuedCertificate]


def checked(s: SignatureReport) -> bool:
    """Whether issuance is judged for this row: a readable, sound signature (not a document
    timestamp) whose certificate chains to the portal's root."""
    chains = s.trusted or s.chain_problem in (REVOKED, OUT_OF_DATE)
    return not s.is_document_timestamp and s.readable and s.intact and s.valid and chains


def unissued(s: SignatureReport, issued: Issued | None) -> bool:
    """Chains to the portal's root, yet the portal has no record of issuing it."""
    return issued is not None and checked(s) and s.cert_sha256 not in issued


def signing_moment(s: SignatureReport) -> datetime | None:
    """When it was signed, as far as can be proven: its trusted timestamp, else unknown
    (a signer's own claim proves nothing, so a revocation in force now counts)."""
    return s.timestamp_time if s.timestamp_time is not None and s.timestamp_trusted else None


def revoked_when_signed(s: SignatureReport, issued: Issued | None) -> Revocation | None:
    """The portal's revocation (or hold) in force when this signature was made, if any."""
    record = issued.get(s.cert_sha256) if issued is not None and checked(s) else None
    if record is None:
        return None
    moment = signing_moment(s)
    in_force = [r for r in record.revocations if r.in_force_at(moment)]
    final = [r for r in in_force if not r.is_hold]
    return (final or in_force or [None])[0]


def issuance_words(s: SignatureReport, issued: Issued | None) -> str | None:
    """The row's "Portal record" line; None when not judged (no record given, a document
    timestamp, or a certificate that does not chain to the portal's root)."""
    if issued is None or not checked(s):
        return None
    record = issued.get(s.cert_sha256)
    if record is None:
        return UNISSUED_WORDS
    on = f" on {_day(record.issued_at)}" if record.issued_at else ""
    return f"Certificate issued by the portal to {record.holder}{on}"


def revocation_words(s: SignatureReport, issued: Issued | None) -> str | None:
    """The certificate's revocations on record and what each means for this signature."""
    record = issued.get(s.cert_sha256) if issued is not None and checked(s) else None
    if record is None or not record.revocations:
        return None
    moment = signing_moment(s)
    parts = []
    for r in record.revocations:
        if r.in_force_at(moment) and moment is None:
            effect = (
                "in force, and without a trusted timestamp nothing shows this was signed "
                "before it, so the signature is not valid"
            )
        elif r.in_force_at(moment):
            effect = "in force when this was signed, so the signature is not valid"
        elif moment is not None and r.revoked_at > moment:
            effect = "after this was signed, so the signature stays valid"
        elif moment is not None:
            effect = "lifted before this was signed"
        else:
            effect = "since lifted"
        parts.append(f"{r.words} — {effect}.")
    return " ".join(parts)


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "an unknown date"
