"""The shipped deployment, run: gunicorn with deploy/gunicorn.conf.py and PORTAL_ENV=production
on a fresh PostgreSQL database and SeaweedFS, the agreement journey played over HTTP.

Runs in the PostgreSQL pass (TEST_DATABASE_URL); skipped without it.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import fresh_postgres_database
from tests.deploy import nginx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLIENT_ADDRESS = "203.0.113.9"  # what nginx would put in X-Forwarded-For

pytestmark = [
    pytest.mark.s3,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def production_env(
    tmp_path_factory, s3_server, pki_dir, pki_passphrase
) -> Iterator[dict[str, str]]:
    tmp_path = tmp_path_factory.mktemp("production")
    with fresh_postgres_database(os.environ["TEST_DATABASE_URL"]) as database_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PORTAL_"))}
        env.update(
            PORTAL_ENV="production",
            FLASK_DEBUG="1",  # production ignores it
            PORTAL_INSTANCE=str(tmp_path / "instance"),
            SECRET_KEY="a production secret for this test only",
            DATABASE_URL=database_url,
            STORAGE_URL=f"s3://{s3_server.new_bucket_name('gunicorn')}/documents",
            S3_ENDPOINT_URL=s3_server.endpoint_url,
            S3_ACCESS_KEY=s3_server.access_key,
            S3_SECRET_KEY=s3_server.secret_key,
            S3_CREATE_BUCKET="1",
            DOCUMENT_RETENTION_DAYS="1",
            # The suite's CA (made once per session), so no keys are generated here.
            PKI_DIR=str(pki_dir),
            PKI_PASSPHRASE=pki_passphrase.decode(),
            TRUSTED_PROXIES="1",
            # This test's client speaks plain HTTP to gunicorn, where a browser would reach
            # nginx over HTTPS; production's default (Secure) would keep its cookie back.
            SESSION_COOKIE_SECURE="0",
            # The journey signs in as staff and signers, who production holds at two-factor
            # set-up (tested in tests/views/test_two_factor_pages.py).
            TWO_FACTOR_REQUIRED="none",
            PORT=str(free_port()),
            WEB_CONCURRENCY="2",
            GUNICORN_THREADS="2",
        )
        env.pop("SMTP_HOST", None)
        yield env


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@dataclass
class Served:
    base: str
    port: int
    access_log: Path
    error_log: Path
    password: str  # the demo logins' password, as seed-demo printed it


@pytest.fixture(scope="module")
def gunicorn(production_env, tmp_path_factory) -> Iterator[Served]:
    """Seeded with the CLI as an operator would, then served; stopped with SIGTERM."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    flask(production_env, "init")
    seeded = flask(production_env, "seed-demo")
    password = re.search(r"password for all: (\S+)\)", seeded).group(1)
    out = tmp_path / "gunicorn.out"
    err = tmp_path / "gunicorn.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        # From another directory: the shipped config finds wsgi.py itself.
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
            cwd=tmp_path,
            env=production_env,
            stdout=stdout,
            stderr=stderr,
        )
    port = int(production_env["PORT"])
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, process, err)
        yield Served(base, port, out, err, password)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=40)
    assert process.returncode == 0, err.read_text()[-3000:]


def _wait_until_serving(base: str, process: subprocess.Popen, err: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(base + "/login", timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not serve (exit {process.poll()}):\n{err.read_text()[-3000:]}")


@dataclass
class Page:
    url: str
    html: str
    headers: dict[str, str]

    def field(self, name: str) -> str:
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', self.html)
        assert tag, f"no {name} field on {self.url}"
        return re.search(r'value="([^"]*)"', tag.group(0)).group(1)


class Browser:
    """One person's cookies, sent through the proxy headers nginx would add."""

    def __init__(self, base: str) -> None:
        self.base = base
        cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.opener = urllib.request.build_opener(cookies)

    def open(self, path: str, data: dict[str, str] | None = None) -> Page:
        url = path if path.startswith("http") else self.base + path
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body)
        request.add_header("X-Forwarded-For", CLIENT_ADDRESS)
        with self.opener.open(request, timeout=30) as response:
            return Page(response.url, response.read().decode(), dict(response.headers))

    def post_form(self, page: Page, action: str, **fields: str) -> Page:
        return self.open(action, {"csrf_token": page.field("csrf_token"), **fields})

    def log_in(self, email: str, password: str) -> Page:
        page = self.open("/login")
        return self.post_form(page, "/login", email=email, password=password)


def sign(person: Browser, agreement_url: str, password: str) -> Page:
    page = person.open(agreement_url + "/sign")
    return person.post_form(
        page,
        agreement_url + "/sign",
        lock_version=page.field("lock_version"),
        consent="y",
        intent="y",
        password=password,
    )


def test_agreement_journey_through_gunicorn(gunicorn):
    base, access_log, password = gunicorn.base, gunicorn.access_log, gunicorn.password

    admin = Browser(base)
    admin.log_in("admin@ssf.test", password)
    agencies = admin.open("/agencies/")
    agency_path = re.search(r'href="(/agencies/\d+)"[^>]*>\s*River City', agencies.html).group(1)
    agency = admin.open(agency_path)
    agreement = admin.post_form(agency, "/agreements/start/" + agency_path.rsplit("/", 1)[1])
    agreement_url = agreement.url
    assert re.search(r"/agreements/\d+$", agreement_url)
    sent = admin.post_form(
        agreement, agreement_url + "/send", lock_version=agreement.field("lock_version")
    )
    assert "waiting" in sent.html.lower()

    ed = Browser(base)
    ed.log_in("ed@rivercity.test", password)
    assert "Signed. Thank you." in sign(ed, agreement_url, password).html

    lead = Browser(base)
    lead.log_in("signatory@ssf.test", password)
    countersigned = sign(lead, agreement_url, password)
    assert "in effect since" in countersigned.html
    assert countersigned.headers["X-Request-ID"]

    # The access log is JSON, one line per request, with the client's address (ProxyFix,
    # TRUSTED_PROXIES=1) and the request id the response carried.
    lines = [json.loads(line) for line in access_log.read_text().splitlines()]
    signing = [e for e in lines if e["method"] == "POST" and e["path"].endswith("/sign")]
    assert len(signing) == 2
    assert {e["remote_addr"] for e in signing} == {CLIENT_ADDRESS}
    assert all(e["status"] == 302 and len(e["request_id"]) == 32 for e in signing)
    # gunicorn's own lines and the portal's are JSON as well.
    loggers = {json.loads(line)["logger"] for line in gunicorn.error_log.read_text().splitlines()}
    assert "gunicorn.error" in loggers


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not installed (.ci/run installs it)")
def test_the_example_nginx_site_in_front(gunicorn, tmp_path):
    http_port, https_port = free_port(), free_port()
    conf = nginx.write_config(tmp_path, serve=(http_port, https_port, gunicorn.port))
    process = subprocess.Popen(
        nginx.command(conf, "-g", "daemon off;"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tls = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    tls.check_hostname = False  # the certificate names portal.example.org, not 127.0.0.1
    host = {"Host": "portal.example.org"}
    try:
        plain = _request(http.client.HTTPConnection("127.0.0.1", http_port), host, process)
        assert plain.status == 301
        assert plain.getheader("Location") == "https://portal.example.org/login"
        secure = http.client.HTTPSConnection("127.0.0.1", https_port, context=tls)
        answer = _request(secure, host, process)
        assert answer.status == 200 and b"Log in" in answer.read()
    finally:
        process.terminate()
        process.wait(timeout=10)
    # nginx's request id reached the portal, was believed (TRUSTED_PROXIES=1) and came back.
    request_id = answer.getheader("X-Request-ID")
    assert request_id in (tmp_path / "access.log").read_text().split()
    lines = [json.loads(line) for line in gunicorn.access_log.read_text().splitlines()]
    assert [e["remote_addr"] for e in lines if e.get("request_id") == request_id] == ["127.0.0.1"]


def _request(
    connection: http.client.HTTPConnection, headers: dict[str, str], nginx_process
) -> http.client.HTTPResponse:
    """GET /login, retried while nginx is still starting."""
    deadline = time.monotonic() + 10
    while True:
        try:
            connection.request("GET", "/login", headers=headers)
            return connection.getresponse()
        except OSError:
            connection.close()
            if time.monotonic() > deadline or nginx_process.poll() is not None:
                raise
            time.sleep(0.1)


def _health(base: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_healthz_through_gunicorn_follows_the_scheduler(gunicorn, production_env, tmp_path):
    # Before any scheduler has swept: the database and S3 answer, the scheduler is stale.
    status, body = _health(gunicorn.base)
    assert body["checks"]["database"]["ok"] and body["checks"]["storage"]["ok"], body
    if status == 503:
        assert not body["checks"]["scheduler"]["ok"]
    # A scheduler process sweeps once at start; then every part is healthy.
    log = (tmp_path / "scheduler.log").open("wb")
    scheduler = subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "scheduler"],
        cwd=ROOT,
        env=production_env,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, body = _health(gunicorn.base)
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200 and body["checks"]["scheduler"]["ok"], body
    finally:
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(timeout=30)
        log.close()


def test_gunicorn_refuses_production_without_a_secret_key(production_env, tmp_path):
    env = {k: v for k, v in production_env.items() if k != "SECRET_KEY"}
    env["PORT"] = str(free_port())
    done = subprocess.run(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr
