"""Backups (IV.B.2): `flask backup` and `flask restore` on the suite's database (SQLite, and
PostgreSQL in the second pass), restoring into a new database; the scheduler's daily backup."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import time_machine
from sqlalchemy import MetaData, create_engine, select

from portal import clock, create_app, jobs
from portal.config import Config
from portal.extensions import db
from portal.services import backups
from tests import factories
from tests.conftest import fresh_postgres_database
from tests.services.helpers import sent_agreement

# The rows that must survive: the cases, their documents and versions, and the audit log.
KEPT = ("agreement", "transition", "document", "document_version", "audit_event")


@contextmanager
def new_database(tmp_path: Path):
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        with fresh_postgres_database(base) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'restored.db'}"


def everything(engine) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {
            name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for name, t in meta.tables.items()
        }


def test_a_backup_restores_into_a_new_database_with_every_row(app, cast, tmp_path):
    sent_agreement(cast)  # a real case: a rendered PDF, transitions and audit entries
    factories.agreement(cast.other_agency, documents=True)  # one in effect, with its documents
    before = everything(db.engine)
    assert all(before[name] for name in KEPT)

    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups")])

    assert result.exit_code == 0, result.output
    [folder] = backups.list_backups(tmp_path / "backups")
    assert folder.name.startswith("portal-backup-")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["migration_revision"] == before["alembic_version"][0][0]
    assert manifest["portal_version"] not in ("", "unknown")
    fields = ("storage_key", "storage_version_id", "size", "sha256")
    listed = {v["id"]: [v[f] for f in fields] for v in manifest["document_versions"]}
    versions = db.session.execute(select(db.metadata.tables["document_version"])).mappings()
    assert listed == {v["id"]: [v[f] for f in fields] for v in versions}

    with new_database(tmp_path) as url:
        restored_app = create_app(
            Config(instance_path=tmp_path / "restored", SQLALCHEMY_DATABASE_URI=url, TESTING=True)
        )
        # The command acts on the app whose context is current (as `flask` with its app).
        with restored_app.app_context():
            result = restored_app.test_cli_runner().invoke(args=["restore", str(folder)])
        assert result.exit_code == 0, result.output
        assert f"{len(listed)} of {len(listed)} match the manifest" in result.output
        engine = create_engine(url)
        try:
            assert everything(engine) == before

            # Restoring again, now into a database with rows, is refused and changes nothing.
            with restored_app.app_context():
                again = restored_app.test_cli_runner().invoke(args=["restore", str(folder)])
            assert again.exit_code != 0
            assert "Refusing to restore" in again.output and "empty database" in again.output
            assert everything(engine) == before

            # The check reads the rows: a manifest with another hash is reported.
            manifest["document_versions"][0]["sha256"] = "0" * 64
            with restored_app.app_context():
                report = backups.check(manifest)
            assert not report.ok
            assert list(report.changed) == [manifest["document_versions"][0]["id"]]
        finally:
            engine.dispose()
    assert backups.list_backups(tmp_path / "backups") == [folder]  # never touched


def test_a_backup_whose_database_file_changed_is_not_restored(app, tmp_path):
    with app.app_context():
        folder = backups.create(tmp_path / "backups")
    archive = folder / backups.read_manifest(folder)["database"]["file"]
    archive.write_bytes(archive.read_bytes()[:-1])

    with new_database(tmp_path) as url:
        target = create_app(
            Config(instance_path=tmp_path / "restored", SQLALCHEMY_DATABASE_URI=url, TESTING=True)
        )
        with target.app_context():
            result = target.test_cli_runner().invoke(args=["restore", str(folder)])
            assert result.exit_code != 0
            assert "is not the file the backup wrote" in result.output
            assert everything(db.engine) == {}
            db.engine.dispose()


def test_the_daily_job_backs_up_once_a_day_and_keeps_the_newest(app, monkeypatch, tmp_path):
    root = tmp_path / "daily"
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(root))
    monkeypatch.setitem(app.config, "BACKUP_KEEP", 3)
    start = clock.now() + timedelta(days=1)
    made = []
    for day in range(5):
        with time_machine.travel(start + timedelta(days=day), tick=False):
            made.append(backups.daily(app))
        with time_machine.travel(start + timedelta(days=day, hours=5), tick=False):
            assert backups.daily(app) is None  # not a day old yet
    assert None not in made
    assert backups.list_backups(root) == made[-3:]
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == [
        p.name for p in made[-3:]
    ]


def test_the_scheduler_backs_up_only_when_a_backup_dir_is_set(app, monkeypatch, tmp_path):
    assert Config(instance_path=tmp_path).BACKUP_DIR is None
    assert Config(instance_path=tmp_path).BACKUP_KEEP == 14
    assert jobs.build_scheduler(app).get_job("backup") is None

    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path / "b"))
    job = jobs.build_scheduler(app).get_job("backup")
    assert job.func is backups.daily
    assert job.trigger.interval == timedelta(hours=1)
