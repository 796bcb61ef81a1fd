"""One PAdES B-LT approval signature through the portal, against pyHanko used naively.

    .venv/bin/python bench/signing.py [--runs 30]

Both paths make the same result on the same certified ~60 KB PDF, in the same run, with the
same throwaway PKI, timed pair by pair (portal, naive, portal, naive, …):

- portal: `DocumentSigner.approve` — the person's key unsealed from their password
  (argon2id), the portal's TSA in-process, and the DSS (certificates, CRLs and the TSA's
  OCSP status) from what the portal already holds;
- naive: `SimpleSigner.load` from key and certificate files for each signature,
  `embed_validation_info=True` (pyHanko validates the chain and fetches the CRLs from the
  addresses in the certificates), and the same TSA over RFC 3161 HTTP.

The TSA, CRLs and OCSP responder are served on 127.0.0.1 by this script, with the portal's
own code (portal.pki), at the addresses the certificates name.

Prints both medians and their ratio; the target is 0.3 or less.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
from portal.pki.revocation import GOOD, CertificateState  # noqa: E402

PASSPHRASE = b"bench passphrase"
PASSWORD = "Eve's own password"  # seals Eve's key, as the portal seals every person's key
FIELD = "agency_signature"
TARGET_RATIO = 0.3


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


class Published:
    """What the portal publishes over HTTP: its TSA, CRLs, OCSP answers and CA certificate."""

    def __init__(self, pki: Pki):
        self.pki = pki
        now = datetime.now(UTC)
        self.files = {
            "/pki/issuing-ca.crl": (pki.issuing_crl([], now), "application/pkix-crl"),
            "/pki/root-ca.crl": (pki.root_crl() or b"", "application/pkix-crl"),
            "/pki/issuing-ca.cer": (pki.chain[0].dump(), "application/pkix-cert"),
        }

    def state(self, serial: int) -> CertificateState:
        """Every certificate is good; the TSA's for its whole life, as the portal answers."""
        tsa = self.pki.tsa_not_after if serial == self.pki.tsa.cert.serial_number else None
        return CertificateState(issued=True, good_until=tsa) if tsa else GOOD

    def ocsp(self, request: bytes) -> bytes:
        return self.pki.ocsp(request, self.state, datetime.now(UTC))

    def crls(self) -> list[bytes]:
        return [self.files["/pki/issuing-ca.crl"][0], self.files["/pki/root-ca.crl"][0]]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        published = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _answer(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path not in published.files:
                    self.send_error(404)
                    return
                self._answer(*published.files[self.path])

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/tsa":
                    self._answer(published.pki.tsa.respond_der(body), "application/timestamp-reply")
                elif self.path == "/pki/ocsp":
                    self._answer(published.ocsp(body), "application/ocsp-response")
                else:
                    self.send_error(404)

        return Handler


def interleaved(runs: int, first, second) -> tuple[list[float], list[float]]:
    """Times `first` and `second` alternately, so both see the same machine conditions."""
    first(), second()  # warm-up: imports, first timestamp, caches
    a, b = [], []
    for _ in range(runs):
        for fn, times in ((first, a), (second, b)):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
    return a, b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "pki"
        init_pki(directory, PASSPHRASE, organization="Bench Lead Agency", base_url=base_url)
        pki = Pki.load(directory, PASSPHRASE, base_url=base_url)
        published = Published(pki)
        server.RequestHandlerClass = published.handler()
        threading.Thread(target=server.serve_forever, daemon=True).start()

        identity = pki.issue_identity(
            common_name="Eve Director",
            title="Executive Director",
            organization="Hope & Harbor Shelter",
            email="ed@hope.test",
            now=datetime.now(UTC),
            password=PASSWORD,
        )
        # pyHanko's naive path reads a PEM key file: the same key, written out once for it.
        key_file, cert_file = Path(tmp) / "person.key.pem", Path(tmp) / "person.pem"
        key_file.write_bytes(
            pki.signer_for(identity, PASSWORD).loaded_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(PASSPHRASE),
            )
        )
        cert_file.write_bytes(identity.cert_pem)

        document = DocumentSigner(pki, revocation=published.crls, ocsp=published.ocsp)
        plain = sample_pdf()
        box = (54.0, 60.0, 354.0, 134.0)
        certified = document.certify(
            plain, fields=[SignatureField(FIELD, -1, box)], reason="Issued for signature"
        )
        stamp = SignatureStamp("Eve Director", "Executive Director", "Hope & Harbor", "today")

        def portal() -> bytes:
            return document.approve(
                certified,
                # The portal unseals the key with the signer's password on every signature.
                signer=pki.signer_for(identity, PASSWORD),
                field_name=FIELD,
                stamp=stamp,
                reason="Agency signs",
            )

        naive_tsa = HTTPTimeStamper(f"{base_url}/tsa")
        chain_files = [str(directory / "issuing-ca.pem"), str(directory / "root-ca.pem")]

        def naive() -> bytes:
            signer = signers.SimpleSigner.load(
                str(key_file),
                str(cert_file),
                ca_chain_files=chain_files,
                key_passphrase=PASSPHRASE,
            )
            context = ValidationContext(trust_roots=[pki.trust_roots[0]], allow_fetching=True)
            out = signers.sign_pdf(
                IncrementalPdfFileWriter(BytesIO(certified)),
                signers.PdfSignatureMetadata(
                    field_name=FIELD, embed_validation_info=True, validation_context=context
                ),
                signer=signer,
                timestamper=naive_tsa,
            )
            return out.getvalue()

        portal_times, naive_times = interleaved(args.runs, portal, naive)
        server.shutdown()

    portal_ms, naive_ms = statistics.median(portal_times), statistics.median(naive_times)
    ratio = portal_ms / naive_ms
    print(f"PDF: {len(plain):,} bytes plain, {len(certified):,} bytes certified; runs: {args.runs}")
    print(f"portal B-LT signature (DocumentSigner.approve): median {portal_ms:.1f} ms")
    print(f"naive pyHanko (load, validate and fetch, HTTP TSA): median {naive_ms:.1f} ms")
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"ratio portal/naive: {ratio:.2f} ({verdict} the target of {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
