"""The scheduler outlives its jobs' failures, and says so when it stops for good."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.blocking import BlockingScheduler

from portal import jobs


def test_a_failing_first_sweep_does_not_stop_the_scheduler(app, monkeypatch, caplog):
    started = []
    monkeypatch.setattr(BlockingScheduler, "start", lambda self: started.append(self))

    def database_down(_app):
        raise ConnectionError("the database went away during the catch-up sweep")

    monkeypatch.setattr(jobs, "sweep", database_down)
    with caplog.at_level(logging.ERROR, logger="portal.jobs"):
        result = app.test_cli_runner().invoke(args=["scheduler"])
    assert result.exit_code == 0, result.output
    assert len(started) == 1  # the jobs were scheduled all the same
    assert "catch-up sweep at start failed" in caplog.text
    assert "the database went away" in caplog.text


def test_the_scheduler_exits_non_zero_when_it_stops_on_an_error(app, monkeypatch, caplog):
    monkeypatch.setattr(jobs, "sweep", lambda _app: None)

    def broken(self):
        raise RuntimeError("the job store is unusable")

    monkeypatch.setattr(BlockingScheduler, "start", broken)
    with caplog.at_level(logging.ERROR, logger="portal.jobs"):
        result = app.test_cli_runner().invoke(args=["scheduler"])
    assert result.exit_code == 1  # systemd's Restart=on-failure (and `make run`) restart it
    assert "the scheduler stopped" in caplog.text


def test_the_storage_job_runs_when_documents_are_locked_in_s3(app, monkeypatch):
    assert jobs.build_scheduler(app).get_job("storage") is None  # a local folder: no locks
    monkeypatch.setitem(app.config, "STORAGE_URL", "s3://documents/portal")
    job = jobs.build_scheduler(app).get_job("storage")
    assert job.func is jobs.sweep_storage
    assert job.trigger.interval == timedelta(minutes=60)
    monkeypatch.setitem(app.config, "DOCUMENT_RETENTION_DAYS", None)
    assert jobs.build_scheduler(app).get_job("storage") is None  # no retention, no locks


def test_the_storage_job_survives_a_storage_outage(app, monkeypatch, caplog):
    from portal.storage import S3Storage

    app.extensions.setdefault("portal", {})["storage"] = S3Storage(
        "documents",
        endpoint_url="http://127.0.0.1:9",  # nothing listens
        access_key="key",
        secret_key="secret",
        retention_days=1,
        connect_timeout=1,
        read_timeout=1,
        max_attempts=1,
    )
    with caplog.at_level(logging.WARNING, logger="portal.jobs"):
        assert jobs.sweep_storage(app) is None
    assert "storage sweep skipped, document storage unavailable" in caplog.text
    assert "cannot reach the S3 server" in caplog.text


def test_the_sweep_command_on_a_local_folder_has_nothing_to_do(app):
    result = app.test_cli_runner().invoke(args=["sweep-storage"])
    assert result.exit_code == 0, result.output
    assert "0 orphan(s) removed" in result.output
