"""The periodic jobs the scheduler process runs: fire due deadlines, deliver due e-mail,
remind people of what has waited on them too long.

Requests only queue e-mail (in the outbox, with the change); the mail job delivers it every few
seconds (`MAIL_INTERVAL_SECONDS`), so no page waits on the mail server. The deadline job runs
on its own, longer interval. APScheduler only triggers the jobs; the rules for what is due live
in the services, and every row is claimed under a lock, so several scheduler processes are safe
together.
"""

from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger("portal.jobs")

DOCUMENT_CHECK_POLL_SECONDS = 3600


def fire_deadlines(app: Flask) -> int:
    """The deadline job: fires due deadlines, each exactly once; returns how many fired."""
    from portal.extensions import db
    from portal.services import deadlines, job_runs

    with app.app_context():
        try:
            fired = deadlines.sweep()
            # /healthz reads this to tell a live scheduler from a dead one.
            job_runs.record_finished(job_runs.SWEEP)
        finally:
            db.session.remove()
    if fired:
        log.info("fired %d deadline(s)", fired)
    return fired


def deliver_mail(app: Flask) -> int:
    """The mail job: delivers e-mail due in the outbox; returns how many went out."""
    from portal.extensions import db
    from portal.notify import outbox

    with app.app_context():
        try:
            sent = outbox.deliver_pending(limit=200)
        finally:
            db.session.remove()
    if sent:
        log.info("sent %d e-mail(s)", sent)
    return sent


def deliver_webhooks(app: Flask) -> int:
    """The webhook job: POSTs due webhook deliveries (portal.services.webhooks, the same
    outbox machinery as e-mail); returns how many were delivered."""
    from portal.extensions import db
    from portal.services import webhooks

    with app.app_context():
        try:
            delivered = webhooks.deliver_pending(limit=200)
        finally:
            db.session.remove()
    if delivered:
        log.info("delivered %d webhook(s)", delivered)
    return delivered


def check_documents(app: Flask) -> None:
    """The document check job: re-hashes every stored document when its weekly turn has come
    (portal.services.integrity decides, so restarts neither skip nor repeat it)."""
    from portal.extensions import db
    from portal.services import integrity

    with app.app_context():
        try:
            integrity.run_if_due()
        finally:
            db.session.remove()


def sweep_storage(app: Flask) -> object | None:
    """The storage job: gives committed documents their full retention and removes orphans
    whose short lock has run out (portal.services.retention); None if storage was down."""
    from portal.extensions import db
    from portal.services import retention
    from portal.storage import StorageError

    with app.app_context():
        try:
            return retention.sweep()
        except StorageError as exc:
            log.warning("storage sweep skipped, document storage unavailable: %s", exc)
            return None
        finally:
            db.session.remove()


def remind_awaiting(app: Flask) -> int:
    """The reminder job: e-mails each person one digest of what has waited on them longer
    than AWAITING_REMINDER_DAYS (portal.services.awaiting decides, once per case and state);
    returns how many e-mails were queued."""
    from portal.extensions import db
    from portal.services import awaiting

    with app.app_context():
        try:
            queued = awaiting.send_reminders()
        finally:
            db.session.remove()
    if queued:
        log.info("queued %d reminder e-mail(s)", queued)
    return queued


def check_idle_accounts(app: Flask) -> object:
    """The idle account job: reminds, then deactivates, accounts nobody signed in to for
    ACCOUNT_IDLE_DAYS (portal.services.accounts decides; each reminder goes once)."""
    from portal.extensions import db
    from portal.services import accounts

    with app.app_context():
        try:
            result = accounts.sweep_idle()
        finally:
            db.session.remove()
    if result.reminded or result.deactivated:
        log.info("idle accounts: %d reminded, %d deactivated", result.reminded, result.deactivated)
    return result


def refresh_evidence(app: Flask) -> object:
    """The evidence job: re-timestamps documents whose newest timestamp's certificate ends
    within EVIDENCE_REFRESH_MARGIN_DAYS (portal.services.evidence; a renewed document is not
    due again, so running it more often than daily changes nothing)."""
    from portal.extensions import db
    from portal.services import evidence

    with app.app_context():
        try:
            result = evidence.refresh()
        finally:
            db.session.remove()
    if result.refreshed or result.tsa_renewed or not result.ok:
        for line in result.lines():
            (log.info if result.ok else log.warning)("evidence refresh: %s", line)
    return result


def keeps_locks(config) -> bool:
    """Whether documents go to S3 under Object Lock, so there is retention to sweep."""
    return str(config["STORAGE_URL"]).startswith("s3://") and bool(
        config["DOCUMENT_RETENTION_DAYS"]
    )


def sweep(app: Flask) -> dict[str, int]:
    """The sending jobs once, deadlines first (their notices and events go out in the same
    pass)."""
    fired = fire_deadlines(app)
    sent = deliver_mail(app)
    delivered = deliver_webhooks(app)
    return {"deadlines_fired": fired, "mail_sent": sent, "webhooks_delivered": delivered}


def build_scheduler(
    app: Flask, *, interval_seconds: int = 60, mail_interval_seconds: int | None = None
):
    """A blocking scheduler with the deadline job every `interval_seconds` and the mail and
    webhook jobs every `mail_interval_seconds` (default: the app's MAIL_INTERVAL_SECONDS)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    if mail_interval_seconds is None:
        mail_interval_seconds = app.config["MAIL_INTERVAL_SECONDS"]
    scheduler = BlockingScheduler(timezone="UTC")
    for job, job_id, seconds in (
        (fire_deadlines, "deadlines", interval_seconds),
        (deliver_mail, "mail", mail_interval_seconds),
        # Webhooks on their own job, so a slow receiver never holds e-mail back.
        (deliver_webhooks, "webhooks", mail_interval_seconds),
    ):
        scheduler.add_job(
            job,
            "interval",
            args=[app],
            seconds=seconds,
            id=job_id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=seconds,
        )
    if keeps_locks(app.config):
        from portal import clock

        # Hourly by default, and once at start.
        scheduler.add_job(
            sweep_storage,
            "interval",
            args=[app],
            minutes=app.config["DOCUMENT_SWEEP_INTERVAL_MINUTES"],
            id="storage",
            max_instances=1,
            coalesce=True,
            next_run_time=clock.now(),
        )
    from portal import clock

    # Asks hourly, and once at start, whether the document check is due (weekly by default).
    scheduler.add_job(
        check_documents,
        "interval",
        args=[app],
        seconds=DOCUMENT_CHECK_POLL_SECONDS,
        id="documents",
        max_instances=1,
        coalesce=True,
        next_run_time=clock.now(),
    )
    # Daily by default, and once at start (each thing is reminded of once, so a restart
    # sends nothing twice).
    scheduler.add_job(
        remind_awaiting,
        "interval",
        args=[app],
        hours=app.config["AWAITING_REMINDER_INTERVAL_HOURS"],
        id="reminders",
        max_instances=1,
        coalesce=True,
        next_run_time=clock.now(),
    )
    # Hourly, and once at start: an idle account is deactivated within the hour its period
    # ends (each reminder goes once, however often it runs).
    scheduler.add_job(
        check_idle_accounts,
        "interval",
        args=[app],
        seconds=DOCUMENT_CHECK_POLL_SECONDS,
        id="idle_accounts",
        max_instances=1,
        coalesce=True,
        next_run_time=clock.now(),
    )
    # Daily, and once at start: evidence (document timestamps) renewed well before it ends.
    scheduler.add_job(
        refresh_evidence,
        "interval",
        args=[app],
        days=1,
        id="evidence",
        max_instances=1,
        coalesce=True,
        next_run_time=clock.now(),
    )
    if app.config.get("BACKUP_DIR"):
        from portal import clock
        from portal.services import backups

        # Asks hourly, and once at start, whether a day has passed since the newest backup.
        scheduler.add_job(
            backups.daily,
            "interval",
            args=[app],
            hours=1,
            id="backup",
            max_instances=1,
            coalesce=True,
            next_run_time=clock.now(),
        )
    return scheduler


def run_scheduler(
    app: Flask, *, interval_seconds: int = 60, mail_interval_seconds: int | None = None
) -> None:
    """Blocks: sweeps once now (catching up after downtime), then runs the jobs on their
    intervals. A failing job (the database or mail server down) is logged and tried again on
    its next turn; it never stops the scheduler. Whatever else stops it is raised, so
    `flask scheduler` exits non-zero and its supervisor restarts it."""
    # APScheduler logs every run at INFO (twice every few seconds with the mail job); keep its
    # warnings and job errors, and let the jobs log what they did.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if mail_interval_seconds is None:
        mail_interval_seconds = app.config["MAIL_INTERVAL_SECONDS"]
    scheduler = build_scheduler(
        app, interval_seconds=interval_seconds, mail_interval_seconds=mail_interval_seconds
    )
    try:
        sweep(app)
    except Exception:
        log.exception("scheduler: the catch-up sweep at start failed; the jobs go on regardless")
    log.info(
        "scheduler: deadlines every %d s, e-mail every %d s",
        interval_seconds,
        mail_interval_seconds,
    )
    scheduler.start()
