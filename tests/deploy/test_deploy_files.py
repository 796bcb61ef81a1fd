"""The shipped systemd units and nginx site parse and say what the deployment relies on."""

from __future__ import annotations

import configparser
import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portal.config import Config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("hmis-portal-web.service", "hmis-portal-scheduler.service")
INSTALL_DIR = "/opt/hmis-portal"
SITE = DEPLOY / "nginx-hmis-portal.conf"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text())
    return parser


def test_units_run_the_shipped_commands():
    web, scheduler = (unit(name)["Service"] for name in UNITS)
    gunicorn = f"{INSTALL_DIR}/.venv/bin/gunicorn -c {INSTALL_DIR}/deploy/gunicorn.conf.py"
    assert web["ExecStart"] == gunicorn
    assert scheduler["ExecStart"] == f"{INSTALL_DIR}/.venv/bin/flask --app wsgi scheduler"
    for service in (web, scheduler):
        assert service["Restart"] == "on-failure"
        assert service["EnvironmentFile"] == "/etc/hmis-portal/portal.env"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_units_pass_systemd_analyze_verify(tmp_path):
    # Pointed at this checkout and the virtualenv running the tests, where the programs
    # exist, since verify checks that ExecStart's is there.
    for name in UNITS:
        text = (
            (DEPLOY / name)
            .read_text()
            .replace(f"{INSTALL_DIR}/.venv/bin", str(Path(sys.executable).parent))
            .replace(INSTALL_DIR, str(ROOT))
        )
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_nginx_site_limits_uploads_like_the_portal():
    size = re.search(r"client_max_body_size\s+(\d+)m;", SITE.read_text())
    assert size and int(size.group(1)) * 1024 * 1024 == Config().MAX_CONTENT_LENGTH
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Request-ID"):
        assert f"proxy_set_header {header} " in SITE.read_text()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portal.example.org")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not installed (.ci/run installs it)")
def test_nginx_accepts_the_site(tmp_path):
    cert, key = _self_signed(tmp_path)
    live = "/etc/letsencrypt/live/portal.example.org"
    site = (
        SITE.read_text()
        .replace(f"{live}/fullchain.pem", str(cert))
        .replace(f"{live}/privkey.pem", str(key))
    )
    (tmp_path / "site.conf").write_text(site)
    # The site goes in nginx's http block, as sites-enabled/ does in Debian's nginx.conf.
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {tmp_path}/site.conf;\n}}\n"
    )
    done = subprocess.run(
        [
            "nginx",
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(tmp_path / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
