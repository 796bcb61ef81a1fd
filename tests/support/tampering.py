"""Ways a signed PDF goes wrong, made for real: a signature under a forger's own CA, a flipped
byte, a page drawn on after certification, bytes appended after %%EOF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from portal.documents.signing import run_sync

APPENDED = b"\n% appended after signing\n"


def _der(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _certificate(subject: str, issuer: str, key, signing_key, *, ca: bool) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signing_key, hashes.SHA256())
    )


class Forgery:
    """A root CA and a leaf certificate the forger made, named like the portal's."""

    def __init__(self, signer_name: str = "Maria Delgado") -> None:
        root_name = "Sacramento Steps Forward HMIS Root CA"
        root_key = ec.generate_private_key(ec.SECP256R1())
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        self.root = _der(_certificate(root_name, root_name, root_key, root_key, ca=True))
        self.leaf = _der(_certificate(signer_name, root_name, leaf_key, root_key, ca=False))
        pem = leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.signer = signers.SimpleSigner(
            signing_cert=self.leaf,
            signing_key=load_private_key_from_pemder_data(pem, None),
            cert_registry=SimpleCertificateStore.from_certs([self.root]),
        )

    def sign(self, pdf: bytes, field_name: str = "agency_signature") -> bytes:
        out = BytesIO()
        run_sync(
            signers.async_sign_pdf(
                IncrementalPdfFileWriter(BytesIO(pdf)),
                signers.PdfSignatureMetadata(field_name=field_name),
                signer=self.signer,
                output=out,
            )
        )
        return out.getvalue()


def byte_flipped(data: bytes) -> bytes:
    """One byte of the first revision's first stream flipped: inside every signed range."""
    changed = bytearray(data)
    first_eof = changed.index(b"%%EOF")
    target = changed.index(b"stream", 0, first_eof) + 20
    changed[target] ^= 0x01
    return bytes(changed)


def page_drawn_on(data: bytes, page_index: int = 0) -> bytes:
    """An incremental update that draws a red box on a page: new page content."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    box = writer.add_object(generic.StreamObject(stream_data=b"1 0 0 rg 72 400 300 60 re f"))
    writer.add_stream_to_page(page_index, box)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def appended(data: bytes) -> bytes:
    return data + APPENDED
