"""Checking the signatures in any PDF, offline, against the portal's trust roots.

`verify_pdf` never raises on bad input: whatever the bytes, it returns a report that says
what could be established, in plain words (never pyHanko's exception text). Fetching of
revocation data is off (no network here). Document timestamps are reported beside the
signatures; they, and revisions that only add validation data (a DSS), are normal.

A signature's certificate is checked at the time of its trusted timestamp when it has one
(point-in-time validation), so a document signed today still verifies after the signer's
certificate has expired.

The overall verdict is drawn from this report in portal/documents/verdict.py.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from portal.documents.changes import ChangeCheck, appended_bytes, check_changes
from portal.documents.signing import run_sync

# An untrusted chain or a suspicious revision is an answer the report gives in words;
# pyHanko would also log a full traceback for each at WARNING, which buries real problems.
for _name in ("pyhanko.sign.validation.generic_cms", "pyhanko.sign.diff_analysis"):
    logging.getLogger(_name).setLevel(logging.ERROR)

PERMISSIONS = {
    MDPPerm.NO_CHANGES: "no changes allowed",
    MDPPerm.FILL_FORMS: "form filling and signing allowed",
    MDPPerm.ANNOTATE: "form filling, signing and comments allowed",
}

# Why a certificate is not trusted, from pyHanko's AdES sub-indication.
UNKNOWN_CA = "unknown_ca"
REVOKED = "revoked"
OUT_OF_DATE = "out_of_date"
CHAIN_FAILED = "chain_failed"
_CHAIN_PROBLEMS = {
    AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND: UNKNOWN_CA,
    AdESFailure.REVOKED: REVOKED,
    AdESIndeterminate.REVOKED_NO_POE: REVOKED,
    AdESIndeterminate.REVOKED_CA_NO_POE: REVOKED,
    AdESIndeterminate.EXPIRED: OUT_OF_DATE,
    AdESIndeterminate.NOT_YET_VALID: OUT_OF_DATE,
    AdESFailure.NOT_YET_VALID: OUT_OF_DATE,
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE: OUT_OF_DATE,
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED: OUT_OF_DATE,
}
CHAIN_WORDS = {
    UNKNOWN_CA: "The certificate was not issued under the portal's root certificate authority.",
    REVOKED: "The certificate had been revoked.",
    OUT_OF_DATE: "The certificate was expired or not yet valid at the time of signing.",
    CHAIN_FAILED: "The certificate chain to the portal's root could not be validated.",
}


@dataclass(frozen=True)
class SignatureReport:
    field_name: str
    signer_name: str
    signer_title: str
    signer_organization: str
    signer_email: str
    issuer: str
    signing_time: datetime | None  # as claimed by the signer
    timestamp_time: datetime | None  # from the RFC 3161 timestamp token
    timestamp_trusted: bool
    intact: bool  # the signed bytes are unchanged (the digest matches)
    valid: bool  # the signature is cryptographically sound
    trusted: bool  # the certificate chains to a trust root
    covers_whole_document: bool
    is_certification: bool
    docmdp_level: str | None  # MDPPerm name in force for this signature, e.g. "FILL_FORMS"
    modifications_permitted: bool  # later revisions only made permitted changes
    modification_summary: str
    revision: int  # 1 = the file's first revision
    is_document_timestamp: bool = False
    cert_sha256: str = ""  # hex SHA-256 of the signer's certificate (DER)
    serial_hex: str = ""  # its serial number in lower-case hex, as the portal stores it
    issuer_sha256: str = ""  # hex SHA-256 of the issuer's certificate, when it can be found
    chain_problem: str | None = None  # UNKNOWN_CA, REVOKED, OUT_OF_DATE, CHAIN_FAILED
    readable: bool = True  # False: the signature's data could not be parsed at all

    @property
    def ok(self) -> bool:
        timestamp_ok = self.timestamp_time is None or self.timestamp_trusted
        return (
            self.intact
            and self.valid
            and self.trusted
            and timestamp_ok
            and self.modifications_permitted
        )

    @property
    def time(self) -> datetime | None:
        """When it was signed: the trusted timestamp if there is one, else the signer's claim."""
        if self.timestamp_time is not None and self.timestamp_trusted:
            return self.timestamp_time
        return self.signing_time

    @property
    def problems(self) -> list[str]:
        """What is wrong with this signature, in plain words (empty when it is in order)."""
        if not self.readable:
            return ["The signature's data could not be read, so nothing could be checked."]
        if not self.intact:
            return [
                "The signed bytes were changed: the document's digest does not match "
                "the digest this signature covers."
            ]
        found = []
        if not self.valid:
            found.append("The signature value does not match the signer's certificate.")
        if not self.trusted:
            found.append(CHAIN_WORDS[self.chain_problem or CHAIN_FAILED])
        if self.timestamp_time is not None and not self.timestamp_trusted:
            found.append("The timestamp is not from a trusted timestamp authority.")
        if not self.modifications_permitted:
            found.append("The document was changed afterwards in a way that was not permitted.")
        return found


@dataclass(frozen=True)
class VerificationReport:
    sha256: str
    signatures: list[SignatureReport]  # people's and the seal's; no document timestamps
    error: str | None
    appended_bytes: int = 0  # bytes after the last %%EOF: in no revision, under no signature
    changes: tuple[str, ...] = ()  # each change that was not permitted, in plain words
    document_timestamps: list[SignatureReport] = field(default_factory=list)

    @property
    def rows(self) -> list[SignatureReport]:
        """Signatures and document timestamps together, in the order they were added."""
        return sorted([*self.signatures, *self.document_timestamps], key=lambda r: r.revision)

    @property
    def all_valid(self) -> bool:
        """True when there is at least one signature and every row is fully in order."""
        return self.error is None and bool(self.signatures) and all(s.ok for s in self.rows)


def verify_pdf(data: bytes, trust_roots: Sequence[x509.Certificate]) -> VerificationReport:
    sha256 = hashlib.sha256(data).hexdigest()
    appended = appended_bytes(data)
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception:
        return VerificationReport(sha256, [], "This file is not a readable PDF.", appended)
    if not embedded:
        return VerificationReport(sha256, [], "This PDF carries no digital signatures.", appended)
    certification = _certification_level(embedded)
    checks = run_sync(_check_all(reader, embedded, list(trust_roots), certification))
    reports = [report for report, _ in checks]
    changes = tuple(dict.fromkeys(words for _, change in checks for words in change.findings))
    broken = [r.field_name for r in reports if not r.intact or not r.valid]
    error = f"Signature check failed for: {', '.join(broken)}." if broken else None
    signatures = [r for r in reports if not r.is_document_timestamp]
    stamps = [r for r in reports if r.is_document_timestamp]
    return VerificationReport(sha256, signatures, error, appended, changes, stamps)


def _certification_level(embedded: list[EmbeddedPdfSignature]) -> MDPPerm | None:
    for sig in embedded:
        if _is_certification(sig):
            return sig.docmdp_level
    return None


def _is_certification(sig: EmbeddedPdfSignature) -> bool:
    try:
        references = sig.sig_object.get("/Reference", ())
        return any(ref.get("/TransformMethod") == "/DocMDP" for ref in references)
    except Exception:
        return False


async def _check_all(
    reader: PdfFileReader,
    embedded: list[EmbeddedPdfSignature],
    trust_roots: list[x509.Certificate],
    certification: MDPPerm | None,
) -> list[tuple[SignatureReport, ChangeCheck]]:
    return [await _check(reader, sig, trust_roots, certification) for sig in embedded]


async def _check(
    reader: PdfFileReader,
    sig: EmbeddedPdfSignature,
    trust_roots: list[x509.Certificate],
    certification: MDPPerm | None,
) -> tuple[SignatureReport, ChangeCheck]:
    is_timestamp = sig.sig_object_type == "/DocTimeStamp"
    try:
        if is_timestamp:
            status = await async_validate_pdf_timestamp(
                sig, ValidationContext(trust_roots=trust_roots, allow_fetching=False)
            )
        else:
            status = await _validate(sig, trust_roots)
    except Exception:
        return _unreadable(sig), ChangeCheck(True, "")
    cert = status.signing_cert
    subject = cert.subject.native
    level = sig.docmdp_level or certification
    change = check_changes(reader, sig, status, level, certified=certification is not None)
    if is_timestamp:
        signing_time, ts_time, ts_trusted = None, status.timestamp, status.trusted
    else:
        ts = status.timestamp_validity
        signing_time = status.signer_reported_dt
        ts_time = ts.timestamp if ts is not None else None
        ts_trusted = bool(ts and ts.intact and ts.valid and ts.trusted)
    issuer_cert = _issuer_of(cert, sig, trust_roots)
    report = SignatureReport(
        field_name=sig.field_name,
        signer_name=subject.get("common_name", ""),
        signer_title=subject.get("title", ""),
        signer_organization=subject.get("organization_name", ""),
        signer_email=_email(cert),
        issuer=cert.issuer.native.get("common_name") or cert.issuer.human_friendly,
        signing_time=signing_time,
        timestamp_time=ts_time,
        timestamp_trusted=ts_trusted,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        # Validation data and document timestamps added after a signature (PAdES B-LT/LTA)
        # change nothing a person reads: the signature still covers the whole document.
        covers_whole_document=status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        or (change.permitted and status.modification_level == ModificationLevel.LTA_UPDATES),
        is_certification=_is_certification(sig),
        docmdp_level=level.name if level is not None else None,
        modifications_permitted=change.permitted,
        modification_summary=change.summary,
        revision=sig.signed_revision + 1,
        is_document_timestamp=is_timestamp,
        cert_sha256=cert.sha256.hex(),
        serial_hex=format(cert.serial_number, "x"),
        issuer_sha256=issuer_cert.sha256.hex() if issuer_cert is not None else "",
        chain_problem=None if status.trusted else _chain_problem(status),
    )
    return report, change


async def _validate(sig: EmbeddedPdfSignature, trust_roots: list[x509.Certificate]):
    now_context = ValidationContext(trust_roots=trust_roots, allow_fetching=False)
    stamped_at = _timestamp_time(sig)
    if stamped_at is None:
        return await async_validate_pdf_signature(sig, now_context)
    at_timestamp = ValidationContext(
        trust_roots=trust_roots, allow_fetching=False, moment=stamped_at
    )
    status = await async_validate_pdf_signature(
        sig, at_timestamp, ts_validation_context=now_context
    )
    ts = status.timestamp_validity
    if ts is None or not (ts.intact and ts.valid and ts.trusted):
        # An untrusted timestamp proves nothing about when: check the certificate as of now.
        status = await async_validate_pdf_signature(
            sig, ValidationContext(trust_roots=trust_roots, allow_fetching=False)
        )
    return status


def _timestamp_time(sig: EmbeddedPdfSignature) -> datetime | None:
    """The genTime claimed by the signature's timestamp token (checked later, not trusted yet)."""
    try:
        for attr in sig.signer_info["unsigned_attrs"]:
            if attr["type"].native == "signature_time_stamp_token":
                token = attr["values"][0]
                tst_info = token["content"]["encap_content_info"]["content"].parsed
                return tst_info["gen_time"].native
    except Exception:
        return None
    return None


def _chain_problem(status) -> str:
    indication = getattr(status, "trust_problem_indic", None)
    return _CHAIN_PROBLEMS.get(indication, CHAIN_FAILED)


def _issuer_of(
    cert: x509.Certificate, sig: EmbeddedPdfSignature, trust_roots: list[x509.Certificate]
) -> x509.Certificate | None:
    """The certificate that issued `cert`, from those the signature carries or the roots."""
    try:
        carried = [choice.chosen for choice in sig.signed_data["certificates"] or ()]
    except Exception:
        carried = []
    wanted_key = cert.authority_key_identifier
    for candidate in [*carried, *trust_roots]:
        if not isinstance(candidate, x509.Certificate) or candidate.subject != cert.issuer:
            continue
        if wanted_key is None or candidate.key_identifier in (None, wanted_key):
            return candidate
    return None


def _email(cert: x509.Certificate) -> str:
    try:
        for general_name in cert.subject_alt_name_value or ():
            if general_name.name == "rfc822_name":
                return general_name.native
    except Exception:
        pass
    return cert.subject.native.get("email_address", "")


def _unreadable(sig: EmbeddedPdfSignature) -> SignatureReport:
    """A signature whose CMS could not be evaluated at all: report it as broken."""
    try:
        name = sig.field_name
        revision = sig.signed_revision + 1
    except Exception:
        name, revision = "?", 0
    return SignatureReport(
        field_name=name,
        signer_name="",
        signer_title="",
        signer_organization="",
        signer_email="",
        issuer="",
        signing_time=None,
        timestamp_time=None,
        timestamp_trusted=False,
        intact=False,
        valid=False,
        trusted=False,
        covers_whole_document=False,
        is_certification=_is_certification(sig),
        docmdp_level=None,
        modifications_permitted=False,
        modification_summary="",
        revision=revision,
        readable=False,
    )
