"""Settings, read from the environment in one place.

Every setting has a safe default for `make run` on one machine; production supplies secrets
through the environment and never runs with DEBUG.
"""

from __future__ import annotations

import os
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


class Config:
    """Portal settings. Each attribute is one environment variable of the same name."""

    def __init__(self, instance_path: str | os.PathLike[str] | None = None, **overrides: object):
        instance = Path(instance_path or os.environ.get("PORTAL_INSTANCE", "instance")).resolve()
        env = os.environ.get
        self.INSTANCE_PATH = str(instance)
        # Flask's session signing key: required in production, generated per instance otherwise.
        self.SECRET_KEY = env("SECRET_KEY") or _instance_secret(instance)
        self.DEBUG = False
        self.TESTING = False
        self.SQLALCHEMY_DATABASE_URI = env("DATABASE_URL") or f"sqlite:///{instance / 'portal.db'}"
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
        # Documents: file:///path (default: the instance folder) or s3://bucket/prefix.
        self.STORAGE_URL = env("STORAGE_URL") or (instance / "documents").as_uri()
        self.S3_ENDPOINT_URL = env("S3_ENDPOINT_URL")
        self.S3_REGION = env("S3_REGION", "us-east-1")
        self.S3_ACCESS_KEY = env("S3_ACCESS_KEY") or env("AWS_ACCESS_KEY_ID")
        self.S3_SECRET_KEY = env("S3_SECRET_KEY") or env("AWS_SECRET_ACCESS_KEY")
        self.S3_CREATE_BUCKET = _bool("S3_CREATE_BUCKET", False)
        # Object Lock retention for stored documents, in days (None: no retention set).
        self.DOCUMENT_RETENTION_DAYS = _int("DOCUMENT_RETENTION_DAYS", 3650)
        self.DOCUMENT_LOCK_MODE = env("DOCUMENT_LOCK_MODE", "COMPLIANCE")
        # Daily backups (IV.B.2): the scheduler writes one a day into BACKUP_DIR (none when
        # unset) and keeps the newest BACKUP_KEEP.
        self.BACKUP_DIR = env("BACKUP_DIR")
        self.BACKUP_KEEP = _int("BACKUP_KEEP", 14)
        # The portal's certificate authority; keys are encrypted with PKI_PASSPHRASE.
        self.PKI_DIR = env("PKI_DIR") or str(instance / "pki")
        self.PKI_PASSPHRASE = env("PKI_PASSPHRASE") or _instance_secret(instance, "pki-passphrase")
        self.PKI_PKCS12_PATH = env("PKI_PKCS12_PATH")
        self.PKI_PKCS12_PASSPHRASE = env("PKI_PKCS12_PASSPHRASE")
        # The lead agency and its time zone (deadlines end at the end of a local day).
        self.LEAD_AGENCY_NAME = env("LEAD_AGENCY_NAME", "Sacramento Steps Forward")
        self.LEAD_TIMEZONE = env("LEAD_TIMEZONE", "America/Los_Angeles")
        self.PORTAL_BASE_URL = env("PORTAL_BASE_URL", "http://127.0.0.1:5000")
        # Deadline rules (VIII.B.1, VIII.B.3): days, business days or calendar days, and
        # whether a last day on a weekend or holiday rolls to the next business day.
        self.CURE_PERIOD_DAYS = _int("CURE_PERIOD_DAYS", 10)
        self.CURE_PERIOD_BUSINESS_DAYS = _bool("CURE_PERIOD_BUSINESS_DAYS", False)
        self.CURE_PERIOD_ROLL = _bool("CURE_PERIOD_ROLL", False)
        self.TERMINATION_NOTICE_DAYS = _int("TERMINATION_NOTICE_DAYS", 30)
        self.TERMINATION_NOTICE_BUSINESS_DAYS = _bool("TERMINATION_NOTICE_BUSINESS_DAYS", False)
        self.TERMINATION_NOTICE_ROLL = _bool("TERMINATION_NOTICE_ROLL", False)
        self.REMINDER_DAYS_BEFORE = (3, 1)
        # E-mail: with no SMTP_HOST, messages are written to the log instead of sent.
        self.SMTP_HOST = env("SMTP_HOST")
        self.SMTP_PORT = _int("SMTP_PORT", 25)
        self.SMTP_USERNAME = env("SMTP_USERNAME")
        self.SMTP_PASSWORD = env("SMTP_PASSWORD")
        self.SMTP_STARTTLS = _bool("SMTP_STARTTLS", False)
        self.MAIL_FROM = env("MAIL_FROM", "HMIS Portal <hmis-portal@localhost>")
        self.MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
        # Requests only queue e-mail; the scheduler's mail job delivers it this often (seconds).
        self.MAIL_INTERVAL_SECONDS = _int("MAIL_INTERVAL_SECONDS", 5)
        # Uploads to /verify are PDFs of at most this many bytes.
        self.MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
        # Invitations to set a password expire after this many hours.
        self.INVITATION_HOURS = _int("INVITATION_HOURS", 72)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        self.WTF_CSRF_TIME_LIMIT = None
        self.BOOTSTRAP_SERVE_LOCAL = True
        self.ARGON2_FAST = False  # tests set True: cheap hashing, same algorithm
        for key, value in overrides.items():
            setattr(self, key, value)


def _instance_secret(instance: Path, name: str = "secret-key") -> str:
    """A random secret kept in the instance folder, so a single-machine install needs no setup.

    Production sets the variable instead; the file is created 0600 on first use.
    """
    import secrets

    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
