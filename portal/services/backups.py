"""Backups (IV.B.2: a daily backup, nothing lost): a consistent copy of the database with a
manifest of every stored document version, and restoring one into an empty database.

The documents' bytes are not copied: each version is an immutable object in storage (S3 with
versioning and Object Lock, or the local folder) named by its SHA-256. The manifest lists
every version row as the backup saw it (storage key, size, hash, and whatever columns the
table has, such as an S3 version id), so a restore can be checked row by row.

A backup is a folder `portal-backup-<UTC time>` under the backup directory. It is written
under a `.partial-` name and renamed when whole, so a folder with the final name is always a
complete backup; an existing folder is never overwritten. A lock file in the backup directory
keeps two backups (the daily job of two schedulers, or the job and `flask backup`) apart.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    Connection,
    MetaData,
    Table,
    column,
    create_engine,
    func,
    inspect,
    select,
    table,
)

from portal import clock
from portal.extensions import db
from portal.services import backup_tools
from portal.services.backup_tools import BackupError

log = logging.getLogger("portal.backups")

__all__ = ["BackupError", "RestoreReport", "create", "daily", "list_backups", "restore"]

PREFIX = "portal-backup-"
MANIFEST = "manifest.json"
FORMAT = 1
# The daily job runs hourly and backs up when the newest backup is a day old. The slack lets
# the tick a day after a backup count as a day, so backups keep to one time of day.
DAY = timedelta(days=1)
_SLACK = timedelta(minutes=10)


@dataclass
class RestoreReport:
    """How the restored rows compare with the manifest of the backup."""

    revision: str | None
    versions: int
    missing: list[int] = field(default_factory=list)
    changed: dict[int, list[str]] = field(default_factory=dict)  # version id -> columns
    counts: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # differing only

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.counts)

    def lines(self) -> list[str]:
        matched = self.versions - len(self.missing) - len(self.changed)
        out = [
            f"Migration revision: {self.revision}",
            f"Document versions: {matched} of {self.versions} match the manifest",
        ]
        out += [f"  missing: version {v}" for v in self.missing]
        out += [f"  differs: version {v} ({', '.join(c)})" for v, c in self.changed.items()]
        out += [
            f"  table {t}: {m} rows backed up, {r} restored" for t, (m, r) in self.counts.items()
        ]
        out.append("Restore verified." if self.ok else "THE RESTORED DATABASE DOES NOT MATCH.")
        return out


def create(root: Path) -> Path:
    """Backs up the app's database into a new folder under `root`; returns the folder."""
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root):
        return _create(root)


def _create(root: Path) -> Path:
    at = clock.now()
    final = _new_folder(root, at)
    partial = root / f".partial-{final.name}"
    partial.mkdir()
    try:
        engine = db.engine
        if engine.dialect.name == "sqlite":
            database, contents = _sqlite_backup(partial / "database.sqlite3")
        elif engine.dialect.name == "postgresql":
            dump = partial / "database.pgdump"
            database, contents = backup_tools.dump(engine, dump, _contents)
        else:
            raise BackupError(f"Backups support SQLite and PostgreSQL, not {engine.dialect.name}.")
        written = partial / database["file"]
        database |= {"size": written.stat().st_size, "sha256": _file_sha256(written)}
        manifest = {
            "format": FORMAT,
            "created_at": at.isoformat(),
            "portal_version": _portal_version(),
            "migration_revision": contents["revision"],
            "storage_url": current_app.config["STORAGE_URL"],
            "database": database,
            "tables": contents["counts"],
            "document_versions": contents["versions"],
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def _new_folder(root: Path, at: datetime) -> Path:
    """A folder named by the backup's time that no backup in `root` has yet (a second backup
    in the same second gets a suffix instead of overwriting the first)."""
    stem = PREFIX + at.strftime("%Y%m%dT%H%M%SZ")
    candidate, n = root / stem, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stem}-{n}"
    return candidate


def _sqlite_backup(target: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """SQLite's online backup API: a consistent copy while the portal keeps writing. The
    manifest is read from the copy, so it describes exactly what was backed up."""
    _sqlite_copy(_sqlite_path(), target)
    copy = create_engine(f"sqlite:///{target}")
    try:
        with copy.connect() as conn:
            contents = _contents(conn)
    finally:
        copy.dispose()
    info = {"dialect": "sqlite", "file": target.name, "server_version": sqlite3.sqlite_version}
    return info, contents


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copies a whole SQLite database page by page under SQLite's own locking."""
    src = sqlite3.connect(source.as_uri() + "?mode=ro", uri=True)
    with closing(src), closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(database).resolve()


def _contents(conn: Connection) -> dict[str, Any]:
    """Row counts of every table, the migration revision and every document version row (all
    its columns, read generically, so a column added later is in the manifest too)."""
    names = sorted(inspect(conn).get_table_names())
    counts = {
        n: conn.execute(select(func.count()).select_from(table(n))).scalar_one() for n in names
    }
    revision = None
    if "alembic_version" in names:
        version_num = select(column("version_num")).select_from(table("alembic_version"))
        revision = conn.execute(version_num).scalar()
    versions = _version_rows(conn) if "document_version" in names else []
    return {"counts": counts, "revision": revision, "versions": versions}


def _version_rows(conn: Connection) -> list[dict[str, Any]]:
    versions = Table("document_version", MetaData(), autoload_with=conn)
    rows = conn.execute(select(versions).order_by(versions.c.id)).mappings()
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    """A column value as JSON keeps it (instants and dates in ISO 8601)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def restore(folder: Path) -> RestoreReport:
    """Restores the backup in `folder` into the app's database, which must be empty, then
    checks every document version of the manifest against the restored rows."""
    manifest = read_manifest(folder)
    database = manifest["database"]
    archive = folder / database["file"]
    if not archive.is_file() or _file_sha256(archive) != database["sha256"]:
        raise BackupError(f"{archive} is missing or is not the file the backup wrote.")
    engine = db.engine
    if engine.dialect.name != database["dialect"]:
        raise BackupError(
            f"This is a {database['dialect']} backup; the database here is {engine.dialect.name}."
        )
    db.session.remove()
    _refuse_unless_empty()
    engine.dispose()
    if engine.dialect.name == "sqlite":
        _sqlite_copy(archive, _sqlite_path())
    else:
        backup_tools.restore(engine, archive)
    engine.dispose()  # pooled connections may have cached the empty schema
    return check(manifest)


def _refuse_unless_empty() -> None:
    with db.engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
    if names:
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise BackupError(
            f"Refusing to restore: the database {db.engine.url.render_as_string()} already has "
            f"{len(names)} table(s) ({shown}). Restore only into a new, empty database; "
            "nothing was changed."
        )


def check(manifest: dict[str, Any]) -> RestoreReport:
    """Compares the app's database with a backup's manifest: every document version there,
    with the same hash, key, size (every column); every table with as many rows."""
    with db.engine.connect() as conn:
        contents = _contents(conn)
    report = RestoreReport(contents["revision"], len(manifest["document_versions"]))
    restored = {row["id"]: row for row in contents["versions"]}
    for row in manifest["document_versions"]:
        found = restored.get(row["id"])
        if found is None:
            report.missing.append(row["id"])
        elif found != row:
            report.changed[row["id"]] = sorted(k for k in row if found.get(k) != row[k])
    for name, count in manifest["tables"].items():
        if contents["counts"].get(name) != count:
            report.counts[name] = (count, contents["counts"].get(name))
    if contents["revision"] != manifest["migration_revision"]:
        report.counts["alembic_version"] = (1, None)
    return report


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} is not a backup: it has no {MANIFEST}.")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is of an unknown backup format {manifest.get('format')!r}.")
    return manifest


def list_backups(root: Path) -> list[Path]:
    """The complete backups in `root`, oldest first (their names sort by time)."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.name.startswith(PREFIX) and (p / MANIFEST).is_file()]
    return sorted(found, key=lambda p: p.name)


def daily(app: Flask) -> Path | None:
    """The scheduler's backup job: backs up into BACKUP_DIR when the newest backup there is a
    day old (or there is none, which also catches up after downtime), then keeps the newest
    BACKUP_KEEP. Returns the new backup, or None when none was due."""
    root = Path(app.config["BACKUP_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    with app.app_context(), _locked(root):
        try:
            newest = list_backups(root)[-1:]
            if newest and clock.now() - _created_at(newest[0]) < DAY - _SLACK:
                return None
            made = _create(root)
        finally:
            db.session.remove()
        log.info("backed up to %s", made)
        for old in list_backups(root)[: -max(1, app.config["BACKUP_KEEP"])]:
            shutil.rmtree(old)
            log.info("removed the old backup %s", old)
    return made


def _created_at(folder: Path) -> datetime:
    return datetime.fromisoformat(read_manifest(folder)["created_at"])


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One backup at a time in `root`; a `.partial-` folder found while holding the lock is
    left by a backup that died, and goes."""
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for stale in root.glob(".partial-*"):
                shutil.rmtree(stale, ignore_errors=True)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _portal_version() -> str:
    try:
        return metadata.version("hmis-portal")
    except metadata.PackageNotFoundError:
        return "unknown"
