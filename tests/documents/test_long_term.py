"""PAdES B-LT and B-LTA, checked by pyHanko's own validators years after signing, offline,
trusting only the root.

A PKI of its own, made at a fixed moment T, with a TSA certificate of six years and the usual
three-year personal certificates, shows what the evidence is worth once those have expired.
The CRLs and OCSP answers are made here with the PKI's issuing and root keys: the issuing
CA's valid for a week from the moment they are asked for, the offline root's until the
issuing CA ends, as the portal's own are.

What pyHanko (0.38, following ETSI EN 319 102-1) requires, and these tests show:
- The newest document timestamp is judged at the validation time, so its TSA's status must
  be fresh then: offline, a file validates only within a CRL's or OCSP answer's lifetime
  after its newest timestamp. Five years on, the file as archived does not validate; the
  same file re-timestamped two days before does (which is what `flask evidence refresh` does
  before the TSA certificate ends).
- A certificate is judged by the newest revocation data about it in the file: the renewal
  therefore adds no CRL once a signer's certificate has expired, and an OCSP answer only for
  certificates still valid, fresh no later than their end (long_term.py).
- `sign validate` reads no DSS: it fetches from the addresses in the certificates (the last
  test serves them on loopback); `sign adesverify` uses the file alone.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pyhanko.pdf_utils.reader import PdfFileReader

from portal.documents.long_term import evidence_until
from portal.documents.signing import DocumentSigner, SignatureStamp
from portal.pki import Pki, files, init_pki
from portal.pki.certificates import Lifetimes
from portal.pki.revocation import GOOD
from tests.documents.conftest import AGENCY_FIELD, LEAD_FIELD, three_page_pdf

PYHANKO = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "pyhanko")
PASSPHRASE = b"long-term test passphrase"
PASSWORD = "maria's own password"
YEAR = timedelta(days=365)
T = datetime(2026, 2, 2, 17, 0, tzinfo=UTC)  # when everything here is signed (see below)
LIFETIMES = Lifetimes(root=25 * YEAR, issuing=20 * YEAR, tsa=6 * YEAR, seal=8 * YEAR)
CRL_VALIDITY = timedelta(days=7)
# Where the certificates say their CRLs and OCSP responder are (validators use OCSP only for a
# certificate that names a responder). Nothing listens there: validation uses the file alone.
BASE_URL = "http://127.0.0.1:9"
PEOPLE = "people.pem"  # the people's certificates this test issued (for its OCSP answers)


def crls(directory: Path, now: datetime) -> list[bytes]:
    """[issuing CA CRL, root CRL] (DER), empty, from `now`: the issuing CA's for a week, the
    (offline) root's until the issuing CA certificate ends, as the portal's own are."""
    out = []
    issuing_end = files.read_certs(files.cert_path(directory, files.ISSUING))[0]
    for stem, valid_until in (
        (files.ISSUING, now + CRL_VALIDITY),
        (files.ROOT, issuing_end.not_valid_after_utc),
    ):
        cert = files.read_certs(files.cert_path(directory, stem))[0]
        key = files.read_key(files.key_path(directory, stem), PASSPHRASE)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(cert.subject)
            .last_update(now)
            .next_update(valid_until)
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                critical=False,
            )
        )
        crl = builder.sign(key, hashes.SHA256())
        out.append(crl.public_bytes(serialization.Encoding.DER))
    return out


@dataclass
class Archive:
    directory: Path
    pki: Pki
    signer: DocumentSigner
    final: bytes  # certified, signed by Maria Delgado, sealed, document-timestamped


def _signer(directory: Path) -> tuple[Pki, DocumentSigner]:
    """The PKI (its clock is the travelled system clock) and a signer embedding its CRLs and
    its OCSP answers (every certificate good)."""
    pki = Pki.load(directory, PASSPHRASE, base_url=BASE_URL)
    return pki, DocumentSigner(
        pki,
        revocation=lambda: crls(directory, datetime.now(UTC)),
        ocsp=lambda request: ocsp_answer(pki, directory, request),
    )


def ocsp_answer(pki: Pki, directory: Path, request: bytes) -> bytes:
    """The issuing CA's OCSP answer (good), fresh for a week but never past the end of the
    certificate it speaks of (the seal, a TSA certificate, or Maria's, found by serial)."""
    now = datetime.now(UTC)
    serial = ocsp.load_der_ocsp_request(request).serial_number
    issued = [
        cert
        for path in directory.glob("*.pem")
        if "-ca" not in path.name and not path.name.endswith(".key.pem")
        for cert in files.read_certs(path)
    ]
    [end] = [c.not_valid_after_utc for c in issued if c.serial_number == serial]
    validity = min(CRL_VALIDITY, end - now - timedelta(minutes=1))
    return pki.ocsp(request, lambda _serial: GOOD, now, validity)


@pytest.fixture
def archive(tmp_path) -> Archive:
    directory = tmp_path / "pki"
    with time_machine.travel(T, tick=False):
        init_pki(
            directory,
            PASSPHRASE,
            organization="Sacramento Steps Forward",
            lifetimes=LIFETIMES,
            base_url=BASE_URL,
        )
        pki, signer = _signer(directory)
        identity = pki.issue_identity(
            common_name="Maria Delgado",
            title="Executive Director",
            organization="Northgate Shelter",
            email="maria@northgate.test",
            now=T,
            password=PASSWORD,
        )
        (directory / PEOPLE).write_bytes(identity.cert_pem)
        certified = signer.certify(
            three_page_pdf(), fields=[AGENCY_FIELD, LEAD_FIELD], reason="Issued by the lead agency"
        )
        signed = signer.approve(
            certified,
            signer=pki.signer_for(identity, PASSWORD),
            field_name=AGENCY_FIELD.name,
            stamp=SignatureStamp(
                "Maria Delgado", "Executive Director", "Northgate Shelter", "March 15, 2027"
            ),
            reason="Signed for the agency",
        )
        sealed = signer.seal(signed, reason="Sealed by the lead agency")
        final = signer.timestamp_document(sealed)
    return Archive(directory, pki, signer, final)


def adesverify(pdf: bytes, root: Path, when: datetime, tmp_path: Path) -> dict[str, str]:
    """pyHanko's AdES verdict for each signature field at `when`: field name -> VALID, ..."""
    path = tmp_path / f"check-{when:%Y%m%d%H%M}.pdf"
    path.write_bytes(pdf)
    # Under faketime at `when` as well: pyHanko 0.38 starts the past validation of a
    # certificate from the wall clock rather than --validation-time (ades.py,
    # _build_and_past_validate_cert calls past_validate with init_control_time=None).
    result = subprocess.run(
        ["faketime", f"{when:%Y-%m-%d %H:%M:%S}", PYHANKO, "sign", "adesverify"]
        + ["--executive-summary", "--trust", str(root), "--trust-replace"]
        + ["--validation-time", when.isoformat(), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TZ": "UTC"},
    )
    verdicts = dict(
        (line.split(":")[0], line.rsplit(":", 1)[1])
        for line in result.stdout.splitlines()
        if line.count(":") >= 2
    )
    assert verdicts, result.stdout + result.stderr
    assert (result.returncode == 0) == all(v == "VALID" for v in verdicts.values())
    return verdicts


def _all_valid(verdicts: dict[str, str]) -> bool:
    return set(verdicts) == {"certification", AGENCY_FIELD.name, "seal"} and set(
        verdicts.values()
    ) == {"VALID"}


def _revisions(pdf: bytes) -> list[str]:
    """The type of each signature in the file, in order: /Sig or /DocTimeStamp."""
    reader = PdfFileReader(BytesIO(pdf))
    return [s.sig_object.get("/Type", "/Sig") for s in reader.embedded_signatures]


def test_every_signature_carries_its_validation_data_and_the_document_a_timestamp(
    archive, tmp_path
):
    root = archive.directory / "root-ca.pem"
    reader = PdfFileReader(BytesIO(archive.final))
    dss = reader.root["/DSS"]
    assert len(dss["/CRLs"]) >= 2 and len(dss["/Certs"]) >= 5  # chain, TSA, seal, Maria
    assert _revisions(archive.final) == ["/Sig", "/Sig", "/Sig", "/DocTimeStamp"]
    # Validated when signed, with nothing but the file and the root.
    assert _all_valid(adesverify(archive.final, root, T + timedelta(hours=1), tmp_path))
    # The recorded end of the evidence is the TSA certificate's.
    tsa = files.read_certs(archive.directory / "tsa.pem")[0]
    assert evidence_until(archive.final) == tsa.not_valid_after_utc == T + 6 * YEAR


def test_five_years_on_the_signatures_still_validate_though_their_certificates_expired(
    archive, tmp_path
):
    root = archive.directory / "root-ca.pem"
    five_years = T + 5 * YEAR
    # Maria's certificate ended after three years.
    maria = PdfFileReader(BytesIO(archive.final)).embedded_signatures[1].signer_cert
    assert maria["tbs_certificate"]["validity"]["not_after"].native < five_years
    # Offline, the newest timestamp needs revocation data fresh at the validation time.
    assert not _all_valid(adesverify(archive.final, root, five_years, tmp_path))
    # Re-timestamped two days before (its TSA certificate had a year left: renewed first).
    with time_machine.travel(five_years - timedelta(days=2), tick=False):
        pki, signer = _signer(archive.directory)
        assert pki.renew_tsa(margin=YEAR + 30 * timedelta(days=1))
        renewed = signer.timestamp_document(archive.final)
    assert renewed.startswith(archive.final)
    assert _revisions(renewed)[-2:] == ["/DocTimeStamp", "/DocTimeStamp"]
    assert _all_valid(adesverify(renewed, root, five_years, tmp_path))


def test_a_refresh_before_the_tsa_certificate_expires_keeps_the_evidence_past_it(archive, tmp_path):
    root = archive.directory / "root-ca.pem"
    expiry = evidence_until(archive.final)
    after = expiry + timedelta(days=1)
    assert not _all_valid(adesverify(archive.final, root, after, tmp_path))
    with time_machine.travel(expiry - timedelta(days=3), tick=False):
        old = files.read_certs(archive.directory / "tsa.pem")[0]
        pki, signer = _signer(archive.directory)
        assert pki.renew_tsa(margin=YEAR)
        refreshed = signer.timestamp_document(archive.final)
        # Run again, the certificate is no longer due, and the refreshed file's evidence
        # ends years later: there is nothing to renew.
        assert not pki.renew_tsa(margin=YEAR)
    new = files.read_certs(archive.directory / "tsa.pem")[0]
    assert new.serial_number != old.serial_number
    assert (archive.directory / f"tsa-{old.serial_number:x}.pem").exists()  # kept on record
    assert evidence_until(refreshed) == new.not_valid_after_utc > expiry + 5 * YEAR
    assert _all_valid(adesverify(refreshed, root, after, tmp_path))


class _Revocation(BaseHTTPRequestHandler):
    """The portal's /pki revocation addresses, answered from the test PKI: fresh CRLs, and
    OCSP answers (every certificate good)."""

    directory: Path
    pki: Pki

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        names = {"/pki/issuing-ca.crl": 0, "/pki/root-ca.crl": 1}
        if self.path not in names:
            self.send_error(404)
            return
        self._answer(
            "application/pkix-crl", crls(self.directory, datetime.now(UTC))[names[self.path]]
        )

    def do_POST(self) -> None:  # noqa: N802
        request = self.rfile.read(int(self.headers["Content-Length"]))
        self._answer("application/ocsp-response", ocsp_answer(self.pki, self.directory, request))

    def _answer(self, kind: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_pyhanko_validate_with_required_revocation_passes(tmp_path):
    """`pyhanko sign validate --force-revinfo` reads no DSS (only `adesverify` and pyHanko's
    LTV API do): it fetches the CRLs and OCSP answers the certificates point to. With only the
    portal's revocation addresses reachable (on loopback), every signature passes."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Revocation)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    directory = tmp_path / "pki"
    init_pki(directory, PASSPHRASE, organization="Sacramento Steps Forward", base_url=base_url)
    pki = Pki.load(directory, PASSPHRASE, base_url=base_url)
    signer = DocumentSigner(pki, revocation=lambda: crls(directory, datetime.now(UTC)))
    identity = pki.issue_identity(
        common_name="Maria Delgado",
        title="Executive Director",
        organization="Northgate Shelter",
        email="maria@northgate.test",
        now=datetime.now(UTC),
        password=PASSWORD,
    )
    (directory / PEOPLE).write_bytes(identity.cert_pem)
    certified = signer.certify(three_page_pdf(), fields=[AGENCY_FIELD, LEAD_FIELD], reason="Issued")
    signed = signer.approve(
        certified,
        signer=pki.signer_for(identity, PASSWORD),
        field_name=AGENCY_FIELD.name,
        stamp=SignatureStamp("Maria Delgado", "Executive Director", "Northgate", "today"),
        reason="Signed for the agency",
    )
    final = signer.timestamp_document(signer.seal(signed, reason="Sealed"))
    path = tmp_path / "final.pdf"
    path.write_bytes(final)
    _Revocation.directory, _Revocation.pki = directory, pki
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = subprocess.run(
            [PYHANKO, "sign", "validate", "--force-revinfo", "--trust"]
            + [str(directory / "root-ca.pem"), "--trust-replace", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.count(":") >= 2]
    assert [line.split(":")[0] for line in lines] == ["certification", AGENCY_FIELD.name, "seal"]
    assert all(":INTACT:TRUSTED," in line for line in lines), result.stdout
