"""Load and faults, measured: the portal's journeys over HTTP while its servers fail.

Starts, on 127.0.0.1 only: a fresh PostgreSQL database, SeaweedFS S3 with Object Lock, an
aiosmtpd server, gunicorn serving wsgi:app and two scheduler processes. N client threads
sign agreements, give and cure notices, decline, and browse for a set time, while the S3
server, the SMTP server and one scheduler are stopped and started again. Then the scheduler
gets time to deliver the mail, and the database is checked: half-done cases, duplicate
transitions, documents without their stored object, e-mail lost must all be 0 (else exit 1).

    python bench/load.py --clients 4 --seconds 60
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bench.load_checks import (  # noqa: E402 (re-exported for the checks' test)
    duplicates,
    half_done,
    lost_mail,
    missing_objects,
    outbox_ids,
)
from bench.load_client import Tally  # noqa: E402
from bench.load_journeys import Agency, Run, client, enlist  # noqa: E402
from bench.load_services import Database, Portal, S3Server, SmtpServer  # noqa: E402

__all__ = ["duplicates", "half_done", "lost_mail", "missing_objects", "outbox_ids"]
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=4, choices=range(1, 33), metavar="1..32")
    parser.add_argument("--seconds", type=int, default=60, choices=range(10, 3601), metavar="S")
    parser.add_argument(
        "--workers", type=int, help="gunicorn worker processes (default: the config's)"
    )
    parser.add_argument(
        "--drain", type=int, default=180, help="at most this long for queued e-mail to go out"
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="PostgreSQL server URL")
    return parser.parse_args()


def faults(s3: S3Server, smtp: SmtpServer, portal: Portal, seconds: int):
    """When (fraction of the run) to stop and start what; overlapping on purpose."""
    return [
        (0.10, "S3 stopped", s3.stop),
        (0.25, "scheduler 1 killed (SIGKILL)", lambda: portal.kill_scheduler(1)),
        (0.25, "S3 started (SeaweedFS re-elects its raft leader first)", s3.start),
        (0.45, "SMTP stopped", smtp.stop),
        (0.60, "scheduler 1 started", lambda: portal.start_scheduler(1)),
        (0.70, "SMTP started", smtp.start),
    ]


def inject(
    plan: list[tuple[float, str, Callable[[], None]]],
    start: float,
    seconds: int,
    log: list[str],
    stop: threading.Event,
) -> list[threading.Thread]:
    """Each fault on its own timer, so a slow restart does not delay the next fault."""

    def at(fraction: float, label: str, act: Callable[[], None]) -> None:
        if stop.wait(max(0.0, start + fraction * seconds - time.monotonic())):
            return
        began = time.monotonic() - start
        act()
        log.append(f"{began:6.1f} s → {time.monotonic() - start:6.1f} s  {label}")

    threads = [threading.Thread(target=at, args=item, daemon=True) for item in plan]
    for thread in threads:
        thread.start()
    return threads


def drain(engine, seconds: int) -> float:
    """Waits (bounded) until no e-mail is pending; returns how long it took."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        with engine.connect() as conn:
            pending = conn.scalar(
                text("SELECT COUNT(*) FROM outbox_message WHERE status = 'pending'")
            )
        if not pending:
            break
        time.sleep(2)
    return time.monotonic() - began


def play(
    args: argparse.Namespace, portal: Portal, s3: S3Server, smtp: SmtpServer, password: str
) -> tuple[Tally, Tally, list[str]]:
    setup = Tally()
    mail = smtp.sink.snapshot
    per_client = max(2, min(6, args.seconds // 15))
    setup_run = Run(portal.base_url, password, setup, time.monotonic() + 600, mail)
    pools: list[list[Agency]] = [[] for _ in range(args.clients)]

    def enlist_all(index: int) -> None:
        from bench.load_journeys import lead_staff

        admin, _ = lead_staff(setup_run)
        for n in range(per_client):
            try:
                pools[index].append(enlist(setup_run, admin, f"{index}-{n}"))
            except Exception as exc:  # noqa: BLE001 (a failed enlistment is only reported)
                setup.done(f"enlistment failed: {type(exc).__name__}: {str(exc)[:80]}")

    threads = [
        threading.Thread(target=enlist_all, args=(i,), daemon=True) for i in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    print(f"set up {sum(map(len, pools))} agencies ready to sign", flush=True)

    tally = Tally()
    start = time.monotonic()
    run = Run(portal.base_url, password, tally, start + args.seconds, mail)
    log: list[str] = []
    stop = threading.Event()
    threads = [threading.Thread(target=client, args=(run, pool), daemon=True) for pool in pools]
    injectors = inject(faults(s3, smtp, portal, args.seconds), start, args.seconds, log, stop)
    for thread in threads:
        thread.start()
    for thread in threads:
        # A step in flight when time is up finishes (each request has its own timeout).
        thread.join(timeout=args.seconds + 300)
    stop.set()
    for injector in injectors:
        injector.join(timeout=120)
    log.append(f"{time.monotonic() - start:6.1f} s  clients done")
    log.sort()
    return setup, tally, log


def restore(s3: S3Server, smtp: SmtpServer, portal: Portal) -> None:
    """Whatever the fault plan left stopped (a short run) is started again before checking."""
    if s3.process is None:
        s3.start()
    if smtp.controller is None:
        smtp.start()
    if portal.schedulers[1] is None:
        portal.start_scheduler(1)


def report(
    setup: Tally,
    tally: Tally,
    log: list[str],
    url: str,
    s3: S3Server,
    smtp: SmtpServer,
    portal: Portal,
    drain_seconds: int,
) -> int:
    from portal.storage import open_storage

    engine = create_engine(url)
    waited = drain(engine, drain_seconds)
    storage = open_storage(
        portal.env["STORAGE_URL"],
        endpoint_url=s3.info.endpoint_url,
        access_key=s3.access_key,
        secret_key=s3.secret_key,
    )
    arrivals = [outbox_ids([str(m["Message-ID"])]) for m in smtp.sink.snapshot()]
    received = set().union(*arrivals)
    twice = sum(len(ids) for ids in arrivals) - len(received)
    with engine.connect() as conn:
        steps = conn.scalar(select(func.count()).select_from(text("transition")))
        by_event = conn.execute(
            text("SELECT case_type, event, COUNT(*) FROM transition GROUP BY 1, 2 ORDER BY 1, 2")
        ).all()
        checks = {
            "half-done cases": half_done(conn),
            "duplicate transitions": duplicates(conn),
            "documents without a stored object": missing_objects(conn, storage.get),
        }
        mail = lost_mail(conn, received)
        deadlines = conn.execute(
            text(
                "SELECT COUNT(*) - COUNT(fired_at) - COUNT(cancelled_at), COUNT(fired_at), "
                "COUNT(cancelled_at) FROM deadline"
            )
        ).one()
    engine.dispose()
    checks["e-mails lost"] = mail.lost

    print("\n== faults ==")
    print("\n".join(log))
    print(f"\nsetup: {setup.served} requests; {dict(setup.journeys) or 'no failures'}")
    print(f"\nrequests served: {tally.served}")
    print("journeys:")
    for name, n in sorted(tally.journeys.items()):
        print(f"  {n:5d}  {name}")
    print("errors by kind:" + ("" if tally.errors + setup.errors else " none"))
    for name, n in sorted((tally.errors + setup.errors).items()):
        print(f"  {n:5d}  {name}")
    print("refusals shown to people (flashed, the step was retried):")
    for name, n in sorted(tally.refusals.items()):
        print(f"  {n:5d}  {name}")
    print(f"transitions recorded: {steps}")
    for case_type, event, n in by_event:
        print(f"  {n:5d}  {case_type} {event}")
    print(
        f"e-mail: {mail.queued} queued, {mail.sent} sent, {mail.pending_attempted} still "
        f"pending with attempts recorded, {mail.failed} failed (recorded); {len(received)} "
        f"received by the SMTP server ({twice} of them twice); drain waited {waited:.0f} s"
    )
    for example in mail.waiting:
        print(f"    {example}")
    print(
        f"deadlines: {deadlines[0]} pending, {deadlines[1]} fired, {deadlines[2]} cancelled "
        "(periods are days long, so none falls due within a run)"
    )
    failed = 0
    for name, found in checks.items():
        print(f"{name}: {found.count}" + ("" if found.count == 0 else "   <-- must be 0"))
        for example in found.examples:
            print(f"    {example}")
        failed += found.count > 0
    return 1 if failed else 0


def main() -> int:
    args = arguments()
    workdir = Path(tempfile.mkdtemp(prefix="portal-load-"))
    database = Database(args.database)
    (workdir / "s3").mkdir()
    s3 = S3Server(workdir / "s3")
    smtp = SmtpServer()
    portal = Portal(workdir, database.url, s3, smtp)
    database.create()
    status = 1  # until the report says otherwise
    try:
        s3.start()
        smtp.start()
        from portal.storage import open_storage

        # The bucket, with versioning and Object Lock, made by the portal's own storage code.
        open_storage(
            portal.env["STORAGE_URL"],
            endpoint_url=s3.info.endpoint_url,
            access_key=s3.access_key,
            secret_key=s3.secret_key,
            create_bucket=True,
        )
        portal.flask("init")
        seeded = portal.flask("seed-demo")
        found = re.search(r"password[^:\n]*:\s*([^\s)]+)", seeded, re.I)
        password = found.group(1) if found else "demo-password-2026"
        portal.start_web(args.workers)
        portal.start_scheduler(0)
        portal.start_scheduler(1)
        print(f"portal on {portal.base_url}; working in {workdir}", flush=True)
        setup, tally, log = play(args, portal, s3, smtp, password)
        restore(s3, smtp, portal)
        status = report(setup, tally, log, database.url, s3, smtp, portal, args.drain)
        return status
    finally:
        portal.stop()
        smtp.stop()
        s3.stop()
        database.drop()
        if status != 0:
            # The servers' logs outlive a failed run; the data (S3 volumes) does not.
            kept = Path(tempfile.mkdtemp(prefix="portal-load-logs-"))
            for found in workdir.rglob("*.log"):
                shutil.copy(found, kept / found.name)
            print(f"logs kept in {kept}")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
