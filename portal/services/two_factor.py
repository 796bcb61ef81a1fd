"""Two-factor sign-in with TOTP (RFC 6238, pyotp) and single-use recovery codes.

The TOTP secret is stored encrypted (Fernet) under a key derived from SECRET_KEY with HKDF,
so a copy of the database alone does not give the codes. Rotating SECRET_KEY therefore
makes every enrolment unreadable: those people sign in with their password alone (and,
where two-factor sign-in is required, must enrol again at once). Recovery codes are kept
only as argon2 hashes.

Who must use it is portal/services/two_factor_policy.py's to say; anyone else may.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select

from portal import clock
from portal.extensions import db
from portal.models import User
from portal.models.security import RecoveryCode
from portal.services import audit, counters, sealing
from portal.services.access import RequestInfo
from portal.services.errors import ServiceError
from portal.services.lead import lead_agency_name
from portal.services.passwords import check_password, hash_password
from portal.services.unit import unit_of_work

RECOVERY_CODES = 10
ISSUER = "HMIS Partner Portal"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def _fernet() -> Fernet:
    return sealing.fernet(b"portal two-factor secret")


def _seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def _secret(user: User) -> str | None:
    """The person's TOTP secret in base32, or None (none, or sealed under an older key)."""
    if not user.totp_secret:
        return None
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:
        return None


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and _secret(user) is not None


@dataclass(frozen=True)
class Enrolment:
    """What the person types or pastes into their authenticator app."""

    secret: str
    uri: str


def pending(user: User) -> Enrolment | None:
    """The enrolment begun but not yet confirmed, or None."""
    secret = _secret(user)
    if secret is None or user.totp_enabled_at is not None:
        return None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return Enrolment(secret, uri)


def begin(user: User) -> Enrolment:
    """Makes a new secret for the person to add to their app; it works once confirmed."""
    with unit_of_work():
        person = _reload(user)
        if is_enabled(person):
            raise ServiceError("Two-factor sign-in is already on.")
        person.totp_secret = _seal(pyotp.random_base32())
        person.totp_enabled_at = None
    enrolment = pending(person)
    assert enrolment is not None
    return enrolment


def confirm(user: User, code: str, request: RequestInfo) -> list[str]:
    """Turns two-factor sign-in on once a code from the app is right; returns the recovery
    codes, shown this once."""
    with unit_of_work():
        person = _reload(user)
        enrolment = pending(person)
        if enrolment is None:
            raise ServiceError("Start the set-up again: no set-up is waiting.")
        if not _totp_ok(enrolment.secret, code):
            raise ServiceError(
                "That code is not correct. Check the app shows the code for this portal, "
                "and that the phone's clock is right."
            )
        person.totp_enabled_at = clock.now()
        codes = _new_recovery_codes(person)
        audit.record(
            person,
            "two_factor.enabled",
            person,
            "Turned on two-factor sign-in",
            agency_id=person.agency_id,
            request=request,
        )
    return codes


def disable(user: User, password: str, request: RequestInfo) -> None:
    """Turns two-factor sign-in off; needs the password. Where it is required, the person
    must set it up again before going on (the sign-in gate sends them there)."""
    with unit_of_work():
        person = _reload(user)
        if not check_password(person.password_hash, password):
            raise ServiceError("Your password is not correct.")
        if person.totp_secret is None and person.totp_enabled_at is None:
            raise ServiceError("Two-factor sign-in is not on.")
        person.totp_secret = None
        person.totp_enabled_at = None
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == person.id))
        audit.record(
            person,
            "two_factor.disabled",
            person,
            "Turned off two-factor sign-in",
            agency_id=person.agency_id,
            request=request,
        )


def unused_recovery_codes(user: User) -> int:
    query = select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    return len(db.session.scalars(query).all())


def check_sign_in_code(user: User, code: str, request: RequestInfo) -> bool:
    """Whether the code (six digits from the app, or a recovery code) is right, in the
    caller's transaction: a recovery code is used up, and its use audited."""
    secret = _secret(user)
    if secret is None:
        return False
    typed = re.sub(r"[\s-]", "", (code or "").lower())
    if typed.isdigit():
        step = _totp_step(secret, typed)
        return step is not None and _first_use(secret, step)
    if not typed or len(typed) > 40:
        return False
    query = select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    for row in db.session.scalars(query):
        if check_password(row.code_hash, typed):
            row.used_at = clock.now()
            left = unused_recovery_codes(user)
            audit.record(
                user,
                "two_factor.recovery_code_used",
                user,
                f"Signed in with a recovery code ({left} left)",
                agency_id=user.agency_id,
                request=request,
            )
            return True
    return False


def _totp_ok(secret: str, code: str) -> bool:
    return _totp_step(secret, code) is not None


def _totp_step(secret: str, code: str) -> int | None:
    """The time step whose code this is, or None. One step either side forgives a phone
    clock up to 30 seconds off."""
    typed = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", typed):
        return None
    totp, now = pyotp.TOTP(secret), clock.now()
    for offset in (0, -1, 1):
        moment = now + timedelta(seconds=offset * totp.interval)
        if hmac.compare_digest(totp.at(moment), typed):
            return totp.timecode(moment)
    return None


def _first_use(secret: str, step: int) -> bool:
    """Whether this code is used for the first time: a code seen over someone's shoulder, or
    caught in transit, does not sign in a second time while it is still valid."""
    store = counters.storage()
    if store is None:
        return True
    key = "portal/totp-used/" + hashlib.sha256(f"{secret}:{step}".encode()).hexdigest()
    return store.incr(key, 5 * 60) == 1


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    now = clock.now()
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_password(raw), created_at=now))
    return codes


def _reload(user: User) -> User:
    person = db.session.get(User, user.id)
    if person is None or not person.active:
        raise ServiceError(f"This account is not active. Contact {lead_agency_name()}.")
    return person
