"""The periodic sweep the scheduler process runs: fire due deadlines, deliver due e-mail.

APScheduler only triggers the sweep; the rules for what is due live in the services, and
every row is claimed under a lock, so several scheduler processes are safe together.
"""

from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger("portal.jobs")


def sweep(app: Flask) -> dict[str, int]:
    """Fires due deadlines (each exactly once), then delivers due e-mail."""
    from portal.extensions import db
    from portal.notify import outbox
    from portal.services import deadlines

    with app.app_context():
        try:
            fired = deadlines.sweep()
            sent = outbox.deliver_pending(limit=200)
        finally:
            db.session.remove()
    if fired or sent:
        log.info("sweep: fired %d deadline(s), sent %d e-mail(s)", fired, sent)
    return {"deadlines_fired": fired, "mail_sent": sent}


def run_scheduler(app: Flask, *, interval_seconds: int = 60) -> None:
    """Blocks: sweeps once now (catching up after downtime), then every interval."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        sweep,
        "interval",
        args=[app],
        seconds=interval_seconds,
        id="sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=interval_seconds,
    )
    sweep(app)
    log.info("scheduler: sweeping every %d s", interval_seconds)
    scheduler.start()
