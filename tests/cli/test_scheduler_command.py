"""`flask scheduler` runs two jobs: e-mail every few seconds, deadlines every minute."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apscheduler.schedulers.blocking import BlockingScheduler

from portal import jobs
from portal.config import Config


def intervals(scheduler) -> dict[str, timedelta]:
    return {job.id: job.trigger.interval for job in scheduler.get_jobs()}


def test_the_mail_job_runs_every_five_seconds_by_default(app):
    assert app.config["MAIL_INTERVAL_SECONDS"] == 5
    scheduler = jobs.build_scheduler(app, interval_seconds=60)
    assert intervals(scheduler) == {
        "deadlines": timedelta(seconds=60),
        "mail": timedelta(seconds=5),
        "webhooks": timedelta(seconds=5),  # signed webhook deliveries, beside e-mail
        "documents": timedelta(hours=1),  # asks whether the weekly document check is due
        "reminders": timedelta(hours=24),  # what has waited on someone too long
        "idle_accounts": timedelta(hours=1),  # reminds, then deactivates, idle accounts
        "evidence": timedelta(days=1),  # re-timestamps documents before their evidence ends
    }
    assert scheduler.get_job("mail").func is jobs.deliver_mail


def test_mail_interval_is_a_setting(monkeypatch, tmp_path):
    assert Config(instance_path=tmp_path).MAIL_INTERVAL_SECONDS == 5
    monkeypatch.setenv("MAIL_INTERVAL_SECONDS", "2")
    assert Config(instance_path=tmp_path).MAIL_INTERVAL_SECONDS == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            [],
            {
                "deadlines": 60,
                "mail": 5,
                "webhooks": 5,
                "documents": 3600,
                "reminders": 86400,
                "idle_accounts": 3600,
                "evidence": 86400,
            },
        ),
        (
            ["--interval", "300", "--mail-interval", "2"],
            {
                "deadlines": 300,
                "mail": 2,
                "webhooks": 2,
                "documents": 3600,
                "reminders": 86400,
                "idle_accounts": 3600,
                "evidence": 86400,
            },
        ),
    ],
)
def test_the_command_starts_both_jobs(app, monkeypatch, args, expected):
    started = []
    monkeypatch.setattr(BlockingScheduler, "start", lambda self: started.append(self))
    swept = []
    monkeypatch.setattr(jobs, "sweep", lambda a: swept.append(a))

    result = app.test_cli_runner().invoke(args=["scheduler", *args])

    assert result.exit_code == 0, result.output
    assert swept == [app]  # once at start, catching up
    [scheduler] = started
    assert intervals(scheduler) == {k: timedelta(seconds=v) for k, v in expected.items()}
