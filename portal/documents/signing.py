"""PAdES signing of portal documents: certify on issue, approve per signer, seal certificates.

Every operation is one incremental update, so each earlier version stays recoverable and
verifiable. Signatures are PAdES B-T (ETSI.CAdES.detached with an RFC 3161 timestamp).

Speed matters because a person waits on each signature: keys come pre-loaded from the Pki,
the signature space is reserved from a size computed once (so pyHanko does no dry-run
signature and no extra timestamp per document), and the visible stamp is plain text in a
standard font.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import TypeVar

from asn1crypto import cms
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign.fields import (
    MDPPerm,
    SigFieldSpec,
    SigSeedSubFilter,
    append_signature_field,
    enumerate_sig_fields,
)
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.stamp import TextStampStyle

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

# Name, title, organization and date, as the person will see them on the page.
STAMP_STYLE = TextStampStyle(
    stamp_text="Digitally signed by\n%(name)s\n%(title)s\n%(organization)s\nSigned %(signed_on)s",
    text_box_style=TextBoxStyle(font_size=9, leading=11),
    border_width=1,
    background=None,
)


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
    signed_on: str  # text shown, e.g. "November 24, 2026"


class _GuardedTimeStamper(TimeStamper):
    """Wraps the TSA so that any failure of it surfaces as TimestampError."""

    def __init__(self, inner: TimeStamper):
        super().__init__()
        self.inner = inner

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        try:
            return await self.inner.async_timestamp(message_digest, md_algorithm)
        except Exception as exc:
            raise TimestampError(
                f"The signature could not be applied: the time-stamping service failed ({exc})."
            ) from exc


class DocumentSigner:
    """Signs PDFs with the portal PKI. One per process; safe to share between threads.

    `timestamper` replaces the PKI's own TSA (e.g. an external RFC 3161 service, or a
    failing one in tests).
    """

    def __init__(self, pki: Pki, *, timestamper: TimeStamper | None = None):
        self.pki = pki
        self.timestamper = _GuardedTimeStamper(timestamper or pki.timestamper)
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
        params = {
            "name": stamp.name,
            "title": stamp.title,
            "organization": stamp.organization,
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
            pdf_signer = PdfSigner(
                meta,
                signer,
                timestamper=self.timestamper,
                stamp_style=STAMP_STYLE,
                new_field_spec=SigFieldSpec(meta.field_name) if new_field else None,
            )
            output = run_sync(self._run(pdf_signer, writer, signer, new_field, stamp_params))
        except SigningError:
            raise
        except Exception as exc:
            raise SigningError(f"The signature could not be applied: {exc}") from exc
        return output.getvalue()

    async def _run(self, pdf_signer, writer, signer, new_field, stamp_params) -> BytesIO:
        reserved = await self._bytes_reserved(signer)
        return await pdf_signer.async_sign_pdf(
            writer,
            existing_fields_only=not new_field,
            bytes_reserved=reserved,
            appearance_text_params=stamp_params,
        )

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
