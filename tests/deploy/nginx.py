"""The example nginx site made runnable here: a throwaway certificate, and a small nginx.conf
standing in for Debian's, with the site's certificate (and, to serve it, its addresses) pointed
at the test's own."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx-hmis-portal.conf"
LIVE = "/etc/letsencrypt/live/portal.example.org"


def self_signed(directory: Path) -> tuple[Path, Path]:
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


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the example site no longer has {old!r}"
    return text.replace(old, new)


def write_config(directory: Path, serve: tuple[int, int, int] | None = None) -> Path:
    """nginx.conf in `directory` including the example site; returns its path.

    With `serve` = (http port, https port, gunicorn's port) the site listens on 127.0.0.1
    only (the one network tests may use) and proxies to that gunicorn.
    """
    cert, key = self_signed(directory)
    site = _replace(SITE.read_text(), f"{LIVE}/fullchain.pem", str(cert))
    site = _replace(site, f"{LIVE}/privkey.pem", str(key))
    if serve:
        http, https, upstream = serve
        site = re.sub(r"(?m)^\s*listen \[::\].*\n", "", site)
        site = _replace(site, "listen 80;", f"listen 127.0.0.1:{http};")
        site = _replace(site, "listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;")
        site = _replace(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    (directory / "site.conf").write_text(site)
    conf = directory / "nginx.conf"
    # The site goes in the http block, as sites-enabled/ does in Debian's nginx.conf; the
    # access log holds nginx's request ids, to compare with the portal's.
    conf.write_text(
        f"pid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log;\n"
        "events {}\n"
        "http {\n"
        "    log_format request_ids '$request_id';\n"
        f"    access_log {directory}/access.log request_ids;\n"
        f"    include {directory}/site.conf;\n"
        "}\n"
    )
    return conf


def command(conf: Path, *args: str) -> list[str]:
    return [
        "nginx",
        "-p",
        str(conf.parent),
        "-e",
        str(conf.parent / "error.log"),
        "-c",
        str(conf),
        *args,
    ]
