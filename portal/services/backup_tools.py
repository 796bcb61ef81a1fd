"""PostgreSQL's own backup tools for `portal.services.backups`: pg_dump and pg_restore, in the
version that matches the server.

pg_dump refuses a server newer than itself, and an archive written by a newer pg_dump may not
be readable by an older pg_restore, so each is chosen for the server it talks to: the same
major version if one is installed (Debian keeps each in /usr/lib/postgresql/N/bin), else a
newer one from PATH (both read and write older servers' formats).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from portal.services.errors import ServiceError


class BackupError(ServiceError):
    """A backup or restore cannot be done; nothing was written to the database."""


def server_major(conn: Connection) -> int:
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def client(name: str, major: int) -> tuple[str, str]:
    """The path and `--version` line of the `name` tool (pg_dump, pg_restore) for a server of
    `major` version."""
    found: list[tuple[int, str, str]] = []
    for candidate in (f"/usr/lib/postgresql/{major}/bin/{name}", shutil.which(name)):
        if candidate and os.access(candidate, os.X_OK):
            line = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, check=True
            ).stdout.strip()
            match = re.search(r"\)\s+(\d+)", line)
            if match:
                found.append((int(match.group(1)), candidate, line))
    for version, path, line in found:
        if version == major:
            return path, line
    for version, path, line in found:
        if version > major:
            return path, line
    have = ", ".join(line for _, _, line in found) or "none found"
    raise BackupError(
        f"{name} for PostgreSQL {major} is needed (installed: {have}); install the PostgreSQL "
        f"{major} client tools (Debian: postgresql-client-{major})."
    )


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database's address for libpq tools, and an environment carrying its password (so
    the password is not on a command line other users can read)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()}")


def dump(
    engine: Engine, target: Path, read: Callable[[Connection], dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """pg_dump (custom format) into `target`, and `read(conn)` of the very same snapshot: the
    transaction that reads exports its snapshot and pg_dump uses it, so the manifest and the
    dump describe one instant even while the portal keeps writing."""
    conninfo, env = _libpq(engine)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            major = server_major(conn)
            version = conn.execute(text("SHOW server_version")).scalar_one()
            contents = read(conn)
            tool, line = client("pg_dump", major)
            _run(
                [
                    tool,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    f"--dbname={conninfo}",
                ],
                env,
            )
    info = {"dialect": "postgresql", "file": target.name, "server_version": version}
    return info | {"client": line}, contents


def restore(engine: Engine, archive: Path) -> None:
    """pg_restore `archive` into the (empty) database in one transaction: it is all restored
    or, on any error, nothing is."""
    conninfo, env = _libpq(engine)
    with engine.connect() as conn:
        major = server_major(conn)
    tool, _ = client("pg_restore", major)
    _run(
        [
            tool,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={conninfo}",
            str(archive),
        ],
        env,
    )
