"""Checking the signatures in any PDF, offline, against the portal's trust roots.

`verify_pdf` never raises on bad input: whatever the bytes, it returns a report that says
what could be established. Fetching of revocation data is off (no network here).

A signature's certificate is checked at the time of its trusted timestamp when it has one
(point-in-time validation), so a document signed today still verifies after the signer's
certificate has expired.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from portal.documents.signing import run_sync

# An untrusted chain is an answer the report gives in words; pyHanko would also log a full
# traceback for it at WARNING, which buries real problems in the logs.
logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)

PERMISSIONS = {
    MDPPerm.NO_CHANGES: "no changes allowed",
    MDPPerm.FILL_FORMS: "form filling and signing allowed",
    MDPPerm.ANNOTATE: "form filling, signing and comments allowed",
}
CHANGES = {
    ModificationLevel.NONE: "no changes",
    ModificationLevel.LTA_UPDATES: "only validation data added",
    ModificationLevel.FORM_FILLING: "later signatures and form filling",
    ModificationLevel.ANNOTATIONS: "later signatures, form filling and comments",
    ModificationLevel.OTHER: "changes to the document's content",
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
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the signature is cryptographically sound
    trusted: bool  # the certificate chains to a trust root
    covers_whole_document: bool
    is_certification: bool
    docmdp_level: str | None  # MDPPerm name in force for this signature, e.g. "FILL_FORMS"
    modifications_permitted: bool  # later revisions only made permitted changes
    modification_summary: str
    revision: int  # 1 = the file's first revision

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


@dataclass(frozen=True)
class VerificationReport:
    sha256: str
    signatures: list[SignatureReport]
    error: str | None

    @property
    def all_valid(self) -> bool:
        """True when there is at least one signature and every one is fully in order."""
        return self.error is None and bool(self.signatures) and all(s.ok for s in self.signatures)


def verify_pdf(data: bytes, trust_roots: Sequence[x509.Certificate]) -> VerificationReport:
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        embedded = list(reader.embedded_regular_signatures)
    except Exception as exc:
        return VerificationReport(sha256, [], f"This file is not a readable PDF ({exc}).")
    if not embedded:
        return VerificationReport(sha256, [], "This PDF carries no digital signatures.")
    certification = _certification_level(embedded)
    reports = run_sync(_check_all(embedded, list(trust_roots), certification))
    broken = [r.field_name for r in reports if not r.intact or not r.valid]
    error = f"Signature check failed for: {', '.join(broken)}." if broken else None
    return VerificationReport(sha256, reports, error)


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
    embedded: list[EmbeddedPdfSignature],
    trust_roots: list[x509.Certificate],
    certification: MDPPerm | None,
) -> list[SignatureReport]:
    return [await _check(sig, trust_roots, certification) for sig in embedded]


async def _check(
    sig: EmbeddedPdfSignature, trust_roots: list[x509.Certificate], certification: MDPPerm | None
) -> SignatureReport:
    try:
        status = await _validate(sig, trust_roots)
    except Exception as exc:
        return _unreadable(sig, f"The signature could not be checked: {exc}")
    cert = status.signing_cert
    subject = cert.subject.native
    own_level = sig.docmdp_level
    level = own_level or certification
    ts = status.timestamp_validity
    permitted = _permitted(status, level)
    return SignatureReport(
        field_name=sig.field_name,
        signer_name=subject.get("common_name", ""),
        signer_title=subject.get("title", ""),
        signer_organization=subject.get("organization_name", ""),
        signer_email=_email(cert),
        issuer=cert.issuer.native.get("common_name") or cert.issuer.human_friendly,
        signing_time=status.signer_reported_dt,
        timestamp_time=ts.timestamp if ts is not None else None,
        timestamp_trusted=bool(ts and ts.intact and ts.valid and ts.trusted),
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        covers_whole_document=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        is_certification=_is_certification(sig),
        docmdp_level=level.name if level is not None else None,
        modifications_permitted=permitted,
        modification_summary=_summary(status, permitted),
        revision=sig.signed_revision + 1,
    )


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


def _permitted(status: PdfSignatureStatus, level: MDPPerm | None) -> bool:
    if not status.docmdp_ok:
        return False
    changes = status.modification_level
    # An approval signature carries no DocMDP of its own; the certification's applies.
    return level is None or changes is None or changes.value <= level.value


def _summary(status: PdfSignatureStatus, permitted: bool) -> str:
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return "Nothing was added after this signature."
    diff = status.diff_result
    if isinstance(diff, SuspiciousModification):
        return f"Later revisions made changes that are not permitted: {diff}"
    changes = status.modification_level
    described = CHANGES.get(changes, "unknown changes") if changes else "changes not analysed"
    verdict = "permitted" if permitted else "NOT permitted"
    return f"Later revisions: {described} ({verdict})."


def _email(cert: x509.Certificate) -> str:
    try:
        for general_name in cert.subject_alt_name_value or ():
            if general_name.name == "rfc822_name":
                return general_name.native
    except Exception:
        pass
    return cert.subject.native.get("email_address", "")


def _unreadable(sig: EmbeddedPdfSignature, message: str) -> SignatureReport:
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
        modification_summary=message,
        revision=revision,
    )


def format_report(report: VerificationReport) -> str:
    """Plain text lines for the `flask verify` command."""
    lines = [f"SHA-256: {report.sha256}"]
    if report.error:
        lines.append(f"Problem: {report.error}")
    for n, s in enumerate(report.signatures, 1):
        kind = "Certification" if s.is_certification else "Signature"
        who = ", ".join(
            part for part in (s.signer_name, s.signer_title, s.signer_organization) if part
        )
        lines.append(
            f"{kind} {n} (field {s.field_name}, revision {s.revision}): {who or 'unknown'}"
        )
        if s.signer_email:
            lines.append(f"  E-mail: {s.signer_email}")
        lines.append(f"  Issued by: {s.issuer or 'unknown'}")
        lines.append(f"  Signing time (claimed): {_when(s.signing_time)}")
        if s.timestamp_time:
            trust = "trusted" if s.timestamp_trusted else "NOT trusted"
            lines.append(f"  Timestamp: {_when(s.timestamp_time)} ({trust})")
        else:
            lines.append("  Timestamp: none")
        lines.append(f"  Intact: {_yes(s.intact and s.valid)}   Trusted: {_yes(s.trusted)}")
        if s.docmdp_level:
            permission = PERMISSIONS.get(MDPPerm[s.docmdp_level], s.docmdp_level)
            lines.append(f"  DocMDP: {s.docmdp_level} ({permission})")
        lines.append(f"  Later changes: {s.modification_summary}")
        lines.append(f"  Verdict: {'VALID' if s.ok else 'NOT VALID'}")
    if report.signatures:
        lines.append(
            "All signatures valid." if report.all_valid else "NOT all signatures are valid."
        )
    return "\n".join(lines)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "unknown"


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"
