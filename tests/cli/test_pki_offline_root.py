"""`flask pki init --offline-root PATH`: the root key goes to PATH, to be moved off the server,
and the portal runs, signs and issues identities with the issuing CA alone."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from portal.pki import files
from tests.documents.conftest import AGENCY_FIELD, three_page_pdf

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "offline root test passphrase"
PASSWORD = "the signer's own password"


def _pki_init(
    tmp_path: Path, *args: str, pki_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PKI_", "LEAD_"))}
    env |= {
        "PORTAL_INSTANCE": str(tmp_path / "instance"),
        "PKI_DIR": str(pki_dir or tmp_path / "pki"),
        "PKI_PASSPHRASE": PASSPHRASE,
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "pki", "init", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """A PKI made with --offline-root: (its directory, the root key's path, the run)."""
    tmp_path = tmp_path_factory.mktemp("offline-root")
    medium = tmp_path / "usb"
    medium.mkdir()
    key = medium / "root-ca.key.pem"
    done = _pki_init(tmp_path, "--offline-root", str(key))
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp_path / "pki", key, done


def test_the_root_key_is_written_at_the_path_and_not_in_the_pki_directory(offline):
    directory, key, done = offline
    assert "Created certificate authority" in done.stdout
    assert str(key) in done.stdout and "offline storage" in done.stdout
    assert not files.key_path(directory, files.ROOT).exists()
    assert sorted(p.name for p in directory.glob("*.key.pem")) == [
        "issuing-ca.key.pem",
        "seal.key.pem",
        "tsa.key.pem",
    ]
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes() and (key.stat().st_mode & 0o077) == 0
    root_key = files.read_key(key, PASSPHRASE.encode())
    root = files.read_certs(files.cert_path(directory, files.ROOT))[0]
    assert root.public_key().public_numbers() == root_key.public_key().public_numbers()
    # Signed at init while the root key was still in memory.
    crl = x509.load_der_x509_crl((directory / "root-ca.crl").read_bytes())
    assert crl.is_signature_valid(root.public_key())  # type: ignore[arg-type]


def test_the_portal_signs_and_issues_identities_without_the_root_key(offline, tmp_path):
    from flask_migrate import upgrade

    from portal import create_app, runtime
    from portal.config import Config
    from portal.documents.signing import SignatureStamp

    directory, _, _ = offline
    app = create_app(
        Config(
            instance_path=tmp_path / "instance",
            TESTING=True,
            SECRET_KEY="test",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'portal.db'}",
            PKI_DIR=str(directory),
            PKI_PASSPHRASE=PASSPHRASE,
        )
    )
    with app.app_context():
        upgrade()
        pki, signer = runtime.pki(), runtime.signer()
        identity = pki.issue_identity(
            common_name="Eve Director",
            title="Executive Director",
            organization="Hope & Harbor",
            email="ed@hope.test",
            now=datetime.now(UTC),
            password=PASSWORD,
        )
        certified = signer.certify(three_page_pdf(), fields=[AGENCY_FIELD], reason="Issued")
        signed = signer.approve(
            certified,
            signer=pki.signer_for(identity, PASSWORD),
            field_name=AGENCY_FIELD.name,
            stamp=SignatureStamp("Eve Director", "Executive Director", "Hope & Harbor", "today"),
            reason="Partner agency signs",
        )
        assert pki.root_crl() == (directory / "root-ca.crl").read_bytes()
    context = ValidationContext(trust_roots=pki.trust_roots)
    signatures = PdfFileReader(BytesIO(signed)).embedded_signatures
    assert len(signatures) == 2
    for embedded in signatures:
        status = validate_pdf_signature(embedded, context, ts_validation_context=context)
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()


def test_a_path_inside_the_pki_directory_is_refused(tmp_path):
    done = _pki_init(tmp_path, "--offline-root", str(tmp_path / "pki" / "root.key.pem"))
    assert done.returncode != 0
    assert "inside the PKI directory" in done.stderr
    assert not (tmp_path / "pki" / "root-ca.pem").exists()


def test_an_existing_ca_is_left_as_it_is(offline, tmp_path):
    directory, _, _ = offline
    before = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    done = _pki_init(
        tmp_path, "--offline-root", str(tmp_path / "elsewhere.key.pem"), pki_dir=directory
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Kept the existing certificate authority" in done.stdout
    assert "Nothing was changed" in done.stdout
    assert not (tmp_path / "elsewhere.key.pem").exists()
    after = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    assert after == before
