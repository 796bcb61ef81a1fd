"""The portal CA: made once, files protected, certificates as signers and verifiers need them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from portal.pki import IssuedIdentity, Pki, PkiError, init_pki
from portal.pki.files import read_key
from tests.support.pki import PKI_PASSPHRASE, SUITE_LEAD_AGENCY

ROOT = Path(__file__).resolve().parents[2]


def _cert(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_init_creates_every_file_once_and_keys_are_private(pki_dir, pki_passphrase):
    names = {p.name for p in pki_dir.glob("*.pem")}
    assert {"root-ca.pem", "issuing-ca.pem", "tsa.pem", "seal.pem"} <= names
    keys = sorted(p for p in pki_dir.glob("*.key.pem"))
    assert [k.name for k in keys] == [
        "issuing-ca.key.pem",
        "root-ca.key.pem",
        "seal.key.pem",
        "tsa.key.pem",
    ]
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
    before = {p.name: p.read_bytes() for p in pki_dir.glob("*.pem")}
    assert init_pki(pki_dir, pki_passphrase, organization=SUITE_LEAD_AGENCY) is False
    assert {p.name: p.read_bytes() for p in pki_dir.glob("*.pem")} == before


@pytest.fixture(scope="module")
def production_pki_dir(tmp_path_factory, pki_passphrase):
    """A PKI made by `flask pki init`: now, with the production lifetimes and the settings'
    lead agency name."""
    directory = tmp_path_factory.mktemp("production-pki")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PKI_", "LEAD_"))}
    env |= {
        "PORTAL_INSTANCE": str(tmp_path_factory.mktemp("pki-instance")),
        "PKI_DIR": str(directory),
        "PKI_PASSPHRASE": pki_passphrase.decode(),
        "LEAD_AGENCY_NAME": "Valley Housing Collaborative",
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "pki", "init"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Created certificate authority" in done.stdout
    return directory


def test_hierarchy_root_issuing_tsa_and_seal(production_pki_dir):
    pki_dir = production_pki_dir
    root, issuing = _cert(pki_dir / "root-ca.pem"), _cert(pki_dir / "issuing-ca.pem")
    tsa, seal = _cert(pki_dir / "tsa.pem"), _cert(pki_dir / "seal.pem")
    assert root.subject == root.issuer and issuing.issuer == root.subject
    assert isinstance(root.public_key(), rsa.RSAPublicKey) and root.public_key().key_size >= 3072
    root_years = (root.not_valid_after_utc - root.not_valid_before_utc).days / 365
    issuing_years = (issuing.not_valid_after_utc - issuing.not_valid_before_utc).days / 365
    assert 19.9 < root_years < 20.1 and 9.9 < issuing_years < 10.1
    tsa_years = (tsa.not_valid_after_utc - tsa.not_valid_before_utc).days / 365
    seal_years = (seal.not_valid_after_utc - seal.not_valid_before_utc).days / 365
    assert 7.9 < tsa_years < 8.1 and 4.9 < seal_years < 5.1
    issuing.verify_directly_issued_by(root)
    for leaf in (tsa, seal):
        leaf.verify_directly_issued_by(issuing)
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    org = seal.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    common_name = seal.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert org == "Valley Housing Collaborative"
    assert common_name == "Valley Housing Collaborative HMIS Document Seal"
    for cert in (root, issuing, tsa):
        names = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        assert [n.value for n in names] == ["Valley Housing Collaborative"]


def test_person_certificate_names_the_person(pki, pki_dir):
    now = datetime.now(UTC)
    issued = pki.issue_identity(
        common_name="Eve Director",
        title="Executive Director",
        organization="Hope & Harbor",
        email="ed@hope.test",
        now=now,
        password="Eve's own password",
    )
    cert = x509.load_pem_x509_certificate(issued.cert_pem)
    subject = {a.oid: a.value for a in cert.subject}
    assert subject[NameOID.COMMON_NAME] == "Eve Director"
    assert subject[NameOID.TITLE] == "Executive Director"
    assert subject[NameOID.ORGANIZATION_NAME] == "Hope & Harbor"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["ed@hope.test"]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert cert.public_key().key_size == 2048
    assert timedelta(days=3 * 365 - 1) < cert.not_valid_after_utc - now < timedelta(days=3 * 366)
    cert.verify_directly_issued_by(_cert(pki_dir / "issuing-ca.pem"))
    # The key is sealed under the person's password (tests/documents/test_sealed_keys.py),
    # not the PKI passphrase: it is no PEM key that passphrase opens.
    assert issued.key_kdf.startswith("argon2id$v=19$")
    for passphrase in (PKI_PASSPHRASE, None):
        with pytest.raises((TypeError, ValueError)):
            serialization.load_pem_private_key(issued.key_pem, password=passphrase)
    signer = pki.signer_for(issued, "Eve's own password")
    assert signer.signing_cert.subject.native["common_name"] == "Eve Director"


def test_signer_is_unsealed_each_time_and_never_kept(pki, director):
    first = pki.signer_for(director.identity, director.password)
    again = pki.signer_for(director.identity, director.password)
    assert again is not first
    assert first.signing_cert.subject.native["common_name"] == "Eve Director"
    with pytest.raises(PkiError, match="password does not open"):
        pki.signer_for(director.identity, "not Eve's password")


def test_wrong_passphrase_and_missing_files_are_plain_errors(pki_dir, tmp_path, director):
    with pytest.raises(PkiError, match=r"passphrase does not open .*issuing-ca\.key\.pem"):
        Pki.load(pki_dir, b"wrong")
    with pytest.raises(PkiError, match="no PKI in"):
        Pki.load(tmp_path / "nowhere", PKI_PASSPHRASE)
    other = Pki.load(pki_dir, PKI_PASSPHRASE)
    tampered = IssuedIdentity(director.identity.cert_pem, b"not a key", director.identity.key_kdf)
    with pytest.raises(PkiError, match="damaged"):
        other.signer_for(tampered, director.password)
    legacy = IssuedIdentity(director.identity.cert_pem, director.identity.key_pem)
    with pytest.raises(PkiError, match="instance passphrase"):
        other.signer_for(legacy, director.password)


def test_incomplete_pki_is_refused(pki_dir, tmp_path, pki_passphrase):
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "root-ca.pem").write_bytes((pki_dir / "root-ca.pem").read_bytes())
    with pytest.raises(PkiError, match="incomplete"):
        init_pki(partial, pki_passphrase, organization=SUITE_LEAD_AGENCY)


def test_issuing_ca_from_pkcs12(pki_dir, pki_passphrase, tmp_path):
    """Production may bring its own issuing CA: the key stays in the PKCS#12 file."""
    issuing = _cert(pki_dir / "issuing-ca.pem")
    root = _cert(pki_dir / "root-ca.pem")
    key = read_key(pki_dir / "issuing-ca.key.pem", pki_passphrase)
    p12 = tmp_path / "issuing.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"issuing", key, issuing, [root], serialization.BestAvailableEncryption(b"p12 secret")
        )
    )
    target = tmp_path / "from-p12"
    assert init_pki(
        target,
        b"other passphrase",
        organization=SUITE_LEAD_AGENCY,
        pkcs12_path=p12,
        pkcs12_passphrase=b"p12 secret",
    )
    assert (target / "root-ca.pem").read_bytes() == (pki_dir / "root-ca.pem").read_bytes()
    assert not (target / "issuing-ca.key.pem").exists()
    assert not (target / "root-ca.key.pem").exists()
    loaded = Pki.load(target, b"other passphrase", pkcs12_path=p12, pkcs12_passphrase=b"p12 secret")
    assert loaded.root_pem() == (pki_dir / "root-ca.pem").read_bytes()
    person = loaded.issue_identity(
        common_name="P",
        title="",
        organization="O",
        email="p@o.test",
        now=datetime.now(UTC),
        password="P's own password",
    )
    x509.load_pem_x509_certificate(person.cert_pem).verify_directly_issued_by(issuing)
    _cert(target / "seal.pem").verify_directly_issued_by(issuing)
    with pytest.raises(PkiError, match="issuing-ca.key.pem is missing"):
        Pki.load(target, b"other passphrase")
    with pytest.raises(PkiError, match="PKCS#12 passphrase does not open"):
        Pki.load(target, b"other passphrase", pkcs12_path=p12, pkcs12_passphrase=b"wrong")
