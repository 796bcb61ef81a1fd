"""PAdES signing of portal documents: certify on issue, approve per signer, seal certificates.

Every operation is one incremental update, so each earlier version stays recoverable and
verifiable. Signatures are PAdES B-LT: ETSI.CAdES.detached with an RFC 3161 timestamp, then
the validation data of the signer's and the TSA's chains (certificates and CRLs) in the DSS, as
the next incremental update. A final document gets a document timestamp on top (B-LTA,
`timestamp_document`), renewed before its TSA certificate expires (services.evidence).

Speed matters because a person waits on each signature: keys come pre-loaded from the Pki,
the signature space is reserved from a size computed once (so pyHanko does no dry-run
signature and no extra timestamp per document), and the visible stamp is one small page
drawn with reportlab (portal/documents/stamp.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from typing import TypeVar

from asn1crypto import cms
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import (
    MDPPerm,
    SigFieldSpec,
    SigSeedSubFilter,
    append_signature_field,
    enumerate_sig_fields,
)
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, PdfTimeStamper, SimpleSigner
from pyhanko.sign.timestamps import TimeStamper

from portal.documents import long_term
from portal.documents.stamp import PortalStampStyle
from portal.pki import Pki

T = TypeVar("T")

DIGEST = "sha256"
CERTIFICATION_FIELD = "certification"
SEAL_FIELD = "seal"

# Signed attributes, SignerInfo and DER headers come to about 500 bytes besides the issuer's
# name (counted separately); the certificates, signature value and timestamp token are
# counted exactly. The rest, plus 1/16 of the total, is margin for timestamp tokens that
# differ from the first one (nonce and serial lengths; a TSA that rotates certificates).
CMS_OVERHEAD = 800

TSA_STATUS_REUSE = timedelta(hours=1)

# Name, title, organization, and date and time with its zone, as the person will see them
# on the page, in the document's embedded fonts (any script; see portal/documents/stamp.py).
STAMP_STYLE = PortalStampStyle()


def run_sync(coroutine: Coroutine[object, object, T]) -> T:
    """Runs pyHanko's async API to completion from plain code.

    Inside a thread that already runs an event loop (an async server, Playwright's sync
    API), asyncio.run is refused, so the work goes to a short-lived worker thread instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


class SigningError(Exception):
    """A signature could not be applied; the message is fit to show a person."""


class TimestampError(SigningError):
    """The time-stamping authority did not deliver a timestamp."""


@dataclass(frozen=True)
class SignatureField:
    name: str
    page: int  # 0-based, -1 = last page
    box: tuple[float, float, float, float]  # PDF points: x1, y1, x2, y2


@dataclass(frozen=True)
class SignatureStamp:
    name: str
    title: str
    organization: str
    signed_on: str  # date and time with its zone, e.g. "November 24, 2026, 3:05 pm PST"


# The timestamp tokens received while one signature is being made, so that its DSS gets the
# chain of the TSA that actually answered (which may be external).
_tokens: ContextVar[list[cms.ContentInfo] | None] = ContextVar("tokens", default=None)


class _GuardedTimeStamper(TimeStamper):
    """Wraps the TSA so that any failure of it surfaces as TimestampError."""

    def __init__(self, inner: TimeStamper):
        super().__init__()
        self.inner = inner

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        try:
            token = await self.inner.async_timestamp(message_digest, md_algorithm)
        except Exception as exc:
            raise TimestampError(
                f"The signature could not be applied: the time-stamping service failed ({exc})."
            ) from exc
        collected = _tokens.get()
        if collected is not None:
            collected.append(token)
        return token


class _PortalPdfSigner(PdfSigner):
    """pyHanko's PdfSigner, without re-reading the certification on each approval.

    Before an approval, pyHanko parses the certification signature's whole CMS (about 8 ms)
    only to refuse a document certified with "no changes". The portal signs only documents
    it certified itself, always with FILL_FORMS (`DocumentSigner.certify`), and only their
    empty fields (`approve` checks), so that reading can never refuse; a certification
    still has to be the document's first signature (`certify` checks, before signing).
    """

    def _enforce_certification_constraints(self, reader) -> None:
        return None


class DocumentSigner:
    """Signs PDFs with the portal PKI. One per process; safe to share between threads.

    `timestamper` replaces the PKI's own TSA (e.g. an external RFC 3161 service, or a
    failing one in tests). `revocation` gives the current CRLs (DER) of the portal's CAs,
    embedded in the DSS after each signature; without it the DSS holds certificates only.
    `ocsp` answers a DER OCSP request with a DER response (the portal's responder): renewing
    a document's evidence embeds the status of each TSA certificate still in use.
    """

    def __init__(
        self,
        pki: Pki,
        *,
        timestamper: TimeStamper | None = None,
        revocation: Callable[[], list[bytes]] | None = None,
        ocsp: Callable[[bytes], bytes] | None = None,
    ):
        self.pki = pki
        self.timestamper = _GuardedTimeStamper(timestamper or pki.timestamper)
        self.own_tsa = timestamper is None
        self.revocation = revocation
        self.ocsp = ocsp
        self._tsa_answers: dict[bytes, tuple[list, datetime]] = {}
        self._reserved: dict[bytes, int] = {}

    def certify(
        self, pdf: bytes, *, fields: Sequence[SignatureField], reason: str, location: str = ""
    ) -> bytes:
        """Adds the empty signature fields and the seal's certification, in one update.

        DocMDP is FILL_FORMS: the named signers may sign their fields later, nothing else.
        """
        names = [f.name for f in fields]
        if CERTIFICATION_FIELD in names or len(set(names)) != len(names):
            raise SigningError("The signature could not be applied: field names must be unique.")

        writer, existing = self._open(pdf)
        if any(existing.values()) or CERTIFICATION_FIELD in existing:
            # A certification must be the document's first signature (ISO 32000).
            raise SigningError(
                "The signature could not be applied: the document is already signed."
            )
        try:
            for field in fields:
                spec = SigFieldSpec(field.name, on_page=field.page, box=field.box)
                append_signature_field(writer, spec)
        except Exception as exc:
            raise SigningError(f"The signature could not be applied: {exc}") from exc

        meta = PdfSignatureMetadata(
            field_name=CERTIFICATION_FIELD,
            certify=True,
            docmdp_permissions=MDPPerm.FILL_FORMS,
            reason=reason,
            location=location or None,
            md_algorithm=DIGEST,
            subfilter=SigSeedSubFilter.PADES,
        )
        return self._sign(writer, meta, self.pki.seal_signer, new_field=True)

    def approve(
        self,
        pdf: bytes,
        *,
        signer: SimpleSigner,
        field_name: str,
        stamp: SignatureStamp,
        reason: str,
    ) -> bytes:
        """Signs the empty field `field_name` with a visible stamp (approval signature)."""

        writer, existing = self._open(pdf)
        if field_name not in existing:
            raise SigningError(
                f"The signature could not be applied: the document has no field {field_name}."
            )
        if existing[field_name]:
            raise SigningError(
                f"The signature could not be applied: {field_name} is already signed."
            )

        meta = PdfSignatureMetadata(
            field_name=field_name,
            reason=reason,
            md_algorithm=DIGEST,
            subfilter=SigSeedSubFilter.PADES,
        )
        # Who signed is printed from the certificate that signs, so the page cannot
        # disagree with the signature; the stamp's own values only fill what it lacks.
        subject = signer.signing_cert.subject.native
        params = {
            "name": subject.get("common_name") or stamp.name,
            "title": subject.get("title") or stamp.title,
            "organization": subject.get("organization_name") or stamp.organization,
            "signed_on": stamp.signed_on,
        }
        return self._sign(writer, meta, signer, stamp_params=params)

    def seal(self, pdf: bytes, *, reason: str) -> bytes:
        """The lead agency's seal as an approval signature in a new invisible field."""
        writer, existing = self._open(pdf)
        name, n = SEAL_FIELD, 1
        while name in existing:
            n += 1
            name = f"{SEAL_FIELD}_{n}"
        meta = PdfSignatureMetadata(
            field_name=name, reason=reason, md_algorithm=DIGEST, subfilter=SigSeedSubFilter.PADES
        )
        return self._sign(writer, meta, self.pki.seal_signer, new_field=True)

    @staticmethod
    def _open(pdf: bytes) -> tuple[IncrementalPdfFileWriter, dict[str, bool]]:
        """A writer for the next revision, and the signature fields: name → already signed."""
        try:
            writer = IncrementalPdfFileWriter(BytesIO(pdf))
            fields = {name: value is not None for name, value, _ in enumerate_sig_fields(writer)}
        except Exception as exc:
            raise SigningError(
                f"The signature could not be applied: the file is not a readable PDF ({exc})."
            ) from exc
        return writer, fields

    def _sign(
        self,
        writer: IncrementalPdfFileWriter,
        meta: PdfSignatureMetadata,
        signer: SimpleSigner,
        *,
        new_field: bool = False,
        stamp_params: dict[str, str] | None = None,
    ) -> bytes:
        self._check_validity(signer)
        try:
            pdf_signer = _PortalPdfSigner(
                meta,
                signer,
                timestamper=self.timestamper,
                stamp_style=STAMP_STYLE,
                new_field_spec=SigFieldSpec(meta.field_name) if new_field else None,
            )
            # B-LT: the signer's chain and the TSA's, with the CRLs and the TSA's status, in
            # the DSS (no VRI). With the portal's own TSA all of it is known before signing,
            # so it goes into the signed revision itself (one update to write, not two);
            # an external TSA's chain is known only from its token, and follows it.
            own_tsa = [self.pki.tsa.cert] if self.own_tsa else []
            certs = [signer.signing_cert, *signer.cert_registry, *own_tsa]
            long_term.add_to_dss(writer, certs, self._crls(), self._tsa_status(own_tsa, certs))
            output, tokens = run_sync(
                self._run(pdf_signer, writer, signer, new_field, stamp_params)
            )
            known = {c.sha256 for c in certs} | {c.sha256 for c in self.pki.chain}
            tsa_certs = [c for token in tokens for c in long_term.token_certificates(token)]
            if any(c.sha256 not in known for c in tsa_certs):
                answered = [c for c in long_term.tsa_of(tokens) if c.sha256 not in known]
                certs += tsa_certs
                status = self._tsa_status(answered, certs)
                long_term.append_dss(output, certs, self._crls(), status)
        except SigningError:
            raise
        except Exception as exc:
            raise SigningError(f"The signature could not be applied: {exc}") from exc
        return output.getvalue()

    async def _run(
        self, pdf_signer, writer, signer, new_field, stamp_params
    ) -> tuple[BytesIO, list[cms.ContentInfo]]:
        tokens: list[cms.ContentInfo] = []
        _tokens.set(tokens)
        reserved = await self._bytes_reserved(signer)
        output = await pdf_signer.async_sign_pdf(
            writer,
            existing_fields_only=not new_field,
            bytes_reserved=reserved,
            appearance_text_params=stamp_params,
        )
        return output, tokens

    def _crls(self) -> list:
        return long_term.load_crls(self.revocation()) if self.revocation else []

    def timestamp_document(self, pdf: bytes) -> bytes:
        """B-LTA: adds to the DSS what the file's signatures and earlier document timestamps
        need (their certificates, the portal's chain, and revocation data: the current CRLs
        while every signer's certificate is valid, and the OCSP status of each certificate
        still valid; see portal/documents/long_term.py), then a document timestamp, in one
        incremental update; a second one when the TSA that answered was not yet covered."""
        writer, _ = self._open(pdf)
        try:
            self.pki.reload_tsa()  # a TSA certificate renewed by another process
            now = self.pki.clock()
            certs = [*long_term.document_certificates(writer), *self.pki.chain]
            signers = long_term.signer_certificates(writer)
            crls = self._crls() if all(long_term.valid_at(c, now) for c in signers) else []
            in_use = [c for c in certs if long_term.end_entity(c) and long_term.valid_at(c, now)]
            if self.own_tsa:
                in_use.append(self.pki.tsa.cert)
                certs.append(self.pki.tsa.cert)
            long_term.add_to_dss(writer, certs, crls, self._ocsps(in_use, certs))
            stamper = PdfTimeStamper(
                self.timestamper, field_name=long_term.timestamp_field_name(writer)
            )
            output, tokens = run_sync(self._stamp(stamper, writer))
            covered = {c.sha256 for c in in_use}
            answered = [c for c in long_term.tsa_of(tokens) if c.sha256 not in covered]
            token_certs = [c for token in tokens for c in long_term.token_certificates(token)]
            long_term.append_dss(output, token_certs, [], self._ocsps(answered, token_certs))
        except SigningError:
            raise
        except Exception as exc:
            raise SigningError(f"The document timestamp could not be applied: {exc}") from exc
        return output.getvalue()

    @staticmethod
    async def _stamp(stamper, writer) -> tuple[BytesIO, list[cms.ContentInfo]]:
        tokens: list[cms.ContentInfo] = []
        _tokens.set(tokens)
        output = await stamper.async_timestamp_pdf(writer, DIGEST)
        return output, tokens

    def _tsa_status(self, tsas: list, known: list) -> list:
        """The responder's answers about the TSAs that stamped this signature, reused for an
        hour: the TSA's status is answered for its certificate's whole life (see
        services.revocation), so that a signature's timestamp can still be judged years
        later from what the file carries, and asking for it on every signature would cost
        an issuing-CA signature each time."""
        answers = []
        for cert in tsas:
            cached = self._tsa_answers.get(cert.sha256)
            if cached is None or self.pki.clock() - cached[1] > TSA_STATUS_REUSE:
                cached = (self._ocsps([cert], known), self.pki.clock())
                self._tsa_answers[cert.sha256] = cached
            answers += cached[0]
        return answers

    def _ocsps(self, subjects: list, known: list) -> list:
        """OCSP responses about `subjects` from the portal's responder (none without one)."""
        if self.ocsp is None:
            return []
        responses = []
        for cert in {c.sha256: c for c in subjects}.values():
            request = long_term.ocsp_request(cert, known)
            response = long_term.load_ocsp(self.ocsp(request)) if request else None
            # A status still fresh after the certificate's end would make validators judge
            # the certificate after its end (see long_term): such an answer is left out.
            if response is not None and long_term.fresh_within_validity(response, cert):
                responses.append(response)
        return responses

    async def _bytes_reserved(self, signer: SimpleSigner) -> int:
        """Room for the CMS, from the signer's certificates, key size and a timestamp token.

        The token's size comes from one real timestamp, taken once and cached by pyHanko.
        Kept tight: each later signer and verifier parses this space again.
        """
        key = signer.signing_cert.sha256
        if key not in self._reserved:
            token = await self.timestamper.async_dummy_response(DIGEST)
            embedded = [signer.signing_cert] + [
                c for c in signer.cert_registry if signer.embed_roots or c.self_signed == "no"
            ]
            size = (
                sum(len(c.dump()) for c in embedded)
                + signer.signing_cert.public_key.byte_size
                + len(token.dump())
                + 2 * len(signer.signing_cert.issuer.dump())  # SignerInfo and ESS attribute
                + CMS_OVERHEAD
            )
            hex_size = 2 * (size + size // 16)  # the PDF holds the CMS as hex
            self._reserved[key] = (hex_size + 255) // 256 * 256
        return self._reserved[key]

    def _check_validity(self, signer: SimpleSigner) -> None:
        """A signature made outside the certificate's validity would never verify."""
        cert = signer.signing_cert
        now: datetime = self.pki.clock()
        validity = cert["tbs_certificate"]["validity"]
        not_before = validity["not_before"].native
        not_after = validity["not_after"].native
        if not not_before <= now <= not_after:
            raise SigningError(
                "The signature could not be applied: the signing certificate of "
                f"{cert.subject.human_friendly} is not valid now "
                f"({not_before:%Y-%m-%d} to {not_after:%Y-%m-%d})."
            )
