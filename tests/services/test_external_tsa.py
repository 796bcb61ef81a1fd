"""TSA_URL: signing takes its timestamps from an external RFC 3161 service, here the portal's
own /tsa served by a second process; when that service is gone, nothing is signed or stored.

Marked `second_process`: it starts `flask --app wsgi run` beside the suite.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import tsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import find_unique_cms_attribute
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from portal import runtime
from portal.extensions import db
from portal.models import Agreement, DocumentVersion, Transition
from portal.services import agreement_signatures, documents
from portal.services.errors import ServiceError
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, agency_signed

pytestmark = pytest.mark.second_process

ROOT = Path(__file__).resolve().parents[2]
# The second process's policy: a token carrying it can only have come from that process (the
# suite's own TSA, in-process, uses the portal's default policy).
SERVICE_POLICY = "1.3.6.1.4.1.99999.3161"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class TsaService:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


@pytest.fixture
def tsa_service(tmp_path, pki_dir, pki_passphrase) -> Iterator[TsaService]:
    """The portal in a second process, on a free port of 127.0.0.1, with the suite's PKI."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PORTAL_"))}
    env.pop("SMTP_HOST", None)
    env.update(
        PORTAL_INSTANCE=str(tmp_path / "instance"),
        SECRET_KEY="the second process's secret, for this test only",
        PORTAL_ALLOW_SQLITE="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'second.db'}",
        PKI_DIR=str(pki_dir),
        PKI_PASSPHRASE=pki_passphrase.decode(),
        TSA_POLICY_OID=SERVICE_POLICY,
    )
    log = tmp_path / "second.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run"]
            + ["--host", "127.0.0.1", "--port", str(port), "--no-reload"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    service = TsaService(f"http://127.0.0.1:{port}/tsa", process)
    try:
        _wait_until_answering(service, log)
        yield service
    finally:
        service.stop()  # however the test ended: no process outlives it


def _wait_until_answering(service: TsaService, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            pytest.fail(f"The second process exited:\n{log.read_text()[-3000:]}")
        try:
            probe = urllib.request.Request(
                service.url,
                data=b"",
                headers={"Content-Type": "application/timestamp-query"},
            )
            with urllib.request.urlopen(probe, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"The second process did not answer on /tsa:\n{log.read_text()[-3000:]}")


@pytest.fixture
def external_tsa(app, tsa_service) -> Iterator[TsaService]:
    """The app's signer pointed at the second process (TSA_URL), and back afterwards."""
    parts = app.extensions.setdefault("portal", {})
    app.config["TSA_URL"] = tsa_service.url
    parts.pop("signer", None)  # made again, with TSA_URL
    try:
        yield tsa_service
    finally:
        app.config["TSA_URL"] = None
        parts.pop("signer", None)


def _signature_timestamps(pdf: bytes) -> dict[str, tuple[str, bool]]:
    """Each signature's field → its timestamp's policy, and whether pyHanko trusts it."""
    pki = runtime.pki()
    found = {}
    for signature in PdfFileReader(BytesIO(pdf)).embedded_regular_signatures:
        context = ValidationContext(trust_roots=pki.trust_roots, allow_fetching=False)
        status = validate_pdf_signature(signature, context, ts_validation_context=context)
        assert status.intact and status.valid, status.pretty_print_details()
        timestamp = status.timestamp_validity
        assert timestamp is not None, f"{signature.field_name} has no timestamp"
        token = find_unique_cms_attribute(
            signature.signer_info["unsigned_attrs"], "signature_time_stamp_token"
        )
        info = token["content"]["encap_content_info"]["content"].parsed
        assert isinstance(info, tsp.TSTInfo)
        trusted = timestamp.intact and timestamp.valid and timestamp.trusted
        found[signature.field_name] = (info["policy"].dotted, trusted)
    return found


def test_signing_uses_the_external_tsa_and_fails_closed_without_it(app, cast, external_tsa):
    agreement = agency_signed(cast)  # certified and signed, both through the second process
    assert agreement.state == "agency_signed"
    signed = documents.read_bytes(agreement.document.versions[-1])
    stamps = _signature_timestamps(signed)
    assert set(stamps) >= {"certification", "agency_signature"}
    assert all(stamp == (SERVICE_POLICY, True) for stamp in stamps.values()), stamps

    external_tsa.stop()
    versions_before = db.session.scalar(db.select(db.func.count(DocumentVersion.id)))
    with pytest.raises(ServiceError, match="the time-stamping service failed") as refused:
        agreement_signatures.countersign(
            cast.signatory, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
        )
    assert "Nothing was signed" in str(refused.value)

    db.session.expire_all()
    again = db.session.get(Agreement, agreement.id)
    assert again.state == "agency_signed"
    assert len(again.document.versions) == len(agreement.document.versions)
    assert db.session.scalar(db.select(db.func.count(DocumentVersion.id))) == versions_before
    assert not db.session.scalars(
        db.select(Transition).where(
            Transition.case_id == agreement.id, Transition.event == "lead_countersigns"
        )
    ).all()
    assert again.effective_on is None
