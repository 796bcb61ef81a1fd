"""Settings, read from the environment in one place.

Every setting has a safe default for `make run` on one machine; production supplies secrets
through the environment and never runs with DEBUG.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("portal.config")


class UnsafeSettings(RuntimeError):
    """PORTAL_ENV=production with settings that are only safe on a developer's machine."""


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _int_tuple(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma-separated list of whole numbers, e.g. RECERTIFICATION_REMINDER_DAYS=30,7,1."""
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return tuple(int(part) for part in raw.split(",") if part.strip())


class Config:
    """Portal settings. Each attribute is one environment variable of the same name."""

    def __init__(self, instance_path: str | os.PathLike[str] | None = None, **overrides: object):
        instance = Path(instance_path or os.environ.get("PORTAL_INSTANCE", "instance")).resolve()
        env = os.environ.get
        self.INSTANCE_PATH = str(instance)
        # "production" refuses to start without its secrets and a real database, and never
        # runs the debugger; anything else is a developer's or a test machine.
        self.PORTAL_ENV = (env("PORTAL_ENV") or "development").strip().lower()
        # Flask's session signing key: required in production, generated per instance otherwise.
        self.SECRET_KEY = env("SECRET_KEY")
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
        # A stalled S3 server fails a storage call within about
        # S3_MAX_ATTEMPTS x (S3_CONNECT_TIMEOUT_SECONDS + S3_READ_TIMEOUT_SECONDS + 1) seconds
        # (2 x 21 = 42 s), well inside the web server's worker timeout.
        self.S3_CONNECT_TIMEOUT_SECONDS = _int("S3_CONNECT_TIMEOUT_SECONDS", 5)
        self.S3_READ_TIMEOUT_SECONDS = _int("S3_READ_TIMEOUT_SECONDS", 15)
        self.S3_MAX_ATTEMPTS = _int("S3_MAX_ATTEMPTS", 2)
        # Object Lock retention for stored documents, in days (None: no retention set).
        self.DOCUMENT_RETENTION_DAYS = _int("DOCUMENT_RETENTION_DAYS", 3650)
        self.DOCUMENT_LOCK_MODE = env("DOCUMENT_LOCK_MODE", "COMPLIANCE")
        # A new object is locked only this long until its row is committed; then it gets the
        # full retention. An object of a failed commit (an orphan) is removed by the storage
        # sweep, every DOCUMENT_SWEEP_INTERVAL_MINUTES, once this short lock has run out.
        self.DOCUMENT_PENDING_RETENTION_HOURS = _int("DOCUMENT_PENDING_RETENTION_HOURS", 24)
        self.DOCUMENT_SWEEP_INTERVAL_MINUTES = _int("DOCUMENT_SWEEP_INTERVAL_MINUTES", 60)
        # Daily backups (IV.B.2): the scheduler writes one a day into BACKUP_DIR (none when
        # unset) and keeps the newest BACKUP_KEEP.
        self.BACKUP_DIR = env("BACKUP_DIR")
        self.BACKUP_KEEP = _int("BACKUP_KEEP", 14)
        # The portal's certificate authority; keys are encrypted with PKI_PASSPHRASE.
        self.PKI_DIR = env("PKI_DIR") or str(instance / "pki")
        self.PKI_PASSPHRASE = env("PKI_PASSPHRASE")
        self.PKI_PKCS12_PATH = env("PKI_PKCS12_PATH")
        self.PKI_PKCS12_PASSPHRASE = env("PKI_PKCS12_PASSPHRASE")
        # The issuing CA, TSA and seal keys in an HSM (portal/pki/hsm.py): the PKCS#11
        # module's path, the token's label and its user PIN. Unset: the keys are files in PKI_DIR.
        self.PKI_PKCS11_MODULE = env("PKI_PKCS11_MODULE")
        self.PKI_PKCS11_TOKEN_LABEL = env("PKI_PKCS11_TOKEN_LABEL")
        self.PKI_PKCS11_PIN = env("PKI_PKCS11_PIN")
        # Revocation (portal/pki/revocation.py): how long each issuing CA CRL and OCSP answer
        # is valid, and the certificate policy OID signing certificates state (unset: the
        # portal's own, certificates.DEFAULT_POLICY_OID).
        self.CRL_VALIDITY_HOURS = _int("CRL_VALIDITY_HOURS", 168)
        self.CERTIFICATE_POLICY_OID = env("CERTIFICATE_POLICY_OID")
        # The RFC 3161 time-stamping authority (portal/pki/tsa.py, served at /tsa): the policy
        # OID (unset: the portal's own, tsa.DEFAULT_POLICY_OID) and accuracy (seconds) in its
        # tokens. TSA_URL signs with an external TSA instead (HTTP basic auth with
        # TSA_USERNAME/TSA_PASSWORD when set); when it gives no token, nothing is signed.
        self.TSA_POLICY_OID = env("TSA_POLICY_OID")
        self.TSA_ACCURACY_SECONDS = float(env("TSA_ACCURACY_SECONDS") or 1)
        self.TSA_URL = env("TSA_URL")
        self.TSA_USERNAME = env("TSA_USERNAME")
        self.TSA_PASSWORD = env("TSA_PASSWORD")
        self.TSA_TIMEOUT_SECONDS = _int("TSA_TIMEOUT_SECONDS", 10)
        # `flask evidence refresh` (daily in the scheduler) re-timestamps every archived
        # document whose newest timestamp's TSA certificate ends within this many days, and
        # renews that certificate first when it is itself within the margin.
        self.EVIDENCE_REFRESH_MARGIN_DAYS = _int("EVIDENCE_REFRESH_MARGIN_DAYS", 365)
        # argon2id cost of turning a person's password into the key that seals their signing
        # key: memory in KiB, passes, lanes. OWASP's minimum, since every signature pays it.
        self.SIGNING_KEY_KDF = env("SIGNING_KEY_KDF", "m=19456,t=2,p=1")
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
        # A request for a signature (an agreement, an amendment, a user agreement) reminds the
        # signer this many days after it was sent, and expires unsigned after
        # SIGNATURE_REQUEST_DAYS; a resend starts both again.
        self.SIGNATURE_REQUEST_DAYS = _int("SIGNATURE_REQUEST_DAYS", 30)
        self.SIGNATURE_REQUEST_BUSINESS_DAYS = _bool("SIGNATURE_REQUEST_BUSINESS_DAYS", False)
        self.SIGNATURE_REQUEST_ROLL = _bool("SIGNATURE_REQUEST_ROLL", False)
        self.SIGNATURE_REMINDER_DAYS = _int_tuple("SIGNATURE_REMINDER_DAYS", (3, 7, 14))
        # Onboarding a new HMIS user (IV.B.4): the invitation expires after this period, and
        # the required training must be complete within the training window.
        self.ONBOARDING_INVITATION_DAYS = _int("ONBOARDING_INVITATION_DAYS", 7)
        self.ONBOARDING_INVITATION_BUSINESS_DAYS = _bool(
            "ONBOARDING_INVITATION_BUSINESS_DAYS", False
        )
        self.ONBOARDING_INVITATION_ROLL = _bool("ONBOARDING_INVITATION_ROLL", False)
        self.TRAINING_WINDOW_DAYS = _int("TRAINING_WINDOW_DAYS", 30)
        self.TRAINING_WINDOW_BUSINESS_DAYS = _bool("TRAINING_WINDOW_BUSINESS_DAYS", False)
        self.TRAINING_WINDOW_ROLL = _bool("TRAINING_WINDOW_ROLL", False)
        # Yearly recertification (issue 8): a user agreement lapses this many days after its
        # approval (or latest renewal), the privacy and security training this many days
        # after it was last passed; reminders go this many days before the first lapse.
        self.USER_AGREEMENT_VALID_DAYS = _int("USER_AGREEMENT_VALID_DAYS", 365)
        self.TRAINING_VALID_DAYS = _int("TRAINING_VALID_DAYS", 365)
        self.RECERTIFICATION_REMINDER_DAYS = _int_tuple("RECERTIFICATION_REMINDER_DAYS", (30, 7, 1))
        # A new course's pass mark (percent) and attempts allowed, unless the course says.
        self.TRAINING_PASS_MARK = _int("TRAINING_PASS_MARK", 80)
        self.TRAINING_MAX_ATTEMPTS = _int("TRAINING_MAX_ATTEMPTS", 3)
        # Anything that has waited on a person this many days is e-mailed to them, once.
        self.AWAITING_REMINDER_DAYS = _int("AWAITING_REMINDER_DAYS", 5)
        # The scheduler looks for what to remind of this often (hours); each thing is
        # reminded of once per state, however often it looks.
        self.AWAITING_REMINDER_INTERVAL_HOURS = _int("AWAITING_REMINDER_INTERVAL_HOURS", 24)
        # Idle accounts (IV.B.5): deactivated after this many days without a sign-in, with an
        # e-mail this many days before (comma-separated, e.g. "7,1").
        self.ACCOUNT_IDLE_DAYS = _int("ACCOUNT_IDLE_DAYS", 30)
        self.ACCOUNT_IDLE_REMINDER_DAYS = tuple(
            int(d) for d in (env("ACCOUNT_IDLE_REMINDER_DAYS") or "7,1").split(",") if d.strip()
        )
        # Separations (V.E.12): reported on time within this period after the last day.
        self.SEPARATION_REPORT_DAYS = _int("SEPARATION_REPORT_DAYS", 1)
        self.SEPARATION_REPORT_BUSINESS_DAYS = _bool("SEPARATION_REPORT_BUSINESS_DAYS", True)
        self.SEPARATION_REPORT_ROLL = _bool("SEPARATION_REPORT_ROLL", False)
        self.HANDOVER_DAYS = _int("HANDOVER_DAYS", 30)
        self.HANDOVER_BUSINESS_DAYS = _bool("HANDOVER_BUSINESS_DAYS", False)
        self.HANDOVER_ROLL = _bool("HANDOVER_ROLL", False)
        # The HMIS vendor's user export, uploaded to reconcile: at most this many rows.
        self.HMIS_EXPORT_MAX_ROWS = _int("HMIS_EXPORT_MAX_ROWS", 20000)
        # Adds each response's number of SQL statements as an X-Query-Count header (for the
        # page bench and the query-count tests only; portal/query_count.py).
        self.QUERY_COUNT_HEADER = _bool("QUERY_COUNT_HEADER", False)
        # E-mail: with no SMTP_HOST, messages are written to the log instead of sent.
        self.SMTP_HOST = env("SMTP_HOST")
        self.SMTP_PORT = _int("SMTP_PORT", 25)
        self.SMTP_USERNAME = env("SMTP_USERNAME")
        self.SMTP_PASSWORD = env("SMTP_PASSWORD")
        self.SMTP_STARTTLS = _bool("SMTP_STARTTLS", False)
        self.MAIL_FROM = env("MAIL_FROM", "HMIS Portal <hmis-portal@localhost>")
        # Seconds a mail server may take to answer any one step before the message waits for
        # the next attempt (a hung server cannot hold the scheduler's mail job long).
        self.SMTP_TIMEOUT_SECONDS = _int("SMTP_TIMEOUT_SECONDS", 10)
        self.MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
        # Requests only queue e-mail; the scheduler's mail job delivers it this often (seconds).
        self.MAIL_INTERVAL_SECONDS = _int("MAIL_INTERVAL_SECONDS", 5)
        # Webhook deliveries: tries per delivery before it is "failed" (and shown to SSF), and
        # the seconds a receiver may take to answer one.
        self.WEBHOOK_MAX_ATTEMPTS = _int("WEBHOOK_MAX_ATTEMPTS", 8)
        self.WEBHOOK_TIMEOUT_SECONDS = _int("WEBHOOK_TIMEOUT_SECONDS", 10)
        # /healthz calls the scheduler stale when its last deadline sweep is older than this
        # (a few sweep intervals; the sweep runs every 60 s by default).
        self.HEALTH_SCHEDULER_MAX_AGE_SECONDS = _int("HEALTH_SCHEDULER_MAX_AGE_SECONDS", 300)
        # The scheduler re-reads and re-hashes every stored document this often.
        self.DOCUMENT_CHECK_INTERVAL_DAYS = _int("DOCUMENT_CHECK_INTERVAL_DAYS", 7)
        # Uploads to /verify are PDFs of at most this many bytes.
        self.MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
        # Invitations to set a password expire after this many hours.
        self.INVITATION_HOURS = _int("INVITATION_HOURS", 72)
        # Sessions are kept on the server (portal/sessions.py): one ends after this many
        # minutes without a request, and in any case this many hours after sign-in.
        self.SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
        self.SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
        # Sign-in (IV.B.5): this many wrong passwords or codes in a row lock the account for
        # LOGIN_LOCKOUT_MINUTES; a password older than PASSWORD_MAX_AGE_DAYS (0: never) must be
        # replaced at sign-in; a "forgot password" link works RESET_HOURS.
        self.LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 3)
        self.LOGIN_LOCKOUT_MINUTES = _int("LOGIN_LOCKOUT_MINUTES", 15)
        self.PASSWORD_MAX_AGE_DAYS = _int("PASSWORD_MAX_AGE_DAYS", 365)
        self.RESET_HOURS = _int("RESET_HOURS", 2)
        # Who must use two-factor sign-in: "none", "staff_and_signers" (the lead agency's
        # staff, and anyone who signs or approves: EDs, designated signers, security officers)
        # or "everyone". Production requires it of staff and signers unless told otherwise.
        production_2fa = "staff_and_signers" if self.PORTAL_ENV == "production" else "none"
        self.TWO_FACTOR_REQUIRED = (env("TWO_FACTOR_REQUIRED") or production_2fa).strip().lower()
        # Throttles per client address (Flask-Limiter): counted in Redis when REDIS_URL is
        # set (shared by every worker and host), in the process's memory otherwise. On unless
        # THROTTLE_ENABLED says otherwise (the test suite turns it off but for its own tests).
        self.REDIS_URL = env("REDIS_URL")
        self.RATELIMIT_STORAGE_URI: str | None = None  # from REDIS_URL, after the overrides
        self.RATELIMIT_HEADERS_ENABLED = True
        # Redis down: count in memory meanwhile rather than refuse every sign-in.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED: bool | None = None  # with Redis only
        self.THROTTLE_ENABLED = _bool("THROTTLE_ENABLED", True)
        self.LOGIN_RATE_LIMIT = env("LOGIN_RATE_LIMIT", "10 per minute")
        self.VERIFY_RATE_LIMIT = env("VERIFY_RATE_LIMIT", "20 per minute")
        self.API_RATE_LIMIT = env("API_RATE_LIMIT", "20 per minute")
        # /tsa answers other servers' signing, one request per signature.
        self.TSA_RATE_LIMIT = env("TSA_RATE_LIMIT", "300 per minute")
        # /pki/ocsp answers any relying party; each answer costs a signature by the issuing CA.
        self.OCSP_RATE_LIMIT = env("OCSP_RATE_LIMIT", "300 per minute")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        # The session cookie goes over HTTPS only, except on a developer's machine (`make
        # run` serves plain HTTP on 127.0.0.1).
        self.SESSION_COOKIE_SECURE = _bool(
            "SESSION_COOKIE_SECURE", self.PORTAL_ENV != "development"
        )
        # Behind this many reverse proxies, their X-Forwarded-* and X-Request-ID headers are
        # believed, so the audit trail records the client's address rather than the proxy's.
        self.TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
        # Production on SQLite only when asked for explicitly (one machine, one web process).
        self.PORTAL_ALLOW_SQLITE = _bool("PORTAL_ALLOW_SQLITE", False)
        self.WTF_CSRF_TIME_LIMIT = None
        self.BOOTSTRAP_SERVE_LOCAL = True
        self.ARGON2_FAST = False  # tests set True: cheap hashing, same algorithm
        for key, value in overrides.items():
            setattr(self, key, value)
        # In memory: the portal's own store (portal/throttle.py), whose expiry timers never
        # hold up a process that ends.
        self.RATELIMIT_STORAGE_URI = (
            self.RATELIMIT_STORAGE_URI or self.REDIS_URL or "portal-memory://"
        )
        # A fallback store is the library's own in-memory one: needed only beside Redis.
        if self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED is None:
            self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = bool(self.REDIS_URL)
        if self.PORTAL_ENV == "production":
            self.refuse_unsafe()
            return
        # A developer's machine needs no setup: missing secrets are generated into the
        # instance folder (after the overrides, so a test's own key generates nothing).
        if not self.SECRET_KEY:
            self.SECRET_KEY = _instance_secret(instance)
            _warn_generated_secret_key(instance)
        if not self.PKI_PASSPHRASE:
            self.PKI_PASSPHRASE = _instance_secret(instance, "pki-passphrase")

    def refuse_unsafe(self) -> None:
        """Raises UnsafeSettings naming every missing production setting; pins DEBUG off."""
        missing = []
        if not self.SECRET_KEY:
            missing.append("SECRET_KEY (signs the sessions)")
        if not self.PKI_PASSPHRASE:
            missing.append("PKI_PASSPHRASE (encrypts the certificate authority's keys)")
        if str(self.SQLALCHEMY_DATABASE_URI).startswith("sqlite") and not self.PORTAL_ALLOW_SQLITE:
            missing.append(
                "DATABASE_URL for PostgreSQL (or PORTAL_ALLOW_SQLITE=1 to run on SQLite anyway)"
            )
        if missing:
            raise UnsafeSettings(
                "PORTAL_ENV=production refuses to start. Missing: " + "; ".join(missing) + "."
            )
        self.DEBUG = False


_warned_secret_key = False


def _warn_generated_secret_key(instance: Path) -> None:
    # Once per process: many apps may be made in one (tests, the demo command).
    global _warned_secret_key
    if not _warned_secret_key:
        _warned_secret_key = True
        log.warning(
            "SECRET_KEY is not set: sessions are signed with the key generated in %s. "
            "Set SECRET_KEY (and PORTAL_ENV=production) on a server.",
            instance / "secret-key",
        )


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
