"""The CA, timestamping and seal keys in an HSM (SoftHSM2 through PKCS#11): what they sign
validates, and the keys cannot be read out of the token."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509 import ocsp
from pkcs11 import Attribute, ObjectClass
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from portal.documents.signing import DocumentSigner, SignatureStamp
from portal.pki import Pki, PkiError, files, init_pki, revocation
from portal.pki.hsm import HsmSigner, Token, TokenSettings
from tests.documents.conftest import AGENCY_FIELD, three_page_pdf
from tests.support.pki import PKI_PASSPHRASE, SUITE_LEAD_AGENCY, SUITE_PKI_FROM, SUITE_PKI_LIFETIMES

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
SOFTHSM_UTIL = shutil.which("softhsm2-util")
PIN = "1234"
LIBRARY_TOKEN = "portal-test"  # used in this process, through the library
CLI_TOKEN = "portal-cli"  # used by `flask pki init --hsm` in a child process
LABELS = (files.ISSUING, files.TSA, files.SEAL)
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (os.path.exists(MODULE) and SOFTHSM_UTIL),
    reason="SoftHSM2 is not installed (Debian: softhsm2), so there is no PKCS#11 token to test",
)


@pytest.fixture(scope="module")
def softhsm(tmp_path_factory) -> dict[str, str]:
    """A SoftHSM2 configuration with two fresh tokens, set for this process; its environment."""
    tokens = tmp_path_factory.mktemp("softhsm-tokens")
    conf = tokens.parent / f"{tokens.name}.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    env = {"SOFTHSM2_CONF": str(conf)}
    for label in (LIBRARY_TOKEN, CLI_TOKEN):
        subprocess.run(
            [SOFTHSM_UTIL, "--init-token", "--free", "--label", label, "--pin", PIN]
            + ["--so-pin", "5678"],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(conf))
        # SoftHSM reads its configuration when the module is initialised: start it afresh in
        # case this process loaded it before with another one.
        pkcs11.lib(MODULE).reinitialize()
        yield env


@pytest.fixture(scope="module")
def token(softhsm) -> Token:
    opened = Token.open(TokenSettings(MODULE, LIBRARY_TOKEN, PIN))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def hsm_pki_dir(tmp_path_factory, token) -> Path:
    directory = tmp_path_factory.mktemp("hsm-pki")
    assert init_pki(
        directory,
        PKI_PASSPHRASE,
        organization=SUITE_LEAD_AGENCY,
        now=SUITE_PKI_FROM,
        lifetimes=SUITE_PKI_LIFETIMES,
        base_url="http://portal.test",
        token=token,
    )
    return directory


@pytest.fixture(scope="module")
def hsm_pki(hsm_pki_dir, token) -> Pki:
    return Pki.load(hsm_pki_dir, PKI_PASSPHRASE, token=token, base_url="http://portal.test")


def _cert(path: Path) -> x509.Certificate:
    return files.read_certs(path)[0]


def test_the_directory_holds_certificates_and_no_issuing_tsa_or_seal_key(hsm_pki_dir, hsm_pki):
    assert sorted(p.name for p in hsm_pki_dir.glob("*.key.pem")) == ["root-ca.key.pem"]
    assert "portal-test" in (hsm_pki_dir / "keys-in-hsm.txt").read_text()
    assert isinstance(hsm_pki.seal_signer, HsmSigner)
    # Without the token settings, the portal says where the keys are.
    with pytest.raises(PkiError, match="PKI_PKCS11_MODULE"):
        Pki.load(hsm_pki_dir, PKI_PASSPHRASE)


def test_the_keys_cannot_leave_the_token(hsm_pki, softhsm):
    # Checked through a session of its own, not through the portal's code (the process is
    # logged in already: PKCS#11 logs in an application, not a session).
    with pkcs11.lib(MODULE).get_token(token_label=LIBRARY_TOKEN).open() as session:
        for label in LABELS:
            (key,) = session.get_objects(
                {Attribute.LABEL: label, Attribute.CLASS: ObjectClass.PRIVATE_KEY}
            )
            assert key[Attribute.EXTRACTABLE] is False, label
            assert key[Attribute.SENSITIVE] is True, label
            assert key[Attribute.NEVER_EXTRACTABLE] is True, label
            assert key[Attribute.ALWAYS_SENSITIVE] is True, label
            with pytest.raises(pkcs11.AttributeSensitive):
                key[Attribute.PRIVATE_EXPONENT]


def test_certificates_signed_in_the_hsm_verify(hsm_pki_dir, hsm_pki, tmp_path):
    root, issuing = _cert(hsm_pki_dir / "root-ca.pem"), _cert(hsm_pki_dir / "issuing-ca.pem")
    identity = hsm_pki.issue_identity(
        common_name="Eve Director",
        title="Executive Director",
        organization="Hope & Harbor",
        email="ed@hope.test",
        now=datetime.now(UTC),
        password="a long enough password",
    )
    person = x509.load_pem_x509_certificate(identity.cert_pem)
    issuing.verify_directly_issued_by(root)
    for leaf in (_cert(hsm_pki_dir / "tsa.pem"), _cert(hsm_pki_dir / "seal.pem"), person):
        leaf.verify_directly_issued_by(issuing)
        leaf_path = tmp_path / "leaf.pem"
        leaf_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        done = subprocess.run(
            ["openssl", "verify", "-CAfile", hsm_pki_dir / "root-ca.pem"]
            + ["-untrusted", hsm_pki_dir / "issuing-ca.pem", "-purpose", "any", leaf_path],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 and done.stdout.strip().endswith(": OK"), done.stderr


def test_crls_and_ocsp_answers_signed_in_the_hsm_verify(hsm_pki_dir, hsm_pki, tmp_path):
    issuing = _cert(hsm_pki_dir / "issuing-ca.pem")
    now = datetime.now(UTC)
    held = revocation.RevokedEntry(77, now - timedelta(hours=1), x509.ReasonFlags.key_compromise)
    crl = x509.load_der_x509_crl(hsm_pki.issuing_crl([held], now))
    assert crl.is_signature_valid(issuing.public_key())
    assert crl.get_revoked_certificate_by_serial_number(77) is not None
    crl_path = tmp_path / "issuing.crl"
    crl_path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    done = subprocess.run(
        ["openssl", "crl", "-in", crl_path, "-CAfile", hsm_pki_dir / "issuing-ca.pem", "-noout"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "verify OK" in done.stdout + done.stderr

    seal = _cert(hsm_pki_dir / "seal.pem")
    request = ocsp.OCSPRequestBuilder().add_certificate(seal, issuing, hashes.SHA256()).build()
    answer = ocsp.load_der_ocsp_response(
        hsm_pki.ocsp(
            request.public_bytes(serialization.Encoding.DER), lambda _: revocation.GOOD, now
        )
    )
    assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    issuing.public_key().verify(  # type: ignore[call-arg]
        answer.signature, answer.tbs_response_bytes, PKCS1v15(), hashes.SHA256()
    )
    key_id = issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert answer.responder_key_hash == key_id.digest


def test_a_document_sealed_and_timestamped_in_the_hsm_validates(hsm_pki):
    signer = DocumentSigner(hsm_pki)
    certified = signer.certify(three_page_pdf(), fields=[AGENCY_FIELD], reason="Issued")
    identity = hsm_pki.issue_identity(
        common_name="Eve Director",
        title="Executive Director",
        organization="Hope & Harbor",
        email="ed@hope.test",
        now=datetime.now(UTC),
        password="a long enough password",
    )
    signed = signer.approve(
        certified,
        signer=hsm_pki.signer_for(identity, "a long enough password"),
        field_name=AGENCY_FIELD.name,
        stamp=SignatureStamp("Eve Director", "Executive Director", "Hope & Harbor", "today"),
        reason="Partner agency signs",
    )
    reader = PdfFileReader(BytesIO(signed))
    context = ValidationContext(trust_roots=hsm_pki.trust_roots)
    seal, person = reader.embedded_signatures
    for embedded in (seal, person):
        status = validate_pdf_signature(
            embedded, signer_validation_context=context, ts_validation_context=context
        )
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        stamp = status.timestamp_validity
        assert stamp is not None and stamp.intact and stamp.valid and stamp.trusted
        assert stamp.signing_cert.subject == hsm_pki.tsa.cert.subject
    assert seal.signer_cert.subject == hsm_pki.seal_signer.signing_cert.subject


def test_another_pki_cannot_take_over_the_keys_of_a_token(token, hsm_pki, tmp_path):
    with pytest.raises(PkiError, match="already holds a key labelled 'issuing-ca'"):
        init_pki(tmp_path / "second", PKI_PASSPHRASE, organization="Other", token=token)


def test_flask_pki_init_hsm_with_an_offline_root(softhsm, tmp_path):
    """The command makes the keys in the token and writes the root key out; the portal then
    loads its PKI from the token through the settings, and signs."""
    pki_dir, offline = tmp_path / "pki", tmp_path / "usb" / "root-ca.key.pem"
    offline.parent.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PKI_", "LEAD_"))}
    settings = {
        "PKI_DIR": str(pki_dir),
        "PKI_PASSPHRASE": PKI_PASSPHRASE.decode(),
        "PKI_PKCS11_MODULE": MODULE,
        "PKI_PKCS11_TOKEN_LABEL": CLI_TOKEN,
        "PKI_PKCS11_PIN": PIN,
    }
    env |= softhsm | settings | {"PORTAL_INSTANCE": str(tmp_path / "instance")}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "pki", "init", "--hsm"]
    done = subprocess.run(
        [*command, "--offline-root", str(offline)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Created certificate authority" in done.stdout
    assert f"PKCS#11 token '{CLI_TOKEN}'" in done.stdout and str(offline) in done.stdout
    assert list(pki_dir.glob("*.key.pem")) == [] and offline.exists()

    from flask_migrate import upgrade

    from portal import create_app, runtime
    from portal.config import Config

    app = create_app(
        Config(
            instance_path=tmp_path / "instance",
            TESTING=True,
            SECRET_KEY="test",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'portal.db'}",
            **settings,
        )
    )
    with app.app_context():
        upgrade()  # the signer reads the revoked certificates for the DSS
        loaded = runtime.pki()
        assert isinstance(loaded.seal_signer, HsmSigner)
        sealed = runtime.signer().seal(three_page_pdf(), reason="Sealed")
    (embedded,) = PdfFileReader(BytesIO(sealed)).embedded_signatures
    context = ValidationContext(trust_roots=loaded.trust_roots)
    status = validate_pdf_signature(embedded, context, ts_validation_context=context)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()


def test_a_forked_worker_signs_through_a_session_of_its_own(hsm_pki, hsm_pki_dir):
    """Web workers and the scheduler's children are forked after the PKI may be loaded;
    PKCS#11 sessions do not survive a fork, so each child opens its own."""
    seal_key = hsm_pki.seal_signer.key
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        code = 1
        try:
            os.write(write, seal_key.sign(b"signed in the child", hashes.SHA256()))
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    signature = os.read(read, 4096)
    os.close(read)
    assert os.waitpid(child, 0)[1] == 0
    seal = _cert(hsm_pki_dir / "seal.pem")
    seal.public_key().verify(  # type: ignore[call-arg]
        signature, b"signed in the child", PKCS1v15(), hashes.SHA256()
    )
    # The parent's own session is untouched.
    seal.public_key().verify(  # type: ignore[call-arg]
        seal_key.sign(b"and in the parent", hashes.SHA256()),
        b"and in the parent",
        PKCS1v15(),
        hashes.SHA256(),
    )
