"""The test PKI: created once per session in a temporary directory, plus poppler's pdfsig.

Register with ``pytest_plugins = ["tests.support.pki"]``. Fixtures: ``pki_passphrase``,
``pki_dir`` (the PKI files), ``pki`` (the loaded `portal.pki.Pki`) and ``nss_db`` (an NSS
database trusting the test root, for ``pdfsig``). `pdfsig(nss_db, path)` runs the tool.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.pki import Pki, init_pki
from portal.pki.certificates import Lifetimes

PKI_PASSPHRASE = b"test pki passphrase"
PDFSIG = "/usr/bin/pdfsig"
CERTUTIL = "certutil"

# The suite's CA is valid from before the earliest date any test travels to until long after
# any day the suite may run, so no test depends on the day it runs (tests that need a calendar
# date travel to it; people's certificates are then made under that same clock).
SUITE_PKI_FROM = datetime(2026, 1, 1, tzinfo=UTC)
SUITE_PKI_LIFETIMES = Lifetimes(*(timedelta(days=365 * 60),) * 4)
SUITE_LEAD_AGENCY = "Sacramento Steps Forward"  # the LEAD_AGENCY_NAME the suite's app uses
SUITE_BASE_URL = "http://portal.test"  # the PORTAL_BASE_URL the suite's app uses


@pytest.fixture(scope="session")
def pki_passphrase() -> bytes:
    return PKI_PASSPHRASE


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory, pki_passphrase) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    init_pki(
        directory,
        pki_passphrase,
        organization=SUITE_LEAD_AGENCY,
        now=SUITE_PKI_FROM,
        lifetimes=SUITE_PKI_LIFETIMES,
        base_url=SUITE_BASE_URL,
    )
    return directory


@pytest.fixture(scope="session")
def pki(pki_dir, pki_passphrase) -> Pki:
    return Pki.load(pki_dir, pki_passphrase, base_url=SUITE_BASE_URL)


def make_nss_db(directory: Path, root_pem: Path) -> str:
    """An NSS database in `directory` that trusts `root_pem`; returns the `sql:` path."""
    directory.mkdir(parents=True, exist_ok=True)
    db = f"sql:{directory}"
    subprocess.run([CERTUTIL, "-N", "--empty-password", "-d", db], check=True)
    subprocess.run(
        [CERTUTIL, "-A", "-n", "root", "-t", "CT,C,C", "-i", str(root_pem), "-d", db], check=True
    )
    return db


@pytest.fixture(scope="session")
def nss_db(tmp_path_factory, pki_dir) -> str:
    return make_nss_db(tmp_path_factory.mktemp("nss"), pki_dir / "root-ca.pem")


def pdfsig(nss: str, pdf: Path, *, online: bool = False) -> str:
    """poppler's report on every signature of `pdf` (stdout).

    Offline unless `online`: the certificates name the portal's OCSP responder, which pdfsig
    would otherwise ask over the network (http://portal.test does not exist).
    """
    command = [PDFSIG, "-nssdir", nss, *([] if online else ["-no-ocsp"]), str(pdf)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    return result.stdout
