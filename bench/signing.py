"""How long one approval signature (RSA-2048, with timestamp) takes through the portal's
DocumentSigner, against pyHanko's default path as a naive integrator would call it.

    .venv/bin/python bench/signing.py [--runs 30]

Both paths sign the same field of the same certified ~60 KB PDF, in the same run, with the
same throwaway PKI. The naive path loads the signer from its files on every signature and
lets pyHanko estimate the signature size (a dry-run signature); its time-stamper is built
once, outside the timed loop, which favours the naive side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.documents.signing import (  # noqa: E402
    DocumentSigner,
    SignatureField,
    SignatureStamp,
)
from portal.pki import Pki, init_pki  # noqa: E402

PASSPHRASE = b"bench passphrase"
FIELD = "agency_signature"
TARGET_RATIO = 0.35


def sample_pdf(pages: int = 10) -> bytes:
    """A plain text PDF, uncompressed so that ten pages come to about 60 KB."""
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, pageCompression=0, invariant=1)
    line = "The Partner Agency shall protect client data as the HMIS policies require."
    for page in range(1, pages + 1):
        text = pdf.beginText(54, 740)
        text.setFont("Helvetica", 9)
        for n in range(64):
            text.textLine(f"{page}.{n} {line}")
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def median_ms(runs: int, sign_once: Callable[[], bytes]) -> float:
    sign_once()  # warm-up: imports, first timestamp, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sign_once()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "pki"
        init_pki(directory, PASSPHRASE)
        pki = Pki.load(directory, PASSPHRASE)
        identity = pki.issue_identity(
            common_name="Eve Director",
            title="Executive Director",
            organization="Hope & Harbor Shelter",
            email="ed@hope.test",
            now=datetime.now(UTC),
        )
        key_file, cert_file = Path(tmp) / "person.key.pem", Path(tmp) / "person.pem"
        key_file.write_bytes(identity.key_pem)
        cert_file.write_bytes(identity.cert_pem)

        document = DocumentSigner(pki)
        plain = sample_pdf()
        box = (54.0, 60.0, 294.0, 120.0)
        certified = document.certify(
            plain, fields=[SignatureField(FIELD, -1, box)], reason="Issued for signature"
        )
        stamp = SignatureStamp("Eve Director", "Executive Director", "Hope & Harbor", "today")

        def portal() -> bytes:
            return document.approve(
                certified,
                signer=pki.signer_for(identity),
                field_name=FIELD,
                stamp=stamp,
                reason="Agency signs",
            )

        tsa = pki.timestamper  # its certificate and key, handed to pyHanko's own TSA class
        naive_tsa = DummyTimeStamper(
            tsa_cert=tsa.tsa_cert,
            tsa_key=tsa.tsa_key,
            certs_to_embed=SimpleCertificateStore.from_certs(pki.chain),
        )
        chain_files = [str(directory / "issuing-ca.pem"), str(directory / "root-ca.pem")]

        def naive() -> bytes:
            signer = signers.SimpleSigner.load(
                str(key_file),
                str(cert_file),
                ca_chain_files=chain_files,
                key_passphrase=PASSPHRASE,
            )
            out = signers.sign_pdf(
                IncrementalPdfFileWriter(BytesIO(certified)),
                signers.PdfSignatureMetadata(field_name=FIELD),
                signer=signer,
                timestamper=naive_tsa,
            )
            return out.getvalue()

        portal_ms = median_ms(args.runs, portal)
        naive_ms = median_ms(args.runs, naive)

    ratio = portal_ms / naive_ms
    print(f"PDF: {len(plain):,} bytes plain, {len(certified):,} bytes certified; runs: {args.runs}")
    print(f"portal DocumentSigner.approve: median {portal_ms:.1f} ms")
    print(f"pyHanko default path:          median {naive_ms:.1f} ms")
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"ratio portal/naive: {ratio:.2f} ({verdict} the target of {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
