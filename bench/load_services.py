"""The servers the load bench runs the portal on, all on 127.0.0.1 and all stoppable.

PostgreSQL (a fresh database per run), SeaweedFS S3 with Object Lock (started by the test
suite's own code, tests/support/seaweed.py), an aiosmtpd server that keeps what it receives,
gunicorn serving wsgi:app, and scheduler processes. Each can be stopped and started again
while the bench runs, which is how it injects faults.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"

sys.path.insert(0, str(ROOT))
from tests.support import seaweed  # noqa: E402 (the suite's SeaweedFS start-up, reused)


@dataclass
class Database:
    """A PostgreSQL database made for one run and dropped after it."""

    base: str
    name: str = field(default_factory=lambda: f"portal_load_{uuid.uuid4().hex[:10]}")

    @property
    def url(self) -> str:
        return self.base.rsplit("/", 1)[0] + f"/{self.name}"

    def create(self) -> None:
        admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()

    def drop(self) -> None:
        admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


class S3Server:
    """SeaweedFS with the suite's command line; restart keeps its data folder and ports."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.access_key = f"AK{secrets.token_hex(8).upper()}"
        self.secret_key = secrets.token_hex(20)
        config = workdir / "s3.json"
        identity = {
            "name": "portal-admin",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        ports = seaweed.free_ports(len(seaweed.PORT_FLAGS))
        self.ports = dict(zip(seaweed.PORT_FLAGS, ports, strict=True))
        self.argv = seaweed._command(seaweed.weed_binary(), workdir, self.ports, config)
        self.info = seaweed.SeaweedS3(
            endpoint_url=f"http://{HOST}:{self.ports['s3.port']}",
            access_key=self.access_key,
            secret_key=self.secret_key,
            log_path=workdir / "weed.log",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "HOME": str(self.workdir), "TMPDIR": str(self.workdir)}
        env["WEED_MASTER_VOLUME_GROWTH_COPY_1"] = "1"
        with (self.workdir / "weed.log").open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        seaweed._wait_until_ready(self.info, self.process)

    def stop(self) -> None:
        if self.process is not None:
            seaweed._stop(self.process, self.ports)
            self.process = None


class Sink:
    """aiosmtpd handler: keeps each message's recipients, subject, body and Message-ID."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def snapshot(self) -> list[email.message.EmailMessage]:
        with self.lock:
            return list(self.messages)


class SmtpServer:
    """An aiosmtpd server on a fixed port, stopped and started again on the same port."""

    def __init__(self) -> None:
        self.sink = Sink()
        self.port = seaweed.free_ports(1)[0]
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname=HOST, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Portal:
    """The portal's processes (gunicorn, schedulers, flask commands) with one environment."""

    def __init__(self, workdir: Path, database_url: str, s3: S3Server, smtp: SmtpServer) -> None:
        self.workdir = workdir
        self.port = seaweed.free_ports(1)[0]
        self.base_url = f"http://{HOST}:{self.port}"
        self.bucket = f"load-{secrets.token_hex(4)}"
        self.env = {
            **os.environ,
            "PORTAL_INSTANCE": str(workdir / "instance"),
            "SECRET_KEY": secrets.token_hex(32),
            "PKI_DIR": str(workdir / "pki"),
            "PKI_PASSPHRASE": secrets.token_hex(16),
            "DATABASE_URL": database_url,
            "STORAGE_URL": f"s3://{self.bucket}/documents",
            "S3_ENDPOINT_URL": s3.info.endpoint_url,
            "S3_ACCESS_KEY": s3.access_key,
            "S3_SECRET_KEY": s3.secret_key,
            "SMTP_HOST": HOST,
            "SMTP_PORT": str(smtp.port),
            "MAIL_INTERVAL_SECONDS": "1",
            "PORTAL_BASE_URL": self.base_url,
        }
        self.web: subprocess.Popen[bytes] | None = None
        self.schedulers: list[subprocess.Popen[bytes] | None] = [None, None]

    def flask(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def _spawn(self, argv: list[str], log_name: str) -> subprocess.Popen[bytes]:
        with (self.workdir / log_name).open("ab") as log:
            return subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_web(self, workers: int | None) -> None:
        """gunicorn with the project's config (deploy/gunicorn.conf.py); its command line wins
        over the file: this port, on 127.0.0.1 only."""
        argv = [str(BIN / "gunicorn")]
        config = ROOT / "deploy" / "gunicorn.conf.py"
        if config.exists():
            argv += ["-c", str(config)]
        else:  # what the config sets: threads, since a request mostly waits
            argv += ["--worker-class", "gthread", "--threads", "4", "--workers", "2"]
        if workers:
            argv += ["--workers", str(workers)]
        argv += ["--bind", f"{HOST}:{self.port}", "wsgi:app"]
        self.web = self._spawn(argv, "gunicorn.log")
        deadline = time.monotonic() + 60
        import urllib.request

        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.workdir / 'gunicorn.log'}")
            try:
                urllib.request.urlopen(f"{self.base_url}/login", timeout=5).read()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def start_scheduler(self, index: int) -> None:
        argv = [str(BIN / "flask"), "--app", "wsgi", "scheduler", "--interval", "5"]
        self.schedulers[index] = self._spawn(argv, f"scheduler-{index}.log")

    def kill_scheduler(self, index: int) -> None:
        """A crash, not a shutdown: SIGKILL, so whatever it held is left mid-way."""
        process = self.schedulers[index]
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        self.schedulers[index] = None

    def stop(self) -> None:
        for process in [self.web, *self.schedulers]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
        self.web, self.schedulers = None, [None, None]
