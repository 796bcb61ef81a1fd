"""Long-term validation data in portal PDFs: the DSS (PAdES B-LT) and document timestamps
(PAdES B-LTA).

A signature only stays verifiable once its certificates have expired if the file itself
carries what a verifier needs: every certificate up to the root and the CRLs that show none
was revoked (the DSS), sealed by a document timestamp whose own certificate is still valid.
Everything here is built from material the portal already holds (its chain, the certificates
embedded in each signature and timestamp token, the current CRLs), so nothing is fetched and
no certificate path is validated at signing time.

Renewing the evidence years later must not add a fresh CRL of the CA that issued people's
certificates: validators (pyHanko's ETSI EN 319 102-1 time slide) judge a certificate by the
newest revocation data about it in the file, and a CRL issued after a certificate expired
places its control time after that expiry, so the signature would no longer validate. The
renewal therefore adds the current CRLs only while every signer's certificate is still valid,
and always an OCSP response for each certificate still valid (the seal, the TSAs, recent
signers), which speaks of that certificate alone; and, for the same reason, only a response
whose nextUpdate is no later than the certificate's end (the responder caps it there).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from io import BytesIO

from asn1crypto import cms, crl, ocsp, x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as pyca_ocsp
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation.dss import DocumentSecurityStore

DOC_TIMESTAMP = "/DocTimeStamp"
TIMESTAMP_FIELD = "document_timestamp"


def load_crls(ders: Iterable[bytes]) -> list[crl.CertificateList]:
    return [crl.CertificateList.load(der) for der in ders]


def token_certificates(token: cms.ContentInfo) -> list[x509.Certificate]:
    """The certificates a CMS SignedData (a signature or a timestamp token) carries."""
    certificates = token["content"]["certificates"]
    if not certificates:
        return []
    return [c.chosen for c in certificates if c.name == "certificate"]


def _signature_tokens(signed_data: cms.SignedData) -> Iterator[cms.ContentInfo]:
    """The timestamp tokens in the unsigned attributes of each SignerInfo."""
    for signer_info in signed_data["signer_infos"]:
        for attribute in signer_info["unsigned_attrs"] or ():
            if attribute["type"].native == "signature_time_stamp_token":
                yield from attribute["values"]


def _signature_contents(writer) -> Iterator[tuple[bool, cms.ContentInfo]]:
    """(is a document timestamp, CMS) for each filled signature field."""
    for _name, value, _ref in enumerate_sig_fields(writer, filled_status=True):
        sig = value.get_object()
        contents = bytes(sig["/Contents"])
        # /Contents is zero-padded to the reserved size; asn1crypto stops at the DER's end.
        yield sig.get("/Type") == DOC_TIMESTAMP, cms.ContentInfo.load(contents, strict=False)


def document_certificates(writer: IncrementalPdfFileWriter) -> list[x509.Certificate]:
    """Every certificate embedded in the file's signatures, their timestamp tokens and its
    document timestamps (earlier timestamps' TSA chains included)."""
    found: list[x509.Certificate] = []
    for _is_timestamp, content in _signature_contents(writer):
        found.extend(token_certificates(content))
        for token in _signature_tokens(content["content"]):
            found.extend(token_certificates(token))
    return found


def signer_certificates(writer: IncrementalPdfFileWriter) -> list[x509.Certificate]:
    """The certificates embedded in the file's signatures (not its timestamps)."""
    found: list[x509.Certificate] = []
    for is_timestamp, content in _signature_contents(writer):
        if not is_timestamp:
            found.extend(token_certificates(content))
    return found


def tsa_certificates(writer: IncrementalPdfFileWriter) -> list[x509.Certificate]:
    """The certificate of every TSA that stamped the file (signature and document
    timestamps)."""
    found: list[x509.Certificate] = []
    for is_timestamp, content in _signature_contents(writer):
        tokens = [content] if is_timestamp else _signature_tokens(content["content"])
        found.extend(c for c in map(_tsa_certificate, tokens) if c is not None)
    return found


def end_entity(cert: x509.Certificate) -> bool:
    return not cert.ca and cert.self_signed == "no"


def valid_at(cert: x509.Certificate, moment: datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return validity["not_before"].native <= moment <= validity["not_after"].native


def ocsp_request(cert: x509.Certificate, known: Iterable[x509.Certificate]) -> bytes | None:
    """A DER OCSP request about `cert`, or None when its issuer is not among `known`."""
    issuer = next((c for c in known if c.subject == cert.issuer and c.sha256 != cert.sha256), None)
    if issuer is None:
        return None
    builder = pyca_ocsp.OCSPRequestBuilder().add_certificate(
        pyca_x509.load_der_x509_certificate(cert.dump()),
        pyca_x509.load_der_x509_certificate(issuer.dump()),
        hashes.SHA256(),
    )
    return builder.build().public_bytes(serialization.Encoding.DER)


def load_ocsp(der: bytes) -> ocsp.OCSPResponse | None:
    """The response, or None unless it is a successful one (nothing else is worth keeping)."""
    response = ocsp.OCSPResponse.load(der)
    return response if response["response_status"].native == "successful" else None


def fresh_within_validity(response: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    """Whether the response stops being fresh (its nextUpdate) no later than `cert` ends."""
    single = response.basic_ocsp_response["tbs_response_data"]["responses"][0]
    next_update = single["next_update"].native
    return next_update is not None and next_update <= cert.not_valid_after


def add_to_dss(
    writer: IncrementalPdfFileWriter,
    certs: Iterable[x509.Certificate],
    crls: Iterable[crl.CertificateList],
    ocsps: Iterable[ocsp.OCSPResponse] = (),
) -> bool:
    """Adds certificates, CRLs and OCSP responses to the document's DSS in `writer`'s
    revision (without VRI, which PAdES baseline does not need); False when it held all of
    them already."""
    dss = DocumentSecurityStore.supply_dss_in_writer(
        writer, None, certs=certs, crls=crls, ocsps=ocsps
    )
    return dss.modified


def append_dss(
    output: BytesIO,
    certs: Iterable[x509.Certificate],
    crls: Iterable[crl.CertificateList],
    ocsps: Iterable[ocsp.OCSPResponse] = (),
) -> None:
    """Appends the DSS additions to the signed PDF in `output` as its next incremental update
    (nothing when the DSS already had them all)."""
    writer = IncrementalPdfFileWriter(output)
    if add_to_dss(writer, certs, crls, ocsps):
        writer.write_in_place()


def timestamp_field_name(writer: IncrementalPdfFileWriter) -> str:
    taken = {name for name, _value, _ref in enumerate_sig_fields(writer)}
    n = 1
    while f"{TIMESTAMP_FIELD}_{n}" in taken:
        n += 1
    return f"{TIMESTAMP_FIELD}_{n}"


def _tsa_certificate(token: cms.ContentInfo) -> x509.Certificate | None:
    """The certificate that signed a timestamp token (matched by issuer and serial)."""
    signed_data = token["content"]
    sid = signed_data["signer_infos"][0]["sid"]
    for cert in token_certificates(token):
        if sid.name == "issuer_and_serial_number":
            if cert.issuer_serial == _issuer_serial(sid.chosen):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    return None


def _issuer_serial(ias: cms.IssuerAndSerialNumber) -> bytes:
    return ias["issuer"].sha256 + b":" + str(ias["serial_number"].native).encode("ascii")


def _gen_time(token: cms.ContentInfo) -> datetime:
    return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native


def tsa_of(tokens: Iterable[cms.ContentInfo]) -> list[x509.Certificate]:
    """The TSA certificate of each token (those it names and carries)."""
    return [c for c in map(_tsa_certificate, tokens) if c is not None]


def evidence_until(pdf: bytes) -> datetime | None:
    """How long the file's evidence holds: the notAfter of the TSA certificate of its newest
    timestamp (its last document timestamp, else its last signature's timestamp token)."""
    reader = PdfFileReader(BytesIO(pdf))
    tokens: list[cms.ContentInfo] = []
    for is_timestamp, content in _signature_contents(reader):  # type: ignore[arg-type]
        tokens.extend([content] if is_timestamp else _signature_tokens(content["content"]))
    if not tokens:
        return None
    newest = max(tokens, key=_gen_time)
    cert = _tsa_certificate(newest)
    return None if cert is None else cert["tbs_certificate"]["validity"]["not_after"].native
