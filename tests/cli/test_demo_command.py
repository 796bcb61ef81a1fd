"""`flask demo --out DIR` plays the journey; its PDFs validate under pdfsig and pyHanko."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest

from tests.conftest import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """The demo's instance served on 127.0.0.1:port, where its certificates say their CRLs
    and OCSP responder are; returns once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/pki/root-ca.crl", timeout=2):
                return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.3)
    process.kill()
    raise AssertionError(f"the demo instance did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Iterator[Path]:
    """`flask demo` on an instance of its own, then that instance served on loopback, so
    relying parties (pdfsig, pyHanko) can reach its revocation addresses as they would the
    portal's."""
    out = tmp_path_factory.mktemp("demo")
    instance = tmp_path_factory.mktemp("demo-instance")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PORTAL_"))}
    env.pop("SMTP_HOST", None)
    env.update(
        PORTAL_INSTANCE=str(instance),
        PORTAL_BASE_URL=f"http://127.0.0.1:{port}",
        PORTAL_ALLOW_SQLITE="1",
        DATABASE_URL=f"sqlite:///{instance / 'demo.db'}",
        STORAGE_URL=(instance / "documents").as_uri(),
    )
    base = os.environ.get("TEST_DATABASE_URL")
    # On PostgreSQL the demo runs against a fresh database of its own (DATABASE_URL).
    with fresh_postgres_database(base) if base else nullcontext() as db_url:
        if db_url:
            env["DATABASE_URL"] = db_url
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "--out", str(out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        server = _serve(env, port, instance / "serve.log")
        try:
            yield out
        finally:
            server.terminate()
            server.wait(timeout=15)


def _final_agreement(out: Path) -> Path:
    return sorted(out.glob("*-agreement-v*.pdf"))[-1]


# pdfsig runs with -no-ocsp: poppler judges a certificate's revocation as of today, not as
# of the signature's timestamp, so the demo's people whose certificates were revoked later
# (Northgate's agreement is terminated) would read as revoked; pyHanko's checks below weigh
# revocation against the timestamp.
def _nssdb(tmp_path: Path, root: Path) -> str:
    db = tmp_path / "nss"
    db.mkdir()
    subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{db}"], check=True)
    subprocess.run(
        ["certutil", "-A", "-n", "root", "-t", "CT,C,C", "-i", str(root), "-d", f"sql:{db}"],
        check=True,
    )
    return f"sql:{db}"


def test_demo_writes_every_pdf_and_the_root(demo_out):
    names = sorted(p.name for p in demo_out.iterdir())
    assert "root-ca.pem" in names
    # River City's agreement, Northgate's first and the one that superseded it: 3 versions each.
    assert len([n for n in names if "-agreement-v" in n]) == 9
    assert len([n for n in names if "-certificate-v" in n]) == 3
    assert len([n for n in names if n.endswith("-notice-of-default.pdf")]) == 2
    assert len([n for n in names if n.endswith("-declaration-of-termination.pdf")]) == 1
    assert len([n for n in names if n.endswith("-notice-of-termination.pdf")]) == 1


NOTICE_TITLES = {
    "-notice-of-default.pdf": "Notice of Default",
    "-declaration-of-termination.pdf": "Declaration of Termination",
    "-notice-of-termination.pdf": "Notice of Termination",
}


def test_every_notice_is_titled_signed_valid_and_trusted(demo_out, tmp_path):
    from asn1crypto import pem, x509

    from portal.documents.verify import verify_pdf

    _, _, der = pem.unarmor((demo_out / "root-ca.pem").read_bytes())
    roots = [x509.Certificate.load(der)]
    nss = _nssdb(tmp_path, demo_out / "root-ca.pem")
    checked = 0
    for suffix, title in NOTICE_TITLES.items():
        for path in demo_out.glob(f"*{suffix}"):
            text = subprocess.run(
                ["pdftotext", str(path), "-"], capture_output=True, text=True
            ).stdout
            assert title in text
            report = verify_pdf(path.read_bytes(), roots)
            assert len(report.signatures) == 2 and report.all_valid, path.name
            out = subprocess.run(
                ["pdfsig", "-no-ocsp", "-nssdir", nss, str(path)],
                capture_output=True,
                text=True,
                timeout=120,
            ).stdout
            assert out.count("Signature Validation: Signature is Valid.") == 2, out
            assert out.count("Certificate Validation: Certificate is Trusted.") == 2, out
            checked += 1
    assert checked == 4


def test_final_agreement_has_three_valid_trusted_signatures_in_pdfsig(demo_out, tmp_path):
    nss = _nssdb(tmp_path, demo_out / "root-ca.pem")
    result = subprocess.run(
        ["pdfsig", "-no-ocsp", "-nssdir", nss, str(_final_agreement(demo_out))],
        capture_output=True,
        text=True,
    )
    out = result.stdout
    assert out.count("Signature Validation: Signature is Valid.") == 3, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 3, out


def test_final_agreement_validates_in_pyhanko(demo_out):
    from asn1crypto import pem, x509

    from portal.documents.verify import verify_pdf

    _, _, der = pem.unarmor((demo_out / "root-ca.pem").read_bytes())
    report = verify_pdf(_final_agreement(demo_out).read_bytes(), [x509.Certificate.load(der)])
    assert len(report.signatures) == 3
    assert report.signatures[0].is_certification
    assert all(
        s.intact and s.valid and s.trusted and s.modifications_permitted for s in report.signatures
    )
    assert all(s.timestamp_time is not None for s in report.signatures)


def test_any_byte_changed_in_the_first_revision_fails(demo_out, tmp_path):
    from asn1crypto import pem, x509

    from portal.documents.verify import verify_pdf

    data = bytearray(_final_agreement(demo_out).read_bytes())
    first_eof = data.index(b"%%EOF")
    # Change one byte of page content in the first revision (inside a stream, not the xref).
    target = data.index(b"stream", 0, first_eof) + 20
    data[target] ^= 0x01
    _, _, der = pem.unarmor((demo_out / "root-ca.pem").read_bytes())
    report = verify_pdf(bytes(data), [x509.Certificate.load(der)])
    assert report.signatures and not any(s.intact and s.valid for s in report.signatures)
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    nss = _nssdb(tmp_path, demo_out / "root-ca.pem")
    out = subprocess.run(
        ["pdfsig", "-no-ocsp", "-nssdir", nss, str(tampered)], capture_output=True, text=True
    ).stdout
    assert "Signature is Valid." not in out


def test_verify_command_prints_the_report(demo_out, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STORAGE_URL")}
    env["PORTAL_INSTANCE"] = str(tmp_path / "instance")

    def flask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert flask("init").returncode == 0
    # Another instance's CA: the signatures are intact but not trusted, and not on record here.
    result = flask("verify", str(_final_agreement(demo_out)))
    assert "On record: no" in result.stdout
    assert result.returncode == 1
    garbage = flask("verify", str(demo_out / "root-ca.pem"))
    assert garbage.returncode == 1 and "Traceback" not in garbage.stderr


def test_the_demo_onboards_a_user_whose_user_agreement_is_signed_twice_and_valid(
    demo_out, tmp_path
):
    from asn1crypto import pem, x509

    from portal.documents.verify import verify_pdf

    [agreement] = demo_out.glob("*-hmis-user-agreement.pdf")
    [certificate] = demo_out.glob("*-certificate-of-participation.pdf")
    _, _, der = pem.unarmor((demo_out / "root-ca.pem").read_bytes())
    roots = [x509.Certificate.load(der)]
    report = verify_pdf(agreement.read_bytes(), roots)
    # The lead agency's certification, the new user's signature, the agency's approval.
    assert len(report.signatures) == 3 and report.signatures[0].is_certification
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)
    nss = _nssdb(tmp_path, demo_out / "root-ca.pem")
    out = subprocess.run(
        ["pdfsig", "-no-ocsp", "-nssdir", nss, str(agreement)], capture_output=True, text=True
    ).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 3, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 3, out
    assert "Nia Thompson" in out and "Maria Delgado" in out
    sealed = verify_pdf(certificate.read_bytes(), roots)
    assert len(sealed.signatures) == 1 and sealed.all_valid
    text = subprocess.run(
        ["pdftotext", str(certificate), "-"], capture_output=True, text=True
    ).stdout
    assert "Certificate of Participation" in text and "Nia Thompson" in text


def test_the_demo_reports_separations_on_time_and_late_and_signs_a_self_assessment(
    demo_out, tmp_path
):
    from asn1crypto import pem, x509

    from portal.documents.verify import verify_pdf

    lines = (demo_out / "separations.txt").read_text().splitlines()
    assert len(lines) == 2
    assert "reported on time" in lines[0] and "reported LATE" in lines[1]
    assert all("1 business day" in line for line in lines)
    [assessment] = demo_out.glob("security-self-assessment-*.pdf")
    _, _, der = pem.unarmor((demo_out / "root-ca.pem").read_bytes())
    report = verify_pdf(assessment.read_bytes(), [x509.Certificate.load(der)])
    # Certified by the lead agency, signed by the agency's security officer.
    assert len(report.signatures) == 2 and report.all_valid
    nss = _nssdb(tmp_path, demo_out / "root-ca.pem")
    out = subprocess.run(
        ["pdfsig", "-no-ocsp", "-nssdir", nss, str(assessment)], capture_output=True, text=True
    ).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    assert "Luis Ramírez" in out


# Issue 10's acceptance checks, on every PDF the demo writes: pyHanko with revocation
# required and only the demo's root trusted (its revocation data fetched from the portal the
# certificates name, here the demo's instance on loopback; nothing from elsewhere); the final
# agreement carries a document timestamp (B-LTA); AdES validation five years on.

PYHANKO = str(Path(sys.executable).with_name("pyhanko"))


def _pyhanko(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYHANKO, "sign", *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_every_demo_pdf_validates_with_revocation_required(demo_out):
    pdfs = sorted(demo_out.glob("*.pdf"))
    assert len(pdfs) >= 16
    root = str(demo_out / "root-ca.pem")
    for pdf in pdfs:
        done = _pyhanko("validate", "--force-revinfo", "--trust", root, "--trust-replace", str(pdf))
        assert done.returncode == 0, (pdf.name, done.stdout[-1500:], done.stderr[-1500:])
        assert ":INTACT:TRUSTED" in done.stdout and "UNTRUSTED" not in done.stdout


def test_the_final_agreement_carries_a_document_timestamp(demo_out):
    from asn1crypto import pem, x509

    from portal.documents.verify import verify_pdf

    _, _, der = pem.unarmor((demo_out / "root-ca.pem").read_bytes())
    report = verify_pdf(_final_agreement(demo_out).read_bytes(), [x509.Certificate.load(der)])
    assert report.document_timestamps and report.all_valid
    assert report.rows[-1].is_document_timestamp  # the last thing in the file


def test_every_demo_pdf_validates_five_years_from_now_under_ades(demo_out):
    """Drafts too: each signature's DSS carries the TSA's status for its certificate's
    life; final documents also carry a document timestamp (B-LTA)."""
    from datetime import UTC, datetime, timedelta

    five_years = (datetime.now(UTC) + timedelta(days=5 * 365 + 1)).strftime("%Y-%m-%d")
    root = str(demo_out / "root-ca.pem")
    finals = list(demo_out.glob("*.pdf"))
    checked = 0
    for pdf in sorted(set(finals)):
        done = _pyhanko(
            "adesverify",
            "--trust",
            root,
            "--trust-replace",
            "--validation-time",
            five_years,
            "--executive-summary",
            str(pdf),
        )
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        assert done.returncode == 0 and lines, (pdf.name, done.stdout, done.stderr[-1500:])
        assert all(line.endswith(":VALID") for line in lines), (pdf.name, lines)
        checked += 1
    assert checked >= 16


def test_the_demo_amendment_carries_the_certification_and_both_parties_signatures(
    demo_out, tmp_path
):
    from asn1crypto import pem, x509

    from portal.documents.verify import verify_pdf

    [amendment] = demo_out.glob("AMD-*-amendment.pdf")
    _, _, der = pem.unarmor((demo_out / "root-ca.pem").read_bytes())
    report = verify_pdf(amendment.read_bytes(), [x509.Certificate.load(der)])
    assert len(report.signatures) == 3
    assert report.signatures[0].is_certification
    assert all(
        s.intact and s.valid and s.trusted and s.modifications_permitted for s in report.signatures
    )
    nss = _nssdb(tmp_path, demo_out / "root-ca.pem")
    out = subprocess.run(
        ["pdfsig", "-no-ocsp", "-nssdir", nss, str(amendment)],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 3, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 3, out
    text = subprocess.run(["pdftotext", str(amendment), "-"], capture_output=True, text=True)
    assert "V.D (Training)" in text.stdout


def test_the_demo_campaign_has_one_agency_re_sign_and_one_let_it_expire(demo_out):
    [report] = demo_out.glob("*-campaign.txt")
    lines = report.read_text().splitlines()
    assert lines[0].endswith("Completed"), lines
    northgate = next(line for line in lines if line.startswith("Northgate"))
    river = next(line for line in lines if line.startswith("River City"))
    # Northgate's old agreement ended superseded (its new one was later terminated in the
    # story); River City's request expired and its old agreement stayed in effect.
    assert "Superseded" in northgate, northgate
    assert "Expired unsigned" in river, river
