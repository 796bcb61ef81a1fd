"""One overall verdict on a PDF, drawn once from its verification report and the record.

The page, `flask verify` and the API all show this verdict first, so a reader never has to
add up rows to know whether to trust a file. When several things are wrong the most serious
one is the verdict and every one is a finding.

`flask verify` exits 0 only for VALID_ON_RECORD: a file whose signatures are all in order
but which the portal never stored is worth a second look (it may be a copy from another
instance, or signed outside the portal with keys taken from it), so it exits 3; every
other verdict exits 1 (2 stays click's own "bad usage").

A certificate that chains to the portal's root but that the portal has no record of issuing
(minted with the CA key by someone holding the server's files) is UNISSUED_CERTIFICATE, as
serious as an unknown CA; the record comes from the service (portal/documents/issuance.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from pyhanko.sign.fields import MDPPerm

from portal.documents import issuance
from portal.documents.issuance import Issued
from portal.documents.verify import (
    OUT_OF_DATE,
    PERMISSIONS,
    REVOKED,
    UNKNOWN_CA,
    SignatureReport,
    VerificationReport,
)


class Verdict(enum.Enum):
    """From the most serious down; `value` is the stable name the API returns."""

    NOT_SIGNED = "not_signed"
    BYTES_CHANGED = "bytes_changed"
    CHANGED_AFTER_SIGNING = "changed_after_signing"
    UNKNOWN_CA = "unknown_ca"
    UNISSUED_CERTIFICATE = "unissued_certificate"
    CERTIFICATE_PROBLEM = "certificate_problem"
    BYTES_APPENDED = "bytes_appended"
    VALID_NOT_ON_RECORD = "valid_not_on_record"
    VALID_ON_RECORD = "valid_on_record"

    @property
    def headline(self) -> str:
        return HEADLINES[self]

    @property
    def valid(self) -> bool:
        return self in (Verdict.VALID_ON_RECORD, Verdict.VALID_NOT_ON_RECORD)

    @property
    def tone(self) -> str:
        """success, warning or danger: for colour, always beside words that say the same."""
        if self is Verdict.VALID_ON_RECORD:
            return "success"
        return "warning" if self is Verdict.VALID_NOT_ON_RECORD else "danger"

    @property
    def exit_code(self) -> int:
        if self is Verdict.VALID_ON_RECORD:
            return 0
        return 3 if self is Verdict.VALID_NOT_ON_RECORD else 1


HEADLINES = {
    Verdict.NOT_SIGNED: "Not verifiable: this file carries no readable signatures",
    Verdict.BYTES_CHANGED: "Broken: the signed bytes were changed",
    Verdict.CHANGED_AFTER_SIGNING: "Not valid: the document was changed after signing",
    Verdict.UNKNOWN_CA: "Not valid: signed under an unknown certificate authority",
    Verdict.UNISSUED_CERTIFICATE: (
        "Not valid: a signer's certificate was never issued by the portal (it may be forged)"
    ),
    Verdict.CERTIFICATE_PROBLEM: "Not valid: a signer's certificate was not in good standing",
    Verdict.BYTES_APPENDED: "Not valid: unsigned bytes were added after the signed document",
    Verdict.VALID_NOT_ON_RECORD: "Valid signatures, but this file is not on record",
    Verdict.VALID_ON_RECORD: "Valid and on record",
}


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    explanation: str  # one or two sentences under the headline
    findings: tuple[str, ...]  # every problem, in plain words, most serious first

    @property
    def headline(self) -> str:
        return self.verdict.headline


def judge(report: VerificationReport, on_record: bool, issued: Issued | None = None) -> Judgement:
    """`issued`: the certificates the portal issued among the file's signatures (from its
    records, portal/services/verification.py); None when there is no record to ask, and then
    whether each certificate was issued is not judged."""
    signatures = report.rows  # document timestamps are judged like signatures
    findings = _findings(report, issued)
    if not signatures:
        reason = report.error or "This file carries no digital signatures."
        return Judgement(Verdict.NOT_SIGNED, reason, findings)
    if any(not s.readable for s in signatures):
        return Judgement(
            Verdict.BYTES_CHANGED,
            "A signature's data is damaged and could not be read, so nothing it covers can be "
            "relied on.",
            findings,
        )
    if any(not s.intact for s in signatures):
        return Judgement(
            Verdict.BYTES_CHANGED,
            "The file's bytes no longer match what was signed: a signature's digest does not "
            "match the document. Do not rely on its content.",
            findings,
        )
    if any(not s.valid for s in signatures):
        return Judgement(
            Verdict.BYTES_CHANGED,
            "A signature's own bytes were changed: its value does not verify against the "
            "signer's certificate. Do not rely on this file.",
            findings,
        )
    if report.changes or any(not s.modifications_permitted for s in signatures):
        return Judgement(
            Verdict.CHANGED_AFTER_SIGNING,
            "The signatures themselves are intact, but a later revision changed the document "
            "in a way its signatures did not allow.",
            findings,
        )
    if any(s.chain_problem == UNKNOWN_CA for s in signatures):
        return Judgement(
            Verdict.UNKNOWN_CA,
            "The signed bytes are intact, but at least one signature was made with a "
            "certificate the portal's certificate authority did not issue. Anyone can make "
            "such a certificate in any name.",
            findings,
        )
    if any(issuance.unissued(s, issued) for s in signatures):
        return Judgement(
            Verdict.UNISSUED_CERTIFICATE,
            "The signed bytes are intact and the certificate chains to the portal's "
            "certificate authority, but the portal has no record of issuing it to anyone. "
            "Whoever holds the authority's key could have made it in any name.",
            findings,
        )
    revoked = any(issuance.revoked_when_signed(s, issued) for s in signatures)
    if revoked or any(
        not s.trusted or (s.timestamp_time and not s.timestamp_trusted) for s in signatures
    ):
        return Judgement(
            Verdict.CERTIFICATE_PROBLEM,
            "The signed bytes are intact, but a certificate or timestamp could not be trusted.",
            findings,
        )
    if report.appended_bytes and not on_record:
        return Judgement(
            Verdict.BYTES_APPENDED,
            "Every signature is intact and trusted, but bytes that no signature covers were "
            "added after the end of the signed document. The file is not the one that was "
            "signed.",
            findings,
        )
    if not on_record:
        return Judgement(
            Verdict.VALID_NOT_ON_RECORD,
            "Every signature is intact and trusted, but this exact file is not a document "
            "version the portal stored.",
            findings,
        )
    return Judgement(
        Verdict.VALID_ON_RECORD,
        "Every signature is intact and trusted, and this exact file is a document version "
        "the portal stored.",
        findings,
    )


def _findings(report: VerificationReport, issued: Issued | None) -> tuple[str, ...]:
    found: list[str] = []
    if report.error and not report.rows:
        found.append(report.error)
    for n, s in enumerate(report.rows, 1):
        for problem in s.problems:
            if problem.startswith("The document was changed afterwards"):
                continue  # said once, precisely, from report.changes below
            found.append(f"{kind(s)} {n} ({s.signer_name or 'unknown signer'}): {problem}")
        if issuance.unissued(s, issued) or issuance.revoked_when_signed(s, issued):
            # The same words as the row's status: what the portal's record says of it.
            found.append(
                f"{kind(s)} {n} ({s.signer_name or 'unknown signer'}): {_record_problem(s, issued)}"
            )
    found.extend(report.changes)
    if report.appended_bytes:
        found.append(appended_words(report.appended_bytes))
    return tuple(found)


def appended_words(count: int) -> str:
    return (
        f"{count} byte{'s' if count != 1 else ''} follow the end of the PDF (after its last "
        "%%EOF marker); no signature covers them."
    )


def kind(s: SignatureReport) -> str:
    if s.is_document_timestamp:
        return "Document timestamp"
    return "Certification" if s.is_certification else "Signature"


def status_words(s: SignatureReport, issued: Issued | None = None) -> str:
    """The row's one-line state: "In order" or what is wrong, first problem first."""
    problems = list(s.problems)
    if record_problem := _record_problem(s, issued):
        problems.append(record_problem)
    if not problems:
        return "In order" if s.ok else "Not in order"
    return " ".join(problems)


def _record_problem(s: SignatureReport, issued: Issued | None) -> str | None:
    """What the portal's record of issued certificates finds wrong with this row, if anything."""
    if issuance.unissued(s, issued):
        return issuance.UNISSUED_WORDS
    if (revocation := issuance.revoked_when_signed(s, issued)) is not None:
        return f"The certificate was not in good standing when it signed: {revocation.words}."
    return None


def chain_words(s: SignatureReport) -> str:
    if s.trusted:
        return "Yes: chains to the portal's root certificate authority"
    if not s.intact or not s.readable:
        return "Not checked: the signature itself is broken"
    return {
        UNKNOWN_CA: "No: not issued under the portal's root certificate authority",
        REVOKED: "No: the certificate was revoked",
        OUT_OF_DATE: "No: the certificate was expired or not yet valid",
    }.get(s.chain_problem or "", "No: the chain could not be validated")


def permission_words(s: SignatureReport) -> str | None:
    if not s.docmdp_level:
        return None
    return PERMISSIONS.get(MDPPerm[s.docmdp_level], s.docmdp_level)


def format_text(
    report: VerificationReport,
    judgement: Judgement,
    record_line: str | None = None,
    issued: Issued | None = None,
) -> str:
    """Plain text for `flask verify`: the verdict first, then the findings and each row."""
    lines = [f"Verdict: {judgement.headline}", f"  {judgement.explanation}"]
    lines += [f"  - {finding}" for finding in judgement.findings]
    if record_line:
        lines.append(record_line)
    lines.append(f"SHA-256: {report.sha256}")
    for n, s in enumerate(report.rows, 1):
        who = ", ".join(p for p in (s.signer_name, s.signer_title, s.signer_organization) if p)
        lines.append(f"{kind(s)} {n} (field {s.field_name}, revision {s.revision}): {who or '?'}")
        if s.signer_email:
            lines.append(f"  E-mail: {s.signer_email}")
        lines.append(f"  Time: {_time_words(s)}")
        lines.append(f"  Certificate SHA-256: {s.cert_sha256 or 'unknown'}")
        lines.append(f"  Issued by: {s.issuer or 'unknown'}")
        lines.append(f"  Issuer certificate SHA-256: {s.issuer_sha256 or 'not included'}")
        lines.append(f"  Trusted: {chain_words(s)}")
        if issued_to := issuance.issuance_words(s, issued):
            lines.append(f"  Portal record: {issued_to}")
        if revocations := issuance.revocation_words(s, issued):
            lines.append(f"  Revocation: {revocations}")
        if permission := permission_words(s):
            lines.append(f"  DocMDP: {s.docmdp_level} ({permission})")
        if s.modification_summary:
            lines.append(f"  Later changes: {s.modification_summary}")
        lines.append(f"  Status: {status_words(s, issued)}")
    return "\n".join(lines)


def _time_words(s: SignatureReport) -> str:
    if s.timestamp_time is not None:
        trust = "trusted timestamp" if s.timestamp_trusted else "timestamp NOT trusted"
        return f"{_when(s.timestamp_time)} ({trust})"
    if s.signing_time is not None:
        return f"{_when(s.signing_time)} (claimed by the signer; no timestamp)"
    return "unknown"


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
