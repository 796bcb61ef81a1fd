"""`flask --app wsgi …` commands: init, pki, demo, verify, users, outbox, deadline, audit verify,
evidence refresh."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from workflows.parties import LEAD_ROLES


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Migrate the database, create the CA if missing, publish the shipped template."""
    from flask_migrate import upgrade

    from portal import runtime
    from portal.services import setup

    upgrade()
    if runtime.init_pki(current_app):
        click.echo(f"Created the portal certificate authority in {current_app.config['PKI_DIR']}")
    setup.initialize()
    click.echo("Database and certificate authority are ready.")


@click.group("pki")
def pki_group() -> None:
    """The portal's certificate authority."""


@pki_group.command("init")
@click.option(
    "--hsm",
    is_flag=True,
    help="Make the issuing CA, TSA and seal keys in the PKCS#11 token named by "
    "PKI_PKCS11_MODULE, PKI_PKCS11_TOKEN_LABEL and PKI_PKCS11_PIN.",
)
@click.option(
    "--offline-root",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the root CA key (encrypted with PKI_PASSPHRASE) to this path, to be moved "
    "off the server, and keep none in PKI_DIR.",
)
@with_appcontext
def pki_init(hsm: bool, offline_root: Path | None) -> None:
    """Create the root CA, issuing CA, timestamping key and document seal (if missing)."""
    from portal import runtime
    from portal.pki import PkiError

    cfg = current_app.config
    if hsm and not cfg.get("PKI_PKCS11_MODULE"):
        raise click.UsageError(
            "--hsm needs PKI_PKCS11_MODULE, PKI_PKCS11_TOKEN_LABEL and PKI_PKCS11_PIN set."
        )
    if offline_root and cfg.get("PKI_PKCS12_PATH"):
        raise click.UsageError("--offline-root: the CA from PKI_PKCS12_PATH has no root key here.")
    try:
        created = runtime.init_pki(current_app, offline_root=offline_root)
    except PkiError as exc:
        raise click.ClickException(str(exc)) from exc
    where = cfg["PKI_DIR"]
    click.echo(f"{'Created' if created else 'Kept the existing'} certificate authority in {where}")
    if not created:
        if hsm or offline_root:
            click.echo("Nothing was changed: --hsm and --offline-root apply to a new CA only.")
        return
    if cfg.get("PKI_PKCS11_MODULE"):
        click.echo(
            f"The issuing CA, TSA and seal keys were made in the PKCS#11 token "
            f"{cfg['PKI_PKCS11_TOKEN_LABEL']!r} (labels issuing-ca, tsa, seal); they cannot "
            f"be exported. {where} holds their certificates only. Set PKI_PKCS11_MODULE, "
            "PKI_PKCS11_TOKEN_LABEL and PKI_PKCS11_PIN wherever the portal runs (web and "
            "scheduler), and back the token up as its maker says."
        )
    if offline_root:
        click.echo(
            f"The root CA key is in {offline_root}, encrypted with PKI_PASSPHRASE; {where} "
            "holds none. Move it now to offline storage (e.g. an encrypted USB drive in a "
            f"safe) and remove it from this machine (shred -u {offline_root}). The portal "
            "runs without it; bring it back only to sign a new root CRL or issuing CA."
        )


@pki_group.command("root-crl")
@click.option(
    "--root-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The root CA key brought back from offline storage (encrypted with PKI_PASSPHRASE); "
    "default: root-ca.key.pem in PKI_DIR.",
)
@with_appcontext
def pki_root_crl(root_key: Path | None) -> None:
    """Sign a fresh root CRL (root-ca.crl in PKI_DIR) with the root key.

    The root CRL lasts until the issuing CA expires, so this is needed only for a new issuing
    CA or to re-sign it early; restart the portal afterwards to serve it.
    """
    from portal import clock
    from portal.pki import PkiError, files
    from portal.pki.revocation import resign_root_crl

    directory = Path(current_app.config["PKI_DIR"])
    key = root_key or files.key_path(directory, files.ROOT)
    try:
        written = resign_root_crl(
            directory, key, current_app.config["PKI_PASSPHRASE"].encode(), clock.now()
        )
    except PkiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Signed a new root CRL: {written}")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Seed demo agencies and people when the database has nobody yet; print the logins."""
    from portal.services import demo

    if demo.is_empty():
        demo.seed()
        demo.seed_story()
    _print_logins(demo.logins())


def _print_logins(logins) -> None:
    from portal.services.demo import DEMO_PASSWORD

    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
    for login in logins:
        click.echo(f"  {login.email:32} {login.role:20} {login.name} — {login.agency}")
    click.echo("")


@click.command("demo")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
def demo_command(out_dir: Path) -> None:
    """Play the whole journey through the services; write every PDF and root-ca.pem to OUT.

    Runs on a throwaway instance in a temporary folder unless DATABASE_URL or STORAGE_URL
    are set, in which case it uses those.
    """
    from flask_migrate import upgrade

    from portal import runtime
    from portal.config import Config
    from portal.services import demo

    uses_real = bool(os.environ.get("DATABASE_URL") or os.environ.get("STORAGE_URL"))
    # A throwaway app is made by the factory that made this one (handed over by the app,
    # so the commands never import the factory that registers them).
    factory = current_app.extensions["portal.factory"]
    with tempfile.TemporaryDirectory(prefix="portal-demo-") as tmp:
        app = current_app._get_current_object() if uses_real else factory(Config(instance_path=tmp))
        with app.app_context():
            upgrade()
            runtime.init_pki(app)
            written = demo.play_journey(out_dir)
    for path in written:
        click.echo(f"wrote {path}")


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def verify_command(file: Path) -> None:
    """Check a PDF's signatures and whether it is a document on record.

    Prints the verdict first. Exit status: 0 valid and on record; 3 valid but not on record;
    1 anything else, such as a certificate the portal never issued (see
    portal/documents/verdict.py).
    """
    from portal.documents.verdict import format_text
    from portal.services import verification

    # pyHanko logs each problem it finds with a traceback; here every problem is a finding
    # in the report, so its log would only bury the verdict.
    was_disabled = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        result = verification.verify(file.read_bytes())
    except Exception as exc:  # the report never raises on bad input; this is a fault here
        click.echo(f"Verdict: could not check this file ({type(exc).__name__}).")
        sys.exit(1)
    finally:
        logging.disable(was_disabled)
    click.echo(format_text(result.report, result.judgement, result.record_line, result.issued))
    sys.exit(result.judgement.verdict.exit_code)


@click.command("add-staff")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--title", required=True)
@click.option("--role", required=True, type=click.Choice(sorted(LEAD_ROLES)))
@with_appcontext
def add_staff(email: str, name: str, title: str, role: str) -> None:
    """Add a lead agency staff account; the person gets an invitation to set a password."""
    from portal.services import setup

    user = setup.add_lead_person(email=email, name=name, title=title, role=role)
    click.echo(f"Invited {user.email} as {user.role_label}.")


@click.command("send-mail")
@with_appcontext
def send_mail() -> None:
    """Deliver e-mail waiting in the outbox."""
    from portal.notify import outbox

    click.echo(f"Sent {outbox.deliver_pending(limit=500)} message(s).")


@click.command("check-documents")
@with_appcontext
def check_documents_command() -> None:
    """Read every stored document version back, re-hash it and compare it with the database.

    Lists each missing or changed version; exits 1 if there is any, 2 if storage failed.
    """
    from portal.services import integrity
    from portal.storage import StorageError

    try:
        result = integrity.check_all()
    except StorageError as exc:
        click.echo(f"The check could not finish: {exc.message}", err=True)
        sys.exit(2)
    for problem in result.problems:
        click.echo(problem.describe())
    click.echo(
        f"Checked {result.checked} stored version(s): "
        + ("all as recorded." if result.ok else f"{len(result.problems)} missing or changed.")
    )
    sys.exit(0 if result.ok else 1)


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Back up the database and a manifest of every document version into a new folder in
    DIRECTORY, named by the time (pg_dump on PostgreSQL, the online backup API on SQLite)."""
    from portal.services import backups

    try:
        folder = backups.create(directory)
    except backups.BackupError as exc:
        raise click.ClickException(exc.message) from exc
    manifest = backups.read_manifest(folder)
    click.echo(
        f"Backed up to {folder}: {len(manifest['document_versions'])} document version(s), "
        f"migration revision {manifest['migration_revision']}."
    )


@click.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(directory: Path) -> None:
    """Restore the backup in DIRECTORY into this (empty) database and check every document
    version of its manifest against the restored rows; exits 1 if any differs."""
    from portal.services import backups

    try:
        report = backups.restore(directory)
    except backups.BackupError as exc:
        raise click.ClickException(exc.message) from exc
    for line in report.lines():
        click.echo(line)
    sys.exit(0 if report.ok else 1)


@click.command("scheduler")
@click.option("--interval", default=60, show_default=True, help="Seconds between deadline sweeps.")
@click.option(
    "--mail-interval",
    type=click.IntRange(min=1),
    default=None,
    help="Seconds between deliveries of due e-mail (default: MAIL_INTERVAL_SECONDS, 5).",
)
@with_appcontext
def scheduler_command(interval: int, mail_interval: int | None) -> None:
    """Fire due deadlines and deliver due e-mail once now, then keep doing both, in this process.

    Deadlines are swept every INTERVAL seconds; e-mail, which requests only queue, goes out
    every few seconds (MAIL_INTERVAL_SECONDS).
    """
    from portal.jobs import run_scheduler

    try:
        run_scheduler(
            current_app._get_current_object(),
            interval_seconds=interval,
            mail_interval_seconds=mail_interval,
        )
    except Exception:
        # Exit non-zero, so a supervisor (systemd's Restart=on-failure, `make run`) restarts it.
        logging.getLogger("portal.jobs").exception("the scheduler stopped")
        sys.exit(1)


@click.command("sweep-storage")
@with_appcontext
def sweep_storage_command() -> None:
    """Give committed documents their full retention; remove orphans whose short lock ran out.

    An orphan is a stored object no record refers to (its transaction failed). The scheduler
    does this every DOCUMENT_SWEEP_INTERVAL_MINUTES; exits 2 if storage is unavailable.
    """
    from portal.services import retention
    from portal.storage import StorageError

    try:
        result = retention.sweep()
    except StorageError as exc:
        click.echo(f"The sweep could not finish: {exc.message}", err=True)
        sys.exit(2)
    click.echo(result.describe().capitalize() + ".")


@click.command("deadline")
@click.argument("from_date", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("days", type=click.IntRange(1, 3650))
@click.option(
    "--business-days", is_flag=True, help="Count business days (Mon–Fri except holidays)."
)
@click.option(
    "--roll/--no-roll",
    default=False,
    show_default=True,
    help="Move a last day on a weekend or holiday to the next business day.",
)
@with_appcontext
def deadline_command(from_date, days: int, business_days: bool, roll: bool) -> None:
    """Print when a period of DAYS from notice given on FROM_DATE (YYYY-MM-DD) ends.

    The instant is ISO 8601 with the lead agency's offset, computed by the same code (and
    holiday calendar) as the calculator page and every deadline in the portal.
    """
    from portal.services import deadlines
    from portal.services.timefmt import local
    from workflows.calendar import DeadlineRule

    period = DeadlineRule(days, business_days, roll)
    computed = deadlines.compute_from_date(from_date.date(), period)
    click.echo(local(computed.due_at).isoformat())


@click.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the audit log's hash chain on the configured database, entry by entry."""
    from portal.extensions import db
    from portal.services import audit_chain

    verdict = audit_chain.verify(db.session)
    db.session.rollback()
    if verdict.broken is not None:
        click.echo(verdict.broken.describe())
        click.echo(f"The {verdict.entries} entries before it are intact.")
        sys.exit(1)
    click.echo(f"Audit chain intact: {verdict.entries} entries, head {verdict.head}")


@click.group("evidence")
def evidence_group() -> None:
    """The long-term evidence in stored documents (PAdES B-LTA)."""


@evidence_group.command("refresh")
@click.option(
    "--margin-days",
    type=click.IntRange(min=1),
    default=None,
    help="Renew what ends within this many days (default: EVIDENCE_REFRESH_MARGIN_DAYS, 365).",
)
@with_appcontext
def evidence_refresh(margin_days: int | None) -> None:
    """Add a new document timestamp, as a new version, to every document whose newest
    timestamp's certificate ends within the margin (renewing that certificate first when
    due). Exits 1 if any document failed; the others are renewed regardless."""
    from datetime import timedelta

    from portal.services import evidence

    margin = timedelta(days=margin_days) if margin_days else None
    result = evidence.refresh(margin)
    for line in result.lines():
        click.echo(line)
    sys.exit(0 if result.ok else 1)


commands = [
    audit_group,
    evidence_group,
    deadline_command,
    scheduler_command,
    sweep_storage_command,
    init_command,
    pki_group,
    seed_demo,
    demo_command,
    verify_command,
    add_staff,
    send_mail,
    backup_command,
    restore_command,
    check_documents_command,
]
