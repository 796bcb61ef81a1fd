"""The shipped systemd units and nginx site parse and say what the deployment relies on."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portal.config import Config
from tests.deploy import nginx

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("hmis-portal-web.service", "hmis-portal-scheduler.service")
INSTALL_DIR = "/opt/hmis-portal"
SITE = nginx.SITE


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


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not installed (.ci/run installs it)")
def test_nginx_accepts_the_site(tmp_path):
    done = subprocess.run(
        nginx.command(nginx.write_config(tmp_path), "-t"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
